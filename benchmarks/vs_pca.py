"""Every skae autoencoder against PCA, kernel PCA, an RBM and MLPRegressor, at equal code size.

The main benchmark of skae. Each method maps the MinMax-scaled data to
``--n-components`` features; the script fits it once on the training data and
reports, on held-out data,

* the reconstruction MSE ``mean((inverse_transform(transform(X)) - X) ** 2)`` over
  all test pixels, in the scaled space (``-`` for methods without an inverse:
  ``BernoulliRBM``), and that MSE relative to PCA's;
* the test accuracy of ``Pipeline([MinMaxScaler, reducer, LogisticRegression])``
  and of ``Pipeline([MinMaxScaler, reducer, SVC(kernel="rbf")])`` (the pipelines
  reuse the fitted scaler and reducer, so the timed reducer is the one scored);
* the reducer's fit time and the median time of three ``transform`` calls on the
  test set, and the number of epochs run.

Methods (``--estimators`` picks a subset, by name, case-insensitive):

* ``PCA``; ``KernelPCA`` (RBF kernel, ``fit_inverse_transform=True``, pre-image ridge
  ``alpha=1e-3``: scikit-learn's default 1.0 over-smooths it, MSE 14x PCA's on digits;
  fitted on at most ``--kpca-max-train`` images because it stores and inverts an
  ``n x n`` kernel matrix); ``BernoulliRBM`` (``learning_rate=0.06``, batch 10, as
  in scikit-learn's digits example); ``MLPRegressor`` trained ``X -> X`` through a
  bottleneck (``_common.MLPRegressorAutoencoder``: the same architecture, optimiser,
  batch size and epoch budget as ``Autoencoder``; scikit-learn applies the hidden
  activation, ReLU, to the code layer too);
* ``Autoencoder``, ``SparseAutoencoder``, ``DenoisingAutoencoder``,
  ``ContractiveAutoencoder``, ``StackedAutoencoder``, ``VariationalAutoencoder``
  (posterior-mean codes) with their default architectures, and ``ConvAutoencoder``
  and ``ConvVariationalAutoencoder`` (default filters 16-32-64-128, all
  strides 2) on image data;
* reference classifiers, in a second table: ``raw`` (LogisticRegression and SVC on
  the scaled pixels) and ``StackedAutoencoderClassifier`` (``hidden_layer_sizes=
  (256, n_components)``, pretrained then fine-tuned with its own softmax layer).

A second table (``--natural``, on by default on digits, ``--no-natural`` to skip)
gives the regularised autoencoders at their *natural* configuration, the one their
papers use, beside their equal-size row, so that a reader sees where each one wins
(codes fed to the same classifiers; ``k`` = ``--n-components``):

* ``SparseAutoencoder``: overcomplete one-layer model, ``4k`` sigmoid codes (128 =
  2 x 64 pixels on digits), KL penalty with its defaults;
* ``DenoisingAutoencoder``: overcomplete one-layer model, ``4k`` sigmoid codes,
  cross-entropy, 25 % masking noise (Vincent et al. 2010);
* ``ContractiveAutoencoder``: overcomplete one-layer model, ``4k`` sigmoid codes
  (Rifai et al. 2011; closed-form penalty), its defaults otherwise;
* ``VariationalAutoencoder``: a small latent space, ``max(2, k // 4)`` dimensions;
* ``StackedAutoencoder``: a deeper stack ``n_features-256-128-k`` of denoising
  layers (25 % masking), fine-tuned (a stacked denoising autoencoder).

The scaler clips scaled test data to [0, 1] (``MinMaxScaler(clip=True)``; without
it rare test pixels map far above 1 on MNIST and dominate the MSE) unless
``--no-clip`` is given. Epochs: the estimators' defaults on digits and faces (up to
200, stopping when the training loss stalls), ``--max-iter`` (default 30) on MNIST.

Data (``--dataset``): scikit-learn's bundled 8x8 digits (default; stratified 75/25
split, random_state=0); MNIST / Fashion-MNIST from ``--data-home`` (default
``../shared/data/mnist``; a stratified subsample of ``--n-train`` training images,
10,000 by default, ``--n-train 0`` for all 60,000, and the 10,000 test images);
the 400 AT&T faces (``--dataset faces``, resized to ``--image-size``, 75/25 split
stratified by subject, so the classifiers do face recognition).

Output: Markdown tables on stdout and in ``<out>/results.md``, every number with the
configuration, library versions and machine in ``<out>/results.json`` (the second
table under the key ``natural``), and figures
drawn with :mod:`skae.plotting` (reconstructions of every method, first-layer
filters, 2-D scatter of codes, VAE samples and latent traversal, training curves)
in ``<out>/`` (default ``benchmarks/results/<dataset>/``). A progress bar on stderr
shows which method is being fitted.

Usage::

    python benchmarks/vs_pca.py                        # digits, 32 components, ~1-2 min
    python benchmarks/vs_pca.py --dataset mnist        # ../shared/data/mnist, 10k train
    python benchmarks/vs_pca.py --mnist /data/mnist --n-train 0 --device cuda
    python benchmarks/vs_pca.py --dataset faces --image-size 32
    python benchmarks/vs_pca.py --estimators pca,autoencoder,vae --n-components 16
    python benchmarks/vs_pca.py --quick                # seconds: tiny subset, 2 epochs
    python benchmarks/vs_pca.py --dataset mnist --natural   # add the second table
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA, KernelPCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    RESULTS,
    MLPRegressorAutoencoder,
    filters_desc,
    load_dataset,
    machine_info,
    markdown_table,
    median_time,
    progress,
    skae_plotting_or_none,
    timed,
    versions,
    write_json,
)

import skae  # noqa: E402

REDUCERS = [
    "PCA",
    "KernelPCA",
    "BernoulliRBM",
    "MLPRegressor",
    "Autoencoder",
    "SparseAutoencoder",
    "DenoisingAutoencoder",
    "ContractiveAutoencoder",
    "StackedAutoencoder",
    "VariationalAutoencoder",
    "ConvAutoencoder",
    "ConvVariationalAutoencoder",
]
CONV = ("ConvAutoencoder", "ConvVariationalAutoencoder")
CLASSIFIERS = ["raw", "StackedAutoencoderClassifier"]
ALIASES = {
    "pca": "PCA",
    "kpca": "KernelPCA",
    "kernelpca": "KernelPCA",
    "rbm": "BernoulliRBM",
    "bernoullirbm": "BernoulliRBM",
    "mlp": "MLPRegressor",
    "mlpregressor": "MLPRegressor",
    "ae": "Autoencoder",
    "sae": "SparseAutoencoder",
    "sparse": "SparseAutoencoder",
    "dae": "DenoisingAutoencoder",
    "denoising": "DenoisingAutoencoder",
    "cae": "ContractiveAutoencoder",
    "contractive": "ContractiveAutoencoder",
    "stacked": "StackedAutoencoder",
    "vae": "VariationalAutoencoder",
    "conv": "ConvAutoencoder",
    "convvae": "ConvVariationalAutoencoder",
    "cvae": "ConvVariationalAutoencoder",
    "raw": "raw",
    "stacked_clf": "StackedAutoencoderClassifier",
}
ALIASES.update({name.lower(): name for name in REDUCERS + CLASSIFIERS})


@dataclass
class Config:
    """Per-dataset run settings (``--quick`` shrinks them)."""

    n_train: int | None = None  # None: all
    n_test: int | None = None
    max_iter: int | None = None  # None: each estimator's default
    rbm_n_iter: int = 20
    kpca_max_train: int = 5000
    conv_max_iter: int | None = None


def dataset_config(args) -> Config:
    if args.dataset == "digits":
        cfg = Config()
    elif args.dataset in ("mnist", "fashion_mnist"):
        cfg = Config(n_train=10_000, max_iter=30, rbm_n_iter=10, conv_max_iter=10)
    else:  # faces: 300 training images, so epochs are cheap
        cfg = Config(rbm_n_iter=50)
    if args.quick:
        cfg = Config(n_train=300, n_test=150, max_iter=2, rbm_n_iter=2, kpca_max_train=300,
                     conv_max_iter=2)
    if args.n_train is not None:
        cfg.n_train = args.n_train or None
    if args.n_test is not None:
        cfg.n_test = args.n_test or None
    if args.max_iter is not None:
        cfg.max_iter = cfg.conv_max_iter = args.max_iter
    if args.kpca_max_train is not None:
        cfg.kpca_max_train = args.kpca_max_train
    return cfg


# --------------------------------------------------------------------------------------
# the methods


def build(name, args, cfg, n_features, image_shape):
    """The unfitted estimator ``name``; None with a reason when it cannot run here."""
    k, seed = args.n_components, args.seed
    hidden = args.hidden
    epochs = {} if cfg.max_iter is None else {"max_iter": cfg.max_iter}
    torch_kw = {"random_state": seed, "device": args.device, **epochs}
    if name == "PCA":
        return PCA(n_components=k, random_state=seed), "linear"
    if name == "KernelPCA":
        return (
            KernelPCA(n_components=k, kernel="rbf", fit_inverse_transform=True, alpha=1e-3,
                      eigen_solver="auto", random_state=seed),
            "RBF kernel, gamma=1/n_features",
        )
    if name == "BernoulliRBM":
        return (
            BernoulliRBM(n_components=k, learning_rate=0.06, batch_size=10,
                         n_iter=cfg.rbm_n_iter, random_state=seed),
            f"{n_features}-{k} sigmoid, {cfg.rbm_n_iter} iter",
        )
    if name == "MLPRegressor":
        h = (256,) if hidden is None else hidden
        est = MLPRegressorAutoencoder(k, hidden_layer_sizes=h, random_state=seed,
                                      tol=1e-6, **epochs)
        return est, _arch(n_features, h, k) + " relu code"
    if name in CONV:
        if not hasattr(skae, name):
            return None, f"skae.{name} is not in this version of skae"
        if image_shape is None:
            return None, "needs image data"
        if cfg.conv_max_iter is not None:
            torch_kw["max_iter"] = cfg.conv_max_iter
        est = getattr(skae, name)(n_components=k, image_shape=tuple(image_shape), **torch_kw)
        p = est.get_params()
        strides = p["strides"] if isinstance(p["strides"], int) else ",".join(
            map(str, p["strides"]))
        desc = (f"conv {filters_desc(p['filters'])} (strides {strides}) -> {k}"
                + (" Gaussian posterior" if name == "ConvVariationalAutoencoder"
                   else f" {p['code_activation']} code"))
        return est, desc
    cls = getattr(skae, name)
    kwargs = {"n_components": k, **torch_kw}
    if name == "StackedAutoencoder":
        layer = skae.Autoencoder(hidden_layer_sizes=(), code_activation="sigmoid", lr=1e-2,
                                 max_iter=cfg.max_iter or 50, device=args.device)
        kwargs["layer_estimator"] = layer
    if hidden is not None:
        kwargs["hidden_layer_sizes"] = hidden
    est = cls(**kwargs)
    h = est.get_params()["hidden_layer_sizes"]
    h = (h,) if isinstance(h, int) else tuple(h)
    code = est.get_params().get("code_activation", "identity")
    desc = _arch(n_features, h, k)
    if name == "VariationalAutoencoder":
        desc += " Gaussian posterior"
    elif code != "identity":
        desc += f" {code} code"
    return est, desc


#: The methods of the second table, at the configuration of their papers.
NATURAL = ["SparseAutoencoder", "DenoisingAutoencoder", "ContractiveAutoencoder",
           "VariationalAutoencoder", "StackedAutoencoder"]


def build_natural(name, args, cfg, n_features):
    """``name`` at its natural configuration (see the module docstring) and a description."""
    k, seed = args.n_components, args.seed
    over = 4 * k
    epochs = {} if cfg.max_iter is None else {"max_iter": cfg.max_iter}
    torch_kw = {"random_state": seed, "device": args.device, **epochs}
    shallow = {"n_components": over, "hidden_layer_sizes": ()}
    if name == "SparseAutoencoder":
        est = skae.SparseAutoencoder(**shallow, **torch_kw)
        p = est.get_params()
        return est, (f"{n_features}-{over} sigmoid code, overcomplete x4, KL rho="
                     f"{p['sparsity_target']:g}, weight {p['sparsity_weight']}")
    if name == "DenoisingAutoencoder":
        est = skae.DenoisingAutoencoder(**shallow, code_activation="sigmoid", loss="bce",
                                        lr=1e-2, noise="masking", noise_level=0.25,
                                        **torch_kw)
        return est, f"{n_features}-{over} sigmoid code, overcomplete x4, bce, masking 25 %"
    if name == "ContractiveAutoencoder":
        est = skae.ContractiveAutoencoder(**shallow, **torch_kw)
        return est, (f"{n_features}-{over} sigmoid code, overcomplete x4, weight "
                     f"{est.get_params()['contractive_weight']:g} (closed form)")
    if name == "VariationalAutoencoder":
        small = max(2, k // 4)
        est = skae.VariationalAutoencoder(n_components=small, **torch_kw)
        h = est.get_params()["hidden_layer_sizes"]
        h = (h,) if isinstance(h, int) else tuple(h)
        return est, _arch(n_features, h, small) + " Gaussian posterior (small latent)"
    if name == "StackedAutoencoder":
        layer = skae.DenoisingAutoencoder(
            hidden_layer_sizes=(), code_activation="sigmoid", loss="bce", lr=1e-2,
            noise="masking", noise_level=0.25, max_iter=cfg.max_iter or 50,
            device=args.device)
        est = skae.StackedAutoencoder(n_components=k, hidden_layer_sizes=(256, 128),
                                      layer_estimator=layer, **torch_kw)
        return est, _arch(n_features, (256, 128), k) + " denoising layers (masking 25 %)"
    raise ValueError(name)


def _arch(n_features, hidden, k):
    return "-".join(map(str, (n_features, *hidden, k)))


def build_classifier(name, args, cfg):
    if name == "StackedAutoencoderClassifier":
        epochs = {} if cfg.max_iter is None else {"max_iter": cfg.max_iter}
        layer = skae.Autoencoder(hidden_layer_sizes=(), code_activation="sigmoid", lr=1e-2,
                                 max_iter=cfg.max_iter or 50, device=args.device)
        return skae.StackedAutoencoderClassifier(
            hidden_layer_sizes=(256, args.n_components), layer_estimator=layer,
            random_state=args.seed, device=args.device, **epochs,
        )
    raise ValueError(name)


def _classifiers(args):
    return {
        "LR": lambda: LogisticRegression(max_iter=args.clf_max_iter),
        "SVC": lambda: SVC(kernel="rbf"),
    }


def evaluate(reducer, scaler, data, args):
    """Fit ``reducer`` on the scaled training data; time, reconstruct and classify."""
    Xs_train, Xs_test = scaler.transform(data.X_train), scaler.transform(data.X_test)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_time, _ = timed(lambda: reducer.fit(Xs_train), args.device)
    transform_time, Z_test = median_time(lambda: reducer.transform(Xs_test), 3, args.device)
    row = {"fit_time_s": fit_time, "transform_time_s": transform_time,
           "epochs": getattr(reducer, "n_iter_", None)}
    # e.g. KernelPCA's ill-conditioned pre-image ridge: reported, not printed mid-run
    fit_warnings = {f"fit: {w.category.__name__}: {str(w.message).splitlines()[0][:90]}"
                    for w in caught}
    if fit_warnings:
        row["warnings"] = sorted(fit_warnings)
    if hasattr(reducer, "inverse_transform"):
        R = reducer.inverse_transform(Z_test)
        row["mse"] = float(np.mean((np.asarray(R, dtype=np.float64) - Xs_test) ** 2))
    else:
        row["mse"] = None
    Z_train = reducer.transform(Xs_train)
    for key, make in _classifiers(args).items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            clf = make().fit(Z_train, data.y_train)
        # The pipeline's steps are the ones fitted above: the same model as
        # Pipeline.fit(X_train, y_train) without training the reducer again.
        pipe = Pipeline([("scale", scaler), ("reduce", reducer), ("clf", clf)])
        row[f"acc_{key.lower()}"] = float(pipe.score(data.X_test, data.y_test))
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            row.setdefault("warnings", []).append(f"{key} did not converge")
    return row


def evaluate_raw(scaler, data, args):
    Xs_train, Xs_test = scaler.transform(data.X_train), scaler.transform(data.X_test)
    rows = []
    for key, make in _classifiers(args).items():
        t, clf = timed(lambda make=make: make().fit(Xs_train, data.y_train))
        name = {"LR": "LogisticRegression", "SVC": "SVC (rbf)"}[key]
        rows.append({"method": f"{name} on raw pixels", "accuracy":
                     float(clf.score(Xs_test, data.y_test)), "fit_time_s": t})
    return rows


# --------------------------------------------------------------------------------------
# figures


def draw_figures(fitted, scaler, data, out, natural=None):
    """Figures of :mod:`skae.plotting` into ``out``; returns the file names written.

    ``reconstructions.png`` (the same test images through every method with an
    inverse), ``filters_<method>.png`` (first-layer weights of the skae networks),
    ``latent_<method>.png`` (codes of the test set projected on their first two
    principal axes, coloured by label), ``vae_samples.png`` / ``vae_manifold.png``
    (generated images; decoded grid over the first two latent dimensions) and
    ``training_curves_<method>.png`` (every loss term per epoch); for the models of
    the second table (``natural``), ``filters_natural_<method>.png``.
    """
    plotting = skae_plotting_or_none()
    if plotting is None:
        return []
    if data.image_shape is None:
        print("no image shape for this dataset: no figures")
        return []
    import matplotlib.pyplot as plt

    Xs_test = scaler.transform(data.X_test)
    image_shape = tuple(data.image_shape)
    written = []

    def attempt(filename, make, title):
        try:
            fig = make().figure_
        except Exception as exc:  # a figure must not cost the numbers of a long run
            print(f"figure {filename} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return
        fig.suptitle(f"{title} ({data.description.split(',')[0]})", fontsize=10, y=1.0,
                     va="bottom")
        fig.savefig(out / filename, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(filename)

    idx = np.random.RandomState(0).choice(len(Xs_test), size=min(10, len(Xs_test)),
                                          replace=False)
    originals = Xs_test[idx]
    recon = {name: np.clip(est.inverse_transform(est.transform(originals)), 0, 1)
             for name, est in fitted.items() if hasattr(est, "inverse_transform")}
    if recon:
        attempt("reconstructions.png", lambda: plotting.ReconstructionDisplay.from_arrays(
            originals, recon, image_shape=image_shape, vmin=0, vmax=1),
            "Held-out images and their reconstructions")

    networks = {n: e for n, e in fitted.items() if type(e).__module__.startswith("skae")}
    for name, est in networks.items():
        shape = None if name in CONV else image_shape  # conv filters are kernels
        attempt(f"filters_{name}.png", lambda est=est, shape=shape:
                plotting.FilterDisplay.from_estimator(est, n_filters=64, image_shape=shape),
                f"{name}: first-layer filters")
    for name in ("PCA", "Autoencoder", "VariationalAutoencoder", "ConvAutoencoder"):
        if name in fitted:
            attempt(f"latent_{name}.png", lambda name=name:
                    plotting.LatentSpaceDisplay.from_estimator(
                        fitted[name], Xs_test, data.y_test, random_state=0),
                    f"{name}: test codes, first two principal axes")
    for name, prefix in (("VariationalAutoencoder", "vae"),
                         ("ConvVariationalAutoencoder", "conv_vae")):
        vae = fitted.get(name)
        if vae is None:
            continue
        attempt(f"{prefix}_samples.png", lambda vae=vae: plotting.SampleDisplay.from_estimator(
            vae, n_samples=64, image_shape=image_shape, random_state=0),
            f"{name}: samples from the prior")
        # The two most active latent dimensions: with 32 of them many collapse to the
        # prior, and a grid over two of those decodes to one image repeated.
        active = np.argsort(np.var(vae.transform(Xs_test), axis=0))[::-1][:2]
        dims = tuple(int(d) for d in active)
        attempt(f"{prefix}_manifold.png", lambda vae=vae, dims=dims:
                plotting.LatentManifoldDisplay.from_estimator(
                    vae, Xs_test, n_grid=12, dims=dims, image_shape=image_shape),
                f"{name}: decoded grid over its two most active latent dimensions")
    for name, est in (natural or {}).items():
        if name in ("SparseAutoencoder", "DenoisingAutoencoder", "ContractiveAutoencoder"):
            attempt(f"filters_natural_{name}.png", lambda est=est: plotting.FilterDisplay
                    .from_estimator(est, n_filters=64, image_shape=image_shape),
                    f"{name}, overcomplete: first-layer filters")
    for name, est in networks.items():
        attempt(f"training_curves_{name}.png", lambda est=est:
                plotting.TrainingCurveDisplay.from_estimator(est),
                f"{name}: training curves")
    return written


# --------------------------------------------------------------------------------------
# command line


def _resolve_names(text):
    if text is None:
        return REDUCERS + CLASSIFIERS
    names = []
    for raw in text.split(","):
        raw = raw.strip()
        if not raw:
            continue
        key = raw.lower()
        if key not in ALIASES:
            valid = ", ".join(REDUCERS + CLASSIFIERS)
            raise SystemExit(f"--estimators: unknown name {raw!r}; choose from {valid} "
                             f"(or the aliases {', '.join(sorted(ALIASES))}).")
        if ALIASES[key] not in names:
            names.append(ALIASES[key])
    return names


def _hidden(text):
    return tuple(int(h) for h in text.split(",") if h.strip())


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("Usage::", 1)[1].splitlines()),
    )
    parser.add_argument("--dataset", choices=["digits", "mnist", "fashion_mnist", "faces",
                                              "olivetti"], default="digits")
    parser.add_argument("--data-home", type=Path, default=None, metavar="DIR",
                        help="folder of the MNIST / faces files (default ../shared/data/...)")
    parser.add_argument("--mnist", nargs="?", const="", default=None, metavar="DIR",
                        help="alias of --dataset mnist [--data-home DIR]")
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--estimators", default=None, metavar="NAMES",
                        help="comma-separated subset, e.g. 'pca,autoencoder,vae,raw' "
                        "(default: all)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="output folder (default benchmarks/results/<dataset>/)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="also write the JSON here")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 300 train / 150 test samples, 2 epochs")
    parser.add_argument("--seed", type=int, default=0, help="random_state of every method")
    parser.add_argument("--n-train", type=int, default=None,
                        help="training samples (stratified subsample; 0 = all). "
                        "Default: all; 10,000 on MNIST")
    parser.add_argument("--n-test", type=int, default=None, help="test samples (0 = all)")
    parser.add_argument("--max-iter", type=int, default=None,
                        help="epochs of the neural methods (default: their own on digits "
                        "and faces, 30 on MNIST, 10 for the conv ones on MNIST)")
    parser.add_argument("--hidden", type=_hidden, default=None, metavar="SIZES",
                        help="hidden layer sizes for every MLP method, e.g. '256,128' "
                        "('' for none; default: each estimator's own)")
    parser.add_argument("--kpca-max-train", type=int, default=None,
                        help="KernelPCA fits on at most this many samples (default 5000)")
    parser.add_argument("--image-size", type=int, default=32,
                        help="faces: resize to SIZE x SIZE (default 32)")
    parser.add_argument("--device", default="cpu", help="torch device of the skae methods")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--clf-max-iter", type=int, default=1000,
                        help="LogisticRegression max_iter")
    parser.add_argument("--no-clip", action="store_true",
                        help="do not clip the scaled test data to [0, 1]")
    parser.add_argument("--natural", action=argparse.BooleanOptionalAction, default=None,
                        help="second table: the regularised autoencoders at their natural "
                        "configuration (default: on for digits, off otherwise)")
    parser.add_argument("--no-figures", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.mnist is not None:
        args.dataset = "mnist"
        if args.mnist:
            args.data_home = Path(args.mnist)
    args.names = _resolve_names(args.estimators)
    if args.natural is None:
        args.natural = args.dataset == "digits"
    if args.out is None:
        args.out = RESULTS / (args.dataset + ("_quick" if args.quick else ""))
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    cfg = dataset_config(args)
    image_size = (args.image_size, args.image_size) if args.dataset in ("faces",
                                                                        "olivetti") else None
    data = load_dataset(args.dataset, data_home=args.data_home, n_train=cfg.n_train,
                        n_test=cfg.n_test, image_size=image_size, seed=0)
    n_features = data.X_train.shape[1]
    clip = not args.no_clip
    scaler = MinMaxScaler(clip=clip).fit(data.X_train)

    # Warm up torch (thread pool, lazy initialisation) so it is not billed to a fit.
    skae.Autoencoder(n_components=2, max_iter=1, device=args.device, random_state=0).fit(
        scaler.transform(data.X_train[:256]))

    rows, refs, fitted, skipped = [], [], {}, []
    bar = progress(total=len(args.names), desc=args.dataset, disable=args.no_progress)
    for name in args.names:
        bar.set_postfix_str(name)
        try:
            if name == "raw":
                refs.extend(evaluate_raw(scaler, data, args))
            elif name in CLASSIFIERS:
                clf = build_classifier(name, args, cfg)
                Xs_train = scaler.transform(data.X_train)
                t, _ = timed(lambda clf=clf, X=Xs_train: clf.fit(X, data.y_train), args.device)
                acc = float(Pipeline([("scale", scaler), ("clf", clf)]).score(
                    data.X_test, data.y_test))
                refs.append({"method": f"{name} {_arch(n_features, clf.hidden_layer_sizes, '')}"
                             .rstrip("-") + " + softmax", "accuracy": acc, "fit_time_s": t,
                             "epochs": clf.n_iter_})
            else:
                est, desc = build(name, args, cfg, n_features, data.image_shape)
                if est is None:
                    skipped.append((name, desc))
                else:
                    sub = data
                    if name == "KernelPCA" and len(data.X_train) > cfg.kpca_max_train:
                        sub = _train_subset(data, cfg.kpca_max_train)
                        desc += f", fitted on {len(sub.X_train)} samples"
                    row = {"method": name, "model": desc, **evaluate(est, scaler, sub, args)}
                    rows.append(row)
                    fitted[name] = est
        except Exception as exc:  # one failure must not lose a long run's other results
            traceback.print_exc()
            skipped.append((name, f"failed: {type(exc).__name__}: {exc}"))
        bar.update(1)
    bar.close()

    natural, natural_fitted = [], {}
    names = [n for n in NATURAL if n in args.names] if args.natural else []
    bar = progress(total=len(names), desc=f"{args.dataset} natural",
                   disable=args.no_progress or not names)
    for name in names:
        bar.set_postfix_str(name)
        try:
            est, desc = build_natural(name, args, cfg, n_features)
            row = {"method": name, "model": desc, "n_components": est.n_components,
                   **evaluate(est, scaler, data, args)}
            natural.append(row)
            natural_fitted[name] = est
        except Exception as exc:
            traceback.print_exc()
            skipped.append((f"{name} (natural)", f"failed: {type(exc).__name__}: {exc}"))
        bar.update(1)
    bar.close()

    pca_mse = next((r["mse"] for r in rows if r["method"] == "PCA"), None)
    for r in rows + natural:
        r["mse_ratio"] = r["mse"] / pca_mse if r["mse"] is not None and pca_mse else None
    equal = {r["method"]: r for r in rows}
    for r in natural:
        for key in ("acc_lr", "acc_svc"):
            r[f"{key}_equal_size"] = equal.get(r["method"], {}).get(key)

    caption = (
        f"{data.description}: {len(data.X_train)} train / {len(data.X_test)} test samples, "
        f"{n_features} features, n_components={args.n_components}, random_state={args.seed}, "
        f"device={args.device}, {torch.get_num_threads()} torch threads. MSE on the "
        f"MinMax-scaled test data ({'clipped to [0, 1]' if clip else 'not clipped'}); "
        "accuracy of Pipeline(MinMaxScaler, reducer, LogisticRegression / SVC(rbf)) on the "
        "test set; fit = reducer fit on the scaled training data, transform = median of 3 "
        "transforms of the scaled test data (classifiers not timed)."
    )
    columns = [
        ("Method", "method", None), ("Model", "model", None),
        ("Test MSE", "mse", ".5f"), ("MSE / PCA", "mse_ratio", ".3f"),
        ("LR acc.", "acc_lr", ".4f"), ("SVC acc.", "acc_svc", ".4f"),
        ("Fit (s)", "fit_time_s", ".2f"), ("Transform (s)", "transform_time_s", ".4f"),
        ("Epochs", "epochs", "d"),
    ]
    text = [textwrap.fill(caption, width=100), "", markdown_table(columns, rows)]
    if refs:
        text += ["", "Reference classifiers (no reducer; accuracy on the same test set):", "",
                 markdown_table([("Classifier", "method", None), ("Accuracy", "accuracy", ".4f"),
                                 ("Fit (s)", "fit_time_s", ".2f")], refs)]
    if natural:
        text += ["", textwrap.fill(
            "The regularised autoencoders at their natural configuration (the papers'), "
            f"beside their row above (n_components={args.n_components}): same data, "
            "scaler, classifiers and epochs; MSE / PCA relative to PCA with "
            f"{args.n_components} components.", width=100), "",
            markdown_table([
                ("Method", "method", None), ("Natural configuration", "model", None),
                ("Code size", "n_components", "d"), ("Test MSE", "mse", ".5f"),
                ("MSE / PCA", "mse_ratio", ".3f"), ("LR acc.", "acc_lr", ".4f"),
                ("SVC acc.", "acc_svc", ".4f"), ("LR, equal size", "acc_lr_equal_size", ".4f"),
                ("SVC, equal size", "acc_svc_equal_size", ".4f"),
                ("Fit (s)", "fit_time_s", ".2f"), ("Epochs", "epochs", "d"),
            ], natural)]
    notes = [f"- {r['method']}: {', '.join(r['warnings'])}"
             for r in rows + natural if r.get("warnings")]
    notes += [f"- {name} skipped: {why}" for name, why in skipped]
    if notes:
        text += ["", *notes]
    report = "\n".join(text)
    print(report)

    args.out.mkdir(parents=True, exist_ok=True)
    figures = [] if args.no_figures else draw_figures(fitted, scaler, data, args.out,
                                                      natural_fitted)
    wall = time.perf_counter() - start
    (args.out / "results.md").write_text(report + "\n")
    config = {k: v for k, v in vars(args).items() if k not in ("names",)}
    config.update(estimators=args.names, n_train=len(data.X_train), n_test=len(data.X_test),
                  n_features=n_features, image_shape=data.image_shape, data=data.description,
                  max_iter=cfg.max_iter, rbm_n_iter=cfg.rbm_n_iter,
                  kpca_max_train=cfg.kpca_max_train, conv_max_iter=cfg.conv_max_iter,
                  clip=clip)
    payload = {"config": config, "results": rows, "references": refs, "natural": natural,
               "skipped": [{"method": n, "reason": w} for n, w in skipped],
               "figures": figures, "versions": versions(), "machine": machine_info(),
               "wall_time_s": wall}
    paths = [write_json(args.out / "results.json", payload)]
    if args.json is not None:
        paths.append(write_json(args.json, payload))
    print(f"\nwrote {', '.join(map(str, paths))}, {args.out / 'results.md'}"
          + (f" and {len(figures)} figures in {args.out}" if figures else "")
          + f"; total {wall:.0f} s")
    return payload


def _train_subset(data, n):
    from sklearn.model_selection import train_test_split
    from sklearn.utils import Bunch

    X, _, y, _ = train_test_split(data.X_train, data.y_train, train_size=n,
                                  stratify=data.y_train, random_state=0)
    return Bunch(**{**data, "X_train": X, "y_train": y})


if __name__ == "__main__":
    main()
