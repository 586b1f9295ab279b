"""Helpers shared by the benchmark scripts (not part of the skae package).

* :class:`MLPRegressorAutoencoder`: scikit-learn's ``MLPRegressor`` trained to
  reproduce its input, exposed as a transformer (code = the middle hidden layer,
  ``inverse_transform`` = the layers after it), the usual "autoencoder with
  scikit-learn alone" that skae is compared with;
* :func:`load_dataset`: the benchmark datasets (bundled digits, MNIST, faces) as one
  train / test split with labels and the image shape;
* timing, machine description, Markdown tables, JSON output and a progress bar.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted, validate_data

ROOT = Path(__file__).resolve().parents[1]
#: The shared data folder beside a checkout (``../shared/data``), as in CI.
SHARED_DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"


# --------------------------------------------------------------------------------------
# scikit-learn's MLPRegressor as an autoencoder


def _activation(name):
    if name == "relu":
        return lambda a: np.maximum(a, 0, out=a)
    if name == "tanh":
        return np.tanh
    if name == "logistic":
        return lambda a: 1.0 / (1.0 + np.exp(-a))
    if name == "identity":
        return lambda a: a
    raise ValueError(f"unknown activation {name!r}")


class MLPRegressorAutoencoder(TransformerMixin, BaseEstimator):
    """``MLPRegressor`` fitted ``X -> X`` with a bottleneck, as a transformer.

    The network is ``n_features -> hidden_layer_sizes... -> n_components ->
    reversed(hidden_layer_sizes)... -> n_features``. scikit-learn applies the same
    ``activation`` to every hidden layer, the code layer included (a ReLU code can
    have dead units: a limitation of ``MLPRegressor``), and an identity output.
    ``transform`` runs the fitted weights (``mlp_.coefs_``, ``mlp_.intercepts_``)
    up to the code layer; ``inverse_transform`` runs the rest, so
    ``inverse_transform(transform(X)) == mlp_.predict(X)``.

    The defaults match :class:`skae.Autoencoder`'s: one hidden layer of 256 units,
    Adam with learning rate 1e-3, batches of 128, at most 200 epochs, stopping once
    the training loss has not improved by ``tol`` for ``n_iter_no_change`` epochs,
    no weight penalty (``alpha=0``).
    """

    def __init__(
        self,
        n_components=32,
        *,
        hidden_layer_sizes=(256,),
        activation="relu",
        alpha=0.0,
        batch_size=128,
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        random_state=None,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=True)
        hidden = tuple(self.hidden_layer_sizes)
        self.mlp_ = MLPRegressor(
            hidden_layer_sizes=(*hidden, self.n_components, *hidden[::-1]),
            activation=self.activation,
            solver="adam",
            alpha=self.alpha,
            batch_size=min(self.batch_size, len(X)),
            learning_rate_init=self.learning_rate_init,
            max_iter=self.max_iter,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            shuffle=True,
            random_state=self.random_state,
        )
        with warnings.catch_warnings():
            # max_iter is the epoch budget, as for the skae estimators
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.mlp_.fit(X, X)
        self.n_code_layer_ = len(hidden) + 1  # weight matrices up to the code
        self.n_iter_ = self.mlp_.n_iter_
        self.loss_curve_ = list(self.mlp_.loss_curve_)
        return self

    def _forward(self, A, layers):
        act = _activation(self.activation)
        last = len(self.mlp_.coefs_) - 1
        for i in layers:
            A = A @ self.mlp_.coefs_[i] + self.mlp_.intercepts_[i]
            if i != last:  # hidden and code layers; the output layer is linear
                A = act(A)
        return A

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return self._forward(X, range(self.n_code_layer_))

    def inverse_transform(self, X):
        check_is_fitted(self)
        return self._forward(np.asarray(X), range(self.n_code_layer_, len(self.mlp_.coefs_)))


# --------------------------------------------------------------------------------------
# data


def default_data_home(name):
    """``../shared/data/<mnist|faces>`` when present, else None (the loader's default)."""
    folder = SHARED_DATA / name
    return folder if folder.is_dir() else None


def _subsample(X, y, n, seed):
    if n is None or n >= len(X):
        return X, y
    X, _, y, _ = train_test_split(X, y, train_size=n, stratify=y, random_state=seed)
    return X, y


def load_dataset(
    name, *, data_home=None, n_train=None, n_test=None, image_size=None, seed=0
):
    """One train / test split of a benchmark dataset.

    Parameters
    ----------
    name : {"digits", "mnist", "fashion_mnist", "faces", "olivetti"}
        ``digits``: scikit-learn's 1,797 8x8 digits, stratified 75/25 split.
        ``mnist`` / ``fashion_mnist``: the official training and test sets (a
        stratified subsample of ``n_train`` training and ``n_test`` test images
        when given). ``faces`` (AT&T) / ``olivetti``: 400 images of 40 subjects,
        split 75/25 stratified by subject (each subject appears in both parts:
        the split measures how well unseen images of known faces are coded).
    data_home : path or None
        Folder of the files (``mnist``, ``faces``); default ``../shared/data/...``
        when present, else the loader's default.
    n_train, n_test : int or None
        Stratified subsample sizes (``random_state=seed``); None keeps all.
    image_size : (int, int) or None
        ``faces``: resize the images to ``(h, w)``.
    seed : int
        Seed of the subsampling and of the digits / faces split.

    Returns
    -------
    Bunch with ``X_train, X_test, y_train, y_test`` (float, raw pixel range),
    ``image_shape`` and a one-line ``description``.
    """
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed
        )
        image_shape, desc = (8, 8), "scikit-learn digits 8x8 (pixels 0-16), stratified 75/25"
    elif name in ("mnist", "fashion_mnist"):
        from skae import datasets

        loader = getattr(datasets, f"load_{name}", None)
        if loader is None:
            raise SystemExit(f"skae.datasets has no load_{name} in this version.")
        home = data_home if data_home is not None else default_data_home(name)
        X_train, y_train = loader(home, subset="train", return_X_y=True)
        X_test, y_test = loader(home, subset="test", return_X_y=True)
        image_shape = (28, 28)
        desc = f"{'MNIST' if name == 'mnist' else 'Fashion-MNIST'} 28x28 (pixels 0-1)"
    elif name in ("faces", "olivetti"):
        from skae import datasets

        if not hasattr(datasets, "load_faces"):
            raise SystemExit("skae.datasets has no load_faces in this version.")
        home = data_home if data_home is not None else default_data_home("faces")
        kind = "att" if name == "faces" else "olivetti"
        kwargs = {} if image_size is None else {"image_size": tuple(image_size)}
        bunch = datasets.load_faces(home, dataset=kind, **kwargs)
        X, y = np.asarray(bunch.data), np.asarray(bunch.target)
        image_shape = tuple(bunch.images.shape[1:]) if hasattr(bunch, "images") else None
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed
        )
        label = "AT&T" if kind == "att" else "Olivetti"
        size = "x".join(map(str, image_shape)) if image_shape else "?"
        desc = (
            f"{label} faces {size} (40 subjects x 10), 75/25 split stratified by subject"
        )
    else:
        raise ValueError(f"unknown dataset {name!r}")
    X_train, y_train = _subsample(X_train, y_train, n_train, seed)
    X_test, y_test = _subsample(X_test, y_test, n_test, seed)
    return Bunch(
        X_train=np.asarray(X_train, dtype=np.float32),
        X_test=np.asarray(X_test, dtype=np.float32),
        y_train=np.asarray(y_train),
        y_test=np.asarray(y_test),
        image_shape=image_shape,
        description=desc,
    )


# --------------------------------------------------------------------------------------
# timing and machine


def sync(device=None):
    """Wait for queued CUDA work, so that a timer stops after it."""
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    if torch.cuda.is_available() and (device is None or "cuda" in str(device)):
        torch.cuda.synchronize()


def timed(fn, device=None):
    """``(seconds, fn())`` with CUDA synchronised before the clock stops."""
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t0, out


def median_time(fn, repeats=3, device=None):
    """Median wall time of ``repeats`` calls of ``fn`` and the last result."""
    times, out = [], None
    for _ in range(max(1, repeats)):
        t, out = timed(fn, device)
        times.append(t)
    return statistics.median(times), out


def versions():
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("skae", "numpy", "scipy", "scikit-learn", "torch", "skorch", "matplotlib"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    with contextlib.suppress(ImportError):
        import skae

        out["skae"] = skae.__version__
    return out


def machine_info():
    import torch

    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
    }
    if hasattr(os, "sched_getaffinity"):
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
                break
    if info["cuda"]:
        info["cuda_device"] = torch.cuda.get_device_name(0)
        info["cuda_version"] = torch.version.cuda
    return info


# --------------------------------------------------------------------------------------
# output


def fmt(value, spec):
    """Format a number for a table; None and NaN print as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def filters_desc(filters):
    """A conv estimator's ``filters`` for a table: ``16-32-64``, or ``auto``."""
    return filters if isinstance(filters, str) else "-".join(map(str, filters))


def markdown_table(columns, rows):
    """``columns``: list of ``(title, key, spec)``; ``spec`` None prints ``str(value)``.

    Numeric columns (with a spec) are right-aligned.
    """
    head = "| " + " | ".join(title for title, _, _ in columns) + " |"
    rule = "|" + "|".join("---:" if spec else "---" for _, _, spec in columns) + "|"
    lines = [head, rule]
    for row in rows:
        cells = []
        for _, key, spec in columns:
            value = row.get(key)
            cells.append(fmt(value, spec) if spec else ("-" if value is None else str(value)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None  # JSON has no NaN / inf
    return obj


def write_json(path, obj):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(obj), indent=2) + "\n")
    return path


class _NoBar:
    def __init__(self, iterable=None, total=None, **kwargs):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def update(self, n=1):
        pass

    def set_postfix_str(self, s, refresh=True):
        pass

    def set_description_str(self, s, refresh=True):
        pass

    def write(self, s):
        print(s, file=sys.stderr)

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def progress(iterable=None, *, total=None, desc=None, disable=False):
    """A tqdm progress bar on stderr (skorch depends on tqdm), or a silent stand-in."""
    if disable:
        return _NoBar(iterable, total=total)
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with skorch
        return _NoBar(iterable, total=total)
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, dynamic_ncols=True,
                leave=True)


def matplotlib_or_none():
    """``matplotlib.pyplot`` with the Agg backend, or None when not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def skae_plotting_or_none():
    """``skae.plotting`` (needs matplotlib), or None with the reason printed."""
    if matplotlib_or_none() is None:
        print("matplotlib is not installed (pip install skae[benchmarks]): no figures")
        return None
    try:
        from skae import plotting
    except ImportError as exc:
        print(f"skae.plotting is not available ({exc}): no figures")
        return None
    return plotting
