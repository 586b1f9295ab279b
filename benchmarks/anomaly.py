"""Anomaly detection: skae's AutoencoderOutlierDetector against the usual detectors.

One-class MNIST, the protocol of Ruff et al. 2018 (Deep SVDD): for each digit
(``--digits``), every method is trained on that digit's training images
(``--n-train`` of them, default all, about 6,000) and scores the 10,000 test
images; the AUROC counts the other digits as anomalies. Then the same with the
training set contaminated: other digits' training images added until they make
up ``c`` of it, for each ``c`` in ``--contamination`` (default 0.05).

Methods (``--methods`` picks a subset, by name):

* ``skae``: ``AutoencoderOutlierDetector()`` with its default autoencoder
  (784-256-32-256-784, 30 epochs), its default ``robust=True`` (a trimmed loss:
  the ``2c`` worst-reconstructed share of each batch gives no gradient; ``c`` = the
  contamination, 0.05 on clean data) and its default ``score_type="combined"``
  (reconstruction error plus the cosine similarity of image and reconstruction,
  each standardised on the training data);
* ``skae-error``: the same with ``score_type="estimator"`` (the reconstruction
  error alone);
* ``skae-plain``: the same as ``skae`` with ``robust=False`` (every training image
  counts);
* ``skae-refit``: the same with ``robust="refit"`` (fit, drop the ``c`` worst-scored
  training images, refit);
* ``skae-vae``: the detector around ``VariationalAutoencoder(n_components=16,
  max_iter=30)`` (score: the ELBO);
* ``PCA``: reconstruction error of ``PCA(n_components=32)``; ``PCA-combined``: the
  detector's combined score around that PCA (the same score as ``skae``'s);
* ``IF``: ``IsolationForest(random_state=seed)``; ``OCSVM``: ``OneClassSVM``
  (rbf, ``gamma="scale"``, ``nu=0.1``); ``LOF``: ``LocalOutlierFactor(novelty=True)``;
* ``PyOD-AE`` and ``PyOD-VAE``: PyOD's ``AutoEncoder`` and ``VAE`` with their
  defaults (skipped, with a note, when PyOD does not import).

For the default detector it also reports the fraction of held-out *normal* test
images (the target digit's) predicted as outliers, next to the ``contamination``
the threshold was set for (``--threshold``, default 0.05).

A second, small suite uses scikit-learn's bundled data (``--no-tabular`` skips
it): digits one-class (train on 75 % of one digit, test on the other 25 % and
every other digit; mean over the 10 digits) and breast cancer (train on 75 % of
the benign cases; test on the other benign ones and 20 malignant ones), data
MinMax-scaled on the training set. There the skae detectors wrap a smaller net,
``Autoencoder(n_components=8, hidden_layer_sizes=(32,), batch_size=32,
max_iter=200)`` (VAE: 4 latent dimensions), and PCA keeps 8 components.

Usage::

    python benchmarks/anomaly.py --quick                      # seconds
    python benchmarks/anomaly.py --digits 0,1,2 --threads 1
    python benchmarks/anomaly.py --contamination 0.05,0.1 --methods skae,skae-plain,skae-refit
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import OneClassSVM

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, markdown_table, timed, versions, write_json  # noqa: E402

from skae import Autoencoder, AutoencoderOutlierDetector, VariationalAutoencoder  # noqa: E402
from skae._outlier import default_estimator  # noqa: E402
from skae.datasets import load_mnist  # noqa: E402

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
ALL_METHODS = ["skae", "skae-error", "skae-plain", "skae-refit", "skae-vae", "PCA",
               "PCA-combined", "IF", "OCSVM", "LOF", "PyOD-AE", "PyOD-VAE"]

# Ruff et al. 2018 (ICML), Table 1, one-class MNIST, mean AUROC (%) over the 10
# digits as recomputed from the per-digit rows of that table: not re-measured here.
# Left empty rather than quoted from memory; see docs/anomaly.rst.
PUBLISHED: dict = {}


class _PCAError(BaseEstimator):
    """Negative PCA reconstruction error as a score (higher = more normal).

    An estimator with ``transform`` and ``inverse_transform``, so that the detector
    can also wrap it (``PCA-combined``: the same score as the ``skae`` row's).
    """

    def __init__(self, n_components=32, seed=0):
        self.n_components = n_components
        self.seed = seed

    def fit(self, X, y=None):
        self.pca_ = PCA(n_components=self.n_components, random_state=self.seed).fit(X)
        self.n_features_in_ = self.pca_.n_features_in_
        return self

    def transform(self, X):
        return self.pca_.transform(X)

    def inverse_transform(self, Z):
        return self.pca_.inverse_transform(Z)

    def score_samples(self, X):
        R = self.inverse_transform(self.transform(X))
        return -np.mean((X - R) ** 2, axis=1)


class _PyOD:
    """PyOD detector; its ``decision_function`` is higher for anomalies."""

    def __init__(self, model):
        self.model = model

    def fit(self, X):
        self.model.fit(X)
        return self

    def score_samples(self, X):
        return -self.model.decision_function(X)


def _pyod(name, seed, quick):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if name == "PyOD-AE":
                from pyod.models.auto_encoder import AutoEncoder

                return _PyOD(AutoEncoder(random_state=seed, verbose=0,
                                         **({"epoch_num": 1} if quick else {})))
            from pyod.models.vae import VAE

            return _PyOD(VAE(random_state=seed, verbose=0,
                             **({"epoch_num": 1} if quick else {})))
    except ImportError as exc:  # benchmark extra only
        return f"PyOD not importable: {exc}"


def make_method(name, *, seed, c, quick, n_components=32):
    epochs = {"max_iter": 2} if quick else {}
    small = n_components < 32  # the small tabular problems: a smaller, longer-trained net
    if name in ("skae", "skae-error", "skae-plain", "skae-refit"):
        # quick: the default autoencoder with fewer epochs
        est = default_estimator().set_params(**epochs) if epochs else None
        if small:
            est = Autoencoder(n_components=n_components, hidden_layer_sizes=(32,),
                              batch_size=32, max_iter=epochs.get("max_iter", 200))
        robust = {"skae-plain": False, "skae-refit": "refit"}.get(name, True)
        score_type = "estimator" if name == "skae-error" else "combined"
        return AutoencoderOutlierDetector(est, contamination=c, robust=robust,
                                          score_type=score_type, random_state=seed)
    if name == "skae-vae":
        vae = (VariationalAutoencoder(n_components=4, hidden_layer_sizes=(32,), batch_size=32,
                                      max_iter=epochs.get("max_iter", 200)) if small else
               VariationalAutoencoder(n_components=16, max_iter=epochs.get("max_iter", 30)))
        return AutoencoderOutlierDetector(vae, contamination=c, random_state=seed)
    if name == "PCA":
        return _PCAError(n_components, seed)
    if name == "PCA-combined":
        return AutoencoderOutlierDetector(_PCAError(n_components, seed), contamination=c,
                                          robust=False)
    if name == "IF":
        return IsolationForest(random_state=seed)
    if name == "OCSVM":
        return OneClassSVM(kernel="rbf", gamma="scale", nu=0.1)
    if name == "LOF":
        return LocalOutlierFactor(novelty=True)
    return _pyod(name, seed, quick)


def _fit_score(method, X_train, X_test):
    t_fit, fitted = timed(lambda: method.fit(X_train))
    return t_fit, fitted.score_samples(X_test)


def one_class_mnist(args, methods, rng_seed):
    X_tr, y_tr = load_mnist(args.data_home, subset="train", return_X_y=True)
    X_te, y_te = load_mnist(args.data_home, subset="test", return_X_y=True)
    if args.quick:
        keep = np.random.RandomState(0).permutation(len(X_te))[:500]
        X_te, y_te = X_te[keep], y_te[keep]
    settings = [0.0] + list(args.contamination)
    rows, fractions, notes = [], [], set()
    for digit in args.digits:
        rs = np.random.RandomState(rng_seed + digit)
        normal = np.flatnonzero(y_tr == digit)
        if args.n_train:
            normal = rs.choice(normal, min(args.n_train, len(normal)), replace=False)
        others = np.flatnonzero(y_tr != digit)
        for c in settings:
            n_out = int(round(c * len(normal) / (1 - c)))
            idx = np.concatenate([normal, rs.choice(others, n_out, replace=False)])
            X = X_tr[idx]
            c_det = c if c > 0 else args.threshold
            for name in methods:
                method = make_method(name, seed=args.seed, c=c_det, quick=args.quick)
                if isinstance(method, str):
                    notes.add(f"{name}: {method}")
                    continue
                t_fit, scores = _fit_score(method, X, X_te)
                auc = roc_auc_score(y_te == digit, scores)
                rows.append({"digit": digit, "contamination": c, "method": name,
                             "auroc": auc, "fit_s": t_fit})
                line = f"digit {digit} c={c:.2f} {name:12s} AUROC {auc:.4f} fit {t_fit:6.1f}s"
                if name == "skae":
                    pred = method.predict(X_te[y_te == digit])
                    fractions.append({"digit": digit, "contamination": c,
                                      "threshold": c_det,
                                      "flagged_normal": float(np.mean(pred == -1))})
                    line += f" held-out normal flagged {fractions[-1]['flagged_normal']:.3f}"
                print(line, flush=True)
    return rows, fractions, sorted(notes)


def tabular(args, methods):
    """Digits one-class and breast cancer (benign = normal), MinMax-scaled."""
    rows = []
    digits = load_digits()
    cancer = load_breast_cancer()  # target 1 = benign
    problems = []
    for d in range(10):
        X_n = digits.data[digits.target == d]
        X_o = digits.data[digits.target != d]
        tr, te = train_test_split(X_n, test_size=0.25, random_state=args.seed)
        X_test = np.vstack([te, X_o])
        y_test = np.r_[np.ones(len(te)), np.zeros(len(X_o))]
        problems.append(("digits one-class", tr, X_test, y_test))
    X_b, X_m = cancer.data[cancer.target == 1], cancer.data[cancer.target == 0]
    tr, te = train_test_split(X_b, test_size=0.25, random_state=args.seed)
    X_m = X_m[np.random.RandomState(args.seed).permutation(len(X_m))[:20]]
    problems.append(("breast cancer", tr, np.vstack([te, X_m]),
                     np.r_[np.ones(len(te)), np.zeros(len(X_m))]))
    results = {}
    for name in methods:
        if name.startswith("PyOD"):
            continue  # PyOD rows on MNIST only (their defaults expect larger data)
        for problem, X_train, X_test, y_test in problems:
            method = make_method(name, seed=args.seed, c=args.threshold, quick=args.quick,
                                 n_components=8)
            scaler = MinMaxScaler(clip=True).fit(X_train)
            _, scores = _fit_score(method, scaler.transform(X_train), scaler.transform(X_test))
            results.setdefault((problem, name), []).append(roc_auc_score(y_test, scores))
    for (problem, name), aucs in results.items():
        rows.append({"problem": problem, "method": name, "auroc": float(np.mean(aucs))})
    return rows


def _mnist_table(rows, settings, methods):
    out = []
    for name in methods:
        row = {"method": name}
        for c in settings:
            r = [x for x in rows if x["method"] == name and x["contamination"] == c]
            if r:
                row[f"c{c}"] = float(np.mean([x["auroc"] for x in r]))
                row[f"t{c}"] = float(np.mean([x["fit_s"] for x in r]))
        if len(row) > 1:
            out.append(row)
    cols = [("Method", "method", None)]
    for c in settings:
        label = "clean" if c == 0 else f"{c:.0%} contaminated"
        cols += [(f"AUROC {label}", f"c{c}", ".4f"), (f"fit s ({label})", f"t{c}", ".1f")]
    return out, markdown_table(cols, out)


def _per_digit_table(rows, digits, methods, c):
    out = []
    for name in methods:
        row = {"method": name}
        for d in digits:
            r = [x for x in rows if x["method"] == name and x["contamination"] == c
                 and x["digit"] == d]
            if r:
                row[str(d)] = r[0]["auroc"]
        if len(row) > 1:
            out.append(row)
    cols = [("Method", "method", None)] + [(str(d), str(d), ".3f") for d in digits]
    return markdown_table(cols, out)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("Usage::", 1)[1].splitlines()),
    )
    parser.add_argument("--data-home", type=Path, default=SHARED, metavar="DIR")
    parser.add_argument("--digits", type=lambda s: [int(d) for d in s.split(",")],
                        default=list(range(10)))
    parser.add_argument("--n-train", type=int, default=0,
                        help="normal training images per digit (0 = all)")
    parser.add_argument("--contamination", type=lambda s: [float(c) for c in s.split(",")],
                        default=[0.05], help="comma-separated contaminated settings")
    parser.add_argument("--threshold", type=float, default=0.05,
                        help="contamination of the detectors trained on clean data")
    parser.add_argument("--methods", default=",".join(ALL_METHODS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 200 images per digit, 500 test images, 2 epochs")
    parser.add_argument("--no-tabular", action="store_true")
    parser.add_argument("--no-mnist", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train = args.n_train or 200
    methods = [m for m in ALL_METHODS if m.lower() in args.methods.lower().split(",")]
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    result = {"config": {**vars(args), "data_home": str(args.data_home)},
              "versions": versions(), "machine": machine_info()}
    settings = [0.0] + list(args.contamination)
    if not args.no_mnist:
        rows, fractions, notes = one_class_mnist(args, methods, args.seed)
        summary, table = _mnist_table(rows, settings, methods)
        print("\nOne-class MNIST, mean AUROC over digits", args.digits)
        print(table)
        for c in settings:
            print(f"\nPer digit, {'clean' if c == 0 else f'{c:.0%} contaminated'}")
            print(_per_digit_table(rows, args.digits, methods, c))
        if fractions:
            print("\nskae default detector: held-out normal test images predicted outliers")
            for c in settings:
                f = [x["flagged_normal"] for x in fractions if x["contamination"] == c]
                thr = fractions[0]["threshold"] if c == 0 else c
                print(f"  training contamination {c:.2f}, threshold at {thr:.2f}: "
                      f"{np.mean(f):.3f} (per digit {np.round(f, 3).tolist()})")
        for note in notes:
            print("note:", note)
        result.update(mnist=rows, mnist_summary=summary, flagged=fractions, notes=notes)
    if not args.no_tabular:
        trows = tabular(args, methods)
        print("\nscikit-learn bundled data, mean AUROC")
        print(markdown_table([("Problem", "problem", None), ("Method", "method", None),
                              ("AUROC", "auroc", ".4f")], trows))
        result["tabular"] = trows
    if args.json:
        write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
