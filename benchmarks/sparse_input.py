"""Sparse input: skae.Autoencoder on a CSR matrix against TruncatedSVD, and peak memory.

Two parts, each method in a fresh subprocess whose peak resident memory is read
from ``/proc/self/status`` (``VmHWM``, reset after the imports and the data loading
through ``/proc/self/clear_refs``; :func:`resource.getrusage`'s ``ru_maxrss``
where that is not available) and reported minus the memory after the imports and
the data loading (the baseline):

1. **A real sparse problem**: binarised MNIST (a pixel is 1 when its intensity is
   above 0.5, else an implicit zero: about 13 % non-zeros) as a CSR matrix, a
   stratified subsample of ``--n-train`` training images and the 10,000 test
   images (``--dataset digits`` uses scikit-learn's 8x8 digits binarised at 8/16
   instead). At ``--n-components`` each:

   * ``TruncatedSVD`` (randomized, ``random_state=0``) fitted on the CSR matrix;
   * ``Autoencoder`` fitted on the CSR matrix (``--max-iter`` epochs), densified by
     skae one batch at a time;
   * ``Autoencoder`` on the dense twin (same seed: the same model, see
     tests/test_sparse_input.py), for the memory and time the sparse path saves.

   Reported: reconstruction MSE on the test set (``inverse_transform(transform(X))``
   against the dense test matrix), accuracy of a ``LogisticRegression`` trained on
   the training codes (standardised), fit time, transform time of the test set and
   peak memory above the baseline.

2. **Memory at scale** (``--big``, on by default; ``--no-big`` skips it): a random
   ``--big-rows`` x ``--big-features`` CSR matrix (default 100,000 x 20,000) at
   density ``--big-density`` (default 0.0005: 1 million non-zeros, 8 MB as CSR,
   8 GB as a dense float32 matrix), fitted for one epoch by ``Autoencoder(
   n_components=32, hidden_layer_sizes=(128,))`` and transformed; the peak
   resident memory of the whole process must stay well under 2 GB.

Usage::

    python benchmarks/sparse_input.py                  # MNIST 10,000 + 100k x 20k check
    python benchmarks/sparse_input.py --quick          # seconds: digits, small big check
    python benchmarks/sparse_input.py --no-big --n-train 60000

Time: about 10 minutes with the defaults on 2 CPU cores shared with other work
(most of it the one epoch over the 100,000 x 20,000 matrix: 285 s, and its
transform: 26 s). Measured there: peak RSS 729 MB for the whole process (361 MB
after the imports and the data), against 8 GB (7,629 MiB) for the matrix alone as
dense float32.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    RESULTS,
    load_dataset,
    machine_info,
    markdown_table,
    timed,
    write_json,
)

MB = 2**20


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024 / MB
    return float("nan")


def current_rss_mb() -> float:
    """Resident set size of this process now."""
    return _status_mb("VmRSS")


def reset_peak_rss():
    """Start the peak over from the current RSS (Linux >= 4.0; else keep the old peak)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb() -> float:
    """Peak resident set size since :func:`reset_peak_rss` (``ru_maxrss`` without it)."""
    hwm = _status_mb("VmHWM")
    if hwm == hwm:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB


# ----------------------------------------------------------------------------- data
def binarised(dataset: str, n_train, seed=0):
    """CSR train / test matrices of a binarised image dataset, with labels."""
    import scipy.sparse as sp

    data = load_dataset(dataset, n_train=n_train, seed=seed)
    threshold = 0.5 if data.X_train.max() <= 1 else 8.0
    X_train = sp.csr_matrix((data.X_train > threshold).astype(np.float32))
    X_test = sp.csr_matrix((data.X_test > threshold).astype(np.float32))
    return X_train, X_test, data.y_train, data.y_test, data.description


# ---------------------------------------------------------------------------- child
def _make_method(name, n_components, max_iter, batch_size):
    if name == "TruncatedSVD":
        from sklearn.decomposition import TruncatedSVD

        return TruncatedSVD(n_components=n_components, random_state=0)
    import skae

    return skae.Autoencoder(n_components=n_components, max_iter=max_iter,
                            batch_size=batch_size, random_state=0)


def child_compare(args) -> dict:
    """One method of part 1, in this (fresh) process."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, y_train, y_test, _ = binarised(args.dataset, args.n_train or None)
    dense = args.method.endswith("(dense)")
    if dense:
        X_train, X_test = X_train.toarray(), X_test.toarray()
    est = _make_method(args.method.split(" ")[0], args.n_components, args.max_iter,
                       args.batch_size)
    base = current_rss_mb()
    reset_peak_rss()  # the peak of the imports and the loading is not the method's
    t_fit, _ = timed(lambda: est.fit(X_train))
    t_transform, Z_test = timed(lambda: est.transform(X_test))
    peak = peak_rss_mb()
    Z_train = est.transform(X_train)
    X_test_dense = X_test if dense else X_test.toarray()
    mse = float(np.mean((est.inverse_transform(Z_test) - X_test_dense) ** 2))
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    acc = float(clf.fit(Z_train, y_train).score(Z_test, y_test))
    return {"method": args.method, "mse": mse, "lr_accuracy": acc, "fit_s": t_fit,
            "transform_s": t_transform, "peak_mb": peak - base, "baseline_mb": base,
            "epochs": getattr(est, "n_iter_", None)}


def child_big(args) -> dict:
    """Part 2: fit and transform a large random CSR matrix, in this process."""
    import scipy.sparse as sp

    import skae

    # A Generator, not a seed: with a legacy RandomState scipy draws the positions
    # through a permutation of all rows * features cells (16 GB here).
    X = sp.random(args.big_rows, args.big_features, density=args.big_density,
                  format="csr", dtype=np.float32, random_state=np.random.default_rng(0))
    est = skae.Autoencoder(n_components=32, hidden_layer_sizes=(128,), max_iter=1,
                           batch_size=args.batch_size, random_state=0)
    base = current_rss_mb()
    reset_peak_rss()
    t_fit, _ = timed(lambda: est.fit(X))
    t_transform, Z = timed(lambda: est.transform(X))
    return {"shape": list(X.shape), "nnz": int(X.nnz),
            "csr_mb": (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / MB,
            "dense_float32_mb": X.shape[0] * X.shape[1] * 4 / MB,
            "baseline_mb": base, "peak_rss_mb": peak_rss_mb(), "fit_s": t_fit,
            "transform_s": t_transform, "code_shape": list(Z.shape)}


def _run_child(argv) -> dict:
    cmd = [sys.executable, __file__, *argv]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dataset", choices=["mnist", "digits"], default="mnist")
    parser.add_argument("--n-train", type=int, default=10_000,
                        help="MNIST training images (stratified subsample; 0 for all)")
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--max-iter", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--big", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--big-rows", type=int, default=100_000)
    parser.add_argument("--big-features", type=int, default=20_000)
    parser.add_argument("--big-density", type=float, default=0.0005)
    parser.add_argument("--quick", action="store_true",
                        help="digits, 2 epochs, a 2,000 x 5,000 big matrix (unless given)")
    parser.add_argument("--json", type=Path, default=None,
                        help="write the results there (default benchmarks/results/)")
    parser.add_argument("--child", choices=["compare", "big"], help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:  # shrinks what the command line leaves at its default
        quick = {"dataset": "digits", "max_iter": 2, "big_rows": 2_000, "big_features": 5_000}
        for key, value in quick.items():
            if getattr(args, key) == parser.get_default(key):
                setattr(args, key, value)
    return args


def _child_argv(args):
    return ["--dataset", args.dataset, "--n-train", str(args.n_train),
            "--n-components", str(args.n_components), "--max-iter", str(args.max_iter),
            "--batch-size", str(args.batch_size), "--big-rows", str(args.big_rows),
            "--big-features", str(args.big_features),
            "--big-density", str(args.big_density)]


def main(argv=None):
    args = parse_args(argv)
    if args.child == "compare":
        print(json.dumps(child_compare(args)))
        return None
    if args.child == "big":
        print(json.dumps(child_big(args)))
        return None

    *_, description = binarised(args.dataset, args.n_train or None)
    print(f"Data: {description}, binarised, as CSR; {args.n_components} components")
    rows = []
    for method in ("TruncatedSVD", "Autoencoder", "Autoencoder (dense)"):
        row = _run_child([*_child_argv(args), "--child", "compare", "--method", method])
        rows.append(row)
        print(f"  {method}: done in {row['fit_s']:.1f} s", flush=True)
    columns = [("method", "method", None), ("test MSE", "mse", ".4f"),
               ("LR accuracy", "lr_accuracy", ".3f"), ("fit (s)", "fit_s", ".1f"),
               ("transform (s)", "transform_s", ".2f"),
               ("peak memory (MB)", "peak_mb", ".0f"), ("epochs", "epochs", "d")]
    print()
    print(markdown_table(columns, rows))
    result = {"machine": machine_info(), "args": vars(args) | {"json": None},
              "compare": rows}

    if args.big:
        big = _run_child([*_child_argv(args), "--child", "big"])
        result["big"] = big
        print()
        print(f"{big['shape'][0]:,} x {big['shape'][1]:,} CSR, {big['nnz']:,} non-zeros "
              f"({big['csr_mb']:.0f} MB as CSR, {big['dense_float32_mb']:,.0f} MB dense "
              f"float32): fit (1 epoch) {big['fit_s']:.0f} s, transform "
              f"{big['transform_s']:.1f} s, peak RSS {big['peak_rss_mb']:.0f} MB "
              f"(after imports and data: {big['baseline_mb']:.0f} MB)")
    path = args.json or RESULTS / f"sparse_input_{args.dataset}.json"
    write_json(path, result)
    return result


if __name__ == "__main__":
    main()
