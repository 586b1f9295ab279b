import gzip
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils import Bunch

from skae import datasets
from skae.datasets import _read_idx, load_mnist

REAL_MNIST = Path(__file__).parents[2] / "shared" / "data" / "mnist"


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
    assert set(bunch) == {"data", "target", "images", "DESCR"}
    assert bunch.data.shape == (5, 784) and bunch.data.dtype == np.float32
    assert bunch.images.shape == (5, 28, 28)
    assert bunch.target.dtype == np.int64
    assert bunch.data.min() == 0.0 and bunch.data.max() == 1.0
    np.testing.assert_allclose(bunch.data, images.reshape(5, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(bunch.images, bunch.data.reshape(5, 28, 28))
    np.testing.assert_array_equal(bunch.target, labels)
    assert "MNIST" in bunch.DESCR


@pytest.mark.parametrize(
    "subset, n, parts", [("train", 5, (0,)), ("test", 3, (1,)), ("all", 8, (0, 1))]
)
def test_load_mnist_subsets_as_uint8(fake_mnist, subset, n, parts):
    folder, *splits = fake_mnist
    X, y = load_mnist(folder, subset=subset, return_X_y=True, as_float=False, verify_checksum=False)
    assert X.shape == (n, 784) and X.dtype == np.uint8 and X.flags.writeable
    assert y.shape == (n,) and y.dtype == np.int64
    np.testing.assert_array_equal(X, np.concatenate([splits[i][0] for i in parts]).reshape(n, -1))
    np.testing.assert_array_equal(y, np.concatenate([splits[i][1] for i in parts]))


def test_load_mnist_bad_subset(fake_mnist):
    with pytest.raises(ValueError, match="subset must be"):
        load_mnist(fake_mnist[0], subset="valid")


def test_load_mnist_missing_files(tmp_path):
    _write_split(tmp_path, "train", 2, seed=0)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as excinfo:
        load_mnist(tmp_path, subset="all")
    msg = str(excinfo.value)
    assert str(tmp_path) in msg
    assert "train-labels-idx1-ubyte.gz" in msg and "t10k-images-idx3-ubyte.gz" in msg
    assert "train-images-idx3-ubyte.gz" not in msg
    assert "SKAE_DATA" in msg


def test_load_mnist_folder_resolution(fake_mnist, tmp_path_factory, monkeypatch):
    folder = fake_mnist[0]
    monkeypatch.setenv("SKAE_DATA", str(folder))
    assert load_mnist(verify_checksum=False).data.shape == (5, 784)
    # SKAE_DATA pointing at a parent with an ``mnist`` subfolder
    parent = tmp_path_factory.mktemp("root")
    (parent / "mnist").mkdir()
    _write_split(parent / "mnist", "train", 4, seed=2)
    monkeypatch.setenv("SKAE_DATA", str(parent))
    assert load_mnist(verify_checksum=False).data.shape == (4, 784)
    # without data_home or SKAE_DATA: ~/skae_data/mnist
    monkeypatch.delenv("SKAE_DATA")
    monkeypatch.setenv("HOME", str(parent))
    with pytest.raises(FileNotFoundError, match="skae_data"):
        load_mnist()


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


def test_load_mnist_label_count_mismatch(tmp_path):
    _write_split(tmp_path, "train", 3, seed=0)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(2))
    with pytest.raises(ValueError, match="3 images but .* 2 labels"):
        load_mnist(tmp_path, verify_checksum=False)


def test_load_mnist_verify_checksum(fake_mnist):
    # Generated files under the official names are not the published ones.
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz is corrupt"):
        load_mnist(fake_mnist[0])
    with pytest.raises(ValueError, match="is corrupt"):
        load_mnist(fake_mnist[0], subset="test", verify_checksum=True)
    assert load_mnist(fake_mnist[0], verify_checksum=False).data.shape == (5, 784)


def test_load_mnist_checksum_of_right_size_file(tmp_path, monkeypatch):
    # A file of the official size but different content fails on the MD5.
    _write_split(tmp_path, "train", 2, seed=0)
    sizes = {n: (tmp_path / n).stat().st_size for n in datasets._MNIST_FILES if "train" in n}
    patched = {n: (sizes[n], "0" * 32) for n in sizes}
    monkeypatch.setattr(datasets, "_MNIST_FILES", patched)
    with pytest.raises(ValueError, match="is corrupt: MD5 [0-9a-f]{32}, expected 0{32}"):
        load_mnist(tmp_path)


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason=f"real MNIST not found in {REAL_MNIST}")
def test_load_mnist_real_test_set():
    bunch = load_mnist(REAL_MNIST, subset="test")
    assert bunch.data.shape == (10000, 784) and bunch.data.dtype == np.float32
    assert bunch.images.shape == (10000, 28, 28)
    assert bunch.data.min() == 0.0 and bunch.data.max() == 1.0
    counts = np.bincount(bunch.target, minlength=10)
    assert counts.shape == (10,) and counts.sum() == 10000
    assert counts.min() > 800  # every digit is well represented
