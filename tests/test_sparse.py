"""SparseAutoencoder and its penalties."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import Autoencoder, SparseAutoencoder
from skae.nn import AEOutput
from skae.penalties import KLSparsityPenalty, L1ActivityPenalty, kl_bernoulli


def _output(h):
    return AEOutput(reconstruction=h, logits=h, code=h, hidden=(h,))


def test_kl_gradient_matches_closed_form():
    # d/dz of beta * sum_j KL(rho || rho_hat_j), h = sigmoid(z), rho_hat = mean_i h_ij:
    # beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) * f'(z) / m
    torch.manual_seed(0)
    m, k, rho, beta = 32, 10, 0.05, 3.0
    z = torch.randn(m, k, dtype=torch.float64, requires_grad=True)
    h = torch.sigmoid(z)
    KLSparsityPenalty(rho, beta)(_output(h), None, None).backward()
    with torch.no_grad():
        h = torch.sigmoid(z)
        rho_hat = h.mean(0)
        expected = beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) * h * (1 - h) / m
    torch.testing.assert_close(z.grad, expected, rtol=1e-10, atol=1e-12)


def test_kl_value_and_clipping():
    h = torch.tensor([[0.1, 0.0], [0.3, 0.0]])
    value = KLSparsityPenalty(0.05, 2.0)(_output(h), None, None)
    rho_hat = torch.tensor([0.2, 1e-6])
    expected = 2.0 * (
        0.05 * torch.log(0.05 / rho_hat) + 0.95 * torch.log(0.95 / (1 - rho_hat))
    ).sum()
    torch.testing.assert_close(value, expected)
    assert torch.isfinite(KLSparsityPenalty()(_output(torch.ones(4, 3)), None, None))
    assert kl_bernoulli(0.3, torch.tensor(0.3)).item() == pytest.approx(0.0, abs=1e-7)


def test_l1_value():
    h = torch.tensor([[1.0, -3.0], [0.0, 2.0]])
    assert L1ActivityPenalty(0.5)(_output(h), None, None).item() == pytest.approx(0.75)


def test_mean_activation_reaches_target(digits01):
    X_train, X_test, _, _ = digits01
    kw = dict(n_components=64, max_iter=100, random_state=0)
    sparse = SparseAutoencoder(sparsity_target=0.05, **kw).fit(X_train)
    dense = SparseAutoencoder(sparsity_weight=0.0, **kw).fit(X_train)
    held_out = sparse.transform(X_test).mean()
    assert abs(held_out - 0.05) < 0.02
    assert dense.transform(X_test).mean() > 0.2  # far above without the penalty
    np.testing.assert_allclose(sparse.mean_activation_, sparse.transform(X_train).mean(0),
                               rtol=1e-5)
    # the penalty records its own curve, and the terms add up to the loss
    last = sparse.history_[-1]
    assert last["train_loss"] == pytest.approx(
        last["train_reconstruction"] + last["train_sparsity"], rel=1e-4)
    # and the codes still reconstruct far better than the mean image
    rec = sparse.inverse_transform(sparse.transform(X_test))
    assert np.mean((rec - X_test) ** 2) < 0.3 * np.mean((X_train.mean(0) - X_test) ** 2)


def test_l1_sparsity_shrinks_activity(digits01):
    X_train, X_test, _, _ = digits01
    kw = dict(n_components=32, sparsity="l1", code_activation="relu", max_iter=40,
              random_state=0)
    weak = SparseAutoencoder(sparsity_weight=0.0, **kw).fit(X_train)
    strong = SparseAutoencoder(sparsity_weight=0.5, **kw).fit(X_train)
    assert np.abs(strong.transform(X_test)).mean() < 0.3 * np.abs(weak.transform(X_test)).mean()
    # relu + L1 gives exact zeros: most codes are inactive
    assert (strong.transform(X_test) == 0).mean() > 0.5


def test_penalty_on_all_hidden_layers(digits01):
    X_train = digits01[0]
    kw = dict(n_components=16, hidden_layer_sizes=(32,), max_iter=60, random_state=0)
    code_only = SparseAutoencoder(**kw).fit(X_train)
    every = SparseAutoencoder(sparsity_layers="all", **kw).fit(X_train)
    with torch.no_grad():
        X = torch.from_numpy(X_train.astype(np.float32))
        hidden_code_only = code_only.net_.module_(X).hidden[0].mean().item()
        hidden_every = every.net_.module_(X).hidden[0].mean().item()
    assert hidden_every < 0.1 < hidden_code_only


@pytest.mark.parametrize(
    "params",
    [{"code_activation": "relu"},
     {"sparsity_layers": "all", "hidden_layer_sizes": (8,), "activation": "relu"}],
)
def test_kl_needs_sigmoid_units(params):
    with pytest.raises(ValueError, match="must be sigmoids"):
        SparseAutoencoder(max_iter=2, **params).fit(np.random.rand(20, 5))


def test_weight_decay_shrinks_weights(digits01):
    X = digits01[0]
    kw = dict(n_components=32, max_iter=30, random_state=0)
    plain = SparseAutoencoder(**kw).fit(X)
    decayed = SparseAutoencoder(weight_decay=1e-2, **kw).fit(X)

    def weight_norm(est):
        return sum(p.square().sum().item() for n, p in est.net_.module_.named_parameters()
                   if n.endswith("weight"))

    assert weight_norm(decayed) < 0.7 * weight_norm(plain)


def test_pipeline_and_grid_search(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = Pipeline([
        ("scale", MinMaxScaler()),
        ("ae", SparseAutoencoder(n_components=64, random_state=0)),
        ("clf", LogisticRegression(max_iter=2000)),
    ])
    assert pipe.fit(X_train, y_train).score(X_test, y_test) >= 0.9
    pipe.set_params(ae__max_iter=30)
    search = GridSearchCV(pipe, {"ae__sparsity_weight": [0.03, 0.3]}, cv=2).fit(X_train, y_train)
    assert search.best_params_["ae__sparsity_weight"] in (0.03, 0.3)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_is_an_autoencoder_with_the_same_protocol(digits01):
    sae = SparseAutoencoder(n_components=8, max_iter=3, random_state=0).fit(digits01[0])
    assert isinstance(sae.score(digits01[1]), float)
    assert list(sae.get_feature_names_out()[:2]) == ["sparseautoencoder0", "sparseautoencoder1"]
    assert set(Autoencoder().get_params()) < set(sae.get_params())
