"""Overhead of ``Autoencoder.fit`` / ``transform`` over a plain PyTorch loop.

Trains the same network (784-256-32-256-784, ReLU hidden, linear code, sigmoid
output, MSE) with the same optimizer (Adam), batch size, number of epochs and
thread count, (a) through ``skae.Autoencoder.fit`` and (b) through a hand-written
loop over ``X[perm[i:i+b]]`` slices of one tensor. Runs alternate a/b, several
repeats in one process, and the script prints the median of the per-pair time
ratios (target: <= 1.10). The same for ``transform`` against
``module.encode(X)`` under ``torch.no_grad()``.

Usage::

    python benchmarks/overhead.py                 # 20,000 x 784, 5 epochs, 5 repeats
    python benchmarks/overhead.py --repeats 9 --device cuda
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from skae import Autoencoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed  # noqa: E402


def plain_fit(X, *, hidden, n_components, epochs, batch_size, lr, device, seed):
    """The reference: a textbook PyTorch training loop."""
    torch.manual_seed(seed)
    d = X.shape[1]
    model = nn.Sequential(
        nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, n_components),
        nn.Linear(n_components, hidden), nn.ReLU(), nn.Linear(hidden, d), nn.Sigmoid(),
    ).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    Xt = torch.from_numpy(X)
    n = len(Xt)
    for _ in range(epochs):
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, batch_size):
            xb = Xt[perm[i : i + batch_size]].to(device, non_blocking=True)
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(xb), xb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)  # the loss is logged per batch, as skorch does
    return model


def plain_transform(model, X, device):
    encoder = model[:3]
    with torch.no_grad():
        return encoder(torch.from_numpy(X).to(device)).cpu().numpy()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--n-features", type=int, default=784)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    X = np.random.default_rng(0).random((args.n_samples, args.n_features), dtype=np.float32)
    common = dict(hidden=256, n_components=32, epochs=args.epochs,
                  batch_size=args.batch_size, lr=1e-3, device=args.device)

    def skae_fit(seed):
        return Autoencoder(
            n_components=32, hidden_layer_sizes=(256,), max_iter=args.epochs,
            batch_size=args.batch_size, lr=1e-3, n_iter_no_change=args.epochs + 1,
            device=args.device, random_state=seed,
        ).fit(X)

    # warm-up (allocator, kernels, lazy imports)
    skae_fit(0)
    plain_fit(X[:2048], **common, seed=0)

    fit_ratios, tr_ratios, t_plain, t_skae = [], [], [], []
    for r in range(args.repeats):
        tp, model = timed(lambda r=r: plain_fit(X, **common, seed=r))
        ts, ae = timed(lambda r=r: skae_fit(r))
        fit_ratios.append(ts / tp)
        t_plain.append(tp)
        t_skae.append(ts)
        tp_tr = min(timed(lambda m=model: plain_transform(m, X, args.device))[0]
                    for _ in range(3))
        ts_tr = min(timed(lambda a=ae: a.transform(X))[0] for _ in range(3))
        tr_ratios.append(ts_tr / tp_tr)
        print(f"repeat {r}: fit plain {tp:.2f}s skae {ts:.2f}s ratio {ts / tp:.3f}; "
              f"transform plain {tp_tr * 1e3:.1f}ms skae {ts_tr * 1e3:.1f}ms "
              f"ratio {ts_tr / tp_tr:.3f}", flush=True)

    print()
    print(f"data {args.n_samples}x{args.n_features} float32, {args.epochs} epochs, "
          f"batch {args.batch_size}, Adam, {args.threads} threads, device {args.device}")
    print(f"median fit time: plain {statistics.median(t_plain):.2f}s, "
          f"skae {statistics.median(t_skae):.2f}s")
    print(f"fit overhead ratio (skae / plain), median of {args.repeats}: "
          f"{statistics.median(fit_ratios):.3f}  (target <= 1.10)")
    print(f"transform ratio (skae / plain), median of {args.repeats}: "
          f"{statistics.median(tr_ratios):.3f}  (target <= 1.10)")


if __name__ == "__main__":
    main()
