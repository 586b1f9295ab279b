"""skae.Autoencoder against PCA at the same number of components.

Both reducers are fitted on MinMax-scaled training data. For each the script
reports the test reconstruction MSE (mean over all test pixels of
``(inverse_transform(transform(X_test)) - X_test) ** 2``, on the scaled data), that
MSE relative to PCA's, the test accuracy of
``Pipeline([MinMaxScaler, reducer, LogisticRegression])``, and the reducer's fit
and transform times. A raw-pixels + LogisticRegression row gives the reference
accuracy. The scaler clips the scaled test data to [0, 1] (``MinMaxScaler(clip=True)``)
unless ``--no-clip`` is given: fitted per pixel on a training subsample, it otherwise
maps rare test pixels to values far above 1 (up to ~190 on MNIST with 10,000 training
images), and those few pixels dominate the MSE. The result is a Markdown table on
stdout (and JSON with ``--json``).

Data: scikit-learn's 8x8 digits, split 75/25 stratified (random_state=0), or
with ``--mnist`` the MNIST training set (a stratified subsample of ``--n-train``
images, random_state=0) and the full 10,000-image test set, read with
:func:`skae.datasets.load_mnist`.

Usage::

    python benchmarks/vs_pca.py                       # digits, 32 components
    python benchmarks/vs_pca.py --n-components 16 --hidden 128,64 --max-iter 100
    python benchmarks/vs_pca.py --mnist               # ../shared/data/mnist
    python benchmarks/vs_pca.py --mnist /data/mnist --n-train 60000 --device cuda \\
        --json benchmarks/results/mnist.json
"""

from __future__ import annotations

import argparse
import json
import textwrap
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import Autoencoder
from skae.datasets import load_mnist

DEFAULT_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def load_data(args):
    """Return ``X_train, X_test, y_train, y_test`` and a one-line description."""
    if args.mnist is None:
        X, y = load_digits(return_X_y=True)
        split = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
        return split, "digits 8x8, stratified 75/25 split"
    X_train, y_train = load_mnist(args.mnist, subset="train", return_X_y=True)
    X_test, y_test = load_mnist(args.mnist, subset="test", return_X_y=True)
    if args.n_train < len(X_train):
        X_train, _, y_train, _ = train_test_split(
            X_train, y_train, train_size=args.n_train, stratify=y_train, random_state=0
        )
    return (X_train, X_test, y_train, y_test), "MNIST 28x28"


def evaluate(reducer, X_train, X_test, y_train, y_test, clf_max_iter, clip):
    """Fit ``reducer`` once on the scaled training data; time, score and classify."""
    scaler = MinMaxScaler(clip=clip).fit(X_train)
    Xs_train, Xs_test = scaler.transform(X_train), scaler.transform(X_test)

    t0 = time.perf_counter()
    reducer.fit(Xs_train)
    fit_time = time.perf_counter() - t0
    t0 = time.perf_counter()
    Z_test = reducer.transform(Xs_test)
    transform_time = time.perf_counter() - t0
    mse = float(np.mean((reducer.inverse_transform(Z_test) - Xs_test) ** 2))

    # The pipeline's steps are the ones fitted above, so this is the same model that
    # Pipeline.fit(X_train, y_train) would give, without training the reducer twice.
    clf = LogisticRegression(max_iter=clf_max_iter).fit(reducer.transform(Xs_train), y_train)
    pipe = Pipeline([("scale", scaler), ("reduce", reducer), ("clf", clf)])
    accuracy = float(pipe.score(X_test, y_test))
    return {
        "mse": mse,
        "accuracy": accuracy,
        "fit_time_s": fit_time,
        "transform_time_s": transform_time,
    }


def markdown_table(rows):
    def fmt(value, spec):
        return "—" if value is None else format(value, spec)

    lines = [
        "| Method | Test MSE | MSE / PCA | Test accuracy | Fit (s) | Transform (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {fmt(r['mse'], '.5f')} | {fmt(r['mse_ratio'], '.3f')} "
            f"| {fmt(r['accuracy'], '.4f')} | {fmt(r['fit_time_s'], '.3f')} "
            f"| {fmt(r['transform_time_s'], '.4f')} |"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mnist",
        nargs="?",
        const=str(DEFAULT_MNIST),
        default=None,
        metavar="DIR",
        help=f"use MNIST from DIR (default DIR: {DEFAULT_MNIST}) instead of digits",
    )
    parser.add_argument("--n-train", type=int, default=10_000, help="MNIST training images")
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument(
        "--max-iter",
        type=int,
        default=None,
        help=f"Autoencoder epochs (default: {Autoencoder().max_iter} on digits, 30 on MNIST)",
    )
    parser.add_argument(
        "--hidden",
        default=None,
        help="hidden layer sizes, comma separated ('' for none; default: "
        f"{','.join(map(str, Autoencoder().hidden_layer_sizes))})",
    )
    parser.add_argument("--seed", type=int, default=0, help="random_state of the reducers")
    parser.add_argument("--device", default="cpu", help="Autoencoder device")
    parser.add_argument(
        "--clf-max-iter", type=int, default=1000, help="LogisticRegression max_iter"
    )
    parser.add_argument(
        "--no-clip",
        action="store_true",
        help="do not clip the scaled test data to [0, 1] (MinMaxScaler(clip=False))",
    )
    parser.add_argument("--json", type=Path, default=None, metavar="PATH")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    (X_train, X_test, y_train, y_test), data_desc = load_data(args)
    ae_kwargs = {
        "n_components": args.n_components,
        "device": args.device,
        "random_state": args.seed,
    }
    if args.max_iter is None and args.mnist is not None:
        args.max_iter = 30
    if args.max_iter is not None:
        ae_kwargs["max_iter"] = args.max_iter
    if args.hidden is not None:
        ae_kwargs["hidden_layer_sizes"] = tuple(int(h) for h in args.hidden.split(",") if h)
    ae = Autoencoder(**ae_kwargs)
    pca = PCA(n_components=args.n_components, random_state=args.seed)

    # Warm up torch (thread pool, lazy initialisation) so it is not billed to the fit.
    Autoencoder(n_components=2, max_iter=1, device=args.device, random_state=0).fit(
        MinMaxScaler().fit_transform(X_train[:256])
    )

    clip = not args.no_clip
    data = (X_train, X_test, y_train, y_test)
    rows = [
        {"method": name, **evaluate(reducer, *data, args.clf_max_iter, clip)}
        for name, reducer in [("PCA", pca), ("Autoencoder", ae)]
    ]
    for r in rows:
        r["mse_ratio"] = r["mse"] / rows[0]["mse"]
    raw = Pipeline(
        [
            ("scale", MinMaxScaler(clip=clip)),
            ("clf", LogisticRegression(max_iter=args.clf_max_iter)),
        ]
    )
    rows.append(
        {
            "method": "Raw pixels (no reduction)",
            "mse": None,
            "mse_ratio": None,
            "accuracy": float(raw.fit(X_train, y_train).score(X_test, y_test)),
            "fit_time_s": None,
            "transform_time_s": None,
        }
    )

    hidden = ae.get_params()["hidden_layer_sizes"]
    caption = (
        f"{data_desc}: {len(X_train)} train / {len(X_test)} test samples, "
        f"{X_train.shape[1]} features, n_components={args.n_components}. "
        f"Autoencoder: hidden_layer_sizes={tuple(hidden)}, max_iter={ae.max_iter} "
        f"({ae.n_iter_} epochs run), batch_size={ae.batch_size}, lr={ae.lr}, "
        f"device={args.device}, {torch.get_num_threads()} torch threads; "
        f"random_state={args.seed}. MSE on the MinMax-scaled test data "
        f"({'clipped to [0, 1]' if clip else 'not clipped'}). Fit / Transform: "
        "wall-clock time of the reducer alone, fit on the scaled training data and "
        "transform of the scaled test data (the pipeline and classifier are not timed). "
        f"Accuracy: Pipeline(MinMaxScaler(clip={clip}), reducer, "
        f"LogisticRegression(max_iter={args.clf_max_iter})) on the test set, reusing "
        "the timed reducer."
    )
    print(textwrap.fill(caption, width=100))
    print()
    print(markdown_table(rows))

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        config.update(
            data=data_desc,
            n_train=len(X_train),
            n_test=len(X_test),
            hidden_layer_sizes=list(hidden),
            max_iter=ae.max_iter,
            autoencoder_epochs_run=ae.n_iter_,
            torch_threads=torch.get_num_threads(),
        )
        args.json.write_text(json.dumps({"config": config, "results": rows}, indent=2) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
