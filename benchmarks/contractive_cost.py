"""Cost of the contractive penalty: one CAE epoch vs one plain autoencoder epoch.

Trains, for one epoch each and with the same batch size, optimizer, seed and thread
count,

* the classic one-layer sigmoid contractive autoencoder 784-256(-784)
  (``ContractiveAutoencoder(hidden_layer_sizes=(), n_components=256,
  code_activation="sigmoid")``, closed-form penalty) against
  ``Autoencoder`` with the same architecture (target: ratio <= 1.5);
* a deep encoder 784-256-32 (ReLU hidden layer, sigmoid code) whose penalty is the
  exact layer-by-layer Jacobian product, against the plain autoencoder of the same
  architecture, to document its cost;
* with ``--autograd``, the same deep model with the generic
  ``torch.func.vmap(jacrev(...))`` Jacobian, for comparison.

Runs alternate plain / contractive, several repeats in one process, and the script
prints the median of the per-pair time ratios. Data: 20,000 x 784 uniform float32
in [0, 1], or the first 20,000 MNIST training images with ``--mnist``.

Usage::

    python benchmarks/contractive_cost.py                  # 20,000 x 784, 5 repeats
    python benchmarks/contractive_cost.py --repeats 9 --autograd
    python benchmarks/contractive_cost.py --mnist ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

from skae import Autoencoder, ContractiveAutoencoder
from skae.penalties import ContractivePenalty

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed  # noqa: E402


class _AutogradCAE(ContractiveAutoencoder):
    """The same model, with the penalty from the full torch.func Jacobian."""

    def _build_penalties(self):
        return [ContractivePenalty(self.contractive_weight, method="autograd")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--n-features", type=int, default=784)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--mnist", metavar="DIR", default=None,
                        help="use MNIST training images from this folder")
    parser.add_argument("--autograd", action="store_true",
                        help="also time the deep model with the torch.func Jacobian")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    if args.mnist:
        from skae.datasets import load_mnist

        X = load_mnist(args.mnist, return_X_y=True)[0][: args.n_samples]
        X = np.ascontiguousarray(X, dtype=np.float32)
    else:
        X = np.random.default_rng(0).random((args.n_samples, args.n_features),
                                            dtype=np.float32)

    common = dict(max_iter=1, batch_size=args.batch_size, lr=1e-3, device=args.device,
                  output_activation="sigmoid")
    shallow = dict(hidden_layer_sizes=(), n_components=256, code_activation="sigmoid")
    deep = dict(hidden_layer_sizes=(256,), n_components=32, activation="relu",
                code_activation="sigmoid")
    cases = [
        ("784-256 sigmoid, closed form", shallow, ContractiveAutoencoder),
        ("784-256-32 deep, layer-by-layer", deep, ContractiveAutoencoder),
    ]
    if args.autograd:
        cases.append(("784-256-32 deep, torch.func jacrev", deep, _AutogradCAE))

    def fit(cls, arch, seed):
        return cls(**arch, **common, random_state=seed).fit(X)

    # warm-up (allocator, kernels, lazy imports)
    for _, arch, cls in cases:
        fit(Autoencoder, arch, 0)
        fit(cls, arch, 0)

    results = {}
    for name, arch, cls in cases:
        ratios, t_plain, t_cae = [], [], []
        for r in range(args.repeats):
            tp, _ = timed(lambda r=r, arch=arch: fit(Autoencoder, arch, r))
            tc, _ = timed(lambda r=r, arch=arch, cls=cls: fit(cls, arch, r))
            ratios.append(tc / tp)
            t_plain.append(tp)
            t_cae.append(tc)
            print(f"{name}, repeat {r}: plain {tp:.2f}s contractive {tc:.2f}s "
                  f"ratio {tc / tp:.3f}", flush=True)
        results[name] = (statistics.median(t_plain), statistics.median(t_cae),
                         statistics.median(ratios))

    print()
    source = f"MNIST ({args.mnist})" if args.mnist else "uniform [0, 1]"
    print(f"data {len(X)}x{X.shape[1]} float32 {source}, 1 epoch, batch "
          f"{args.batch_size}, Adam, {args.threads} threads, device {args.device}, "
          f"median of {args.repeats}")
    for name, (tp, tc, ratio) in results.items():
        target = "  (target <= 1.5)" if "closed form" in name else ""
        print(f"{name:36s} plain {tp:6.2f}s  contractive {tc:6.2f}s  "
              f"ratio {ratio:.3f}{target}")


if __name__ == "__main__":
    main()
