"""Fit and transform throughput of ``Autoencoder`` vs a plain PyTorch loop, on one device.

The reference is a textbook loop on the same device, the same network
(784-256-32-256-784, ReLU hidden, linear code, sigmoid output, MSE), optimizer
(Adam), batch size, epochs and precision: the data stay on the host and every
batch ``X[perm[i:i+b]]`` is copied to the device (``non_blocking``), and the loss
is read back once per batch (as skorch logs it). ``--mixed-precision`` runs both
under :func:`torch.autocast` (bfloat16; float16 with a gradient scaler for
``--mixed-precision float16``), ``--compile`` compiles both forward passes.

Runs alternate skae / plain, ``--repeats`` times in one process after a warm-up,
and the script prints samples per second (median) and the median per-pair time
ratio skae / plain for ``fit`` (target <= 1.10) and for ``transform`` (against
``encoder(X_batch)`` in batches of 4,096 rows under ``torch.no_grad()``).

Without a GPU it runs on the CPU and says so (``benchmarks/overhead.py`` is the
CPU overhead benchmark with more options).

Usage::

    python benchmarks/gpu_throughput.py                    # 60,000 x 784, auto device
    python benchmarks/gpu_throughput.py --device cuda --epochs 5 --repeats 5
    python benchmarks/gpu_throughput.py --device cuda --mixed-precision --compile
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from skae import Autoencoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed  # noqa: E402


def make_model(d, hidden, k, device):
    return nn.Sequential(
        nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, k),
        nn.Linear(k, hidden), nn.ReLU(), nn.Linear(hidden, d), nn.Sigmoid(),
    ).to(device)


def plain_fit(X, *, epochs, batch_size, device, amp, compile, seed):
    """The reference training loop."""
    torch.manual_seed(seed)
    model = make_model(X.shape[1], 256, 32, device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    forward = torch.compile(model) if compile else model
    dev = torch.device(device)
    autocast = (torch.autocast(dev.type, dtype=getattr(torch, amp)) if amp
                else contextlib.nullcontext())
    scaler = torch.amp.GradScaler(dev.type) if amp == "float16" else None
    Xt = torch.from_numpy(X)
    n = len(Xt)
    for _ in range(epochs):
        perm = torch.randperm(n)
        for i in range(0, n, batch_size):
            xb = Xt[perm[i : i + batch_size]].to(device, non_blocking=True)
            opt.zero_grad()
            with autocast:
                loss = nn.functional.mse_loss(forward(xb), xb)
            if scaler is None:
                loss.backward()
                opt.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            loss.item()  # logged per batch, as skorch does
    return model


def plain_transform(model, X, device, batch=4096):
    encoder = model[:3]
    out = np.empty((len(X), 32), dtype=np.float32)
    with torch.no_grad():
        for i in range(0, len(X), batch):
            xb = torch.from_numpy(X[i : i + batch]).to(device)
            out[i : i + batch] = encoder(xb).cpu().numpy()
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=60_000)
    parser.add_argument("--n-features", type=int, default=784)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--mixed-precision", nargs="?", const="bfloat16", default=None,
                        choices=["bfloat16", "float16"])
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if torch.device(device).type == "cuda":
        name = torch.cuda.get_device_name(torch.device(device))
        where = f"GPU {name}"
    else:
        where = f"CPU ({args.threads} threads) -- no GPU used, these are CPU figures"
    print(f"device: {device}: {where}", flush=True)

    X = np.random.default_rng(0).random((args.n_samples, args.n_features), dtype=np.float32)
    common = dict(epochs=args.epochs, batch_size=args.batch_size, device=device,
                  amp=args.mixed_precision, compile=args.compile)

    def skae_fit(seed):
        return Autoencoder(
            n_components=32, hidden_layer_sizes=(256,), max_iter=args.epochs,
            batch_size=args.batch_size, lr=1e-3, n_iter_no_change=args.epochs + 1,
            device=device, mixed_precision=args.mixed_precision or False,
            compile=args.compile, random_state=seed,
        ).fit(X)

    # warm-up: CUDA context, kernels, allocator, compilation caches
    warm = min(len(X), 4 * args.batch_size)
    Autoencoder(n_components=32, hidden_layer_sizes=(256,), max_iter=1, device=device,
                mixed_precision=args.mixed_precision or False, compile=args.compile,
                batch_size=args.batch_size).fit(X[:warm])
    plain_fit(X[:warm], **{**common, "epochs": 1}, seed=0)

    fit_ratio, tr_ratio, fit_rate, plain_rate, tr_rate, tr_plain_rate = [], [], [], [], [], []
    n_fit = args.n_samples * args.epochs
    for r in range(args.repeats):
        tp, model = timed(lambda r=r: plain_fit(X, **common, seed=r), device)
        ts, ae = timed(lambda r=r: skae_fit(r), device)
        tp_tr = min(timed(lambda m=model: plain_transform(m, X, device), device)[0]
                    for _ in range(3))
        ts_tr = min(timed(lambda a=ae: a.transform(X), device)[0] for _ in range(3))
        fit_ratio.append(ts / tp)
        tr_ratio.append(ts_tr / tp_tr)
        fit_rate.append(n_fit / ts)
        plain_rate.append(n_fit / tp)
        tr_rate.append(len(X) / ts_tr)
        tr_plain_rate.append(len(X) / tp_tr)
        print(f"repeat {r}: fit plain {tp:.2f}s skae {ts:.2f}s ratio {ts / tp:.3f}; "
              f"transform plain {tp_tr * 1e3:.1f}ms skae {ts_tr * 1e3:.1f}ms "
              f"ratio {ts_tr / tp_tr:.3f}", flush=True)

    med = statistics.median
    print()
    print(f"{args.n_samples} x {args.n_features} float32, {args.epochs} epochs, batch "
          f"{args.batch_size}, Adam, precision {args.mixed_precision or 'float32'}, "
          f"compile {args.compile}, device {device} ({where})")
    print(f"fit       samples/s: skae {med(fit_rate):,.0f}   plain {med(plain_rate):,.0f}   "
          f"ratio skae/plain time {med(fit_ratio):.3f} (target <= 1.10)")
    print(f"transform samples/s: skae {med(tr_rate):,.0f}   plain {med(tr_plain_rate):,.0f}   "
          f"ratio skae/plain time {med(tr_ratio):.3f}")


if __name__ == "__main__":
    main()
