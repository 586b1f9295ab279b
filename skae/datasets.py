"""Loaders for the datasets used in skae's examples and benchmarks."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_mnist"]

# Official file name -> (size in bytes, MD5) of the files published by LeCun et al.
_MNIST_FILES = {
    "train-images-idx3-ubyte.gz": (9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train-labels-idx1-ubyte.gz": (28881, "d53e105ee54ea40749a09fcbcd1e9432"),
    "t10k-images-idx3-ubyte.gz": (1648877, "9fb629c4189551a2d022fa330f9573f3"),
    "t10k-labels-idx1-ubyte.gz": (4542, "ec29112dd5afa0611ce80d1b7f02629c"),
}
_SUBSETS = {"train": ("train",), "test": ("t10k",), "all": ("train", "t10k")}
_IDX_MAGIC = {2051: 3, 2049: 1}  # images: (n, rows, cols); labels: (n,)

_DESCR = """\
MNIST handwritten digits
------------------------
70,000 grey-scale images of the digits 0-9, 28x28 pixels each (60,000 train,
10,000 test), from Y. LeCun, C. Cortes and C. J. C. Burges,
http://yann.lecun.com/exdb/mnist/. ``data`` holds the flattened images (784
features, pixel values 0-255, or 0-1 as float32), ``target`` the digit labels.
"""


def _read_idx(path) -> np.ndarray:
    """Read a gzip-compressed IDX file of unsigned bytes into an array.

    Supports the two layouts of MNIST: magic 2051 (images, three dimensions) and
    2049 (labels, one dimension). The header is big-endian: a 4-byte magic number,
    then one 4-byte size per dimension, then the uint8 data.

    Parameters
    ----------
    path : str or path-like
        The ``.gz`` file.

    Returns
    -------
    array : ndarray of uint8
        Shape ``(n, rows, cols)`` for images, ``(n,)`` for labels.
    """
    path = Path(path)
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path.name}: not an IDX file (only {len(raw)} bytes).")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in _IDX_MAGIC:
        raise ValueError(
            f"{path.name}: bad IDX magic number {magic}; expected 2051 (images) or 2049 (labels)."
        )
    ndim = _IDX_MAGIC[magic]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(
            f"{path.name}: header declares shape {shape} ({expected} bytes) but the "
            f"decompressed file has {len(raw)} bytes; the file is truncated or corrupt."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _check_file(path: Path):
    size, md5 = _MNIST_FILES[path.name]
    actual_size = path.stat().st_size
    if actual_size != size:
        raise ValueError(
            f"{path} is corrupt: {actual_size} bytes, expected {size}. Replace it with the "
            "official file, or pass verify_checksum=False to load it anyway."
        )
    digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    if digest != md5:
        raise ValueError(
            f"{path} is corrupt: MD5 {digest}, expected {md5}. Replace it with the "
            "official file, or pass verify_checksum=False to load it anyway."
        )


def _mnist_home(data_home) -> Path:
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get("SKAE_DATA")
    if env:
        root = Path(env).expanduser()
        return root / "mnist" if (root / "mnist").is_dir() else root
    return Path("~/skae_data/mnist").expanduser()


def load_mnist(
    data_home=None, *, subset="train", return_X_y=False, as_float=True, verify_checksum=True
):
    """Load the MNIST handwritten digits from the four official IDX files.

    The files ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
    ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz`` must already
    be in the data folder: this version does not download them (downloading is
    planned for a later version).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the files. By default the ``SKAE_DATA`` environment
        variable (its ``mnist`` subfolder when there is one), else
        ``~/skae_data/mnist``.
    subset : {"train", "test", "all"}, default="train"
        The 60,000 training images, the 10,000 test images, or both (training
        first).
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a :class:`~sklearn.utils.Bunch`.
    as_float : bool, default=True
        Pixels as float32 in [0, 1]; otherwise the raw uint8 values 0-255.
    verify_checksum : bool, default=True
        Check the size and MD5 of each file against the published ones and raise
        ``ValueError`` on a mismatch. Set to False to load other files stored
        under the official names (e.g. a re-compressed copy).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (n_samples, 784), ``target`` (n_samples,) int64 labels,
        ``images`` (n_samples, 28, 28), a view of ``data``, and ``DESCR``.
    (X, y) : tuple of ndarray
        When ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        When a file is missing from the data folder.
    ValueError
        When a file is not a valid IDX file, or fails verification.

    Examples
    --------
    >>> from skae.datasets import load_mnist
    >>> X, y = load_mnist("~/skae_data/mnist", subset="test", return_X_y=True)  # doctest: +SKIP
    >>> X.shape, X.dtype, y.shape  # doctest: +SKIP
    ((10000, 784), dtype('float32'), (10000,))
    """
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be 'train', 'test' or 'all', got {subset!r}.")
    home = _mnist_home(data_home)
    pairs = [(f"{p}-images-idx3-ubyte.gz", f"{p}-labels-idx1-ubyte.gz") for p in _SUBSETS[subset]]
    missing = [n for pair in pairs for n in pair if not (home / n).is_file()]
    if missing:
        raise FileNotFoundError(
            f"MNIST file(s) missing from {home}: {', '.join(missing)}. Put the official "
            "gzip files (e.g. from http://yann.lecun.com/exdb/mnist/ or a mirror) in that "
            "folder, or point data_home or the SKAE_DATA environment variable at the "
            "folder that holds them."
        )
    images, labels = [], []
    for img_name, lab_name in pairs:
        if verify_checksum:
            _check_file(home / img_name)
            _check_file(home / lab_name)
        img, lab = _read_idx(home / img_name), _read_idx(home / lab_name)
        if img.ndim != 3 or lab.ndim != 1:
            raise ValueError(
                f"{img_name} / {lab_name}: expected images and labels, got arrays of "
                f"shapes {img.shape} and {lab.shape}."
            )
        if len(img) != len(lab):
            raise ValueError(f"{img_name} has {len(img)} images but {lab_name} {len(lab)} labels.")
        images.append(img)
        labels.append(lab)
    images = np.concatenate(images)  # a fresh, writable copy
    X = images.reshape(len(images), -1)
    if as_float:
        X = X.astype(np.float32)
        X /= 255
    y = np.concatenate(labels).astype(np.int64)
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, images=X.reshape(images.shape), DESCR=_DESCR)
