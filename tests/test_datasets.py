import gzip
import hashlib
import http.server
import shutil
import socket
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.io import savemat
from sklearn.utils import Bunch

from skae import datasets
from skae.datasets import (
    DataNotFoundError,
    _read_idx,
    _read_pgm,
    load_faces,
    load_fashion_mnist,
    load_mnist,
)

SHARED = Path(__file__).parents[2] / "shared" / "data"
REAL_MNIST = SHARED / "mnist"
REAL_FACES = SHARED / "faces"
requires_real_faces = pytest.mark.skipif(
    not (REAL_FACES / "att_faces").is_dir() or not (REAL_FACES / "olivettifaces.mat").is_file(),
    reason=f"real faces not found in {REAL_FACES}",
)

# The real download sources, before the autouse fixture below replaces them.
OLIVETTI_URLS = datasets._OLIVETTI_URLS

IDX_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _closed_port_url():
    """An http URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """No test may reach the real download sources, with or without a network."""
    dead = _closed_port_url()
    monkeypatch.setattr(datasets, "_MNIST_MIRRORS", (dead,))
    monkeypatch.setattr(datasets, "_FASHION_MNIST_MIRRORS", (dead,))
    monkeypatch.setattr(datasets, "_OLIVETTI_URLS", (dead + "olivettifaces.mat",))
    monkeypatch.setattr(datasets, "_TIMEOUT", 5.0)


# ---------------------------------------------------------------------------
# Generated IDX files


def _write_idx(path, array, magic=None):
    """Write ``array`` (uint8) as a gzip-compressed IDX file."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + np.asarray(array.shape, dtype=">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def _write_split(folder, prefix, n, seed):
    rng = np.random.RandomState(seed)
    images = rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # pin the extremes
    labels = rng.randint(0, 10, size=n).astype(np.uint8)
    _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
    _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return images, labels


def _checksum_table(folder, names=IDX_NAMES):
    """The (size, MD5) table of the files in ``folder``, as the loaders expect."""
    return {
        n: ((folder / n).stat().st_size, hashlib.md5((folder / n).read_bytes()).hexdigest())
        for n in names
    }


@pytest.fixture
def fake_mnist(tmp_path):
    """Generated MNIST-format files: 5 training and 3 test images."""
    train = _write_split(tmp_path, "train", 5, seed=0)
    test = _write_split(tmp_path, "t10k", 3, seed=1)
    return tmp_path, train, test


def test_read_idx(fake_mnist):
    folder, (images, labels), _ = fake_mnist
    got = _read_idx(folder / "train-images-idx3-ubyte.gz")
    assert got.dtype == np.uint8 and got.shape == (5, 28, 28)
    np.testing.assert_array_equal(got, images)
    np.testing.assert_array_equal(_read_idx(folder / "train-labels-idx1-ubyte.gz"), labels)


def test_load_mnist_bunch(fake_mnist):
    folder, (images, labels), _ = fake_mnist
    bunch = load_mnist(folder, verify_checksum=False)
    assert isinstance(bunch, Bunch)
    assert set(bunch) == {"data", "target", "images", "target_names", "DESCR"}
    assert bunch.data.shape == (5, 784) and bunch.data.dtype == np.float32
    assert bunch.images.shape == (5, 28, 28)
    assert bunch.target.dtype == np.int64
    assert bunch.data.min() == 0.0 and bunch.data.max() == 1.0
    np.testing.assert_allclose(bunch.data, images.reshape(5, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(bunch.images, bunch.data.reshape(5, 28, 28))
    assert np.shares_memory(bunch.images, bunch.data)
    np.testing.assert_array_equal(bunch.target, labels)
    np.testing.assert_array_equal(bunch.target_names, np.arange(10))
    assert "MNIST" in bunch.DESCR


def test_load_fashion_mnist_bunch(fake_mnist):
    folder, _, (images, labels) = fake_mnist
    bunch = load_fashion_mnist(folder, subset="test", verify_checksum=False)
    assert set(bunch) == {"data", "target", "images", "target_names", "DESCR"}
    assert bunch.data.shape == (3, 784) and bunch.data.dtype == np.float32
    np.testing.assert_allclose(bunch.images, images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(bunch.target, labels)
    assert len(bunch.target_names) == 10
    assert bunch.target_names[0] == "T-shirt/top" and bunch.target_names[9] == "Ankle boot"
    assert "Fashion-MNIST" in bunch.DESCR


@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
@pytest.mark.parametrize(
    "subset, n, parts", [("train", 5, (0,)), ("test", 3, (1,)), ("all", 8, (0, 1))]
)
def test_load_idx_subsets_as_uint8(fake_mnist, loader, subset, n, parts):
    folder, *splits = fake_mnist
    X, y = loader(folder, subset=subset, return_X_y=True, as_float=False, verify_checksum=False)
    assert X.shape == (n, 784) and X.dtype == np.uint8 and X.flags.writeable
    assert y.shape == (n,) and y.dtype == np.int64
    np.testing.assert_array_equal(X, np.concatenate([splits[i][0] for i in parts]).reshape(n, -1))
    np.testing.assert_array_equal(y, np.concatenate([splits[i][1] for i in parts]))


@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_load_idx_bad_subset(fake_mnist, loader):
    with pytest.raises(ValueError, match="subset must be"):
        loader(fake_mnist[0], subset="valid")


def test_load_mnist_missing_files_without_download(tmp_path, monkeypatch):
    _write_split(tmp_path, "train", 2, seed=0)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()

    def no_network(*args, **kwargs):
        raise AssertionError("download_if_missing=False must not use the network")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", no_network)
    with pytest.raises(DataNotFoundError) as excinfo:
        load_mnist(tmp_path, subset="all", download_if_missing=False)
    assert isinstance(excinfo.value, FileNotFoundError)
    msg = str(excinfo.value)
    assert str(tmp_path) in msg
    assert "train-labels-idx1-ubyte.gz" in msg and "t10k-images-idx3-ubyte.gz" in msg
    assert "train-images-idx3-ubyte.gz" not in msg
    assert "SKAE_DATA" in msg and "download_if_missing=True" in msg
    # The mirrors to fetch the files from by hand.
    assert datasets._MNIST_MIRRORS[0] in msg
    # A missing folder is not created when nothing is downloaded.
    with pytest.raises(DataNotFoundError):
        load_fashion_mnist(tmp_path / "absent", download_if_missing=False)
    assert not (tmp_path / "absent").exists()


def test_load_mnist_folder_resolution(fake_mnist, tmp_path_factory, monkeypatch):
    folder = fake_mnist[0]
    # SKAE_DATA holding the files directly (the flat layout)
    monkeypatch.setenv("SKAE_DATA", str(folder))
    assert load_mnist(verify_checksum=False).data.shape == (5, 784)
    # SKAE_DATA pointing at a parent with an ``mnist`` subfolder
    parent = tmp_path_factory.mktemp("root")
    (parent / "mnist").mkdir()
    _write_split(parent / "mnist", "train", 4, seed=2)
    monkeypatch.setenv("SKAE_DATA", str(parent))
    assert load_mnist(verify_checksum=False).data.shape == (4, 784)
    # An empty SKAE_DATA: its ``mnist`` subfolder (where downloads would go)
    empty = tmp_path_factory.mktemp("empty")
    monkeypatch.setenv("SKAE_DATA", str(empty))
    with pytest.raises(DataNotFoundError, match=f"missing from {empty / 'mnist'}:"):
        load_mnist(download_if_missing=False)
    # without data_home or SKAE_DATA: ~/skae_data/mnist
    monkeypatch.delenv("SKAE_DATA")
    monkeypatch.setenv("HOME", str(parent))
    with pytest.raises(FileNotFoundError, match="skae_data/mnist"):
        load_mnist(download_if_missing=False)
    # data_home wins over SKAE_DATA
    monkeypatch.setenv("SKAE_DATA", str(empty))
    assert load_mnist(folder, verify_checksum=False).data.shape == (5, 784)


def test_load_fashion_mnist_folder_resolution(fake_mnist, tmp_path_factory, monkeypatch):
    # Same file names as MNIST, so a flat SKAE_DATA holding MNIST is never read
    # as Fashion-MNIST: only the ``fashion_mnist`` subfolder is.
    folder = fake_mnist[0]
    monkeypatch.setenv("SKAE_DATA", str(folder))
    with pytest.raises(DataNotFoundError, match=f"missing from {folder / 'fashion_mnist'}:"):
        load_fashion_mnist(download_if_missing=False)
    (folder / "fashion_mnist").mkdir()
    _write_split(folder / "fashion_mnist", "train", 6, seed=3)
    assert load_fashion_mnist(verify_checksum=False).data.shape == (6, 784)
    assert load_mnist(verify_checksum=False).data.shape == (5, 784)
    monkeypatch.delenv("SKAE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    with pytest.raises(DataNotFoundError, match="skae_data/fashion_mnist"):
        load_fashion_mnist(download_if_missing=False)


def test_load_mnist_bad_magic(tmp_path):
    _write_split(tmp_path, "train", 2, seed=0)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28)), magic=2050)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: bad IDX magic number 2050"):
        load_mnist(tmp_path, verify_checksum=False)


def test_load_mnist_truncated(tmp_path):
    _write_split(tmp_path, "train", 2, seed=0)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "rb") as f:
        raw = f.read()
    with gzip.open(path, "wb") as f:
        f.write(raw[:-10])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: header declares shape"):
        load_mnist(tmp_path, verify_checksum=False)


def test_load_mnist_not_gzip(tmp_path):
    _write_split(tmp_path, "train", 2, seed=0)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"<html>Not Found</html>")
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz: not a readable gzip file"):
        load_mnist(tmp_path, verify_checksum=False)


def test_load_mnist_label_count_mismatch(tmp_path):
    _write_split(tmp_path, "train", 3, seed=0)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(2))
    with pytest.raises(ValueError, match="3 images but .* 2 labels"):
        load_mnist(tmp_path, verify_checksum=False)


@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_load_idx_verify_checksum(fake_mnist, loader):
    # Generated files under the official names are not the published ones.
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz is corrupt"):
        loader(fake_mnist[0])
    with pytest.raises(ValueError, match="is corrupt"):
        loader(fake_mnist[0], subset="test", verify_checksum=True)
    assert loader(fake_mnist[0], verify_checksum=False).data.shape == (5, 784)


def test_load_mnist_checksum_of_right_size_file(tmp_path, monkeypatch):
    # A file of the official size but different content fails on the MD5.
    _write_split(tmp_path, "train", 2, seed=0)
    sizes = {n: (tmp_path / n).stat().st_size for n in datasets._MNIST_FILES if "train" in n}
    patched = {n: (sizes[n], "0" * 32) for n in sizes}
    monkeypatch.setattr(datasets, "_MNIST_FILES", patched)
    with pytest.raises(ValueError, match="is corrupt: MD5 [0-9a-f]{32}, expected 0{32}"):
        load_mnist(tmp_path)
    # With the right checksums the same files load, verified.
    monkeypatch.setattr(datasets, "_MNIST_FILES", _checksum_table(tmp_path, list(sizes)))
    assert load_mnist(tmp_path).data.shape == (2, 784)


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason=f"real MNIST not found in {REAL_MNIST}")
def test_load_mnist_real_test_set():
    bunch = load_mnist(REAL_MNIST, subset="test")  # verifies the published MD5s
    assert bunch.data.shape == (10000, 784) and bunch.data.dtype == np.float32
    assert bunch.images.shape == (10000, 28, 28)
    assert bunch.data.min() == 0.0 and bunch.data.max() == 1.0
    counts = np.bincount(bunch.target, minlength=10)
    assert counts.shape == (10,) and counts.sum() == 10000
    assert counts.min() > 800  # every digit is well represented


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason=f"real MNIST not found in {REAL_MNIST}")
def test_mnist_checksum_table_matches_real_files():
    assert _checksum_table(REAL_MNIST) == datasets._MNIST_FILES


# ---------------------------------------------------------------------------
# Downloads, from a local HTTP server


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list

    def do_GET(self):
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def server(tmp_path_factory):
    """An HTTP server on 127.0.0.1 serving a temporary folder, in a thread."""
    root = tmp_path_factory.mktemp("served")
    handler = type("Handler", (_Handler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/", handler.requests
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def served_mnist(server, monkeypatch):
    """Generated MNIST files on the server (under ``full/``; ``empty/`` has none),
    with the checksum table patched to theirs."""
    root, url, requests = server
    (root / "full").mkdir()
    (root / "empty").mkdir()
    train = _write_split(root / "full", "train", 4, seed=5)
    test = _write_split(root / "full", "t10k", 2, seed=6)
    monkeypatch.setattr(datasets, "_MNIST_FILES", _checksum_table(root / "full"))
    return root, url, requests, train, test


def test_download_mnist(served_mnist, tmp_path, monkeypatch):
    root, url, requests, train, test = served_mnist
    # A dead host, then a mirror without the files (404), then a good one.
    dead = _closed_port_url()
    mirrors = (dead, url + "empty/", url + "full/")
    monkeypatch.setattr(datasets, "_MNIST_MIRRORS", mirrors)
    opened = []

    def urlopen(url, *args, **kwargs):
        opened.append(url)
        return urlopen_(url, *args, **kwargs)

    urlopen_ = datasets.urllib.request.urlopen
    monkeypatch.setattr(datasets.urllib.request, "urlopen", urlopen)
    home = tmp_path / "new" / "mnist"
    # One file is already there: it is not downloaded again.
    home.mkdir(parents=True)
    shutil.copy(root / "full" / "t10k-labels-idx1-ubyte.gz", home)
    X, y = load_mnist(home, subset="all", return_X_y=True, as_float=False)
    np.testing.assert_array_equal(X.reshape(-1, 28, 28), np.concatenate([train[0], test[0]]))
    np.testing.assert_array_equal(y, np.concatenate([train[1], test[1]]))
    assert sorted(p.name for p in home.iterdir()) == sorted(IDX_NAMES)  # no temporary left
    for name in IDX_NAMES:
        assert (home / name).read_bytes() == (root / "full" / name).read_bytes()
    assert "/full/t10k-labels-idx1-ubyte.gz" not in requests
    assert requests.count("/empty/train-images-idx3-ubyte.gz") == 1
    # The dead host is tried once, then skipped for the other files.
    assert [u for u in opened if u.startswith(dead)] == [dead + "train-images-idx3-ubyte.gz"]
    assert len(opened) == 3 * 3 - 2
    # Files present now: loading again downloads nothing.
    n_requests = len(requests)
    assert load_mnist(home).data.shape == (4, 784)
    assert len(requests) == n_requests


def test_download_fashion_mnist_file_url(tmp_path, monkeypatch):
    # A file:// mirror works too (e.g. a shared drive).
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    images, labels = _write_split(mirror, "t10k", 3, seed=7)
    table = _checksum_table(mirror, IDX_NAMES[2:])
    monkeypatch.setattr(datasets, "_FASHION_MNIST_FILES", table)
    monkeypatch.setattr(datasets, "_FASHION_MNIST_MIRRORS", (mirror.as_uri() + "/",))
    bunch = load_fashion_mnist(tmp_path / "fm", subset="test")
    np.testing.assert_array_equal(bunch.target, labels)
    np.testing.assert_allclose(bunch.images, images / 255.0, rtol=1e-6)
    assert sorted(p.name for p in (tmp_path / "fm").iterdir()) == sorted(IDX_NAMES[2:])


@pytest.mark.parametrize("corruption", ["md5", "longer", "shorter"])
def test_download_corrupt_file_is_discarded(served_mnist, tmp_path, monkeypatch, corruption):
    _, url, requests, *_ = served_mnist
    name = "train-labels-idx1-ubyte.gz"
    size, md5 = datasets._MNIST_FILES[name]
    bad = {"md5": (size, "0" * 32), "longer": (size - 1, md5), "shorter": (size + 1, md5)}
    bad = bad[corruption]
    monkeypatch.setitem(datasets._MNIST_FILES, name, bad)
    monkeypatch.setattr(datasets, "_MNIST_MIRRORS", (url + "full/",))
    home = tmp_path / "mnist"
    with pytest.raises(DataNotFoundError) as excinfo:
        load_mnist(home)
    msg = str(excinfo.value)
    assert f"{url}full/{name}: corrupt download discarded" in msg
    if corruption == "md5":
        assert f"(MD5 {md5}, expected {'0' * 32})" in msg
    elif corruption == "longer":
        assert f"(more than the expected {size - 1} bytes)" in msg
    else:
        assert f"({size} bytes, expected {size + 1})" in msg
    assert not (home / name).exists()
    # The good file before it was kept; nothing else is left behind.
    assert [p.name for p in home.iterdir()] == ["train-images-idx3-ubyte.gz"]


def test_download_unreachable(tmp_path, monkeypatch):
    mirrors = (_closed_port_url(), _closed_port_url() + "mnist/")
    monkeypatch.setattr(datasets, "_MNIST_MIRRORS", mirrors)
    home = tmp_path / "data"
    start = time.perf_counter()
    with pytest.raises(DataNotFoundError) as excinfo:
        load_mnist(home, subset="test")
    assert time.perf_counter() - start < 5
    msg = str(excinfo.value)
    assert f"missing from {home}: t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz" in msg
    for mirror in mirrors:
        assert mirror + "t10k-images-idx3-ubyte.gz" in msg
    assert "by hand" in msg and "SKAE_DATA" in msg
    assert list(home.iterdir()) == []  # the folder is created, nothing left in it


def test_download_timeout(tmp_path, monkeypatch):
    # A server that accepts connections but never answers.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        monkeypatch.setattr(datasets, "_MNIST_MIRRORS", (url,))
        monkeypatch.setattr(datasets, "_TIMEOUT", 0.3)
        start = time.perf_counter()
        with pytest.raises(DataNotFoundError, match="no answer within 0.3 s"):
            load_mnist(tmp_path, subset="test")
        assert time.perf_counter() - start < 3


def test_download_folder_not_creatable(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(DataNotFoundError, match="cannot be created"):
        load_mnist(tmp_path / "file" / "mnist")


# ---------------------------------------------------------------------------
# Faces: generated PGM and MAT files


def _write_pgm(path, image, maxval=255, plain=False, comments=True):
    image = np.asarray(image)
    h, w = image.shape
    note = b"# written by skae's tests\n" if comments else b""
    header = (b"P2" if plain else b"P5") + b"\n" + note + f"{w} {h}\n".encode()
    header += note + f"{maxval}\n".encode()
    if plain:
        body = "\n".join(" ".join(str(v) for v in row) for row in image).encode() + b"\n"
    else:
        body = image.astype(np.uint8 if maxval < 256 else ">u2").tobytes()
    Path(path).write_bytes(header + body)


# Subject folders and image names out of lexicographic order, on purpose.
FAKE_SUBJECTS = (1, 2, 10)
FAKE_IMAGES = (1, 2, 10)


@pytest.fixture
def fake_att(tmp_path):
    """att_faces/s1, s2, s10 with images 1, 2, 10.pgm of 7 rows x 5 columns."""
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, size=(len(FAKE_SUBJECTS), len(FAKE_IMAGES), 7, 5))
    images[0, 0, 0, :2] = 0, 255
    for i, s in enumerate(FAKE_SUBJECTS):
        (tmp_path / "att_faces" / f"s{s}").mkdir(parents=True)
        for j, k in enumerate(FAKE_IMAGES):
            _write_pgm(tmp_path / "att_faces" / f"s{s}" / f"{k}.pgm", images[i, j])
    return tmp_path, images.reshape(-1, 7, 5).astype(np.uint8)


def test_read_pgm_binary_and_plain(tmp_path):
    image = np.arange(12).reshape(3, 4) * 5
    _write_pgm(tmp_path / "a.pgm", image)
    _write_pgm(tmp_path / "b.pgm", image, maxval=55, plain=True)
    _write_pgm(tmp_path / "c.pgm", image * 100, maxval=5500)  # two bytes per pixel
    for name, factor, maxval, dtype in [
        ("a.pgm", 1, 255, np.uint8),
        ("b.pgm", 1, 55, np.uint8),
        ("c.pgm", 100, 5500, np.uint16),
    ]:
        got, got_maxval = _read_pgm(tmp_path / name)
        assert got.dtype == dtype and got_maxval == maxval
        np.testing.assert_array_equal(got, image * factor)
    # A comment right after the magic number, without a separating newline
    (tmp_path / "d.pgm").write_bytes(b"P5#c\n2 1 9\n\x03\x09")
    np.testing.assert_array_equal(_read_pgm(tmp_path / "d.pgm")[0], [[3, 9]])


@pytest.mark.parametrize(
    "content, match",
    [
        (b"P6\n2 2\n255\n" + bytes(12), "not a PGM file"),
        (b"P5\n2 2\n255\n\x01\x02\x03", "truncated PGM data: 3 bytes"),
        (b"P5\n2 2\n", "truncated PGM header"),
        (b"P5\n2 x\n255\n" + bytes(4), "bad PGM header"),
        (b"P5\n0 2\n255\n", "width 0"),
        (b"P5\n2 1\n100\n\x01\xc8", "exceed the declared maxval 100"),
        (b"P2\n2 2\n255\n1 2 3\n", "truncated PGM data: 3 values"),
    ],
)
def test_read_pgm_errors(tmp_path, content, match):
    (tmp_path / "bad.pgm").write_bytes(content)
    with pytest.raises(ValueError, match=match):
        _read_pgm(tmp_path / "bad.pgm")


def test_load_faces_att(fake_att):
    folder, images = fake_att
    bunch = load_faces(folder)
    assert isinstance(bunch, Bunch) and set(bunch) == {"data", "target", "images", "DESCR"}
    assert bunch.images.shape == (9, 7, 5) and bunch.data.shape == (9, 35)
    assert bunch.data.dtype == np.float32
    assert bunch.data.min() == 0.0 and bunch.data.max() == 1.0
    # s1, s2, s10 in numerical order, and images 1, 2, 10 within each.
    np.testing.assert_allclose(bunch.images, images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(bunch.target, [0, 0, 0, 1, 1, 1, 9, 9, 9])
    assert bunch.target.dtype == np.int64
    assert np.shares_memory(bunch.images, bunch.data)
    assert "AT&T" in bunch.DESCR
    X, y = load_faces(folder / "att_faces", return_X_y=True, as_float=False)
    assert X.dtype == np.uint8
    np.testing.assert_array_equal(X, images.reshape(9, -1))
    np.testing.assert_array_equal(y, bunch.target)


def test_load_faces_att_plain_pgm_and_maxval(tmp_path):
    image = np.array([[0, 5], [10, 15]])
    for s in (1, 2):
        (tmp_path / f"s{s}").mkdir()
        _write_pgm(tmp_path / f"s{s}" / "1.pgm", image * s, maxval=30, plain=True)
    X, y = load_faces(tmp_path, return_X_y=True)
    np.testing.assert_allclose(X, [[0, 5 / 30, 10 / 30, 0.5], [0, 10 / 30, 20 / 30, 1]], rtol=1e-6)
    np.testing.assert_array_equal(y, [0, 1])


def test_load_faces_att_errors(fake_att, tmp_path_factory):
    folder, _ = fake_att
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(DataNotFoundError) as excinfo:
        load_faces(empty)
    msg = str(excinfo.value)
    assert str(empty / "att_faces") in msg and "s40/10.pgm" in msg and "SKAE_DATA" in msg
    assert "not downloaded" in msg
    _write_pgm(folder / "att_faces" / "s2" / "3.pgm", np.zeros((5, 7)))
    with pytest.raises(ValueError, match=r"3.pgm: image of 7x5 pixels, but the first one is 5x7"):
        load_faces(folder)
    (folder / "att_faces" / "s2" / "3.pgm").unlink()
    (folder / "att_faces" / "s3").mkdir()
    with pytest.raises(ValueError, match="no .pgm image in"):
        load_faces(folder)


def test_load_faces_bad_parameters(fake_att):
    with pytest.raises(ValueError, match="dataset must be 'att' or 'olivetti', got 'lfw'"):
        load_faces(fake_att[0], dataset="lfw")
    for bad in [0, (3,), (3, 0), (3.0, 4), "32", True]:
        with pytest.raises(ValueError, match="image_size must be"):
            load_faces(fake_att[0], image_size=bad)


def test_load_faces_folder_resolution(fake_att, tmp_path_factory, monkeypatch):
    folder, _ = fake_att
    monkeypatch.setenv("SKAE_DATA", str(folder))  # flat: att_faces directly inside
    assert load_faces().data.shape == (9, 35)
    root = tmp_path_factory.mktemp("root")
    shutil.copytree(folder / "att_faces", root / "faces" / "att_faces")
    shutil.rmtree(root / "faces" / "att_faces" / "s10")
    monkeypatch.setenv("SKAE_DATA", str(root))  # with a ``faces`` subfolder
    assert load_faces().data.shape == (6, 35)
    monkeypatch.delenv("SKAE_DATA")
    monkeypatch.setenv("HOME", str(root))
    with pytest.raises(DataNotFoundError, match="skae_data/faces/att_faces"):
        load_faces()


def test_load_faces_resize(fake_att):
    folder, images = fake_att
    bunch = load_faces(folder, image_size=(4, 3))
    assert bunch.images.shape == (9, 4, 3) and bunch.data.shape == (9, 12)
    assert bunch.data.dtype == np.float32
    assert 0 <= bunch.data.min() and bunch.data.max() <= 1
    # Each output pixel is an average of its footprint: the mean is nearly kept
    np.testing.assert_allclose(
        bunch.images.mean(axis=(1, 2)), images.mean(axis=(1, 2)) / 255, atol=0.06
    )
    square = load_faces(folder, image_size=6, as_float=False)
    assert square.images.shape == (9, 6, 6) and square.images.dtype == np.uint8
    np.testing.assert_allclose(
        square.images / 255, load_faces(folder, image_size=6).images, atol=0.5 / 255 + 1e-6
    )
    # Identity size: the images unchanged
    np.testing.assert_array_equal(
        load_faces(folder, image_size=(7, 5)).images, load_faces(folder).images
    )


def test_resize_constant_image_stays_constant():
    images = np.full((2, 112, 92), 0.25, dtype=np.float32)
    for size in [(64, 64), (32, 32), (200, 150)]:
        out = datasets._resize(images, size)
        assert out.shape == (2, *size) and out.dtype == np.float32
        np.testing.assert_allclose(out, 0.25, rtol=1e-6)


def _olivetti_images(n=20, side=8, seed=0):
    rng = np.random.RandomState(seed)
    images = rng.randint(10, 200, size=(n, side, side)).astype(np.uint8)
    images[0, 0, 0], images[1, 0, 0] = 10, 200  # known extremes
    return images


def _write_olivetti(path, images):
    # One column per image, each image stored column-major, as in olivettifaces.mat
    faces = np.stack([im.ravel(order="F") for im in images], axis=1)
    savemat(path, {"faces": faces})


def test_load_faces_olivetti(tmp_path):
    images = _olivetti_images()
    _write_olivetti(tmp_path / "olivettifaces.mat", images)
    bunch = load_faces(tmp_path, dataset="olivetti")
    assert bunch.images.shape == (20, 8, 8) and bunch.data.shape == (20, 64)
    assert bunch.data.dtype == np.float32
    np.testing.assert_array_equal(bunch.target, np.repeat([0, 1], 10))
    # Upright (not transposed) and min-max scaled, as scikit-learn does it.
    np.testing.assert_allclose(bunch.images, (images - 10.0) / 190.0, rtol=1e-6, atol=1e-7)
    assert "Olivetti" in bunch.DESCR
    X, _ = load_faces(tmp_path, dataset="olivetti", as_float=False, return_X_y=True)
    np.testing.assert_array_equal(X, images.reshape(20, -1))
    small = load_faces(tmp_path, dataset="olivetti", image_size=4, as_float=False)
    assert small.images.shape == (20, 4, 4) and small.images.dtype == np.uint8
    assert 10 <= small.images.min() and small.images.max() <= 200


@pytest.mark.parametrize(
    "content, match",
    [
        ({"faces": np.zeros((60, 20), np.uint8)}, "expected \\(side\\*side, n_images\\)"),
        ({"faces": np.zeros((64, 15), np.uint8)}, "multiple of 10"),
        ({"pixels": np.zeros((64, 20), np.uint8)}, "no variable 'faces'"),
        (None, "not a readable MATLAB file"),
    ],
)
def test_load_faces_olivetti_errors(tmp_path, content, match):
    if content is None:
        (tmp_path / "olivettifaces.mat").write_bytes(b"<html>Not Found</html>")
    else:
        savemat(tmp_path / "olivettifaces.mat", content)
    with pytest.raises(ValueError, match=match):
        load_faces(tmp_path, dataset="olivetti")


def test_download_olivetti(server, tmp_path, monkeypatch):
    root, url, requests = server
    images = _olivetti_images()
    _write_olivetti(root / "5976027", images)
    sha256 = hashlib.sha256((root / "5976027").read_bytes()).hexdigest()
    monkeypatch.setattr(datasets, "_OLIVETTI_URLS", (url + "5976027",))
    with pytest.raises(DataNotFoundError, match="faces not found: no file .*olivettifaces.mat"):
        load_faces(tmp_path, dataset="olivetti", download_if_missing=False)
    # A corrupt download is discarded
    monkeypatch.setattr(datasets, "_OLIVETTI_FILE", ("olivettifaces.mat", "0" * 64))
    with pytest.raises(DataNotFoundError, match="corrupt download discarded \\(SHA256"):
        load_faces(tmp_path, dataset="olivetti")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(datasets, "_OLIVETTI_FILE", ("olivettifaces.mat", sha256))
    X, y = load_faces(tmp_path, dataset="olivetti", as_float=False, return_X_y=True)
    np.testing.assert_array_equal(X, images.reshape(20, -1))
    assert requests == ["/5976027", "/5976027"]
    assert [p.name for p in tmp_path.iterdir()] == ["olivettifaces.mat"]


def test_olivetti_source_is_scikit_learns():
    olivetti = pytest.importorskip("sklearn.datasets._olivetti_faces")
    faces = getattr(olivetti, "FACES", None)
    if faces is None:
        pytest.skip("scikit-learn no longer exposes its Olivetti file metadata")
    assert datasets._OLIVETTI_FILE == (faces.filename, faces.checksum)
    assert faces.url in OLIVETTI_URLS


# ---------------------------------------------------------------------------
# Real faces


@requires_real_faces
def test_load_faces_real():
    att = load_faces(REAL_FACES)
    assert att.images.shape == (400, 112, 92) and att.data.dtype == np.float32
    assert 0 <= att.data.min() and att.data.max() <= 1
    np.testing.assert_array_equal(att.target, np.repeat(np.arange(40), 10))
    oli = load_faces(REAL_FACES, dataset="olivetti")
    assert oli.images.shape == (400, 64, 64) and oli.data.dtype == np.float32
    assert oli.data.min() == 0 and oli.data.max() == 1
    np.testing.assert_array_equal(oli.target, att.target)
    small = load_faces(REAL_FACES, image_size=32, return_X_y=True)[0]
    assert small.shape == (400, 1024)


@requires_real_faces
def test_olivetti_upright_and_same_subjects_as_att():
    # Olivetti images are crops of the AT&T photographs: compare with a fixed
    # crop of each photograph around the face, resized to 64x64.
    att = load_faces(REAL_FACES).images[:, 36:104, 12:80]
    att = torch.nn.functional.interpolate(
        torch.from_numpy(np.ascontiguousarray(att))[:, None],
        size=(64, 64),
        mode="bilinear",
        antialias=True,
    )[:, 0].numpy()
    oli = load_faces(REAL_FACES, dataset="olivetti").images

    def standardize(a):
        a = a.reshape(len(a), -1) - a.reshape(len(a), -1).mean(axis=1, keepdims=True)
        return a / np.linalg.norm(a, axis=1, keepdims=True)

    def paired_corr(o):
        return (standardize(att) * standardize(o)).sum(axis=1).mean()

    # Measured: 0.50 upright, 0.36 mirrored, 0.15 transposed, 0.10 upside down.
    upright = paired_corr(oli)
    assert upright > 0.4
    assert upright > paired_corr(oli[:, :, ::-1]) + 0.1
    assert upright > paired_corr(oli.transpose(0, 2, 1)) + 0.25
    assert upright > paired_corr(oli[:, ::-1]) + 0.25
    # Same subjects in the same order: each AT&T subject is most similar to the
    # Olivetti subject of the same label far more often than chance (1/40).
    C = standardize(att) @ standardize(oli).T
    by_subject = C.reshape(40, 10, 40, 10).mean(axis=(1, 3))
    assert (by_subject.argmax(axis=1) == np.arange(40)).mean() > 0.25  # measured: 0.425


@requires_real_faces
def test_olivetti_equals_scikit_learn(tmp_path, monkeypatch):
    olivetti = pytest.importorskip("sklearn.datasets._olivetti_faces")
    if not hasattr(olivetti, "_fetch_remote"):
        pytest.skip("scikit-learn's Olivetti loader changed")
    from sklearn.datasets import fetch_olivetti_faces

    def fetch_local(remote, dirname, **kwargs):  # hand sklearn a copy of the local file
        return shutil.copy(REAL_FACES / "olivettifaces.mat", Path(dirname) / remote.filename)

    monkeypatch.setattr(olivetti, "_fetch_remote", fetch_local)
    expected = fetch_olivetti_faces(data_home=tmp_path)
    got = load_faces(REAL_FACES, dataset="olivetti")
    np.testing.assert_array_equal(got.images, expected.images)
    np.testing.assert_array_equal(got.data, expected.data)
    np.testing.assert_array_equal(got.target, expected.target)
