"""ConvAutoencoder against PCA and the MLP Autoencoder at equal code size: faces and MNIST.

Faces: the 400 AT&T faces (40 subjects x 10, :func:`skae.datasets.load_faces`),
resized to ``--size`` x ``--size`` (32 by default, or 64), pixels in [0, 1], split
75/25 stratified by subject (``random_state=0``: 300 training and 100 test images,
every subject in both parts, so the test measures how well new pictures of known
people are coded). At ``--n-components`` (32) each method is fitted on the training
images and reports

* the held-out reconstruction MSE per pixel (and the squared error summed over an
  image, the unit of Hinton & Salakhutdinov 2006);
* denoising: the test images plus Gaussian noise of standard deviation ``--sigma``
  (0.2, clipped to [0, 1], seed 0) go through each clean-trained model, and through
  a ``DenoisingAutoencoder`` and a denoising ``ConvAutoencoder`` trained with the same
  noise; the table gives the MSE to the *clean* images (the noisy input itself is
  the reference row).

With 300 training images PCA is a strong baseline (its 32 components are computed
exactly; the networks must learn ~300k+ weights from 300 pictures): the tables say
what was measured, not what was hoped.

MNIST (when the files are found, ``--mnist DIR``; ``--no-mnist`` skips it): the same
three methods at the same code size on a stratified subsample of ``--mnist-n-train``
training images (10,000; 0 for all 60,000), MSE on the 10,000 test images.

No per-pixel scaler is used: the pixels already lie in [0, 1] and a per-pixel
min-max scaling would distort the images the convolutions see. The output is
Markdown tables on stdout and ``<out>/results.md``, JSON in ``<out>/results.json``,
and ``<out>/faces_reconstructions.png`` (rows: originals, each method's
reconstruction, the noisy inputs, each method's output on them) and
``<out>/mnist_reconstructions.png`` (default ``--out benchmarks/results/conv_faces``).

Usage::

    python benchmarks/conv_faces.py                  # 32x32 faces + MNIST, ~75 s on 2 cores
    python benchmarks/conv_faces.py --size 64 --no-mnist
    python benchmarks/conv_faces.py --device cuda --mnist-n-train 0
    python benchmarks/conv_faces.py --quick          # smoke run, under a minute
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    RESULTS,
    default_data_home,
    filters_desc,
    machine_info,
    markdown_table,
    matplotlib_or_none,
    progress,
    timed,
    versions,
    write_json,
)

import skae  # noqa: E402


def add_noise(X, sigma, seed=0):
    """``clip(X + N(0, sigma^2), 0, 1)`` with its own generator."""
    rng = np.random.default_rng(seed)
    return np.clip(X + rng.normal(0.0, sigma, size=X.shape), 0.0, 1.0).astype(np.float32)


def mse(A, B):
    return float(np.mean((np.asarray(A, dtype=np.float64) - B) ** 2))


def reconstruct(est, X):
    return np.asarray(est.inverse_transform(est.transform(X)))


def build_methods(args, image_shape, *, epochs, conv_epochs, denoising):
    """``{name: (estimator, description)}``; ConvAutoencoder only when skae has it."""
    k, seed, dev = args.n_components, args.seed, args.device
    methods = {
        "PCA": (PCA(n_components=k, random_state=seed), "linear, exact"),
        "Autoencoder": (
            skae.Autoencoder(n_components=k, max_iter=epochs, random_state=seed, device=dev),
            f"MLP {int(np.prod(image_shape))}-256-{k}",
        ),
    }
    has_conv = hasattr(skae, "ConvAutoencoder")
    if has_conv:
        conv = skae.ConvAutoencoder(n_components=k, image_shape=image_shape,
                                    max_iter=conv_epochs, random_state=seed, device=dev)
        p = conv.get_params()
        strides = p["strides"] if isinstance(p["strides"], int) else ",".join(
            map(str, p["strides"]))
        conv_desc = (f"conv {filters_desc(p['filters'])} (strides {strides}), "
                     f"{p['code_activation']} code")
        methods["ConvAutoencoder"] = (conv, conv_desc)
    if denoising:
        noise = dict(noise="gaussian", noise_level=args.sigma, clip_noise=True)
        methods["DenoisingAutoencoder"] = (
            skae.DenoisingAutoencoder(n_components=k, max_iter=epochs, random_state=seed,
                                      device=dev, **noise),
            f"MLP {int(np.prod(image_shape))}-256-{k}, trained with the test noise",
        )
        if has_conv:
            methods["ConvAutoencoder (denoising)"] = (
                skae.ConvAutoencoder(n_components=k, image_shape=image_shape,
                                     max_iter=conv_epochs, random_state=seed, device=dev,
                                     **noise),
                conv_desc + ", trained with the test noise",
            )
    return methods


def run_part(name, X_train, X_test, image_shape, args, *, epochs, conv_epochs, denoising,
             bar):
    """Fit every method; returns rows, the fitted estimators and the noisy test set."""
    X_noisy = add_noise(X_test, args.sigma) if denoising else None
    methods = build_methods(args, image_shape, epochs=epochs, conv_epochs=conv_epochs,
                            denoising=denoising)
    n_pixels = X_test.shape[1]
    rows, fitted = [], {}
    if denoising:
        rows.append({"method": "noisy input (no model)", "model": f"sigma={args.sigma}",
                     "mse_noisy": mse(X_noisy, X_test),
                     "sse_noisy": mse(X_noisy, X_test) * n_pixels})
    for method, (est, desc) in methods.items():
        bar.set_postfix_str(f"{name}: {method}")
        t, _ = timed(lambda est=est: est.fit(X_train), args.device)
        row = {"method": method, "model": desc, "fit_time_s": t,
               "epochs": getattr(est, "n_iter_", None)}
        row["mse"] = mse(reconstruct(est, X_test), X_test)
        row["sse"] = row["mse"] * n_pixels
        if denoising:
            row["mse_noisy"] = mse(reconstruct(est, X_noisy), X_test)
            row["sse_noisy"] = row["mse_noisy"] * n_pixels
        if hasattr(est, "image_shape_"):
            row["image_shape"] = list(est.image_shape_)
        rows.append(row)
        fitted[method] = est
        bar.update(1)
    pca = next(r["mse"] for r in rows if r["method"] == "PCA")
    for r in rows:
        if r.get("mse") is not None:
            r["mse_ratio"] = r["mse"] / pca
    return rows, fitted, X_noisy


def picture(path, originals, rows, image_shape, title):
    """A grid: one row of images per entry of ``rows`` (name -> array), via skae.plotting
    when it offers ``ReconstructionDisplay.from_arrays``, else plain matplotlib."""
    plt = matplotlib_or_none()
    if plt is None:
        print("matplotlib is not installed (pip install skae[benchmarks]): no pictures")
        return None
    rows = {label: np.clip(images, 0, 1) for label, images in rows.items()}
    try:
        from skae.plotting import ReconstructionDisplay
    except ImportError:
        ReconstructionDisplay = None
    if hasattr(ReconstructionDisplay, "from_arrays"):
        fig = ReconstructionDisplay.from_arrays(originals, rows, image_shape=image_shape,
                                                vmin=0, vmax=1).figure_
        fig.suptitle(title, fontsize=10, y=1.0, va="bottom")
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        return path.name
    n = len(originals)
    fig, axes = plt.subplots(len(rows) + 1, n, figsize=(1.1 * n, 1.2 * (len(rows) + 1)),
                             squeeze=False)
    for j in range(n):
        for i, (label, images) in enumerate([("original", originals), *rows.items()]):
            ax = axes[i, j]
            ax.imshow(np.clip(images[j].reshape(image_shape), 0, 1), cmap="gray", vmin=0,
                      vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(title, fontsize=10, y=1.0, va="bottom")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path.name


def _picture_rows(fitted, X, X_noisy):
    rows = {}
    for method, est in fitted.items():
        if "denoising" not in method.lower():
            rows[method] = reconstruct(est, X)
    if X_noisy is not None:
        rows["noisy input"] = X_noisy
        for method, est in fitted.items():
            rows[f"{method} (noisy in)"] = reconstruct(est, X_noisy)
    return rows


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("Usage::", 1)[1].splitlines()),
    )
    parser.add_argument("--faces", type=Path, default=None, metavar="DIR",
                        help="folder with att_faces/ (default ../shared/data/faces)")
    parser.add_argument("--size", type=int, default=32, help="faces resized to SIZE x SIZE")
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=None,
                        help="max epochs of the networks on faces (default 200; the "
                        "loss-stall rule usually stops them earlier)")
    parser.add_argument("--sigma", type=float, default=0.2, help="Gaussian noise level")
    parser.add_argument("--mnist", default=None, metavar="DIR",
                        help="MNIST folder (default ../shared/data/mnist when present)")
    parser.add_argument("--no-mnist", action="store_true")
    parser.add_argument("--mnist-n-train", type=int, default=10_000, help="0 = all 60,000")
    parser.add_argument("--mnist-epochs", type=int, default=None,
                        help="epochs on MNIST (default 20 MLP, 10 conv)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "conv_faces", metavar="DIR")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 16x16 faces, 3 epochs, 1,000 MNIST images")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.size = 16 if args.size == 32 else args.size
        args.epochs = args.epochs or 3
        args.mnist_epochs = args.mnist_epochs or 2
        args.mnist_n_train = 1000
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    from skae.datasets import load_faces

    if not hasattr(skae, "ConvAutoencoder"):
        print("NOTE: skae.ConvAutoencoder is not in this version of skae: only PCA and the "
              "MLP autoencoders run.\n")
    faces_home = args.faces if args.faces is not None else default_data_home("faces")
    X, y = load_faces(faces_home, dataset="att", image_size=(args.size, args.size),
                      return_X_y=True)
    X = X.astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        random_state=0)
    image_shape = (args.size, args.size)

    mnist_home = Path(args.mnist) if args.mnist else default_data_home("mnist")
    do_mnist = not args.no_mnist and mnist_home is not None
    has_conv = hasattr(skae, "ConvAutoencoder")
    n_fits = 3 + 2 * has_conv + ((2 + has_conv) if do_mnist else 0)
    bar = progress(total=n_fits, desc="conv_faces", disable=args.no_progress)
    face_epochs = args.epochs or 200
    face_rows, face_fitted, X_noisy = run_part(
        "faces", X_train, X_test, image_shape, args, epochs=face_epochs,
        conv_epochs=face_epochs, denoising=True, bar=bar)

    mnist_rows, mnist_fitted, mnist_desc = [], {}, None
    if do_mnist:
        from skae.datasets import load_mnist

        M_train, m_train = load_mnist(mnist_home, subset="train", return_X_y=True)
        M_test, _ = load_mnist(mnist_home, subset="test", return_X_y=True)
        if args.quick:
            M_test = M_test[:500]
        if args.mnist_n_train and args.mnist_n_train < len(M_train):
            M_train, _, m_train, _ = train_test_split(
                M_train, m_train, train_size=args.mnist_n_train, stratify=m_train,
                random_state=0)
        mnist_rows, mnist_fitted, _ = run_part(
            "MNIST", M_train, M_test, (28, 28), args,
            epochs=args.mnist_epochs or 20, conv_epochs=args.mnist_epochs or 10,
            denoising=False, bar=bar)
        mnist_desc = f"MNIST: {len(M_train)} train / {len(M_test)} test images"
    bar.close()

    text = [
        f"## Faces: AT&T, {args.size}x{args.size}, {len(X_train)} train / {len(X_test)} "
        f"test images (split stratified by subject), n_components={args.n_components}, "
        f"up to {face_epochs} epochs, random_state={args.seed}, device={args.device}, "
        f"{torch.get_num_threads()} torch threads",
        "",
        "Held-out reconstruction (MSE per pixel, pixels in [0, 1]; SSE = squared error "
        "summed over an image) and denoising (test images + N(0, "
        f"{args.sigma}^2) noise clipped to [0, 1], error to the clean images):",
        "",
        markdown_table(
            [("Method", "method", None), ("Model", "model", None),
             ("Test MSE", "mse", ".5f"), ("MSE / PCA", "mse_ratio", ".3f"),
             ("Test SSE", "sse", ".2f"), ("Noisy-input MSE", "mse_noisy", ".5f"),
             ("Fit (s)", "fit_time_s", ".1f"), ("Epochs", "epochs", "d")],
            face_rows),
    ]
    if do_mnist:
        text += [
            "",
            f"## {mnist_desc}, n_components={args.n_components}, "
            f"{args.mnist_epochs or 20} epochs (MLP) / {args.mnist_epochs or 10} (conv)",
            "",
            markdown_table(
                [("Method", "method", None), ("Model", "model", None),
                 ("Test MSE", "mse", ".5f"), ("MSE / PCA", "mse_ratio", ".3f"),
                 ("Test SSE", "sse", ".2f"), ("Fit (s)", "fit_time_s", ".1f"),
                 ("Epochs", "epochs", "d")],
                mnist_rows),
        ]
    elif not args.no_mnist:
        text += ["", "MNIST files not found (pass --mnist DIR): MNIST part skipped."]
    report = "\n".join(text)
    print(report)

    args.out.mkdir(parents=True, exist_ok=True)
    figures = []
    sel = np.random.RandomState(0).choice(len(X_test), size=min(10, len(X_test)),
                                          replace=False)
    fig = picture(args.out / "faces_reconstructions.png", X_test[sel],
                  _picture_rows(face_fitted, X_test[sel], X_noisy[sel]), image_shape,
                  f"AT&T faces {args.size}x{args.size}, {args.n_components} components: "
                  f"held-out reconstructions and denoising (sigma={args.sigma})")
    figures += [fig] if fig else []
    if do_mnist:
        fig = picture(args.out / "mnist_reconstructions.png", M_test[:10],
                      _picture_rows(mnist_fitted, M_test[:10], None), (28, 28),
                      f"MNIST, {args.n_components} components: held-out reconstructions")
        figures += [fig] if fig else []
    wall = time.perf_counter() - start
    (args.out / "results.md").write_text(report + "\n")
    config = dict(vars(args), faces_home=faces_home, mnist_home=mnist_home,
                  face_epochs=face_epochs, has_conv=hasattr(skae, "ConvAutoencoder"),
                  faces_split="75/25 stratified by subject, random_state=0")
    write_json(args.out / "results.json", {
        "config": config, "faces": face_rows, "mnist": mnist_rows, "figures": figures,
        "versions": versions(), "machine": machine_info(), "wall_time_s": wall})
    print(f"\nwrote {args.out / 'results.json'}, {args.out / 'results.md'}"
          + (f", {', '.join(figures)}" if figures else "") + f"; total {wall:.0f} s")
    return {"faces": face_rows, "mnist": mnist_rows, "figures": figures}


if __name__ == "__main__":
    main()
