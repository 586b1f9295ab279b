"""A 784-400-20 Bernoulli VAE on MNIST: test ELBO and IWAE estimate of log p(x).

Trains ``VariationalAutoencoder(n_components=20, hidden_layer_sizes=(400,))`` on the
60,000 MNIST training images, reports the ELBO on all 10,000 test images and the
importance-weighted bound with ``k`` samples (default 5000, Burda et al.'s estimate of
log p(x)) on the first ``--n-test-iwae`` test images, next to published figures.
Then trains a VAE with a 2-D latent space and saves a grid of samples
(``vae_samples.png``) and the decoded 2-D latent manifold (``vae_manifold.png``).

The images are binarised once, stochastically (pixel ~ Bernoulli(intensity), seed
0), as in the papers quoted; ``--binarize none`` keeps grey values (then the Bernoulli
"likelihood" is a cross-entropy, not a density, and the figures are not comparable).

Run from the repository root::

    python benchmarks/vae_mnist.py            # about 8 minutes on 2 CPU cores
    python benchmarks/vae_mnist.py --epochs 5 --n-test-iwae 100 --iwae-k 500  # smoke
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import norm

from skae import VariationalAutoencoder
from skae.datasets import load_mnist

ROOT = Path(__file__).resolve().parents[1]

PUBLISHED = [
    ("Kingma & Welling 2014, AEVB, 784-400-20 (tanh), test ELBO (fig. 2, ~1e8 samples)",
     "about -97 to -100"),
    ("Burda et al. 2016, VAE 1 stochastic layer (784-200-200-50), k=1, 3280 epochs, "
     "IWAE-5000 log p(x)", "-86.76"),
    ("Burda et al. 2016, IWAE k=50 trained, same architecture, IWAE-5000 log p(x)", "-84.78"),
    ("pythae, 784-400-40 VAE, 500 epochs (NOTES.md): NLL", "-89.78"),
    ("skae earlier measurement, 784-400-20, 8k images, 60 epochs (NOTES.md): ELBO / NLL",
     "-105.1 / -99.0"),
]


def binarize(X, how, seed):
    if how == "none":
        return X
    if how == "threshold":
        return (X > 0.5).astype(np.float32)
    rng = np.random.RandomState(seed)
    return (rng.rand(*X.shape) < X).astype(np.float32)


def fit(n_components, hidden, epochs, X, args):
    vae = VariationalAutoencoder(
        n_components,
        hidden_layer_sizes=hidden,
        activation=args.activation,
        likelihood="bernoulli",
        beta=1.0,  # the VAE of Kingma & Welling (skae's default is 0.5)
        max_iter=epochs,
        n_iter_no_change=epochs,  # run every epoch
        batch_size=args.batch_size,
        lr=args.lr,
        kl_warmup=args.kl_warmup,
        random_state=0,
    )
    start = time.perf_counter()
    vae.fit(X)
    return vae, time.perf_counter() - start


def plot(vae2d, vae, out: Path, n=15):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)

    def grid(images, n_rows, n_cols):
        images = images.reshape(n_rows, n_cols, 28, 28)
        return images.transpose(0, 2, 1, 3).reshape(n_rows * 28, n_cols * 28)

    samples = vae.sample(100, random_state=0)
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(grid(samples, 10, 10), cmap="gray_r")
    ax.set_axis_off()
    ax.set_title(f"100 samples, {vae.n_components}-d VAE (mean of p(x|z))")
    fig.savefig(out / "vae_samples.png", dpi=100, bbox_inches="tight")
    plt.close(fig)

    # Quantiles of N(0, 1) so that the grid covers the prior's mass evenly.
    u = norm.ppf(np.linspace(0.05, 0.95, n))
    Z = np.array([[a, b] for b in u[::-1] for a in u])
    images = vae2d.inverse_transform(Z)
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(grid(images, n, n), cmap="gray_r")
    ax.set_axis_off()
    ax.set_title("2-D latent manifold: decoded grid of inverse normal CDF values")
    fig.savefig(out / "vae_manifold.png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--epochs-2d", type=int, default=25)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--kl-warmup", type=int, default=0)
    parser.add_argument("--iwae-k", type=int, default=5000)
    parser.add_argument("--n-test-iwae", type=int, default=2000,
                        help="test images for the IWAE estimate (the first ones)")
    parser.add_argument("--binarize", choices=["stochastic", "threshold", "none"],
                        default="stochastic")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    X_train, _ = load_mnist(args.mnist, subset="train", return_X_y=True)
    X_test, _ = load_mnist(args.mnist, subset="test", return_X_y=True)
    X_train = binarize(X_train, args.binarize, 0)
    X_test = binarize(X_test, args.binarize, 1)

    vae, fit_s = fit(20, (400,), args.epochs, X_train, args)
    start = time.perf_counter()
    elbo_test = vae.score(X_test)
    elbo_s = time.perf_counter() - start
    n_iwae = min(args.n_test_iwae, len(X_test))
    start = time.perf_counter()
    vae.set_params(n_importance_samples=args.iwae_k)
    iwae = vae.score(X_test[:n_iwae])
    iwae_s = time.perf_counter() - start
    vae.set_params(n_importance_samples=1)
    elbo_subset = vae.score(X_test[:n_iwae])

    print(f"\n## 784-400-20 Bernoulli VAE on MNIST ({args.binarize} binarisation, "
          f"{args.activation}, Adam lr={args.lr}, batch {args.batch_size})\n")
    print("| quantity | value |")
    print("|---|---|")
    print(f"| epochs | {vae.n_iter_} |")
    print(f"| training wall time | {fit_s:.0f} s ({fit_s / vae.n_iter_:.1f} s/epoch) |")
    print(f"| training ELBO, last epoch (nats) | {vae.elbo_:.2f} |")
    print(f"| test ELBO, all {len(X_test)} images (nats) | {elbo_test:.2f} ({elbo_s:.1f} s) |")
    print(f"| test ELBO, first {n_iwae} images (nats) | {elbo_subset:.2f} |")
    print(f"| IWAE k={args.iwae_k} estimate of log p(x), first {n_iwae} images (nats) | "
          f"{iwae:.2f} ({iwae_s:.0f} s) |")
    print("\n| published / earlier figure | nats |")
    print("|---|---|")
    for name, value in PUBLISHED:
        print(f"| {name} | {value} |")

    vae2d, fit2_s = fit(2, (400,), args.epochs_2d, X_train, args)
    print(f"\n2-D VAE: {vae2d.n_iter_} epochs, {fit2_s:.0f} s, test ELBO "
          f"{vae2d.score(X_test):.2f} nats")
    try:
        plot(vae2d, vae, Path(args.out))
        print(f"pictures: {Path(args.out) / 'vae_samples.png'}, "
              f"{Path(args.out) / 'vae_manifold.png'}")
    except ImportError:
        print("matplotlib is not installed (pip install skae[benchmarks]): no pictures")
    print(f"total wall time: {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
