"""Loaders for the datasets used in skae's examples and benchmarks.

Each loader reads the dataset's original files from a folder and returns a
:class:`~sklearn.utils.Bunch` (or ``(X, y)``), like scikit-learn's fetchers. The
folder is, in order: the ``data_home`` argument, a subfolder of the directory named
by the ``SKAE_DATA`` environment variable, or a subfolder of ``~/skae_data``.
Missing files that have a known, checksummed source are downloaded there (standard
library only, verified before they are kept); the others raise
:class:`DataNotFoundError` describing the expected layout.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import logging
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["DataNotFoundError", "load_faces", "load_fashion_mnist", "load_mnist"]

logger = logging.getLogger(__name__)

# Official file name -> (size in bytes, MD5); the MD5s are the ones torchvision pins
# (for MNIST, also checked against the files in the project's shared data folder).
_MNIST_FILES = {
    "train-images-idx3-ubyte.gz": (9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train-labels-idx1-ubyte.gz": (28881, "d53e105ee54ea40749a09fcbcd1e9432"),
    "t10k-images-idx3-ubyte.gz": (1648877, "9fb629c4189551a2d022fa330f9573f3"),
    "t10k-labels-idx1-ubyte.gz": (4542, "ec29112dd5afa0611ce80d1b7f02629c"),
}
_FASHION_MNIST_FILES = {
    "train-images-idx3-ubyte.gz": (26421880, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    "train-labels-idx1-ubyte.gz": (29515, "25c81989df183df01b3e8a0aad5dffbe"),
    "t10k-images-idx3-ubyte.gz": (4422102, "bef4ecab320f06d8554ea6380940ec79"),
    "t10k-labels-idx1-ubyte.gz": (5148, "bb300cfdad3c16e7a12a480ee83cd310"),
}
# Tried in order; a file is kept only if its size and MD5 match the table above.
_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_FASHION_MNIST_MIRRORS = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
)
# scikit-learn's copy of S. Roweis' olivettifaces.mat and the SHA-256 scikit-learn
# pins for it (sklearn/datasets/_olivetti_faces.py; tests compare the two). Only a
# downloaded file is checked against it: re-saved copies are valid but differ.
_OLIVETTI_FILE = (
    "olivettifaces.mat",
    "b612fb967f2dc77c9c62d3e1266e0c73d5fca46a4b8906c18e454d41af987794",
)
_OLIVETTI_URLS = ("https://ndownloader.figshare.com/files/5976027",)
_TIMEOUT = 30.0  # seconds without data before a download attempt is abandoned
_CHUNK = 1 << 20

_SUBSETS = {"train": ("train",), "test": ("t10k",), "all": ("train", "t10k")}
_IDX_MAGIC = {2051: 3, 2049: 1}  # images: (n, rows, cols); labels: (n,)
_FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_MNIST_DESCR = """\
MNIST handwritten digits
------------------------
70,000 grey-scale images of the digits 0-9, 28x28 pixels each (60,000 train,
10,000 test), from Y. LeCun, C. Cortes and C. J. C. Burges,
http://yann.lecun.com/exdb/mnist/. ``data`` holds the flattened images (784
features, pixel values 0-255, or 0-1 as float32), ``target`` the digit labels.
"""

_FASHION_MNIST_DESCR = """\
Fashion-MNIST
-------------
70,000 grey-scale images of clothing, 28x28 pixels each (60,000 train, 10,000
test), in 10 classes (``target_names``), from H. Xiao, K. Rasul and R. Vollgraf,
"Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning
Algorithms" (2017), https://github.com/zalandoresearch/fashion-mnist (MIT
licence). A drop-in replacement for MNIST: same file format, sizes and split.
``data`` holds the flattened images (784 features, pixel values 0-255, or 0-1 as
float32), ``target`` the class labels.
"""

_ATT_DESCR = """\
AT&T (ORL) faces
----------------
400 grey-scale photographs of 40 subjects (10 each), 112 rows x 92 columns,
taken between 1992 and 1994 at the Olivetti Research Laboratory, Cambridge:
varied lighting, expressions and details (glasses), upright and frontal. Credit:
AT&T Laboratories Cambridge; F. Samaria and A. Harter, "Parameterisation of a
stochastic model for human face identification", IEEE Workshop on Applications
of Computer Vision, 1994. ``target`` is the subject (folder ``s1`` -> 0).
"""

_OLIVETTI_DESCR = """\
Olivetti faces
--------------
The AT&T (ORL) faces cropped to the face and resampled to 64x64 by S. Roweis
(olivettifaces.mat): 400 images of the same 40 subjects in the same order,
10 per subject. ``target`` is the subject (0-39); images are upright, as in
scikit-learn's ``fetch_olivetti_faces``.
"""


class DataNotFoundError(FileNotFoundError):
    """A dataset's files are missing and could not be downloaded.

    The message names the folder searched, the missing files, the download
    sources tried (with the reason each failed) and how to place the files by
    hand. It subclasses :class:`FileNotFoundError`, so it is also an
    :class:`OSError`.
    """


class _ChecksumMismatch(Exception):
    """A downloaded file did not match its published size or digest."""


# ---------------------------------------------------------------------------
# Folders


def _resolve_home(data_home, subfolder: str, flat_markers=()) -> Path:
    """The dataset folder: ``data_home``, else ``$SKAE_DATA/<subfolder>``, else
    ``~/skae_data/<subfolder>``.

    ``$SKAE_DATA`` itself is used instead of its subfolder when the subfolder does
    not exist but one of ``flat_markers`` does (a flat layout of earlier versions).
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get("SKAE_DATA")
    if env:
        root = Path(env).expanduser()
        if not (root / subfolder).is_dir() and any((root / m).exists() for m in flat_markers):
            return root
        return root / subfolder
    return Path("~", "skae_data", subfolder).expanduser()


# ---------------------------------------------------------------------------
# Checksums and downloads


def _file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _download_one(url: str, dest: Path, size, digest: str, algorithm: str):
    """Download ``url`` to ``dest`` through a temporary file in the same folder,
    moved into place only once its size and digest match."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        hasher = hashlib.new(algorithm, usedforsecurity=False)
        n_bytes = 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
            while chunk := response.read(_CHUNK):
                n_bytes += len(chunk)
                if size is not None and n_bytes > size:
                    raise _ChecksumMismatch(f"more than the expected {size} bytes")
                out.write(chunk)
                hasher.update(chunk)
        if size is not None and n_bytes != size:
            raise _ChecksumMismatch(f"{n_bytes} bytes, expected {size}")
        if hasher.hexdigest() != digest:
            raise _ChecksumMismatch(f"{algorithm.upper()} {hasher.hexdigest()}, expected {digest}")
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, _ChecksumMismatch):
        return f"corrupt download discarded ({exc})"
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP error {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, TimeoutError):
        return f"no answer within {_TIMEOUT:g} s"
    return f"{type(exc).__name__}: {exc}"


def _download(dataset: str, home: Path, missing, sources, *, algorithm: str):
    """Download each missing file, trying its URLs in order.

    ``sources`` maps a file name to ``(urls, size, digest)``. Stops at the first
    file that no URL could provide and raises :class:`DataNotFoundError`.
    """
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataNotFoundError(
            f"{dataset} file(s) missing from {home}: {', '.join(missing)}; the folder "
            f"cannot be created to download them into ({exc}). Point data_home or the "
            "SKAE_DATA environment variable at a writable folder, or at one that holds "
            "the files."
        ) from exc
    unreachable = set()  # hosts that refused or timed out: not retried for later files
    for name in missing:
        urls, size, digest = sources[name]
        failures = []
        for url in urls:
            host = urllib.parse.urlsplit(url).netloc
            if host in unreachable:
                failures.append(f"  {url}: skipped ({host} unreachable for an earlier file)")
                continue
            logger.info("Downloading %s from %s to %s", name, url, home)
            try:
                _download_one(url, home / name, size, digest, algorithm)
                break
            except (OSError, ValueError, http.client.HTTPException, _ChecksumMismatch) as exc:
                failures.append(f"  {url}: {_failure_reason(exc)}")
                if isinstance(exc, urllib.error.HTTPError):
                    exc.close()
                connection_failed = isinstance(exc, urllib.error.URLError | TimeoutError)
                if connection_failed and not isinstance(exc, urllib.error.HTTPError):
                    unreachable.add(host)
        else:
            still_missing = [n for n in missing if not (home / n).is_file()]
            raise DataNotFoundError(
                f"{dataset} file(s) missing from {home}: {', '.join(still_missing)}, and the "
                f"download of {name} failed from every source:\n"
                + "\n".join(failures)
                + f"\nWithout network access, fetch the file(s) by hand from one of the "
                f"sources above and put them, under those names, in {home} (or point "
                "data_home or the SKAE_DATA environment variable at a folder that holds "
                "them)."
            )


# ---------------------------------------------------------------------------
# MNIST and Fashion-MNIST


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
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path.name}: not a readable gzip file ({exc}).") from exc
    if len(raw) < 8:
        raise ValueError(f"{path.name}: not an IDX file (only {len(raw)} bytes).")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in _IDX_MAGIC:
        raise ValueError(
            f"{path.name}: bad IDX magic number {magic}; expected 2051 (images) or 2049 (labels)."
        )
    ndim = _IDX_MAGIC[magic]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path.name}: truncated IDX header ({len(raw)} bytes).")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(
            f"{path.name}: header declares shape {shape} ({expected} bytes) but the "
            f"decompressed file has {len(raw)} bytes; the file is truncated or corrupt."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _check_file(path: Path, table=None):
    """Compare a file's size and MD5 with ``table[path.name]`` (MNIST's by default)."""
    size, md5 = (_MNIST_FILES if table is None else table)[path.name]
    actual_size = path.stat().st_size
    if actual_size != size:
        raise ValueError(
            f"{path} is corrupt: {actual_size} bytes, expected {size}. Replace it with the "
            "official file, or pass verify_checksum=False to load it anyway."
        )
    digest = _file_digest(path, "md5")
    if digest != md5:
        raise ValueError(
            f"{path} is corrupt: MD5 {digest}, expected {md5}. Replace it with the "
            "official file, or pass verify_checksum=False to load it anyway."
        )


def _load_idx_dataset(name, table, mirrors, home, subset, as_float, verify_checksum, download):
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be 'train', 'test' or 'all', got {subset!r}.")
    pairs = [(f"{p}-images-idx3-ubyte.gz", f"{p}-labels-idx1-ubyte.gz") for p in _SUBSETS[subset]]
    missing = [n for pair in pairs for n in pair if not (home / n).is_file()]
    if missing and not download:
        raise DataNotFoundError(
            f"{name} file(s) missing from {home}: {', '.join(missing)}. Put the official "
            f"gzip files (from one of {', '.join(mirrors)}) in that folder, point "
            "data_home or the SKAE_DATA environment variable at the folder that holds "
            "them, or pass download_if_missing=True."
        )
    if missing:
        sources = {n: ([m + n for m in mirrors], *table[n]) for n in missing}
        _download(name, home, missing, sources, algorithm="md5")
    images, labels = [], []
    for img_name, lab_name in pairs:
        if verify_checksum:
            _check_file(home / img_name, table)
            _check_file(home / lab_name, table)
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
    return X, y, images.shape


def load_mnist(
    data_home=None,
    *,
    subset="train",
    return_X_y=False,
    as_float=True,
    verify_checksum=True,
    download_if_missing=True,
):
    """Load the MNIST handwritten digits from the four official IDX files.

    Reads ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
    ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz`` (only those
    of the requested subset) from the data folder. Missing files are downloaded
    there first when ``download_if_missing=True``, from each mirror in turn: a
    file is written to a temporary name and kept only if its size and MD5 match
    the published ones (those torchvision pins).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the files. By default ``$SKAE_DATA/mnist`` when the
        ``SKAE_DATA`` environment variable is set (or ``$SKAE_DATA`` itself when
        it holds the files directly and has no ``mnist`` subfolder), else
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
        under the official names (e.g. a re-compressed copy). Downloaded files
        are always verified.
    download_if_missing : bool, default=True
        Download missing files into the data folder (created if needed). If
        False, a missing file raises :class:`DataNotFoundError` at once.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (n_samples, 784), ``target`` (n_samples,) int64 labels,
        ``images`` (n_samples, 28, 28), a view of ``data``, ``target_names``
        (the digits 0-9) and ``DESCR``.
    (X, y) : tuple of ndarray
        When ``return_X_y=True``.

    Raises
    ------
    DataNotFoundError
        When a file is missing and cannot be downloaded (or downloading is off).
        The message lists the folder, the missing files, the mirrors tried and
        how to place the files by hand.
    ValueError
        When a file is not a valid IDX file, or fails verification.

    See Also
    --------
    load_fashion_mnist : The same format, with images of clothing.

    Examples
    --------
    >>> from skae.datasets import load_mnist
    >>> X, y = load_mnist("~/skae_data/mnist", subset="test", return_X_y=True)  # doctest: +SKIP
    >>> X.shape, X.dtype, y.shape  # doctest: +SKIP
    ((10000, 784), dtype('float32'), (10000,))
    """
    home = _resolve_home(data_home, "mnist", flat_markers=tuple(_MNIST_FILES))
    X, y, shape = _load_idx_dataset(
        "MNIST",
        _MNIST_FILES,
        _MNIST_MIRRORS,
        home,
        subset,
        as_float,
        verify_checksum,
        download_if_missing,
    )
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        images=X.reshape(shape),
        target_names=np.arange(10),
        DESCR=_MNIST_DESCR,
    )


def load_fashion_mnist(
    data_home=None,
    *,
    subset="train",
    return_X_y=False,
    as_float=True,
    verify_checksum=True,
    download_if_missing=True,
):
    """Load Fashion-MNIST (Zalando's images of clothing) from its IDX files.

    Fashion-MNIST has MNIST's format, sizes and split (60,000 training and
    10,000 test images, 28x28, ten classes) and the same four file names, so it
    lives in its own folder. Missing files are downloaded as by
    :func:`load_mnist`, verified against the published MD5s.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the files. By default ``$SKAE_DATA/fashion_mnist`` when
        the ``SKAE_DATA`` environment variable is set, else
        ``~/skae_data/fashion_mnist``.
    subset : {"train", "test", "all"}, default="train"
        The training images, the test images, or both (training first).
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a :class:`~sklearn.utils.Bunch`.
    as_float : bool, default=True
        Pixels as float32 in [0, 1]; otherwise the raw uint8 values 0-255.
    verify_checksum : bool, default=True
        Check the size and MD5 of each file against the published ones and raise
        ``ValueError`` on a mismatch. Downloaded files are always verified.
    download_if_missing : bool, default=True
        Download missing files into the data folder (created if needed). If
        False, a missing file raises :class:`DataNotFoundError` at once.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (n_samples, 784), ``target`` (n_samples,) int64 labels,
        ``images`` (n_samples, 28, 28), a view of ``data``, ``target_names``
        (the ten class names, ``"T-shirt/top"`` to ``"Ankle boot"``) and
        ``DESCR``.
    (X, y) : tuple of ndarray
        When ``return_X_y=True``.

    Raises
    ------
    DataNotFoundError
        When a file is missing and cannot be downloaded (or downloading is off).
    ValueError
        When a file is not a valid IDX file, or fails verification.

    Examples
    --------
    >>> from skae.datasets import load_fashion_mnist
    >>> fmnist = load_fashion_mnist(subset="test")  # doctest: +SKIP
    >>> fmnist.images.shape, fmnist.target_names[fmnist.target[0]]  # doctest: +SKIP
    ((10000, 28, 28), 'Ankle boot')
    """
    home = _resolve_home(data_home, "fashion_mnist")
    X, y, shape = _load_idx_dataset(
        "Fashion-MNIST",
        _FASHION_MNIST_FILES,
        _FASHION_MNIST_MIRRORS,
        home,
        subset,
        as_float,
        verify_checksum,
        download_if_missing,
    )
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        images=X.reshape(shape),
        target_names=np.array(_FASHION_CLASSES),
        DESCR=_FASHION_MNIST_DESCR,
    )


# ---------------------------------------------------------------------------
# Faces

_PGM_TOKEN = re.compile(rb"(?:\s|#[^\r\n]*[\r\n]?)*([^\s#]+)")


def _read_pgm(path):
    """Read a PGM image (binary ``P5`` or plain ``P2``).

    Comments (``#`` to the end of the line) may appear anywhere in the header.
    Only the first image of a multi-image file is read.

    Parameters
    ----------
    path : str or path-like
        The ``.pgm`` file.

    Returns
    -------
    image : ndarray of uint8 or uint16, shape (height, width)
        uint16 when ``maxval`` exceeds 255.
    maxval : int
        The white level declared in the header.
    """
    path = Path(path)
    raw = path.read_bytes()
    tokens, pos = [], 0
    for _ in range(4):  # magic, width, height, maxval
        match = _PGM_TOKEN.match(raw, pos)
        if match is None:
            raise ValueError(f"{path}: truncated PGM header.")
        tokens.append(match.group(1))
        pos = match.end()
    magic = tokens[0]
    if magic not in (b"P5", b"P2"):
        raise ValueError(f"{path}: not a PGM file (magic {magic[:8]!r}; expected P5 or P2).")
    try:
        width, height, maxval = (int(t) for t in tokens[1:])
    except ValueError:
        raise ValueError(f"{path}: bad PGM header {b' '.join(tokens)!r}.") from None
    if width <= 0 or height <= 0 or not 0 < maxval < 65536:
        raise ValueError(
            f"{path}: bad PGM header: width {width}, height {height}, maxval {maxval}."
        )
    n = width * height
    if magic == b"P5":
        # Exactly one whitespace character separates maxval from the raster.
        dtype = np.dtype(np.uint8) if maxval < 256 else np.dtype(">u2")
        start = pos + 1
        if len(raw) < start + n * dtype.itemsize:
            raise ValueError(
                f"{path}: truncated PGM data: {max(len(raw) - start, 0)} bytes for a "
                f"{width}x{height} image of {n * dtype.itemsize} bytes."
            )
        image = np.frombuffer(raw, dtype=dtype, count=n, offset=start)
    else:
        body = re.sub(rb"#[^\r\n]*", b" ", raw[pos:]).split()
        if len(body) < n:
            raise ValueError(
                f"{path}: truncated PGM data: {len(body)} values for a {width}x{height} image."
            )
        try:
            image = np.array(body[:n], dtype=np.int64)
        except ValueError:
            raise ValueError(f"{path}: non-numeric value in plain PGM data.") from None
    if image.max(initial=0) > maxval or image.min(initial=0) < 0:
        raise ValueError(f"{path}: pixel values exceed the declared maxval {maxval}.")
    image = image.astype(np.uint8 if maxval < 256 else np.uint16).reshape(height, width)
    return image, maxval


def _natural_key(path: Path):
    return (0, int(path.stem), "") if path.stem.isdigit() else (1, 0, path.stem)


def _att_missing(home: Path, reason: str):
    return DataNotFoundError(
        f"AT&T faces not found: {reason}. Expected {home / 'att_faces'}/s1/1.pgm ... "
        "s40/10.pgm (the 'att_faces' folder of the ORL database: one folder sN per "
        "subject, 10 PGM images of 92x112 each). The archive has no stable download "
        "location, so it is not downloaded: extract a copy there, or point data_home "
        "or the SKAE_DATA environment variable at the folder that holds 'att_faces'."
    )


def _load_att(home: Path):
    folder = home / "att_faces"
    if not folder.is_dir():
        # data_home may also be the att_faces folder itself.
        if home.is_dir() and any(re.fullmatch(r"s\d+", p.name) for p in home.iterdir()):
            folder = home
        else:
            raise _att_missing(home, f"no folder {folder}")
    subjects = sorted(
        (p for p in folder.iterdir() if p.is_dir() and re.fullmatch(r"s\d+", p.name)),
        key=lambda p: int(p.name[1:]),
    )
    if not subjects:
        raise _att_missing(home, f"no subject folders s1, s2, ... in {folder}")
    images, maxvals, labels, shape = [], [], [], None
    for subject in subjects:
        files = sorted(subject.glob("*.pgm"), key=_natural_key)
        if not files:
            raise ValueError(f"AT&T faces: no .pgm image in {subject}.")
        for file in files:
            image, maxval = _read_pgm(file)
            if shape is None:
                shape = image.shape
            elif image.shape != shape:
                raise ValueError(
                    f"{file}: image of {image.shape[1]}x{image.shape[0]} pixels, but the "
                    f"first one is {shape[1]}x{shape[0]}; all images must have one size."
                )
            images.append(image)
            maxvals.append(maxval)
            labels.append(int(subject.name[1:]) - 1)
    images = np.stack(images)
    return images, np.asarray(maxvals, dtype=np.float32), np.asarray(labels, dtype=np.int64)


def _load_olivetti(home: Path, download: bool):
    from scipy.io import loadmat

    name, sha256 = _OLIVETTI_FILE
    path = home / name
    if not path.is_file():
        if not download:
            raise DataNotFoundError(
                f"Olivetti faces not found: no file {path}. Put S. Roweis' "
                f"{name} (as used by scikit-learn's fetch_olivetti_faces; from "
                f"{', '.join(_OLIVETTI_URLS)}) there, point data_home or the SKAE_DATA "
                "environment variable at the folder that holds it, or pass "
                "download_if_missing=True."
            )
        sources = {name: (_OLIVETTI_URLS, None, sha256)}
        _download("Olivetti faces", home, [name], sources, algorithm="sha256")
    try:
        faces = loadmat(path)["faces"]
    except KeyError:
        raise ValueError(f"{path}: no variable 'faces' in this MATLAB file.") from None
    except Exception as exc:  # scipy raises several types for a non-MAT file
        raise ValueError(f"{path}: not a readable MATLAB file ({exc}).") from exc
    side = int(round(np.sqrt(faces.shape[0]))) if faces.ndim == 2 else 0
    if faces.ndim != 2 or side * side != faces.shape[0] or faces.shape[1] % 10:
        raise ValueError(
            f"{path}: 'faces' has shape {faces.shape}; expected (side*side, n_images) with "
            "n_images a multiple of 10 (10 images per subject), e.g. (4096, 400)."
        )
    # One column per image, each stored column-major: transposing every image
    # makes the faces upright (scikit-learn's fetch_olivetti_faces does the same).
    images = faces.T.reshape(-1, side, side).transpose(0, 2, 1)
    labels = np.arange(images.shape[0], dtype=np.int64) // 10
    return np.ascontiguousarray(images), labels


def _check_image_size(image_size):
    if image_size is None:
        return None
    if isinstance(image_size, Integral) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    try:
        h, w = image_size
        ok = all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in (h, w))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"image_size must be None, a positive int or a pair (height, width) of "
            f"positive ints, got {image_size!r}."
        )
    return int(h), int(w)


def _resize(images: np.ndarray, size) -> np.ndarray:
    """Resample float images (n, h, w) to ``size`` with antialiased bilinear
    interpolation (a weighted average over each output pixel's footprint)."""
    import torch
    from torch.nn.functional import interpolate

    if images.shape[1:] == tuple(size):
        return images
    with torch.no_grad():
        out = interpolate(
            torch.from_numpy(np.ascontiguousarray(images))[:, None],
            size=size,
            mode="bilinear",
            antialias=True,
            align_corners=False,
        )[:, 0].numpy()
    # Weights are convex: only rounding can leave the input's range.
    return np.clip(out, images.min(initial=0), images.max(initial=0))


def load_faces(
    data_home=None,
    *,
    dataset="att",
    image_size=None,
    return_X_y=False,
    as_float=True,
    download_if_missing=True,
):
    """Load the AT&T (ORL) faces or their 64x64 Olivetti version.

    Both hold 400 images of the same 40 subjects, 10 each, in the same order
    (so ``target`` is the same); the Olivetti images are Sam Roweis' crops of
    the AT&T photographs, resampled to 64x64.

    * ``dataset="att"`` reads the original photographs, 112 rows x 92 columns,
      from ``att_faces/s1/1.pgm`` ... ``att_faces/s40/10.pgm`` (binary or plain
      PGM). Subject folder ``sN`` gives label ``N - 1``; images within a subject
      are in numerical order. They are never downloaded (the archive has no
      stable location).
    * ``dataset="olivetti"`` reads ``olivettifaces.mat`` (variable ``faces``, one
      column per image). Images are upright and scaled exactly as by
      :func:`sklearn.datasets.fetch_olivetti_faces` (without shuffling). A
      missing file is downloaded from scikit-learn's source and verified against
      the SHA-256 scikit-learn pins; an existing file is not (re-saved copies
      are valid).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``att_faces/`` and/or ``olivettifaces.mat``; for
        ``dataset="att"`` it may also be the ``att_faces`` folder itself. By
        default ``$SKAE_DATA/faces`` when the ``SKAE_DATA`` environment variable
        is set (or ``$SKAE_DATA`` itself when it holds those directly and has no
        ``faces`` subfolder), else ``~/skae_data/faces``.
    dataset : {"att", "olivetti"}, default="att"
        Which version to load.
    image_size : int or (int, int), default=None
        Resample the images to ``(height, width)`` (an int gives a square) with
        antialiased bilinear interpolation, e.g. 32 or 64 for a benchmark. Note
        that the AT&T images are not square: a square size changes their aspect
        ratio. None keeps the stored size.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a :class:`~sklearn.utils.Bunch`.
    as_float : bool, default=True
        Pixels as float32 in [0, 1]: AT&T pixels divided by the files' maximum
        value (255), Olivetti pixels min-max scaled over the whole set as by
        scikit-learn. Otherwise the stored uint8 values (rounded after
        resampling).
    download_if_missing : bool, default=True
        Download ``olivettifaces.mat`` when it is missing (``dataset="olivetti"``
        only). If False, a missing file raises :class:`DataNotFoundError`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data`` (n_samples, height * width), ``target`` (n_samples,) int64
        subject labels 0-39, ``images`` (n_samples, height, width), a view of
        ``data``, and ``DESCR``.
    (X, y) : tuple of ndarray
        When ``return_X_y=True``.

    Raises
    ------
    DataNotFoundError
        When the files are missing (and, for Olivetti, cannot be downloaded);
        the message gives the expected layout.
    ValueError
        For a bad parameter or a malformed file.

    Examples
    --------
    >>> from skae.datasets import load_faces
    >>> att = load_faces("~/skae_data/faces")  # doctest: +SKIP
    >>> att.images.shape, att.data.dtype, att.target[:12]  # doctest: +SKIP
    ((400, 112, 92), dtype('float32'), array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]))
    >>> X, y = load_faces(dataset="olivetti", image_size=32, return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (400, 1024)
    """
    if dataset not in ("att", "olivetti"):
        raise ValueError(f"dataset must be 'att' or 'olivetti', got {dataset!r}.")
    size = _check_image_size(image_size)
    home = _resolve_home(data_home, "faces", flat_markers=("att_faces", _OLIVETTI_FILE[0]))
    if dataset == "att":
        images, maxvals, y = _load_att(home)
        if as_float or size is not None:
            floats = images.astype(np.float32)
            floats /= maxvals[:, None, None]
        descr = _ATT_DESCR
    else:
        images, y = _load_olivetti(home, download_if_missing)
        if as_float or size is not None:
            # scikit-learn's scaling, operation for operation, for identical values.
            floats = images.astype(np.float32)
            floats -= floats.min()
            if floats.max() > 0:
                floats /= floats.max()
        descr = _OLIVETTI_DESCR
    if size is not None:
        floats = _resize(floats, size)
    if as_float:
        images = floats
    elif size is not None:
        # Back to the stored grey levels.
        if dataset == "att":
            top, offset = maxvals[:, None, None], 0.0
        else:
            low, high = float(images.min()), float(images.max())
            top, offset = (high - low) or 1.0, low
        images = np.rint(floats * top + offset).astype(images.dtype)
    images = np.ascontiguousarray(images)
    X = images.reshape(len(images), -1)
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, images=X.reshape(images.shape), DESCR=descr)
