"""ContractiveAutoencoder and ContractivePenalty."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import Autoencoder, ContractiveAutoencoder
from skae._base import BaseAutoencoder
from skae.nn import MLPAutoencoderModule
from skae.penalties import ContractivePenalty, L1ActivityPenalty


def reference_sq_norm(module, X):
    """||J||_F^2 per row with torch.autograd.functional.jacobian, one sample at a time."""
    return torch.stack(
        [torch.autograd.functional.jacobian(module.encode, x).square().sum() for x in X]
    )


def _module(hidden, activation, code_activation, dtype=torch.float64, n_features=20, k=6):
    torch.manual_seed(0)
    return MLPAutoencoderModule(n_features, k, hidden, activation, code_activation).to(dtype)


def _no_autograd_jacobian(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("the autograd Jacobian was used")

    monkeypatch.setattr(ContractivePenalty, "jacobian_frobenius_sq", staticmethod(fail))


# ------------------------------------------------------------------- the penalty
@pytest.mark.parametrize("code_activation", ["sigmoid", "tanh", "relu", "identity"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_closed_form_matches_autograd_jacobian(code_activation, dtype, monkeypatch):
    module = _module((), "relu", code_activation, dtype)
    X = torch.randn(16, 20, dtype=dtype) * 2  # some sigmoid / tanh units saturate
    with torch.no_grad():
        module.encoder[0][0].bias.uniform_(-1, 1)  # some ReLU units are off
    expected = reference_sq_norm(module, X)
    # the closed form, written out: sum_j act'_j^2 sum_i W_ji^2
    W = module.encoder[0][0].weight
    h = module.encode(X)
    deriv = {"sigmoid": h * (1 - h), "tanh": 1 - h**2, "relu": (h > 0).to(dtype),
             "identity": torch.ones_like(h)}[code_activation]
    torch.testing.assert_close(deriv.square() @ W.square().sum(1), expected,
                               rtol=1e-5, atol=1e-7)
    _no_autograd_jacobian(monkeypatch)
    penalty = ContractivePenalty(weight=0.3)
    value = penalty.per_sample(module(X), X, module)
    torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(penalty(module(X), X, module), 0.3 * expected.mean(),
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "hidden, activation, code_activation",
    [
        ((16,), "sigmoid", "sigmoid"),   # h_1 < d: first layer through its Gram matrix
        ((32,), "relu", "sigmoid"),      # h_1 >= d: direct product
        ((16, 12), "tanh", "identity"),  # three layers
        ((16,), "elu", "tanh"),
        ((16,), "leaky_relu", "relu"),
    ],
)
def test_deep_path_matches_autograd_and_gradients_reach_parameters(
    hidden, activation, code_activation, monkeypatch
):
    module = _module(hidden, activation, code_activation)
    X = torch.randn(10, 20, dtype=torch.float64)
    expected = reference_sq_norm(module, X)
    # the same value and parameter gradients as the full torch.func Jacobian
    module.zero_grad()
    ContractivePenalty(1.0, method="autograd")(module(X), X, module).backward()
    grads_ref = {n: p.grad.clone() for n, p in module.named_parameters() if p.grad is not None}

    with monkeypatch.context() as m:
        _no_autograd_jacobian(m)
        out = module(X)
        value = ContractivePenalty(1.0).per_sample(out, X, module)
        torch.testing.assert_close(value, expected, rtol=1e-10, atol=1e-12)
        module.zero_grad()
        ContractivePenalty(1.0)(out, X, module).backward()
    for name, p in module.named_parameters():
        if name.startswith("decoder"):
            assert p.grad is None or not p.grad.any()
        elif name.endswith("weight"):
            assert p.grad is not None and p.grad.abs().sum() > 0, name
            torch.testing.assert_close(p.grad, grads_ref[name], rtol=1e-9, atol=1e-12)
        elif p.grad is not None:  # biases of piecewise-linear layers get no gradient
            torch.testing.assert_close(p.grad, grads_ref[name], rtol=1e-9, atol=1e-12)


def test_autograd_fallback_for_other_activations_is_differentiable():
    module = _module((16,), "gelu", "sigmoid")
    X = torch.randn(8, 20, dtype=torch.float64)
    penalty = ContractivePenalty(1.0)
    assert penalty._layers(module(X), module) is None  # GELU: no output-derivative form
    value = penalty.per_sample(module(X), X, module)
    torch.testing.assert_close(value, reference_sq_norm(module, X))
    penalty(module(X), X, module).backward()  # double backward through jacrev
    for name, p in module.encoder.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_zero_weight_costs_nothing_and_equals_plain_training(monkeypatch, digits01):
    X = digits01[0][:300]
    kw = dict(n_components=8, hidden_layer_sizes=(), code_activation="sigmoid",
              lr=1e-2, max_iter=5, random_state=0)
    plain = Autoencoder(**kw).fit(X)
    _no_autograd_jacobian(monkeypatch)
    monkeypatch.setattr(ContractivePenalty, "per_sample", None)  # never called
    cae = ContractiveAutoencoder(contractive_weight=0.0, loss="mse", decoder_norm=None,
                                 **kw).fit(X)
    np.testing.assert_array_equal(cae.transform(X), plain.transform(X))
    assert cae.history_[-1]["train_contraction"] == 0.0


def test_build_penalties_is_cooperative():
    class WithL1(BaseAutoencoder):
        def _build_penalties(self):
            return [*super()._build_penalties(), L1ActivityPenalty(0.5)]

    class Both(ContractiveAutoencoder, WithL1):
        pass

    penalties = Both(contractive_weight=0.2)._build_penalties()
    assert [type(p) for p in penalties] == [L1ActivityPenalty, ContractivePenalty]
    assert penalties[1].weight == 0.2


# ---------------------------------------------------------------- the estimator
def test_contraction_lower_than_plain_autoencoder(digits01):
    # The one-layer model of the paper, with its closed-form penalty.
    X_train, X_test, _, _ = digits01
    kw = dict(n_components=32, hidden_layer_sizes=(), code_activation="sigmoid",
              lr=1e-2, max_iter=50, random_state=0)
    plain = Autoencoder(**kw).fit(X_train)
    cae = ContractiveAutoencoder(contractive_weight=0.06, loss="mse", decoder_norm=None,
                                 **kw).fit(X_train)
    with torch.no_grad():
        Xt = torch.from_numpy(X_test.astype(np.float32))
        j_plain = ContractivePenalty.jacobian_frobenius_sq(plain.net_.module_, Xt).sqrt()
        j_cae_ref = ContractivePenalty.jacobian_frobenius_sq(cae.net_.module_, Xt).sqrt()
    j_cae = cae.jacobian_norm(X_test)
    assert j_cae.dtype == np.float64 and j_cae.shape == (len(X_test),)
    np.testing.assert_allclose(j_cae, j_cae_ref.numpy(), rtol=1e-5)
    assert j_cae.mean() < 0.7 * j_plain.mean().item()
    # ... at a useful reconstruction: far better than the mean image
    rec = cae.inverse_transform(cae.transform(X_test))
    assert np.mean((rec - X_test) ** 2) < 0.3 * np.mean((X_train.mean(0) - X_test) ** 2)
    # the penalty records its own curve, and the terms add up to the loss
    last = cae.history_[-1]
    assert last["train_contraction"] > 0
    assert last["train_loss"] == pytest.approx(
        last["train_reconstruction"] + last["train_contraction"], rel=1e-4)


def test_default_contracts_and_learns(digits01):
    """The defaults contract *and* keep the information a classifier needs.

    A model mapping every input to nearly the same code has a tiny Jacobian too, so
    this also checks the codes' spread and a classifier on them against PCA's.
    """
    X_train, X_test, y_train, y_test = digits01
    kw = dict(n_components=32, max_iter=20, random_state=0)
    plain = ContractiveAutoencoder(contractive_weight=0.0, **kw).fit(X_train)
    cae = ContractiveAutoencoder(**kw).fit(X_train)
    assert cae.reconstruction_loss_ == "bce"
    # measured: 2.35 against 3.67, at the same reconstruction error (0.0093 / 0.0097)
    assert cae.jacobian_norm(X_test).mean() < 0.8 * plain.jacobian_norm(X_test).mean()
    mse = [np.mean((m.inverse_transform(m.transform(X_test)) - X_test) ** 2)
           for m in (cae, plain)]
    assert mse[0] < 1.2 * mse[1]
    Z_train, Z_test = cae.transform(X_train), cae.transform(X_test)
    assert Z_test.std(0).min() > 0.02
    pca = PCA(32).fit(X_train)

    def accuracy(A, B):
        return LogisticRegression(max_iter=2000).fit(A, y_train).score(B, y_test)

    # measured 0.962 against PCA's 0.964
    assert accuracy(Z_train, Z_test) > accuracy(pca.transform(X_train),
                                                pca.transform(X_test)) - 0.03


def test_deep_encoder_trains_and_contracts(digits01):
    X_train, X_test, _, _ = digits01
    kw = dict(n_components=16, hidden_layer_sizes=(64,), max_iter=20, random_state=0)
    plain = ContractiveAutoencoder(contractive_weight=0.0, **kw).fit(X_train)
    cae = ContractiveAutoencoder(contractive_weight=0.1, **kw).fit(X_train)
    assert cae.jacobian_norm(X_test).mean() < 0.7 * plain.jacobian_norm(X_test).mean()
    rec = cae.inverse_transform(cae.transform(X_test))
    assert np.mean((rec - X_test) ** 2) < 0.5 * np.mean((X_train.mean(0) - X_test) ** 2)
    # GELU has no derivative in terms of its output: the autograd path trains too
    gelu = ContractiveAutoencoder(**{**kw, "max_iter": 3}, activation="gelu").fit(X_train[:200])
    assert np.isfinite(gelu.history_[-1]["train_contraction"])
    with torch.no_grad():
        ref = ContractivePenalty.jacobian_frobenius_sq(
            gelu.net_.module_, torch.from_numpy(X_test[:20].astype(np.float32))).sqrt()
    np.testing.assert_allclose(gelu.jacobian_norm(X_test[:20]), ref.numpy(), rtol=1e-5)


def test_pipeline_logistic_regression(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = Pipeline([
        ("scale", MinMaxScaler()),
        ("cae", ContractiveAutoencoder(n_components=32, max_iter=50, random_state=0)),
        ("clf", LogisticRegression(max_iter=2000)),
    ]).fit(X_train, y_train)
    assert pipe.score(X_test, y_test) >= 0.9


def test_grid_search_over_contractive_weight(digits):
    X_train, _, y_train, _ = digits
    pipe = Pipeline([
        ("scale", MinMaxScaler()),
        ("cae", ContractiveAutoencoder(n_components=16, max_iter=20, random_state=0)),
        ("clf", LogisticRegression(max_iter=1000)),
    ])
    grid = {"cae__contractive_weight": [0.03, 30.0]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X_train, y_train)
    # a weight of 30 flattens the code and wrecks the features
    assert search.best_params_ == {"cae__contractive_weight": 0.03}
    assert search.best_estimator_.named_steps["cae"].contractive_weight == 0.03
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_pickle_round_trip(digits01):
    X_train, X_test, _, _ = digits01
    cae = ContractiveAutoencoder(n_components=8, max_iter=5, random_state=0).fit(X_train)
    cae2 = pickle.loads(pickle.dumps(cae))
    np.testing.assert_array_equal(cae.transform(X_test), cae2.transform(X_test))
    np.testing.assert_array_equal(cae.jacobian_norm(X_test), cae2.jacobian_norm(X_test))
    cae2.partial_fit(X_train)
    assert cae2.n_iter_ == cae.n_iter_ + 1
    assert cae2.history_[-1]["train_contraction"] > 0
    # a new weight set between partial_fit calls takes effect
    cae2.set_params(contractive_weight=0.0).partial_fit(X_train)
    assert cae2.history_[-1]["train_contraction"] == 0.0


def test_parameters():
    params = list(ContractiveAutoencoder().get_params())
    plain = list(Autoencoder().get_params())
    assert sorted(params) == sorted([*plain, "contractive_weight", "decoder_norm"])
    with pytest.raises(ValueError, match="contractive_weight"):
        ContractiveAutoencoder(contractive_weight=-1.0).fit(np.ones((4, 3)))
    with pytest.raises(ValueError, match="method"):
        ContractivePenalty(method="jvp")
