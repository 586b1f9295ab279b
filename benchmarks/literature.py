"""Each paper's central claim, reproduced at our scale on MNIST with skae's estimators.

One command runs six sections (``--sections``, comma-separated), prints a Markdown
table per section and a final summary (section, claim, our figures, the published
figures, and whether the claim holds, computed from the measurements):

* ``sparse`` (Ng's UFLDL notes on sparse autoencoders): the first 5,000 training and
  2,000 test images; ``SparseAutoencoder(n_components=30, hidden_layer_sizes=(300,),
  sparsity_target=0.02, weight_decay=1e-4)`` at 20 and 200 epochs (200 stops early
  by the ``tol`` rule), beside the same network with ``sparsity_weight=0`` and
  PCA-30. Reports the mean code activation (``mean_activation_``), the mean
  per-unit standard deviation of the test codes, the mean activation of the ReLU
  hidden layer, the test reconstruction MSE and the accuracy of
  ``LogisticRegression(max_iter=3000)`` trained on the training codes and scored
  on the test codes (raw codes, as in the protocol, and standardised). Claim: the
  mean activation moves to the target rho (within 0.015) while the codes keep the
  information (LR within 0.05 of PCA-30's).
* ``ufldl`` (UFLDL's self-taught learning exercise): a 784-196 sparse autoencoder
  (``hidden_layer_sizes=()``, ``sparsity_target=0.1``; UFLDL's beta=3,
  lambda=3e-3 on half the squared error are ``sparsity_weight=6,
  weight_decay=6e-3, loss="mse"`` in skae's convention) trained on unlabelled
  training images of digits 5-9 (the first 10,000), once with the default
  ``decoder_norm=5.0`` and once with ``None``; then LogisticRegression on its
  features of 5,000 labelled training images of digits 0-4, scored on all 5,139
  test images of 0-4, beside raw pixels and PCA-196 (fitted on the same 5-9
  images). UFLDL reports about 98 %. Saves the filters (``filters_ufldl.png``).
* ``denoising`` (Vincent et al. 2008, 2010): a shallow 784-256 autoencoder with a
  sigmoid code and cross-entropy loss, plain and with 25 % masking noise, trained
  on the first 10,000 training images for 20 epochs (Adam, lr=1e-2); test MSE on
  the first 5,000 test images, LogisticRegression and SVC (RBF) accuracy on the
  codes, and two measures of how local the first-layer filters are, over the
  pixels that are non-zero in some training image (elsewhere the weights keep their
  random initial values): the share of each filter's squared weight in its top
  10 % pixels (higher: more local) and the RMS distance in pixels of that energy
  from its centroid (lower: more local). Saves both sets of filters
  (``filters_denoising.png``).
* ``contractive`` (Rifai et al. 2011): the paper's one-layer model
  (``ContractiveAutoencoder(hidden_layer_sizes=(), decoder_norm=None)``: the same
  architecture and training as the plain and denoising autoencoders above, which
  are reused when both sections run, with the closed-form Jacobian penalty) for
  ``contractive_weight`` in 0.01, 0.03, 0.1; the largest weight whose test
  reconstruction error stays within 10 % of the plain autoencoder's (the claim's
  condition) is kept. Reports the reconstruction MSE, the mean Frobenius norm of the
  encoder's Jacobian on the test images and LogisticRegression accuracy for all.
* ``stacked`` (Bengio et al. 2007; UFLDL's stacked autoencoder exercise): runs
  ``benchmarks/stacked_pretraining.py`` with 1,000 labels, 20,000 pretraining
  images, 10 epochs per layer and up to 50 supervised epochs, with ``--frozen``
  (LogisticRegression on the pretrained stack's codes before fine-tuning).
* ``vae`` (Kingma & Welling 2014): a 784-400-20 Bernoulli VAE, ``beta=1.0``,
  trained for 30 epochs on the first 8,000 training images (stochastically
  binarised as in ``benchmarks/vae_mnist.py``); the test ELBO on the 10,000 test
  images, and the ELBO and the importance-weighted bound (k=1000) on the first 500
  test images, whose negative is the NLL estimate. Saves 64 samples from the prior
  (``vae_samples.png``).

Every estimator uses ``random_state=--seed``. ``--n-train`` and ``--epochs`` scale
every section at once for longer runs (``--sparse-epochs`` the sparse one). Pixels
are in [0, 1] (:func:`skae.datasets.load_mnist`), MNIST is read from ``--mnist``
(default ``../shared/data/mnist``). Output in ``--out`` (default
``benchmarks/results/literature/``): ``results.md`` (the tables), ``results.json``
(every number, the configuration, versions, machine) and the figures.

Usage::

    python benchmarks/literature.py                       # about 10 min on 2 cores
    python benchmarks/literature.py --sections ufldl,vae  # some sections only
    python benchmarks/literature.py --n-train 0 --epochs 100   # all images, longer
    python benchmarks/literature.py --quick               # smoke run, seconds
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import textwrap
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    RESULTS,
    SHARED_DATA,
    machine_info,
    markdown_table,
    progress,
    skae_plotting_or_none,
    timed,
    versions,
    write_json,
)

import skae  # noqa: E402
from skae.datasets import load_mnist  # noqa: E402
from skae.penalties import ContractivePenalty  # noqa: E402

SECTIONS = ["sparse", "ufldl", "denoising", "contractive", "stacked", "vae"]
IMAGE = (28, 28)


@dataclass
class Config:
    """Sizes and epochs of every section (``--quick`` shrinks them)."""

    sparse_train: int = 5000
    sparse_test: int = 2000
    sparse_epochs: tuple = (20, 200)
    ufldl_unlabelled: int = 10_000
    ufldl_labelled: int = 5000
    ufldl_test: int | None = None  # None: every test image of digits 0-4
    ufldl_epochs: int = 50
    dae_train: int = 10_000
    dae_test: int = 5000
    dae_components: int = 256
    dae_epochs: int = 20
    cae_weights: tuple = (0.01, 0.03, 0.1)
    stacked_pretrain: int = 20_000
    stacked_labelled: int = 1000
    stacked_hidden: str = "500,500"
    stacked_pretrain_epochs: int = 10
    stacked_finetune_epochs: int = 50
    vae_train: int = 8000
    vae_test: int | None = None  # None: all 10,000
    vae_epochs: int = 30
    vae_iwae_k: int = 1000
    vae_iwae_n: int = 500
    clf_max_iter: int = 3000


def make_config(args) -> Config:
    if args.quick:
        cfg = Config(
            sparse_train=400, sparse_test=200, sparse_epochs=(2,),
            ufldl_unlabelled=400, ufldl_labelled=300, ufldl_test=300, ufldl_epochs=2,
            dae_train=400, dae_test=200, dae_components=32, dae_epochs=2,
            cae_weights=(0.03,),
            stacked_pretrain=500, stacked_labelled=100, stacked_hidden="32,16",
            stacked_pretrain_epochs=1, stacked_finetune_epochs=2,
            vae_train=400, vae_test=200, vae_epochs=2, vae_iwae_k=10, vae_iwae_n=50,
            clf_max_iter=300,
        )
    else:
        cfg = Config()
    if args.n_train is not None:
        n = args.n_train or 60_000  # 0: all (each section takes what it can)
        cfg.sparse_train = cfg.ufldl_unlabelled = cfg.dae_train = n
        cfg.stacked_pretrain = cfg.vae_train = n
    if args.epochs is not None:
        cfg.ufldl_epochs = cfg.dae_epochs = cfg.vae_epochs = args.epochs
        cfg.stacked_pretrain_epochs = args.epochs
    if args.sparse_epochs is not None:
        cfg.sparse_epochs = tuple(args.sparse_epochs)
    if args.cae_weights is not None:
        cfg.cae_weights = tuple(args.cae_weights)
    return cfg


class Context:
    """The data, the settings and the models shared between sections."""

    def __init__(self, args, cfg):
        self.args, self.cfg = args, cfg
        self.X, self.y = load_mnist(args.mnist, subset="train", return_X_y=True)
        self.X_test, self.y_test = load_mnist(args.mnist, subset="test", return_X_y=True)
        self.y, self.y_test = self.y.astype(np.int64), self.y_test.astype(np.int64)
        self.cache = {}  # fitted models reused across sections (denoising -> contractive)
        self.figures = []

    def torch_kw(self, epochs):
        return {"max_iter": epochs, "random_state": self.args.seed, "device": self.args.device}

    def figure(self, name, draw):
        """Draw with ``draw(plotting, plt)`` -> figure, save as ``name``; never raises."""
        if self.args.no_figures:
            return None
        plotting = skae_plotting_or_none()
        if plotting is None:
            return None
        import matplotlib.pyplot as plt

        try:
            fig = draw(plotting, plt)
            fig.savefig(self.args.out / name, dpi=self.args.dpi, bbox_inches="tight")
            plt.close(fig)
        except Exception as exc:  # a figure must not cost a long run's numbers
            print(f"figure {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return None
        self.figures.append(name)
        return name


# --------------------------------------------------------------------------------------
# measurements


def lr_accuracy(Z_train, y_train, Z_test, y_test, cfg, standardise=False):
    """Accuracy of LogisticRegression trained on ``Z_train``, scored on ``Z_test``."""
    clf = LogisticRegression(max_iter=cfg.clf_max_iter)
    if standardise:
        clf = make_pipeline(StandardScaler(), clf)
    return float(clf.fit(Z_train, y_train).score(Z_test, y_test))


def svc_accuracy(Z_train, y_train, Z_test, y_test):
    return float(SVC(kernel="rbf").fit(Z_train, y_train).score(Z_test, y_test))


def test_mse(est, X):
    R = est.inverse_transform(est.transform(X))
    return float(np.mean((np.asarray(R, dtype=np.float64) - X) ** 2))


def jacobian_norms(est, X):
    """``||J_f(x)||_F`` per row for any skae MLP autoencoder (exact, batched)."""
    if hasattr(est, "jacobian_norm"):
        return est.jacobian_norm(X)
    module, penalty = est.net_.module_, ContractivePenalty(1.0)

    def fn(xb):
        return penalty.per_sample(module(xb), xb, module).clamp_min(0).sqrt()

    return est.net_.apply_batched(fn, X, 1024, np.float64, inference_mode=False)


def first_layer(est):
    return est.net_.module_.encoder[0][0].weight.detach().cpu().double().numpy()


def filter_locality(W, active):
    """``(top10, spread)`` of the rows of ``W`` over the ``active`` pixels.

    ``top10``: mean share of a filter's squared weight in its 10 % strongest pixels
    (0.1 for energy spread evenly; higher is more local). ``spread``: mean RMS
    distance, in pixels, of the squared weight from its centroid (lower is more
    local).
    """
    E = np.zeros_like(W)
    E[:, active] = W[:, active] ** 2
    E /= E.sum(axis=1, keepdims=True)
    k = int(np.ceil(0.1 * active.sum()))
    top10 = np.sort(E[:, active], axis=1)[:, -k:].sum(axis=1)
    rows, cols = np.divmod(np.arange(W.shape[1]), IMAGE[1])
    cr, cc = E @ rows, E @ cols
    var = (E * ((rows[None] - cr[:, None]) ** 2 + (cols[None] - cc[:, None]) ** 2)).sum(1)
    return float(top10.mean()), float(np.sqrt(var).mean())


def claim(section, text, ours, published, holds):
    return {"section": section, "claim": text, "ours": ours, "published": published,
            "holds": bool(holds)}


def _fit(est, X, y=None):
    t, _ = timed(lambda: est.fit(X) if y is None else est.fit(X, y))
    return t


# --------------------------------------------------------------------------------------
# sections


def section_sparse(ctx):
    cfg, seed = ctx.cfg, ctx.args.seed
    X, y = ctx.X[: cfg.sparse_train], ctx.y[: cfg.sparse_train]
    Xt, yt = ctx.X_test[: cfg.sparse_test], ctx.y_test[: cfg.sparse_test]
    rho = 0.02

    pca = PCA(30, random_state=seed)
    t = _fit(pca, X)
    Z, Zt = pca.transform(X), pca.transform(Xt)
    rows = [{"model": "PCA-30", "fit_time_s": t, "mse": test_mse(pca, Xt),
             "acc_lr": lr_accuracy(Z, y, Zt, yt, cfg),
             "acc_lr_std": lr_accuracy(Z, y, Zt, yt, cfg, standardise=True)}]
    pca_acc = rows[0]["acc_lr"]
    claims = []
    for epochs in cfg.sparse_epochs:
        by_kind = {}
        for kind, weight in (("sparse", "auto"), ("plain", 0.0)):
            est = skae.SparseAutoencoder(
                n_components=30, hidden_layer_sizes=(300,), sparsity_target=rho,
                sparsity_weight=weight, weight_decay=1e-4, **ctx.torch_kw(epochs))
            t = _fit(est, X)
            Z, Zt = est.transform(X), est.transform(Xt)
            hidden = est.net_.apply_batched(est.net_.module_.encoder[0], Xt)
            row = {
                "model": f"{kind}, sparsity_weight={est.sparsity_weight_:g}",
                "max_iter": epochs, "epochs": est.n_iter_, "fit_time_s": t,
                "mean_activation": float(est.mean_activation_.mean()),
                "code_std": float(Zt.std(axis=0).mean()),
                "hidden_activation": float(hidden.mean()),
                "mse": test_mse(est, Xt),
                "acc_lr": lr_accuracy(Z, y, Zt, yt, cfg),
                "acc_lr_std": lr_accuracy(Z, y, Zt, yt, cfg, standardise=True),
            }
            rows.append(row)
            by_kind[kind] = row
        s, p = by_kind["sparse"], by_kind["plain"]
        moved = abs(s["mean_activation"] - rho) <= 0.015 < abs(p["mean_activation"] - rho)
        for key, what in (("acc_lr", "raw codes"), ("acc_lr_std", "standardised codes")):
            ref = rows[0][key]
            claims.append(claim(
                "sparse",
                f"max_iter={epochs}: mean activation within 0.015 of rho={rho} (plain: "
                f"far from it) and LR on the {what} within 0.05 of PCA-30",
                f"activation {s['mean_activation']:.3f} (plain {p['mean_activation']:.3f}); "
                f"LR {s[key]:.3f} vs PCA-30 {ref:.3f} (plain {p[key]:.3f})",
                "mean activation ~ rho, informative codes (UFLDL notes)",
                moved and s[key] >= ref - 0.05,
            ))
    columns = [
        ("Model", "model", None), ("max_iter", "max_iter", "d"), ("Epochs", "epochs", "d"),
        ("Mean code act.", "mean_activation", ".4f"), ("Code std", "code_std", ".4f"),
        ("Hidden act.", "hidden_activation", ".4f"), ("Test MSE", "mse", ".5f"),
        ("LR acc.", "acc_lr", ".4f"), ("LR acc. (std.)", "acc_lr_std", ".4f"),
        ("Fit (s)", "fit_time_s", ".1f"),
    ]
    caption = (
        f"MNIST, first {len(X)} training / {len(Xt)} test images. SparseAutoencoder("
        "n_components=30, hidden_layer_sizes=(300,), sparsity_target=0.02, "
        "weight_decay=1e-4), defaults otherwise (ReLU hidden layer, sigmoid code, "
        "cross-entropy, Adam lr=1e-2, decoder_norm=5); 'plain' is sparsity_weight=0. "
        "Mean code act.: mean_activation_ (training data); code std: per-unit standard "
        "deviation of the test codes, averaged; hidden act.: mean ReLU output on the test "
        "images; LR: LogisticRegression(max_iter=3000) on the training codes, scored on "
        f"the test codes (std.: after StandardScaler). PCA-30 LR accuracy {pca_acc:.4f}."
    )
    return {"caption": caption, "table": markdown_table(columns, rows), "rows": rows,
            "claims": claims}


def section_ufldl(ctx):
    cfg, seed = ctx.cfg, ctx.args.seed
    U = ctx.X[ctx.y >= 5][: cfg.ufldl_unlabelled]
    lab = ctx.y < 5
    L, yl = ctx.X[lab][: cfg.ufldl_labelled], ctx.y[lab][: cfg.ufldl_labelled]
    tst = ctx.y_test < 5
    T, yt = ctx.X_test[tst][: cfg.ufldl_test], ctx.y_test[tst][: cfg.ufldl_test]

    rows = []
    t, acc = timed(lambda: lr_accuracy(L, yl, T, yt, cfg))
    rows.append({"model": "raw pixels (784)", "acc_lr": acc, "fit_time_s": t})
    pca = PCA(196, random_state=seed)
    t = _fit(pca, U)
    rows.append({"model": "PCA-196 (fitted on the 5-9 images)", "mse": test_mse(pca, T),
                 "acc_lr": lr_accuracy(pca.transform(L), yl, pca.transform(T), yt, cfg),
                 "fit_time_s": t})
    sparse = {}
    for norm in (5.0, None):
        est = skae.SparseAutoencoder(
            n_components=196, hidden_layer_sizes=(), sparsity_target=0.1,
            sparsity_weight=6.0, weight_decay=6e-3, loss="mse", decoder_norm=norm,
            **ctx.torch_kw(cfg.ufldl_epochs))
        t = _fit(est, U)
        rows.append({
            "model": f"SparseAutoencoder 784-196, decoder_norm={norm}",
            "epochs": est.n_iter_, "mean_activation": float(est.mean_activation_.mean()),
            "mse": test_mse(est, T),
            "acc_lr": lr_accuracy(est.transform(L), yl, est.transform(T), yt, cfg),
            "fit_time_s": t,
        })
        sparse[norm] = (est, rows[-1])
    best_norm = max(sparse, key=lambda n: sparse[n][1]["acc_lr"])
    best, best_row = sparse[best_norm]
    raw_acc = rows[0]["acc_lr"]
    figure = ctx.figure("filters_ufldl.png", lambda plotting, plt: plotting.FilterDisplay
                        .from_estimator(best, n_filters=100, image_shape=IMAGE).figure_)
    others = ", ".join(f"decoder_norm={n}: {r['acc_lr']:.3f}" for n, (_, r) in sparse.items())
    claims = [claim(
        "ufldl",
        "self-taught features of digits 5-9 classify digits 0-4 at ~98 % (within 1 "
        "point) and beat raw pixels",
        f"{best_row['acc_lr']:.3f} ({others}); raw pixels {raw_acc:.3f}, PCA-196 "
        f"{rows[1]['acc_lr']:.3f}",
        "~98 % (UFLDL self-taught learning exercise)",
        best_row["acc_lr"] >= 0.97 and best_row["acc_lr"] > raw_acc,
    )]
    columns = [
        ("Features", "model", None), ("Epochs", "epochs", "d"),
        ("Mean code act.", "mean_activation", ".4f"), ("Test MSE (0-4)", "mse", ".5f"),
        ("LR acc. (0-4)", "acc_lr", ".4f"), ("Fit (s)", "fit_time_s", ".1f"),
    ]
    caption = (
        f"UFLDL self-taught learning: features learnt on {len(U)} unlabelled training "
        f"images of digits 5-9; LogisticRegression(max_iter={cfg.clf_max_iter}) on the "
        f"features of {len(L)} labelled training images of 0-4, scored on {len(T)} test "
        "images of 0-4. SparseAutoencoder(n_components=196, hidden_layer_sizes=(), "
        "sparsity_target=0.1, sparsity_weight=6, weight_decay=6e-3, loss='mse') = "
        "UFLDL's beta=3, lambda=3e-3 (which halve the squared error), Adam lr=1e-2, "
        f"max_iter={cfg.ufldl_epochs} (stops when the loss stalls). Filters of "
        f"decoder_norm={best_norm}: {figure or 'not drawn'}."
    )
    return {"caption": caption, "table": markdown_table(columns, rows), "rows": rows,
            "claims": claims, "best_decoder_norm": best_norm}


def _shallow(ctx, kind, **extra):
    """The shallow sigmoid-code model of the denoising / contractive sections (cached)."""
    cfg = ctx.cfg
    key = (kind, tuple(sorted(extra.items())))
    if key in ctx.cache:
        return ctx.cache[key]
    kw = dict(n_components=cfg.dae_components, hidden_layer_sizes=(),
              code_activation="sigmoid", loss="bce", lr=1e-2, **ctx.torch_kw(cfg.dae_epochs))
    if kind == "ae":
        est = skae.Autoencoder(**kw)
    elif kind == "dae":
        est = skae.DenoisingAutoencoder(noise="masking", noise_level=0.25, **kw)
    else:
        est = skae.ContractiveAutoencoder(decoder_norm=None, **kw, **extra)
    X = ctx.X[: cfg.dae_train]
    t = _fit(est, X)
    ctx.cache[key] = (est, t)
    return est, t


def _shallow_row(ctx, est, t, name, svc=True):
    cfg = ctx.cfg
    X, y = ctx.X[: cfg.dae_train], ctx.y[: cfg.dae_train]
    Xt, yt = ctx.X_test[: cfg.dae_test], ctx.y_test[: cfg.dae_test]
    Z, Zt = est.transform(X), est.transform(Xt)
    row = {"model": name, "epochs": est.n_iter_, "fit_time_s": t,
           "train_mse": test_mse(est, X), "mse": test_mse(est, Xt),
           "jacobian": float(jacobian_norms(est, Xt).mean()),
           "acc_lr": lr_accuracy(Z, y, Zt, yt, cfg)}
    if svc:
        row["acc_svc"] = svc_accuracy(Z, y, Zt, yt)
    return row


def _shallow_caption(ctx):
    cfg = ctx.cfg
    return (
        f"MNIST, first {min(cfg.dae_train, len(ctx.X))} training / "
        f"{min(cfg.dae_test, len(ctx.X_test))} test images. One-layer autoencoders "
        f"784-{cfg.dae_components} with a sigmoid code, sigmoid output, cross-entropy, "
        f"Adam lr=1e-2, batch 128, {cfg.dae_epochs} epochs, random_state="
        f"{ctx.args.seed}. LR: LogisticRegression(max_iter={cfg.clf_max_iter}), SVC: "
        "SVC(kernel='rbf'), trained on the training codes and scored on the test codes. "
        "‖J‖: mean Frobenius norm of the encoder's Jacobian on the test images."
    )


def section_denoising(ctx):
    active = ctx.X[: ctx.cfg.dae_train].max(axis=0) > 0
    rows, models = [], {}
    for kind, name in (("ae", "Autoencoder (plain)"),
                       ("dae", "DenoisingAutoencoder, masking 25 %")):
        est, t = _shallow(ctx, kind)
        row = _shallow_row(ctx, est, t, name)
        row["top10"], row["spread"] = filter_locality(first_layer(est), active)
        rows.append(row)
        models[kind] = est
    ae, dae = rows

    def draw(plotting, plt):
        fig = plt.figure(figsize=(9, 4.8))
        for sub, (kind, title) in zip(fig.subfigures(1, 2, wspace=0.04),
                                      (("ae", "plain autoencoder"),
                                       ("dae", "denoising, 25 % masking")), strict=True):
            plotting.FilterDisplay.from_estimator(models[kind], n_filters=36,
                                                  image_shape=IMAGE, ax=sub.add_subplot())
            sub.suptitle(title)
        return fig

    figure = ctx.figure("filters_denoising.png", draw)
    claims = [claim(
        "denoising",
        "denoising features classify better (LR and SVC) and its filters are more "
        "local (top-10 % energy share higher, spread lower)",
        f"LR {dae['acc_lr']:.3f} vs {ae['acc_lr']:.3f}, SVC {dae['acc_svc']:.3f} vs "
        f"{ae['acc_svc']:.3f}; top-10 % {dae['top10']:.2f} vs {ae['top10']:.2f}, "
        f"spread {dae['spread']:.1f} vs {ae['spread']:.1f} px",
        "Vincent et al. 2010: SDAE-3 1.28 % vs SAE-3 1.40 % test error; stroke "
        "detectors at 25 % masking",
        dae["acc_lr"] > ae["acc_lr"] and dae["acc_svc"] > ae["acc_svc"]
        and dae["top10"] > ae["top10"] and dae["spread"] < ae["spread"],
    )]
    columns = [
        ("Model", "model", None), ("Epochs", "epochs", "d"), ("Test MSE", "mse", ".5f"),
        ("LR acc.", "acc_lr", ".4f"), ("SVC acc.", "acc_svc", ".4f"),
        ("Top-10 % energy", "top10", ".3f"), ("Spread (px)", "spread", ".2f"),
        ("‖J‖", "jacobian", ".2f"), ("Fit (s)", "fit_time_s", ".1f"),
    ]
    caption = _shallow_caption(ctx) + (
        " Filter locality over the pixels non-zero in some training image: share of a "
        "filter's squared weight in its top 10 % pixels (higher: more local) and RMS "
        "distance of that energy from its centroid (lower: more local), averaged over "
        f"the filters. Figure: {figure or 'not drawn'}."
    )
    return {"caption": caption, "table": markdown_table(columns, rows), "rows": rows,
            "claims": claims}


def section_contractive(ctx):
    cfg = ctx.cfg
    rows = []
    for kind, name in (("ae", "Autoencoder (plain)"),
                       ("dae", "DenoisingAutoencoder, masking 25 %")):
        est, t = _shallow(ctx, kind)
        rows.append({**_shallow_row(ctx, est, t, name, svc=False), "kind": kind})
    ae, dae = rows
    caes = []
    for weight in cfg.cae_weights:
        est, t = _shallow(ctx, "cae", contractive_weight=weight)
        row = _shallow_row(ctx, est, t, f"ContractiveAutoencoder, weight {weight:g}",
                           svc=False)
        row.update(kind="cae", weight=weight)
        rows.append(row)
        caes.append(row)
    for row in rows:
        row["mse_ratio"] = row["mse"] / ae["mse"]
        row["train_mse_ratio"] = row["train_mse"] / ae["train_mse"]
    within = [r for r in caes if r["mse_ratio"] <= 1.10]
    chosen = max(within, key=lambda r: r["weight"]) if within else min(
        caes, key=lambda r: r["weight"])
    chosen["chosen"] = True
    for row in rows:
        row["selected"] = "<- kept" if row.get("chosen") else ""
    c = chosen
    claims = [claim(
        "contractive",
        "lower ‖J‖ than plain and denoising at reconstruction within 10 % of the plain "
        "one, LR accuracy at least the plain one's",
        f"weight {c['weight']:g}: ‖J‖ {c['jacobian']:.1f} (plain {ae['jacobian']:.1f}, "
        f"DAE {dae['jacobian']:.1f}); MSE x{c['mse_ratio']:.2f} of plain (DAE "
        f"x{dae['mse_ratio']:.2f}); LR {c['acc_lr']:.3f} vs plain {ae['acc_lr']:.3f}, "
        f"DAE {dae['acc_lr']:.3f}",
        "Rifai et al. 2011: CAE 1.14 % test error; ‖J‖ lowest of AE, DAE, CAE",
        c["jacobian"] < ae["jacobian"] and c["jacobian"] < dae["jacobian"]
        and c["mse_ratio"] <= 1.10 and c["acc_lr"] >= ae["acc_lr"],
    )]
    columns = [
        ("Model", "model", None), ("Train MSE / plain", "train_mse_ratio", ".3f"),
        ("Test MSE", "mse", ".5f"), ("Test MSE / plain", "mse_ratio", ".3f"),
        ("‖J‖", "jacobian", ".2f"), ("LR acc.", "acc_lr", ".4f"),
        ("Fit (s)", "fit_time_s", ".1f"), ("", "selected", None),
    ]
    caption = _shallow_caption(ctx) + (
        " ContractiveAutoencoder(hidden_layer_sizes=(), decoder_norm=None): the same "
        "network as the others (no fixed-norm decoder), the paper's one-layer model with "
        "the closed-form penalty. Weights tried: "
        f"{', '.join(f'{w:g}' for w in cfg.cae_weights)}; kept: the largest whose test "
        "MSE is within 10 % of the plain autoencoder's (the claim's condition; the "
        "smallest weight when none is)."
    )
    return {"caption": caption, "table": markdown_table(columns, rows), "rows": rows,
            "claims": claims, "chosen_weight": c["weight"]}


def _bench_module(name):
    import importlib

    return importlib.import_module(name)  # benchmarks/ is on sys.path


def section_stacked(ctx):
    cfg, args = ctx.cfg, ctx.args
    sp = _bench_module("stacked_pretraining")
    argv = ["--mnist", str(args.mnist), "--labelled", str(cfg.stacked_labelled),
            "--n-pretrain", str(cfg.stacked_pretrain), "--hidden", cfg.stacked_hidden,
            "--pretrain-epochs", str(cfg.stacked_pretrain_epochs),
            "--finetune-epochs", str(cfg.stacked_finetune_epochs),
            "--seed", str(args.seed), "--device", args.device, "--frozen"]
    with contextlib.redirect_stdout(sys.stderr):  # its progress lines; the table is ours
        out = sp.main(argv)
    acc = {r["method"][:3]: r["accuracy"] for r in out["rows"]}
    a, b, e, d = acc["(a)"], acc["(b)"], acc["(e)"], acc["(d)"]
    claims = [claim(
        "stacked",
        f"with {cfg.stacked_labelled} labels, pretraining + fine-tuning beats the same "
        "network from random init, and fine-tuning beats the frozen pretrained features",
        f"{a:.3f} vs random init {b:.3f}; before fine-tuning {e:.3f}; raw-pixel LR {d:.3f}",
        "UFLDL stacked AE: 87.7 % before, 97.6 % after fine-tuning (60k labels); "
        "Bengio et al. 2007: pretraining beats random init",
        a > b and a > e,
    )]
    return {"caption": out["caption"], "table": out["table"], "rows": out["rows"],
            "claims": claims, "argv": argv}


def section_vae(ctx):
    cfg = ctx.cfg
    binarize = _bench_module("vae_mnist").binarize
    # As benchmarks/vae_mnist.py: binarise the full sets once (seeds 0 and 1), then take.
    X = binarize(ctx.X, "stochastic", 0)[: cfg.vae_train]
    Xt = binarize(ctx.X_test, "stochastic", 1)[: cfg.vae_test]
    vae = skae.VariationalAutoencoder(
        20, hidden_layer_sizes=(400,), likelihood="bernoulli", beta=1.0,
        batch_size=100, lr=1e-3, n_iter_no_change=cfg.vae_epochs, **ctx.torch_kw(cfg.vae_epochs))
    t = _fit(vae, X)
    elbo_all = float(vae.score(Xt))
    sub = Xt[: cfg.vae_iwae_n]
    elbo_sub = float(vae.score(sub))
    vae.set_params(n_importance_samples=cfg.vae_iwae_k)
    t_iwae, iwae = timed(lambda: float(vae.score(sub)))
    vae.set_params(n_importance_samples=1)
    figure = ctx.figure("vae_samples.png", lambda plotting, plt: plotting.SampleDisplay
                        .from_estimator(vae, n_samples=64, image_shape=IMAGE,
                                        random_state=0).figure_)
    rows = [
        {"quantity": "epochs", "value": vae.n_iter_},
        {"quantity": "training wall time (s)", "value": round(t, 1)},
        {"quantity": "training ELBO, last epoch (nats)", "value": round(vae.elbo_, 2)},
        {"quantity": f"test ELBO, {len(Xt)} images (nats)", "value": round(elbo_all, 2)},
        {"quantity": f"test ELBO, first {len(sub)} images (nats)",
         "value": round(elbo_sub, 2)},
        {"quantity": f"IWAE bound k={cfg.vae_iwae_k}, first {len(sub)} images (nats)",
         "value": round(iwae, 2)},
        {"quantity": "NLL estimate = -IWAE (nats)", "value": round(-iwae, 2)},
        {"quantity": "IWAE time (s)", "value": round(t_iwae, 1)},
    ]
    claims = [
        claim("vae", "the ELBO is a lower bound: ELBO <= IWAE bound (same images)",
              f"ELBO {elbo_sub:.2f} <= IWAE-{cfg.vae_iwae_k} {iwae:.2f}; NLL estimate "
              f"{-iwae:.1f} nats ({vae.n_iter_} epochs, {len(X)} images)",
              "Burda et al. 2016: IWAE tightens the ELBO; pythae's 784-400-40 VAE: NLL "
              "~89.8 nats (500 epochs, 60k images)", elbo_sub <= iwae),
    ]
    caption = (
        f"784-400-20 Bernoulli VAE (ReLU, beta=1.0, Adam lr=1e-3, batch 100), "
        f"{vae.n_iter_} epochs on the first {len(X)} training images, stochastically "
        f"binarised (seed 0; test seed 1). Samples: {figure or 'not drawn'}."
    )
    table = markdown_table([("Quantity", "quantity", None), ("Value", "value", None)], rows)
    return {"caption": caption, "table": table, "rows": rows, "claims": claims,
            "elbo_test": elbo_all, "elbo_subset": elbo_sub, "iwae": iwae, "nll": -iwae}


RUNNERS = {
    "sparse": section_sparse, "ufldl": section_ufldl, "denoising": section_denoising,
    "contractive": section_contractive, "stacked": section_stacked, "vae": section_vae,
}
TITLES = {
    "sparse": "Sparse autoencoder: activations pushed to the target (UFLDL notes)",
    "ufldl": "Self-taught learning (UFLDL exercise)",
    "denoising": "Denoising autoencoder (Vincent et al. 2008, 2010)",
    "contractive": "Contractive autoencoder (Rifai et al. 2011)",
    "stacked": "Stacked autoencoders: pretraining and fine-tuning (Bengio et al. 2007)",
    "vae": "Variational autoencoder (Kingma & Welling 2014)",
}


# --------------------------------------------------------------------------------------
# command line


def _sections(text):
    names = [s.strip().lower() for s in text.split(",") if s.strip()]
    bad = [s for s in names if s not in SECTIONS]
    if bad:
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {', '.join(bad)}; choose from {', '.join(SECTIONS)}")
    return [s for s in SECTIONS if s in names]  # the documented order


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("Usage::", 1)[1].splitlines()),
    )
    parser.add_argument("--mnist", type=Path, default=SHARED_DATA / "mnist", metavar="DIR",
                        help="folder of the MNIST IDX files (default ../shared/data/mnist)")
    parser.add_argument("--sections", type=_sections, default=list(SECTIONS),
                        metavar="NAMES", help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--n-train", type=int, default=None,
                        help="training images of every section (0: all); default: each "
                        "section's own (5,000 to 20,000)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of the ufldl, denoising, contractive and vae models "
                        "and per stacked layer (default 50, 20, 20, 30, 10)")
    parser.add_argument("--sparse-epochs", type=int, nargs="+", default=None,
                        help="max_iter values of the sparse section (default 20 200)")
    parser.add_argument("--cae-weights", type=float, nargs="+", default=None,
                        help="contractive weights tried (default 0.01 0.03 0.1)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: a few hundred images, 1-2 epochs per model")
    parser.add_argument("--seed", type=int, default=0, help="random_state of every model")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch and BLAS threads (default 2)")
    parser.add_argument("--device", default="cpu", help="torch device of the skae models")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="output folder (default benchmarks/results/literature/)")
    parser.add_argument("--dpi", type=int, default=80, help="resolution of the figures")
    parser.add_argument("--no-figures", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = RESULTS / ("literature_quick" if args.quick else "literature")
    return args


def _summary(claims):
    rows = [{**c, "holds": "yes" if c["holds"] else "no"} for c in claims]
    columns = [("Section", "section", None), ("Claim", "claim", None),
               ("Ours", "ours", None), ("Published", "published", None),
               ("Holds?", "holds", None)]
    return markdown_table(columns, rows)


def main(argv=None):
    args = parse_args(argv)
    if not args.mnist.is_dir():
        raise SystemExit(f"MNIST not found in {args.mnist}: pass --mnist DIR (the folder "
                         "of the four IDX files).")
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    cfg = make_config(args)
    args.out.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(limits=args.threads):
        ctx = Context(args, cfg)
        results, text = {}, []
        bar = progress(args.sections, desc="literature", disable=args.no_progress)
        for name in bar:
            bar.set_postfix_str(name)
            t0 = time.perf_counter()
            try:
                res = RUNNERS[name](ctx)
            except Exception as exc:  # one failure must not lose the other sections
                traceback.print_exc()
                res = {"error": f"{type(exc).__name__}: {exc}", "claims": []}
            res["wall_time_s"] = time.perf_counter() - t0
            results[name] = res
            block = [f"## {TITLES[name]}", ""]
            if "error" in res:
                block.append(f"failed: {res['error']}")
            else:
                block += [textwrap.fill(res["caption"], width=100), "", res["table"]]
            block += ["", f"({res['wall_time_s']:.0f} s)", ""]
            text += block
            print("\n".join(block), flush=True)
        bar.close()

    claims = [c for name in args.sections for c in results[name]["claims"]]
    wall = time.perf_counter() - start
    machine = machine_info()
    text += ["## Summary", "", _summary(claims), "",
             f"Total {wall:.0f} s, {args.threads} threads, {machine.get('cpu_model', '?')}."]
    report = "\n".join(text)
    print("## Summary\n\n" + _summary(claims) + f"\n\nTotal {wall:.0f} s.")
    (args.out / "results.md").write_text(report + "\n")
    config = {k: v for k, v in vars(args).items()}
    config["sizes"] = asdict(cfg)
    payload = {"config": config, "sections": results, "summary": claims,
               "figures": ctx.figures, "versions": versions(), "machine": machine,
               "wall_time_s": wall}
    path = write_json(args.out / "results.json", payload)
    print(f"wrote {path}, {args.out / 'results.md'}"
          + (f" and {len(ctx.figures)} figures in {args.out}" if ctx.figures else ""))
    return payload


if __name__ == "__main__":
    main()
