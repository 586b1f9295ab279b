"""Does greedy layer-wise pretraining help when labels are scarce? (MNIST)

All ``--n-pretrain`` MNIST training images are available, but only ``--labelled``
of them (a stratified subsample, random_state=``--seed``) carry a label; the rest
are marked ``-1`` (unlabelled). For each number of labels the script compares

(a) ``StackedAutoencoderClassifier``: the stack is pretrained greedily on all the
    images, then the whole network plus a softmax layer is fine-tuned on the
    labelled ones (``fine_tune="all"``);
(b) the same network and supervised training from random initialisation, on the
    labelled images only (``pretrain=False``);
(c) PCA (fitted on all the images, ``--pca`` components) + LogisticRegression on the
    labelled ones;
(d) raw pixels + LogisticRegression on the labelled ones,

and reports the accuracy on the 10,000 MNIST test images and the wall time of the
fit (pretraining included for (a), PCA included for (c)). With ``--frozen`` it adds

(e) the pretrained stack of (a) *before* fine-tuning (its layers' codes, frozen) +
    LogisticRegression on the labelled ones: what fine-tuning adds (UFLDL's stacked
    autoencoder exercise: 87.7 % before, 97.6 % after fine-tuning).

Pixels are scaled to [0, 1] (:func:`skae.datasets.load_mnist`). The result is a
Markdown table on stdout (and JSON with ``--json``); ``main`` returns it with the
rows.

Measured with the defaults (stack 784-500-500, denoising layers with masking noise
0.2, 25 epochs per layer, up to 200 supervised epochs; 2 CPU cores, 6.5 min in all):

========  ===============  ===============  =============  ==========
labelled  (a) pretrained   (b) random init  (c) PCA + LR   (d) LR
========  ===============  ===============  =============  ==========
1,000     0.930 (149 s)    0.896 (10 s)     0.875 (0.4 s)  0.881 (1 s)
5,000     0.962 (186 s)    0.948 (37 s)     0.902 (1 s)    0.896 (1 s)
========  ===============  ===============  =============  ==========

Usage::

    python benchmarks/stacked_pretraining.py                      # ../shared/data/mnist
    python benchmarks/stacked_pretraining.py --labelled 1000 5000 --pretrain-epochs 20
    python benchmarks/stacked_pretraining.py --plain-layers      # plain, not denoising
    python benchmarks/stacked_pretraining.py --device cuda --json results/stacked.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skae import Autoencoder, DenoisingAutoencoder, StackedAutoencoderClassifier
from skae.datasets import load_mnist

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed  # noqa: E402

DEFAULT_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST, metavar="DIR")
    parser.add_argument("--labelled", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument(
        "--n-pretrain", type=int, default=60_000, help="training images (labelled or not)"
    )
    parser.add_argument("--hidden", default="500,500", help="stack sizes, comma separated")
    parser.add_argument("--pretrain-epochs", type=int, default=25, help="epochs per layer")
    parser.add_argument("--finetune-epochs", type=int, default=200, help="supervised epochs")
    parser.add_argument("--noise-level", type=float, default=0.2, help="masking noise")
    parser.add_argument(
        "--plain-layers", action="store_true", help="plain Autoencoder layers (no noise)"
    )
    parser.add_argument("--pca", type=int, default=50, help="PCA components for (c)")
    parser.add_argument(
        "--frozen", action="store_true",
        help="add (e): LogisticRegression on the pretrained codes before fine-tuning",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH")
    return parser.parse_args(argv)


def semi_labels(y, n_labelled, seed):
    """Copy of ``y`` with all but a stratified subsample of ``n_labelled`` set to -1."""
    idx = np.arange(len(y))
    keep, _ = train_test_split(idx, train_size=n_labelled, stratify=y, random_state=seed)
    y_semi = np.full_like(y, -1)
    y_semi[keep] = y[keep]
    return y_semi


def main(argv=None):
    args = parse_args(argv)
    X, y = load_mnist(args.mnist, subset="train", return_X_y=True)
    X_test, y_test = load_mnist(args.mnist, subset="test", return_X_y=True)
    X, y = X[: args.n_pretrain], y[: args.n_pretrain].astype(np.int64)
    hidden = tuple(int(h) for h in args.hidden.split(",") if h)

    layer_kw = dict(
        hidden_layer_sizes=(),
        code_activation="sigmoid",
        lr=1e-2,
        max_iter=args.pretrain_epochs,
        batch_size=128,
        device=args.device,
    )
    if args.plain_layers:
        layer = Autoencoder(**layer_kw)
    else:
        layer = DenoisingAutoencoder(noise="masking", noise_level=args.noise_level, **layer_kw)
    clf_kw = dict(
        layer_estimator=layer,
        fine_tune="all",
        max_iter=args.finetune_epochs,
        lr=1e-3,
        batch_size=128,
        device=args.device,
        random_state=args.seed,
    )

    # Warm up torch (thread pool, lazy initialisation) so it is not billed to a fit.
    StackedAutoencoderClassifier((8,), layer_estimator=Autoencoder(max_iter=1), max_iter=1).fit(
        X[:256], y[:256]
    )

    rows = []
    t_start = time.perf_counter()
    for n_lab in args.labelled:
        y_semi = semi_labels(y, n_lab, args.seed)
        lab = y_semi != -1
        X_lab, y_lab = X[lab], y[lab]

        sae = StackedAutoencoderClassifier(hidden, pretrain=True, **clf_kw)
        t, _ = timed(lambda sae=sae, y_semi=y_semi: sae.fit(X, y_semi))
        rows.append(
            dict(
                labelled=n_lab,
                method="(a) stacked AE, pretrained + fine-tuned",
                accuracy=float(sae.score(X_test, y_test)),
                fit_time_s=t,
                epochs=f"{[e.n_iter_ for e in sae.estimators_]} + {sae.n_iter_}",
            )
        )
        print(rows[-1], flush=True)
        pretrained = sae.estimators_  # deep-copied into net_: still the pretrained layers

        rnd = StackedAutoencoderClassifier(hidden, pretrain=False, **clf_kw)
        t, _ = timed(lambda rnd=rnd, X_lab=X_lab, y_lab=y_lab: rnd.fit(X_lab, y_lab))
        rows.append(
            dict(
                labelled=n_lab,
                method="(b) same network, random init, labelled only",
                accuracy=float(rnd.score(X_test, y_test)),
                fit_time_s=t,
                epochs=str(rnd.n_iter_),
            )
        )
        print(rows[-1], flush=True)

        def pca_lr(X_lab=X_lab, y_lab=y_lab):
            pca = PCA(args.pca, random_state=args.seed).fit(X)
            clf = LogisticRegression(max_iter=2000).fit(pca.transform(X_lab), y_lab)
            return pca, clf

        t, (pca, lr_pca) = timed(pca_lr)
        rows.append(
            dict(
                labelled=n_lab,
                method=f"(c) PCA-{args.pca} (all images) + LogisticRegression",
                accuracy=float(lr_pca.score(pca.transform(X_test), y_test)),
                fit_time_s=t,
                epochs="—",
            )
        )
        print(rows[-1], flush=True)

        t, raw = timed(
            lambda X_lab=X_lab, y_lab=y_lab: LogisticRegression(max_iter=2000).fit(X_lab, y_lab)
        )
        rows.append(
            dict(
                labelled=n_lab,
                method="(d) raw pixels + LogisticRegression",
                accuracy=float(raw.score(X_test, y_test)),
                fit_time_s=t,
                epochs="—",
            )
        )
        print(rows[-1], flush=True)

        if args.frozen:

            def frozen_lr(X_lab=X_lab, y_lab=y_lab, layers=pretrained):
                clf = LogisticRegression(max_iter=2000).fit(_codes(layers, X_lab), y_lab)
                return clf

            t, frozen = timed(frozen_lr)
            rows.append(
                dict(
                    labelled=n_lab,
                    method="(e) pretrained stack of (a) before fine-tuning + "
                    "LogisticRegression",
                    accuracy=float(frozen.score(_codes(pretrained, X_test), y_test)),
                    fit_time_s=t,
                    epochs="—",
                )
            )
            print(rows[-1], flush=True)
    total = time.perf_counter() - t_start

    kind = (
        "plain Autoencoder"
        if args.plain_layers
        else (f"DenoisingAutoencoder(masking, noise_level={args.noise_level})")
    )
    caption = (
        f"MNIST: {len(X)} training images ({', '.join(map(str, args.labelled))} labelled), "
        f"10,000 test images. Stack 784-{'-'.join(map(str, hidden))}-softmax, layers: {kind}, "
        f"sigmoid codes, lr=1e-2, {args.pretrain_epochs} epochs per layer; supervised: Adam "
        f"lr=1e-3, up to {args.finetune_epochs} epochs (stops when the training loss stalls "
        f"for 10 epochs), batch 128. {torch.get_num_threads()} torch threads, "
        f"device={args.device}, {platform.processor() or platform.machine()}. "
        f"Total {total:.0f} s."
    )
    table = [
        "| Labelled | Method | Test accuracy | Fit wall time (s) | Epochs |",
        "|---:|---|---:|---:|---|",
    ]
    for r in rows:
        table.append(
            f"| {r['labelled']} | {r['method']} | {r['accuracy']:.4f} "
            f"| {r['fit_time_s']:.1f} | {r['epochs']} |"
        )
    table = "\n".join(table)
    print()
    print(caption)
    print()
    print(table)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "args": vars(args) | {"mnist": str(args.mnist), "json": str(args.json)},
                    "total_s": total,
                    "rows": rows,
                },
                indent=2,
            )
        )
    return {"caption": caption, "table": table, "rows": rows, "total_s": total}


def _codes(layers, X):
    """The top code of a stack of fitted layer estimators (input side first)."""
    for layer in layers:
        X = layer.transform(X)
    return X


if __name__ == "__main__":
    main()
