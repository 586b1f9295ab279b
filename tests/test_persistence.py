"""Saving fitted estimators as plain data: skops.io without trusting torch or skorch,
pickle and joblib, a CUDA-fitted model on a CPU-only machine, training after loading."""

import copy
import inspect
import pickle

import numpy as np
import pytest
import torch

import skae
from skae._persist import NET_STATE_KEY

FAST = dict(max_iter=2, batch_size=64, random_state=0)
STACKED = (skae.StackedAutoencoder, skae.StackedAutoencoderClassifier)
PUBLIC = [
    obj for name in skae.__all__
    if inspect.isclass(obj := getattr(skae, name)) and hasattr(obj, "fit")
    and obj is not skae.AutoencoderOutlierDetector  # a meta-estimator (issue 16)
]


def make(cls):
    """A tiny fitted-ready instance of every public estimator (digits: 8x8 images)."""
    if cls in STACKED:
        return cls(hidden_layer_sizes=(16, 4), **FAST)
    kwargs = dict(n_components=4, **FAST)
    if "image_shape" in inspect.signature(cls).parameters:
        kwargs["image_shape"] = (8, 8)
    return cls(**kwargs)


def fit(cls, data):
    X, _, y, _ = data
    est = make(cls)
    return est.fit(X[:300], y[:300]) if cls is skae.StackedAutoencoderClassifier \
        else est.fit(X[:300])


def output(est, X):
    if hasattr(est, "predict_proba"):
        return est.predict_proba(X)
    return est.transform(X)


def test_every_public_estimator_is_covered():
    assert {cls.__name__ for cls in PUBLIC} == {
        "Autoencoder", "SparseAutoencoder", "DenoisingAutoencoder", "ContractiveAutoencoder",
        "VariationalAutoencoder", "ConvAutoencoder", "ConvVariationalAutoencoder",
        "StackedAutoencoder", "StackedAutoencoderClassifier",
    }


@pytest.fixture(scope="module")
def fitted(digits01):
    return {cls: fit(cls, digits01) for cls in PUBLIC}


def _no_torch_load(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("torch.load must not run when loading a skae model")
    monkeypatch.setattr(torch, "load", refuse)


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda c: c.__name__)
def test_state_is_plain_data(cls, fitted):
    state = fitted[cls].__getstate__()
    assert "net_" not in state and NET_STATE_KEY in state
    allowed = (str, int, float, bool, type(None), np.ndarray, skae._base.BaseAutoencoder)

    def walk(obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(k)
                walk(v)
        elif isinstance(obj, list | tuple):
            for v in obj:
                walk(v)
        else:
            assert isinstance(obj, allowed), type(obj)

    walk(state)


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda c: c.__name__)
def test_skops_round_trip_trusts_only_skae(cls, fitted, digits01, tmp_path, monkeypatch):
    sio = pytest.importorskip("skops.io")
    est, X_test = fitted[cls], digits01[1]
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    expected = {f"{type(est).__module__}.{type(est).__name__}"}
    if cls in STACKED:  # the fitted layers
        expected.add("skae._autoencoder.Autoencoder")
    assert set(untrusted) == expected
    _no_torch_load(monkeypatch)
    back = sio.load(path, trusted=untrusted)
    assert type(back) is cls and back.net_.device == "cpu"
    np.testing.assert_array_equal(output(back, X_test), output(est, X_test))
    assert back.n_iter_ == est.n_iter_ and back.loss_curve_ == est.loss_curve_
    assert len(back.net_.history) == len(est.net_.history)
    if hasattr(est, "inverse_transform"):
        Z = est.transform(X_test)
        np.testing.assert_array_equal(back.inverse_transform(Z), est.inverse_transform(Z))


@pytest.mark.parametrize("cls", [c for c in PUBLIC if hasattr(c, "partial_fit")],
                         ids=lambda c: c.__name__)
def test_partial_fit_after_loading_continues_exactly(cls, digits01, tmp_path):
    sio = pytest.importorskip("skops.io")
    X = digits01[0][:300]
    est = make(cls).fit(X)
    sio.dump(est, tmp_path / "m.skops")
    back = sio.load(tmp_path / "m.skops", trusted=sio.get_untrusted_types(
        file=tmp_path / "m.skops"))
    # optimizer moments, history and the estimator's generator travel with the model
    est.partial_fit(X)
    back.partial_fit(X)
    assert back.n_iter_ == est.n_iter_ == 3
    np.testing.assert_array_equal(back.transform(X), est.transform(X))


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda c: c.__name__)
def test_pickle_joblib_and_deepcopy(cls, fitted, digits01, tmp_path, monkeypatch):
    joblib = pytest.importorskip("joblib")
    est, X_test = fitted[cls], digits01[1]
    joblib.dump(est, tmp_path / "m.joblib")
    data = pickle.dumps(est)
    _no_torch_load(monkeypatch)
    for back in (pickle.loads(data), joblib.load(tmp_path / "m.joblib"), copy.deepcopy(est)):
        np.testing.assert_array_equal(output(back, X_test), output(est, X_test))
    # the original keeps its net
    assert est.net_ is not None and hasattr(est, "net_")


def test_cuda_model_loads_on_cpu(fitted, digits01):
    # A model saved from a CUDA fit names "cuda" as its net's device: on a machine
    # without CUDA it is rebuilt on the CPU, the device parameter stays the user's.
    est = fitted[skae.Autoencoder]
    est.device = "cuda"
    try:
        state = est.__getstate__()
        state[NET_STATE_KEY]["device"] = "cuda"
    finally:
        est.device = "cpu"
    back = skae.Autoencoder.__new__(skae.Autoencoder)
    back.__setstate__(state)
    if not torch.cuda.is_available():
        assert back.net_.device == "cpu"
    assert back.device == "cuda"
    np.testing.assert_allclose(back.transform(digits01[1]), est.transform(digits01[1]),
                               atol=1e-6)
    back.partial_fit(digits01[0][:100])  # training goes on, on the CPU
    assert back.n_iter_ == est.n_iter_ + 1


@pytest.mark.parametrize("cls", [skae.Autoencoder, skae.VariationalAutoencoder],
                         ids=lambda c: c.__name__)
def test_early_stopping_model_trains_on_after_loading(cls, digits01, tmp_path):
    # fit holds out validation data, partial_fit has none: its stopping rule watches
    # the training objective, before and after saving
    sio = pytest.importorskip("skops.io")
    X = digits01[0][:300]
    est = cls(n_components=4, early_stopping=True, **FAST).fit(X)
    sio.dump(est, tmp_path / "m.skops")
    back = sio.load(tmp_path / "m.skops", trusted=sio.get_untrusted_types(
        file=tmp_path / "m.skops"))
    est.partial_fit(X)
    back.partial_fit(X)
    assert back.n_iter_ == est.n_iter_ == 3
    np.testing.assert_array_equal(back.transform(X), est.transform(X))


def test_objects_in_params_are_listed(tmp_path):
    # a torch optimizer class or skorch callbacks given as parameters are not skae's:
    # skops names them for the user to trust
    sio = pytest.importorskip("skops.io")
    from skorch.callbacks import EpochTimer

    X = np.random.RandomState(0).rand(60, 5)
    est = skae.Autoencoder(n_components=2, optimizer=torch.optim.SGD, callbacks=[EpochTimer()],
                           **FAST).fit(X)
    sio.dump(est, tmp_path / "m.skops")
    assert set(sio.get_untrusted_types(file=tmp_path / "m.skops")) == {
        "skae._autoencoder.Autoencoder", "torch.optim.sgd.SGD",
        "skorch.callbacks.logging.EpochTimer"}


def test_unfitted_estimator_round_trips(tmp_path):
    sio = pytest.importorskip("skops.io")
    est = skae.VariationalAutoencoder(n_components=3)
    sio.dump(est, tmp_path / "u.skops")
    back = sio.load(tmp_path / "u.skops", trusted=["skae._variational.VariationalAutoencoder"])
    assert back.get_params() == est.get_params() and not hasattr(back, "net_")
