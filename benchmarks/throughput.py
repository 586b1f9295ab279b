"""Training and inference throughput (samples/s) of every skae estimator, CPU and GPU.

For each estimator and each ``--batch-sizes`` (default 128 and 1024) the script fits
a fresh model for ``--epochs`` epochs (every epoch runs: the stopping rule's patience
exceeds the budget) on ``--n-samples`` x 784 float32 data and reports

* fit throughput = ``n_samples * epochs / fit time``, in samples per second;
* transform throughput = ``n_samples / transform time`` (skae's ``transform`` runs in
  chunks of 4,096 rows whatever the training ``batch_size``, so it is measured once,
  on the model trained with the largest batch size);

each the median of ``--repeats`` runs (a fresh seed per run), after one warm-up fit
per estimator. ``StackedAutoencoder`` (784-256-32): one "epoch" is one epoch of each
layer's greedy pretraining plus one of fine-tuning, so its figure counts each sample
three times per epoch. ``ConvAutoencoder`` and ``ConvVariationalAutoencoder`` (default
filters) see the rows as 28x28 images. scikit-learn's
``MLPRegressor`` trained as an autoencoder (same 784-256-32-256-784 network) and
``BernoulliRBM`` (784-32) are timed the same way on CPU, for reference.

Devices: ``--device`` (repeatable): ``cpu``, ``cuda`` (default: cpu, plus cuda when
a GPU is visible). The overhead of skae over a hand-written PyTorch loop is measured
side by side by ``benchmarks/overhead.py`` (CPU) and ``benchmarks/gpu_throughput.py``
(one device, mixed precision, ``torch.compile``).

Data: uniform [0, 1] noise by default (throughput does not depend on the values), or
the first ``--n-samples`` MNIST training images with ``--mnist [DIR]``.

Usage::

    python benchmarks/throughput.py                      # 20,000 x 784, 2 epochs, 3 repeats
    python benchmarks/throughput.py --device cuda --repeats 5
    python benchmarks/throughput.py --device cuda --mixed-precision bfloat16
    python benchmarks/throughput.py --estimators ae,vae --batch-sizes 64 256 1024
    python benchmarks/throughput.py --quick              # seconds: 1,024 samples, 1 epoch
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.neural_network import BernoulliRBM

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    MLPRegressorAutoencoder,
    default_data_home,
    machine_info,
    markdown_table,
    progress,
    timed,
    versions,
    write_json,
)

import skae  # noqa: E402

SKAE = [
    "Autoencoder",
    "SparseAutoencoder",
    "DenoisingAutoencoder",
    "ContractiveAutoencoder",
    "StackedAutoencoder",
    "VariationalAutoencoder",
    "ConvAutoencoder",
    "ConvVariationalAutoencoder",
]
SKLEARN = ["MLPRegressor", "BernoulliRBM"]
ALIASES = {"ae": "Autoencoder", "sae": "SparseAutoencoder", "sparse": "SparseAutoencoder",
           "dae": "DenoisingAutoencoder", "cae": "ContractiveAutoencoder",
           "contractive": "ContractiveAutoencoder", "stacked": "StackedAutoencoder",
           "vae": "VariationalAutoencoder", "conv": "ConvAutoencoder",
           "convvae": "ConvVariationalAutoencoder", "cvae": "ConvVariationalAutoencoder",
           "mlp": "MLPRegressor",
           "rbm": "BernoulliRBM"}
ALIASES.update({n.lower(): n for n in SKAE + SKLEARN})


def build(name, *, n_components, batch_size, epochs, device, seed, image_shape,
          mixed_precision=False):
    """An estimator that runs exactly ``epochs`` epochs; None if unavailable."""
    common = dict(n_components=n_components, batch_size=batch_size, max_iter=epochs,
                  n_iter_no_change=epochs + 1, random_state=seed, device=device,
                  mixed_precision=mixed_precision)
    if name == "MLPRegressor":
        return MLPRegressorAutoencoder(n_components, hidden_layer_sizes=(256,),
                                       batch_size=batch_size, max_iter=epochs,
                                       n_iter_no_change=epochs + 1, tol=0.0,
                                       random_state=seed)
    if name == "BernoulliRBM":
        return BernoulliRBM(n_components=n_components, batch_size=batch_size, n_iter=epochs,
                            random_state=seed)
    if name in ("ConvAutoencoder", "ConvVariationalAutoencoder"):
        if not hasattr(skae, name) or image_shape is None:
            return None
        return getattr(skae, name)(image_shape=image_shape, **common)
    if name == "StackedAutoencoder":
        layer = skae.Autoencoder(hidden_layer_sizes=(), code_activation="sigmoid", lr=1e-2,
                                 max_iter=epochs, n_iter_no_change=epochs + 1,
                                 batch_size=batch_size, device=device,
                                 mixed_precision=mixed_precision)
        return skae.StackedAutoencoder(hidden_layer_sizes=(256,), layer_estimator=layer,
                                       **common)
    return getattr(skae, name)(**common)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("Usage::", 1)[1].splitlines()),
    )
    parser.add_argument("--estimators", default=None, metavar="NAMES",
                        help=f"comma-separated subset of {', '.join(SKAE + SKLEARN)}")
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 1024])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", action="append", default=None,
                        help="cpu / cuda / cuda:N (repeatable; default cpu and, when "
                        "available, cuda)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--mixed-precision", choices=["bfloat16", "float16"], default=None,
                        help="train the skae estimators under autocast (float16: CUDA only)")
    parser.add_argument("--mnist", nargs="?", const="", default=None, metavar="DIR",
                        help="MNIST training images (default DIR ../shared/data/mnist)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1,024 samples, 1 epoch, 1 repeat")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    names = []
    for raw in (args.estimators or ",".join(SKAE + SKLEARN)).split(","):
        if raw.strip():
            if raw.strip().lower() not in ALIASES:
                parser.error(f"--estimators: unknown name {raw!r}")
            names.append(ALIASES[raw.strip().lower()])
    args.names = list(dict.fromkeys(names))
    if args.device is None:
        args.device = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if args.quick:
        args.n_samples, args.epochs, args.repeats = 1024, 1, 1
    return args


def load_X(args):
    if args.mnist is not None:
        from skae.datasets import load_mnist

        home = Path(args.mnist) if args.mnist else default_data_home("mnist")
        X = load_mnist(home, subset="train", return_X_y=True)[0][: args.n_samples]
        return np.ascontiguousarray(X, dtype=np.float32), "MNIST training images"
    X = np.random.default_rng(0).random((args.n_samples, 784), dtype=np.float32)
    return X, "uniform [0, 1]"


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    X, source = load_X(args)
    n, d = X.shape
    side = int(round(d**0.5))
    image_shape = (side, side) if side * side == d else None

    jobs = [(dev, name) for dev in args.device for name in args.names
            if not (name in SKLEARN and dev != "cpu")]
    rows, skipped = [], []
    bar = progress(total=len(jobs) * (1 + len(args.batch_sizes) * args.repeats),
                   desc="throughput", disable=args.no_progress)
    for dev, name in jobs:
        bar.set_postfix_str(f"{name} on {dev}")
        kw = dict(n_components=args.n_components, epochs=args.epochs, device=dev,
                  image_shape=image_shape,
                  mixed_precision=args.mixed_precision or False)
        if build(name, batch_size=128, seed=0, **kw) is None:
            skipped.append((name, f"skae.{name} is not in this version of skae"
                            if image_shape else "needs square images"))
            bar.update(1 + len(args.batch_sizes) * args.repeats)
            continue
        # warm-up: allocator, kernels (cuDNN autotuning), lazy imports
        build(name, batch_size=args.batch_sizes[0], seed=0, **{**kw, "epochs": 1}).fit(
            X[: min(n, 2048)])
        bar.update(1)
        row = {"estimator": name, "device": dev}
        model = None
        for bs in args.batch_sizes:
            fit_times = []
            for r in range(args.repeats):
                est = build(name, batch_size=bs, seed=r, **kw)
                t, model = timed(lambda est=est: est.fit(X), dev)
                fit_times.append(t)
                bar.update(1)
            row[f"fit_{bs}"] = n * args.epochs / statistics.median(fit_times)
            row[f"fit_time_s_{bs}"] = statistics.median(fit_times)
        tr = [timed(lambda m=model: m.transform(X), dev)[0]
              for _ in range(max(3, args.repeats))]
        row["transform"] = n / statistics.median(tr)
        row["transform_time_s"] = statistics.median(tr)
        rows.append(row)
    bar.close()

    threads = torch.get_num_threads()
    info = machine_info()
    gpu = f", GPU {info['cuda_device']}" if info.get("cuda") else ""
    print(f"\n{n} x {d} float32 ({source}), {args.n_components} components, "
          f"{args.epochs} epochs per fit, median of {args.repeats}; {threads} torch threads"
          f"{gpu}; mixed precision: {args.mixed_precision or 'off'}. Samples per second "
          "(higher is better).\n")
    columns = [("Estimator", "estimator", None), ("Device", "device", None)]
    columns += [(f"Fit, batch {bs}", f"fit_{bs}", ",.0f") for bs in args.batch_sizes]
    columns += [("Transform", "transform", ",.0f")]
    print(markdown_table(columns, rows))
    for name, why in skipped:
        print(f"- {name} skipped: {why}")
    wall = time.perf_counter() - start
    print(f"\ntotal {wall:.0f} s")
    if args.json is not None:
        config = {k: v for k, v in vars(args).items() if k != "names"}
        config.update(estimators=args.names, data=source, n_features=d)
        write_json(args.json, {"config": config, "results": rows,
                               "skipped": [{"estimator": a, "reason": b} for a, b in skipped],
                               "versions": versions(), "machine": info, "wall_time_s": wall})
        print(f"wrote {args.json}")
    return rows


if __name__ == "__main__":
    main()
