"""Promises every public skae estimator keeps (discovered from ``skae.__all__``)."""

import inspect
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import skae
from skae._base import BaseAutoencoder

ESTIMATORS = [
    obj for name in skae.__all__
    if inspect.isclass(obj := getattr(skae, name)) and issubclass(obj, BaseAutoencoder)
]
FAST = dict(n_components=4, max_iter=4, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).rand(120, 10)


def test_every_estimator_is_tested():
    names = {cls.__name__ for cls in ESTIMATORS}
    assert {
        "Autoencoder", "SparseAutoencoder", "DenoisingAutoencoder", "ContractiveAutoencoder",
        "VariationalAutoencoder",
    } <= names


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_signature_is_keyword_only_and_validated(cls):
    params = inspect.signature(cls.__init__).parameters
    kinds = [p.kind for name, p in params.items() if name not in ("self", "n_components")]
    assert all(k is inspect.Parameter.KEYWORD_ONLY for k in kinds)
    assert set(params) - {"self"} == set(cls._parameter_constraints)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_reproducible_without_touching_global_rng(cls, X):
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    a = cls(**FAST).fit(X)
    b = cls(**FAST).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.transform(X), a.transform(X))  # inference is deterministic
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_protocol(cls, X):
    est = cls(**FAST)
    with pytest.raises(NotFittedError):
        est.transform(X)
    Z = est.fit_transform(X.astype(np.float32))
    assert Z.shape == (len(X), 4) and Z.dtype == np.float32
    assert est.inverse_transform(Z).shape == X.shape
    assert est.score_samples(X).shape == (len(X),)
    assert np.isfinite(est.score(X))
    est2 = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(est2.transform(X), est.transform(X))
    est2.partial_fit(X)
    assert est2.n_iter_ == est.n_iter_ + 1
    assert clone(est).get_params() == est.get_params()
