"""Throughput of the convolutional autoencoders against the machine, per memory layout.

For ``ConvAutoencoder`` and ``ConvVariationalAutoencoder`` at their defaults on 28 x
28 images (four strided 3 x 3 convolutions, 16-32-64-128 filters, batch
normalisation, 32 components), batch 128, the script measures side by side in one
process, for each thread count:

* one training step (forward, backward, Adam) of the estimator's module on a
  fixed batch, with the kernels in torch's default (contiguous, NCHW) layout and in
  the channels-last (NHWC) layout, with oneDNN on (torch's default) and off;
* inference (``module.encode``) on 4,096 rows, in the same four settings;
* the whole ``fit`` (two epochs on 4,000 rows), with skae's layout choice (channels-last
  on CPUs) and with the default layout.

Throughput is given in samples/s and in GFLOP/s (the FLOPs of a step counted by
:class:`torch.utils.flop_counter.FlopCounterMode`), and as a fraction of the
machine's float32 matrix-multiply rate at the same thread count (2,048 x 2,048
``torch.mm``): the share of the machine's arithmetic the convolutions get.

Usage::

    python benchmarks/conv_throughput.py                 # 1 and 2 threads
    python benchmarks/conv_throughput.py --threads 4 --repeats 9
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from skae import ConvAutoencoder, ConvVariationalAutoencoder
from skae.nn import ConvVAEModule

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, markdown_table, write_json  # noqa: E402
from overhead import mse_loss, vae_loss  # noqa: E402

MODELS = {"conv": ConvAutoencoder, "conv_vae": ConvVariationalAutoencoder}


@contextlib.contextmanager
def onednn_flags(enabled):
    """oneDNN (mkldnn) on or off for the block."""
    with warnings.catch_warnings():
        # flags() also sets oneDNN's TF32 switch, which warns about Intel GPUs
        warnings.simplefilter("ignore", UserWarning)
        with torch.backends.mkldnn.flags(enabled=enabled):
            yield


def _median_seconds(fn, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_gflops(repeats, n=2048):
    """The machine's float32 matrix-multiply rate (GFLOP/s) at the current thread count."""
    a, b = torch.rand(n, n), torch.rand(n, n)
    return 2 * n**3 / _median_seconds(lambda: torch.mm(a, b), repeats) / 1e9


def _loss(module, xb):
    """The hand-written loss of ``benchmarks/overhead.py``: MSE, or the VAE's negative ELBO."""
    return (vae_loss if isinstance(module, ConvVAEModule) else mse_loss)(module, xb)


def step_fn(template, xb, channels_last):
    module = copy.deepcopy(template).train()
    module = module.to(memory_format=torch.channels_last if channels_last
                       else torch.contiguous_format)
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = _loss(module, xb)
        loss.backward()
        opt.step()
        loss.item()

    return module, step


def step_flops(template, xb):
    module = copy.deepcopy(template).train()
    with FlopCounterMode(display=False) as counter:
        _loss(module, xb).backward()
    return counter.get_total_flops()


def encode_flops(template, X):
    module = copy.deepcopy(template).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module.encode(X)
    return counter.get_total_flops()


def run(args):
    rng = np.random.default_rng(0)
    X = rng.random((args.n_samples, 784), dtype=np.float32)
    xb = torch.from_numpy(X[: args.batch_size])
    Xinf = torch.from_numpy(X[:4096])
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        peak = matmul_gflops(args.repeats)
        print(f"{threads} thread(s): float32 matmul {peak:.1f} GFLOP/s", flush=True)
        for name in args.models:
            cls = MODELS[name]
            est = cls(32, image_shape=(28, 28), max_iter=1, random_state=0).fit(X[:512])
            template = est.net_.module_
            flops = step_flops(template, xb)
            inf_flops = encode_flops(template, Xinf)
            for onednn in (True, False):
                for layout in ("contiguous", "channels_last"):
                    with onednn_flags(onednn):
                        module, step = step_fn(template, xb, layout == "channels_last")
                        t_step = _median_seconds(step, args.repeats * 4)
                        module.eval()
                        with torch.no_grad():
                            t_inf = _median_seconds(lambda m=module: m.encode(Xinf),
                                                    args.repeats)
                    rows.append({
                        "model": name, "threads": threads, "layout": layout,
                        "onednn": "on" if onednn else "off",
                        "train_sps": args.batch_size / t_step,
                        "train_gflops": flops / t_step / 1e9,
                        "train_peak": flops / t_step / 1e9 / peak,
                        "infer_sps": len(Xinf) / t_inf,
                        "infer_gflops": inf_flops / t_inf / 1e9,
                        "matmul_gflops": peak,
                    })
                    r = rows[-1]
                    print(f"  {name} oneDNN {r['onednn']:3} {layout:13}: train "
                          f"{r['train_sps']:7.0f} samples/s ({r['train_gflops']:.1f} GFLOP/s, "
                          f"{100 * r['train_peak']:.0f} % of matmul), infer "
                          f"{r['infer_sps']:7.0f} samples/s", flush=True)
            # the whole fit, skae's default layout choice against the plain layout
            for layout in ("channels_last", "contiguous"):
                def fit(layout=layout, cls=cls):
                    e = cls(32, image_shape=(28, 28), max_iter=args.epochs,
                            batch_size=args.batch_size, n_iter_no_change=args.epochs + 1,
                            random_state=0)
                    if layout == "contiguous":
                        e._channels_last = lambda: False  # what skae did before
                    return e.fit(X)
                t_fit = _median_seconds(fit, max(1, args.repeats // 2), warmup=1)
                rows.append({"model": name, "threads": threads, "layout": layout,
                             "onednn": "on", "fit_sps": args.epochs * len(X) / t_fit,
                             "what": "fit"})
                print(f"  {name} fit ({layout}): {rows[-1]['fit_sps']:.0f} samples/s",
                      flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2",
                        type=lambda s: [int(t) for t in s.split(",")])
    parser.add_argument("--models", default="conv,conv_vae",
                        type=lambda s: [m.strip() for m in s.split(",") if m.strip()])
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {list(MODELS)}")
    rows = run(args)
    steps = [r for r in rows if "train_sps" in r]
    print()
    print("Training step and inference, batch", args.batch_size)
    print(markdown_table([
        ("model", "model", None), ("threads", "threads", None), ("oneDNN", "onednn", None),
        ("layout", "layout", None), ("train samples/s", "train_sps", ".0f"),
        ("train GFLOP/s", "train_gflops", ".1f"), ("share of matmul", "train_peak", ".2f"),
        ("inference samples/s", "infer_sps", ".0f"), ("matmul GFLOP/s", "matmul_gflops", ".1f"),
    ], steps))
    fits = [r for r in rows if r.get("what") == "fit"]
    for r in fits:
        base = next(f for f in fits if f["model"] == r["model"] and f["threads"] == r["threads"]
                    and f["layout"] == "contiguous")
        r["speedup"] = r["fit_sps"] / base["fit_sps"]
    print()
    print(f"Whole fit ({args.n_samples:,} rows, {args.epochs} epochs)")
    print(markdown_table([
        ("model", "model", None), ("threads", "threads", None), ("layout", "layout", None),
        ("fit samples/s", "fit_sps", ".0f"), ("vs contiguous", "speedup", ".2f"),
    ], fits))
    if args.json:
        write_json(args.json, {"machine": machine_info(), "rows": rows})
    return rows


if __name__ == "__main__":
    main()
