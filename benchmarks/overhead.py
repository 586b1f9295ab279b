"""Overhead of every estimator family's ``fit`` / ``transform`` over a plain PyTorch loop.

For each family the estimator is fitted once (warm-up); its ``net_.module_`` is the
template the plain loop trains: a deep copy, in train mode, with the same optimizer
(Adam), learning rate, batch size, number of epochs and thread count, over
``X[perm[i:i+b]]`` slices of one tensor, with the family's loss written out by
hand (MSE, masking noise then MSE, the VAE's negative ELBO...). Each repeat times
the plain loop and ``estimator.fit`` side by side in the same process (the order
alternates between repeats), and the script prints, per family, the median of the
per-pair time ratios (target: <= 1.05 for the conv families, <= 1.10 elsewhere) and
the same for ``transform`` against ``module.encode`` under ``torch.no_grad()``.

Families and their default data (random values in [0, 1), 784 features):

========== ======================================================= ============================
family     estimator                                               data, epochs, batch
========== ======================================================= ============================
mlp        ``Autoencoder(32, hidden_layer_sizes=(256,))``          20,000 rows, 5 epochs, 256
denoising  ``DenoisingAutoencoder`` (masking noise 0.3)            20,000 rows, 5 epochs, 256
vae        ``VariationalAutoencoder(32, (256,))``, beta 0.5        20,000 rows, 5 epochs, 256
conv       ``ConvAutoencoder(32, image_shape=(28, 28))``           4,000 rows, 2 epochs, 128
conv_vae   ``ConvVariationalAutoencoder(32, image_shape=(28, 28))`` 4,000 rows, 2 epochs, 128
stacked    ``StackedAutoencoder(32, (256,))``: each layer, then    20,000 rows, 5 epochs, 256
           the whole fit (layers + fine-tuning)
========== ======================================================= ============================

Usage::

    python benchmarks/overhead.py                          # every family, 5 repeats
    python benchmarks/overhead.py --families conv,conv_vae --repeats 9
    python benchmarks/overhead.py --device cuda

Last, on the CPU, the fixed cost per batch: a 16 -> 2 -> 16 model (batch 64), whose
step computes next to nothing, fitted by the plain loop and by skae (``--no-per-batch``
skips it).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.base import clone
from torch.nn import functional as F

from skae import (
    Autoencoder,
    ConvAutoencoder,
    ConvVariationalAutoencoder,
    DenoisingAutoencoder,
    StackedAutoencoder,
    VariationalAutoencoder,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, markdown_table, timed, write_json  # noqa: E402

N_COMPONENTS = 32
MASKING = 0.3


# ------------------------------------------------------------------ hand-written losses
def mse_loss(module, xb):
    return F.mse_loss(module(xb).reconstruction, xb)


def masking_mse_loss(module, xb):
    noisy = xb.masked_fill(torch.rand_like(xb) < MASKING, 0.0)
    return F.mse_loss(module(noisy).reconstruction, xb)


def vae_loss(module, xb, beta=0.5):
    out = module(xb)
    nll = F.binary_cross_entropy_with_logits(out.logits, xb, reduction="none").sum(dim=1)
    mu, logvar = out.extras["mu"], out.extras["logvar"]
    kl = 0.5 * (logvar.exp() + mu.square() - 1.0 - logvar).sum(dim=1)
    return (nll + beta * kl).mean()


# ------------------------------------------------------------------------ plain loops
def plain_fit(template, X, loss_fn, *, epochs, batch_size, lr, device, seed):
    """The reference: a textbook PyTorch loop training a copy of ``template``."""
    torch.manual_seed(seed)
    module = copy.deepcopy(template).to(device).train()
    opt = torch.optim.Adam(module.parameters(), lr=lr)
    Xt = torch.from_numpy(X)
    n = len(Xt)
    for _ in range(epochs):
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, batch_size):
            xb = Xt[perm[i : i + batch_size]].to(device, non_blocking=True)
            opt.zero_grad()
            loss = loss_fn(module, xb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)  # the loss is logged per batch, as skorch does
    return module


def plain_transform(module, X, device, batch_size=4096):
    module.eval()
    with torch.no_grad():
        return np.concatenate([
            module.encode(torch.from_numpy(X[i : i + batch_size]).to(device)).cpu().numpy()
            for i in range(0, len(X), batch_size)
        ])


# -------------------------------------------------------------------------- families
@dataclass
class Family:
    name: str
    make: object  # (epochs, batch_size, lr, device, seed) -> estimator
    loss: object
    n_samples: int
    epochs: int
    batch_size: int
    lr: float = 1e-3


def _common(epochs, batch_size, lr, device, seed):
    # n_iter_no_change > epochs: every fit runs all its epochs
    return dict(max_iter=epochs, batch_size=batch_size, lr=lr, device=device,
                random_state=seed, n_iter_no_change=epochs + 1)


def _layer_estimator(epochs, batch_size, device):
    """The stack's default layer (a shallow sigmoid-code autoencoder), at these epochs."""
    return Autoencoder(hidden_layer_sizes=(), code_activation="sigmoid", lr=1e-2,
                       max_iter=epochs, batch_size=batch_size, n_iter_no_change=epochs + 1,
                       device=device)


FAMILIES = {
    "mlp": Family("mlp", lambda *a: Autoencoder(
        N_COMPONENTS, hidden_layer_sizes=(256,), **_common(*a)), mse_loss, 20_000, 5, 256),
    "denoising": Family("denoising", lambda *a: DenoisingAutoencoder(
        N_COMPONENTS, hidden_layer_sizes=(256,), noise="masking", noise_level=MASKING,
        **_common(*a)), masking_mse_loss, 20_000, 5, 256),
    "vae": Family("vae", lambda *a: VariationalAutoencoder(
        N_COMPONENTS, hidden_layer_sizes=(256,), beta=0.5, **_common(*a)),
        vae_loss, 20_000, 5, 256),
    "conv": Family("conv", lambda *a: ConvAutoencoder(
        N_COMPONENTS, image_shape=(28, 28), **_common(*a)), mse_loss, 4_000, 2, 128),
    "conv_vae": Family("conv_vae", lambda *a: ConvVariationalAutoencoder(
        N_COMPONENTS, image_shape=(28, 28), beta=0.5, **_common(*a)),
        vae_loss, 4_000, 2, 128),
    "stacked": Family("stacked", lambda e, b, lr, device, seed: StackedAutoencoder(
        N_COMPONENTS, hidden_layer_sizes=(256,),
        layer_estimator=_layer_estimator(e, b, device), **_common(e, b, lr, device, seed)),
        mse_loss, 20_000, 5, 256),
}


def _ratios(pairs):
    r = [s / p for p, s in pairs]
    return {"plain_s": statistics.median(p for p, _ in pairs),
            "skae_s": statistics.median(s for _, s in pairs),
            "ratio": statistics.median(r), "ratio_min": min(r), "ratio_max": max(r)}


def run_family(fam, X, args):
    """Rows of the table for one family: fit and transform ratios (stacked: per layer too)."""
    epochs = args.epochs or fam.epochs
    batch = args.batch_size or fam.batch_size
    cfg = dict(epochs=epochs, batch_size=batch, lr=fam.lr, device=args.device)
    make = lambda seed: fam.make(epochs, batch, fam.lr, args.device, seed)  # noqa: E731
    est = make(0).fit(X)  # warm-up; its module is the plain loop's template
    stacked = fam.name == "stacked"

    def plain(seed):
        if not stacked:
            return plain_fit(est.net_.module_, X, fam.loss, **cfg, seed=seed)
        Z = X  # the same sequence: each layer on the codes below, then fine-tuning
        for layer in est.estimators_:
            m = plain_fit(layer.net_.module_, Z, mse_loss, **{**cfg, "lr": 1e-2}, seed=seed)
            Z = plain_transform(m, Z, args.device)
        return plain_fit(est.net_.module_, X, mse_loss, **cfg, seed=seed)

    fit_pairs, tr_pairs = [], []
    layer_pairs = {i: [] for i in range(len(getattr(est, "estimators_", ())))}
    for r in range(args.repeats):
        jobs = [("plain", lambda r=r: plain(r)), ("skae", lambda r=r: make(r).fit(X))]
        if r % 2:
            jobs.reverse()  # alternate the order: drift in machine speed cancels out
        times, fitted = {}, {}
        for who, job in jobs:
            times[who], fitted[who] = timed(job, args.device)
        fit_pairs.append((times["plain"], times["skae"]))
        module, ae = fitted["plain"], fitted["skae"]
        tp = min(timed(lambda m=module: plain_transform(m, X, args.device), args.device)[0]
                 for _ in range(3))
        ts = min(timed(lambda a=ae: a.transform(X), args.device)[0] for _ in range(3))
        tr_pairs.append((tp, ts))
        line = (f"{fam.name} repeat {r}: fit plain {times['plain']:.2f}s skae "
                f"{times['skae']:.2f}s ratio {times['skae'] / times['plain']:.3f}")
        if stacked:  # each layer's fit, as the stack runs it, against its plain loop
            Z = X
            for i, layer in enumerate(ae.estimators_):
                tl_p = timed(lambda m=layer.net_.module_, Z=Z, r=r: plain_fit(
                    m, Z, mse_loss, **{**cfg, "lr": 1e-2}, seed=r), args.device)[0]
                tl_s = timed(lambda layer=layer, Z=Z: clone(layer).fit(Z), args.device)[0]
                layer_pairs[i].append((tl_p, tl_s))
                line += f"; layer {i + 1} ratio {tl_s / tl_p:.3f}"
                Z = layer.transform(Z)
        print(line, flush=True)

    data = f"{len(X):,} x {X.shape[1]}, {epochs} ep, batch {batch}"
    rows = []
    for i, pairs in layer_pairs.items():
        layer = est.estimators_[i]
        rows.append({"family": f"stacked layer {i + 1} ({layer.n_features_in_}->"
                               f"{layer.n_components})", "data": data, **_ratios(pairs)})
    name = "stacked (whole fit)" if stacked else fam.name
    tr = _ratios(tr_pairs)
    rows.append({"family": name, "data": data, **_ratios(fit_pairs),
                 "transform_ratio": tr["ratio"]})
    return rows


def per_batch_cost(repeats, n_batches=500, batch_size=64):
    """Fixed cost of one training batch: a 16 -> 2 -> 16 model, whose step computes ~nothing.

    Returns ``(plain us, skae us)`` per batch, medians of ``repeats`` side-by-side
    pairs of two-epoch fits on ``n_batches * batch_size`` rows.
    """
    X = np.random.default_rng(0).random((n_batches * batch_size, 16), dtype=np.float32)

    def make(seed):
        return Autoencoder(2, hidden_layer_sizes=(), max_iter=2, batch_size=batch_size,
                           n_iter_no_change=3, random_state=seed)

    template = make(0).fit(X).net_.module_
    plain_t, skae_t = [], []
    for r in range(repeats):
        plain_t.append(timed(lambda r=r: plain_fit(template, X, mse_loss, epochs=2,
                                                    batch_size=batch_size, lr=1e-3,
                                                    device="cpu", seed=r))[0])
        skae_t.append(timed(lambda r=r: make(r).fit(X))[0])
    per = 1e6 / (2 * n_batches)
    return statistics.median(plain_t) * per, statistics.median(skae_t) * per


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help=f"comma-separated, from {', '.join(FAMILIES)}")
    parser.add_argument("--n-samples", type=int, default=None,
                        help="rows of data (default: the family's)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    parser.add_argument("--no-per-batch", action="store_true",
                        help="skip the fixed per-batch cost on a 16 -> 2 -> 16 model")
    args = parser.parse_args(argv)
    names = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = sorted(set(names) - set(FAMILIES))
    if unknown:
        parser.error(f"unknown families {unknown}; choose from {list(FAMILIES)}")

    torch.set_num_threads(args.threads)
    rows = []
    for name in names:
        fam = FAMILIES[name]
        n = args.n_samples or fam.n_samples
        X = np.random.default_rng(0).random((n, 784), dtype=np.float32)
        rows += run_family(fam, X, args)

    print()
    print(f"{args.threads} threads, device {args.device}, median of {args.repeats} "
          "side-by-side pairs (ratio = skae / plain loop; target <= 1.05 conv, <= 1.10 others)")
    print(markdown_table([
        ("family", "family", None), ("data", "data", None),
        ("plain fit (s)", "plain_s", ".2f"), ("skae fit (s)", "skae_s", ".2f"),
        ("fit ratio", "ratio", ".3f"), ("min", "ratio_min", ".3f"), ("max", "ratio_max", ".3f"),
        ("transform ratio", "transform_ratio", ".3f"),
    ], rows))
    out = {"machine": machine_info(), "args": vars(args), "rows": rows}
    if not args.no_per_batch and args.device == "cpu":
        plain_us, skae_us = per_batch_cost(args.repeats)
        out["per_batch_us"] = {"plain": plain_us, "skae": skae_us}
        print(f"\nfixed cost per batch (16 -> 2 -> 16 model, batch 64): plain loop "
              f"{plain_us:.0f} us, skae {skae_us:.0f} us, overhead {skae_us - plain_us:.0f} us")
    if args.json:
        write_json(args.json, out)
    return rows


if __name__ == "__main__":
    main()
