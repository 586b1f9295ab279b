"""scipy.sparse input: densified one batch at a time, the same fit as the dense twin."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

import skae
from skae._data import LazyArray, SparseArray, make_dataset

# Every public estimator, small and fast; the conv ones see 4x4 images.
FAST = dict(n_components=3, max_iter=2, batch_size=16, random_state=0)
ESTIMATORS = [
    skae.Autoencoder(**FAST),
    skae.SparseAutoencoder(**FAST),
    skae.DenoisingAutoencoder(**FAST),
    skae.ContractiveAutoencoder(**FAST),
    skae.VariationalAutoencoder(**FAST),
    skae.ConvAutoencoder(**FAST, image_shape=(4, 4)),
    skae.ConvVariationalAutoencoder(**FAST, image_shape=(4, 4)),
    skae.StackedAutoencoder(**{**FAST, "hidden_layer_sizes": (6,)}),
]
FORMATS = ["csr", "csc", "coo"]


def _ids(est):
    return type(est).__name__


@pytest.fixture(scope="module")
def X_dense():
    rng = np.random.RandomState(0)
    X = rng.rand(50, 16)
    X[X < 0.7] = 0.0  # about 70 % zeros
    return X


def test_every_public_estimator_is_covered():
    covered = {type(e).__name__ for e in ESTIMATORS} | {"StackedAutoencoderClassifier"}
    public = {n for n in skae.__all__ if n[0].isupper() and n.endswith(("Autoencoder",
                                                                         "Classifier"))}
    assert public <= covered


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("est", ESTIMATORS, ids=_ids)
def test_sparse_fit_equals_dense_twin(est, fmt, X_dense):
    Xs = sp.csr_matrix(X_dense).asformat(fmt)
    dense = clone(est).fit(X_dense)
    sparse = clone(est).fit(Xs)
    np.testing.assert_array_equal(sparse.transform(Xs), dense.transform(X_dense))
    assert sparse.transform(Xs).dtype == np.float64
    if hasattr(est, "score_samples"):
        np.testing.assert_array_equal(sparse.score_samples(Xs), dense.score_samples(X_dense))
    if hasattr(est, "partial_fit"):
        dense.partial_fit(X_dense)
        sparse.partial_fit(Xs)
        np.testing.assert_array_equal(sparse.transform(Xs), dense.transform(X_dense))


def test_sparse_matrix_and_array_float32_kept(X_dense):
    X32 = X_dense.astype(np.float32)
    dense = skae.Autoencoder(**FAST).fit(X32)
    for Xs in (sp.csr_matrix(X32), sp.csr_array(X32)):
        est = skae.Autoencoder(**FAST).fit(Xs)
        Z = est.transform(Xs)
        assert Z.dtype == np.float32
        np.testing.assert_array_equal(Z, dense.transform(X32))


def test_sparse_early_stopping_equals_dense_twin(X_dense):
    est = skae.Autoencoder(**{**FAST, "max_iter": 3}, early_stopping=True)
    dense = clone(est).fit(X_dense)
    sparse = clone(est).fit(sp.csr_matrix(X_dense))
    assert sparse.validation_loss_curve_ == dense.validation_loss_curve_


def test_stacked_classifier_sparse_equals_dense_twin(X_dense):
    y = np.arange(len(X_dense)) % 3
    y[::7] = -1  # some unlabelled rows: a subset of a sparse matrix
    clf = skae.StackedAutoencoderClassifier(hidden_layer_sizes=(6,), max_iter=2,
                                            batch_size=16, random_state=0)
    dense = clone(clf).fit(X_dense, y)
    sparse = clone(clf).fit(sp.csc_matrix(X_dense), y)
    np.testing.assert_array_equal(sparse.predict_proba(sp.coo_matrix(X_dense)),
                                  dense.predict_proba(X_dense))


def test_sparse_array_reads_like_its_dense_twin(X_dense):
    Xs = SparseArray(sp.coo_matrix(X_dense))
    assert isinstance(Xs, LazyArray) and Xs.shape == X_dense.shape
    assert sp.isspmatrix_csr(Xs.source)  # converted once, non-zeros only
    np.testing.assert_array_equal(Xs[[3, 1, 7]], X_dense[[3, 1, 7]].astype(np.float32))
    np.testing.assert_array_equal(Xs[2:5], X_dense[2:5].astype(np.float32))
    np.testing.assert_array_equal(np.asarray(Xs), X_dense.astype(np.float32))
    sub = Xs.subset([8, 2])
    assert isinstance(sub, SparseArray)
    np.testing.assert_array_equal(np.asarray(sub), X_dense[[2, 8]].astype(np.float32))
    # implicit zeros are values: the range is that of the dense matrix
    assert (Xs.min(), Xs.max()) == (X_dense.min(), X_dense.max())
    negative = SparseArray(sp.csr_matrix(np.array([[0.0, -2.0], [0.0, -1.0]])))
    assert (negative.min(), negative.max()) == (-2.0, 0.0)
    full = SparseArray(sp.csr_matrix(np.array([[1.0, 2.0]])))
    assert (full.min(), full.max()) == (1.0, 2.0)


def test_sparse_is_densified_one_batch_at_a_time(X_dense, monkeypatch):
    rows_read = []
    read = SparseArray.read

    def spy(self, index, out=None):
        block = read(self, index, out)
        rows_read.append(len(block))
        return block

    monkeypatch.setattr(SparseArray, "read", spy)
    est = skae.Autoencoder(**FAST).fit(sp.csr_matrix(X_dense))
    est.transform(sp.csr_matrix(X_dense))
    assert rows_read and max(rows_read[:-1]) <= FAST["batch_size"]
    # the inference batch is the whole (small) matrix here: never more than that
    assert max(rows_read) <= len(X_dense)
    # the in-memory dataset of a sparse input stays sparse
    assert isinstance(make_dataset(SparseArray(sp.csr_matrix(X_dense))).X, SparseArray)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_sparse_non_finite_rejected(bad, X_dense):
    Xs = sp.csr_matrix(X_dense)
    Xs.data[0] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        skae.Autoencoder(**FAST).fit(Xs)


def test_sparse_float32_overflow_rejected():
    Xs = sp.csr_matrix(np.array([[0.0, 1e39], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="too large for float32"):
        skae.Autoencoder(**FAST).fit(Xs)


def test_sparse_feature_count_checked(X_dense):
    est = skae.Autoencoder(**FAST).fit(sp.csr_matrix(X_dense))
    with pytest.raises(ValueError, match="features"):
        est.transform(sp.csr_matrix(X_dense[:, :5]))


def test_sparse_bce_range_checked():
    Xs = sp.csr_matrix(np.array([[0.0, 2.0], [0.5, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        skae.Autoencoder(**FAST, loss="bce").fit(Xs)
