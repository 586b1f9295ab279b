"""VariationalAutoencoder: the ELBO, the IWAE bound, sampling and the scikit-learn protocol."""

import inspect
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skae import VariationalAutoencoder
from skae.nn import VAEModule, gaussian_kl, log_likelihood
from skae.penalties import GaussianKLPenalty


@pytest.fixture(scope="module")
def vae(digits01):
    """A VAE fitted on [0, 1]-scaled digits (Bernoulli likelihood chosen by 'auto')."""
    X_train = digits01[0]
    return VariationalAutoencoder(max_iter=60, random_state=0).fit(X_train)


# ------------------------------------------------------------------------- pure torch
def test_kl_matches_monte_carlo():
    gen = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    logvar = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    eps = torch.randn(200_000, 4, 3, generator=gen, dtype=torch.float64)
    z = mu + torch.exp(0.5 * logvar) * eps
    log_q = -0.5 * (eps.square() + logvar + np.log(2 * np.pi)).sum(-1)
    log_p = -0.5 * (z.square() + np.log(2 * np.pi)).sum(-1)
    mc = (log_q - log_p).mean(0)
    analytic = gaussian_kl(mu, logvar)
    np.testing.assert_allclose(mc.numpy(), analytic.numpy(), rtol=0.02, atol=0.02)


def test_kl_penalty_is_weighted_mean():
    mu, logvar = torch.randn(5, 2), torch.randn(5, 2)
    from skae.nn import AEOutput

    out = AEOutput(mu, mu, mu, extras={"mu": mu, "logvar": logvar})
    pen = GaussianKLPenalty(beta=2.0, scale=0.5)
    assert pen.name == "kl"
    torch.testing.assert_close(pen(out, None, None), gaussian_kl(mu, logvar).mean())


def test_gaussian_likelihood_is_a_normalised_density():
    x = torch.tensor([[0.3, -1.2]])
    mean = torch.tensor([[0.1, 0.4]])
    logvar = torch.tensor([0.5, -0.7])
    expected = torch.distributions.Normal(mean, torch.exp(0.5 * logvar)).log_prob(x).sum()
    torch.testing.assert_close(log_likelihood(x, mean, "gaussian", logvar)[0], expected)
    probs = torch.tensor([[0.2, 0.9]])
    xb = torch.tensor([[1.0, 0.0]])
    expected = torch.distributions.Bernoulli(probs=probs).log_prob(xb).sum()
    torch.testing.assert_close(log_likelihood(xb, torch.logit(probs), "bernoulli")[0], expected)


def test_module_samples_only_in_training_mode():
    module = VAEModule(6, 2, (5,))
    x = torch.rand(4, 6)
    module.eval()
    out = module(x)
    torch.testing.assert_close(out.extras["z"], out.extras["mu"])
    module.train()
    assert not torch.equal(module(x).extras["z"], module(x).extras["mu"])


def test_logvar_is_bounded():
    module = VAEModule(3, 2, ())
    with torch.no_grad():
        module.logvar_head.bias.fill_(1e4)
    _, logvar, _ = module.posterior(torch.ones(2, 3))
    assert torch.isfinite(logvar.exp()).all() and logvar.max() <= 10.0


# ------------------------------------------------------------------------- estimator
def test_signature_matches_constraints():
    params = inspect.signature(VariationalAutoencoder.__init__).parameters
    kinds = [p.kind for n, p in params.items() if n not in ("self", "n_components")]
    assert all(k is inspect.Parameter.KEYWORD_ONLY for k in kinds)
    assert set(params) - {"self"} == set(VariationalAutoencoder._parameter_constraints)


def test_history_records_elbo_parts(vae):
    h = vae.history_
    for key in ("train_reconstruction", "train_kl", "train_elbo", "kl_weight"):
        assert key in h[-1]
    last = h[-1]
    assert last["kl_weight"] == vae.beta == 0.5  # the warm-up ends at beta
    np.testing.assert_allclose(
        last["train_loss"], last["train_reconstruction"] + last["train_kl"], rtol=1e-5
    )
    np.testing.assert_allclose(
        vae.elbo_, -(last["train_reconstruction"] + last["train_kl_unweighted"]), rtol=1e-5
    )
    assert vae.likelihood_ == "bernoulli" and vae.output_activation_ == "sigmoid"
    assert len(vae.elbo_curve_) == vae.n_iter_


def test_kl_warmup_scales_the_kl_weight(digits01):
    X = digits01[0][:300]
    vae = VariationalAutoencoder(n_components=4, max_iter=6, kl_warmup=4, beta=2.0,
                                 random_state=0).fit(X)
    weights = [e["kl_weight"] for e in vae.history_]
    np.testing.assert_allclose(weights, [0.0, 0.5, 1.0, 1.5, 2.0, 2.0])
    first = vae.history_[0]
    assert first["train_kl"] == 0.0 and first["train_kl_unweighted"] > 0
    # partial_fit continues the schedule
    vae.partial_fit(X)
    assert vae.history_[-1]["kl_weight"] == 2.0


def test_transform_is_deterministic_and_sample_latent_is_not_the_mean(vae, digits01):
    X = digits01[1]
    np.testing.assert_array_equal(vae.transform(X), vae.transform(X))
    sampler = clone(vae).set_params(sample_latent=True)
    sampler.__dict__.update({k: v for k, v in vars(vae).items() if k.endswith("_")})
    Z1, Z2 = sampler.transform(X), sampler.transform(X)
    np.testing.assert_array_equal(Z1, Z2)  # seeded by random_state
    assert not np.allclose(Z1, vae.transform(X))
    assert Z1.shape == (len(X), vae.n_components)


def test_sample_is_reproducible_and_in_range(vae):
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    a = vae.sample(7, random_state=1)
    np.testing.assert_array_equal(a, vae.sample(7, random_state=1))
    assert not np.allclose(a, vae.sample(7, random_state=2))
    assert a.shape == (7, vae.n_features_in_) and a.dtype == np.float64
    assert a.min() >= 0.0 and a.max() <= 1.0
    drawn = vae.sample(5, random_state=0, return_mean=False)
    assert set(np.unique(drawn)) <= {0.0, 1.0}
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)


def test_elbo_below_iwae_on_held_out_data(digits01):
    X_train, X_test = digits01[0], digits01[1]
    est = VariationalAutoencoder(beta=1.0, max_iter=20, random_state=0).fit(X_train)
    # One call draws one set of noise shared by all rows, so the bounds are compared in
    # expectation: averaged over 8 noise seeds. Measured over 4 fits x 32 seeds, the
    # IWAE-50 minus ELBO gap is 0.34-0.36 nats with a per-seed spread of 0.2-0.3.
    means = {1: [], 50: []}
    for seed in range(8):
        est._noise_seed_ = seed
        for k in means:
            est.set_params(n_importance_samples=k)
            scores = est.score_samples(X_test)
            assert scores.shape == (len(X_test),) and scores.dtype == np.float64
            assert np.isfinite(scores).all() and (scores < 0).all()
            means[k].append(scores.mean())
    gap = np.mean(means[50]) - np.mean(means[1])
    assert 0.1 < gap < 5.0  # a tighter bound, not something else
    np.testing.assert_array_equal(est.score_samples(X_test[:9]), est.score_samples(X_test[:9]))
    np.testing.assert_allclose(est.score(X_test), means[50][-1])


def test_score_samples_do_not_depend_on_other_rows(vae, digits01):
    X = digits01[1][:40]
    full = vae.score_samples(X)
    np.testing.assert_allclose(vae.score_samples(X[::-1])[::-1], full, rtol=1e-5)
    np.testing.assert_allclose(vae.score_samples(X[:3]), full[:3], rtol=1e-5)


def test_pipeline_with_logistic_regression(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = make_pipeline(
        MinMaxScaler(),
        VariationalAutoencoder(max_iter=60, random_state=0),
        LogisticRegression(max_iter=2000),
    )
    acc = pipe.fit(X_train, y_train).score(X_test, y_test)
    assert acc >= 0.85


def test_default_codes_keep_latent_units_active(digits01):
    """The default beta keeps more of the code off the prior, and the codes learn.

    Measured on these digits with 32 latent units: beta=1 shrinks the posterior means
    towards the prior (15 units with variance > 0.1, LR on the codes 0.92; PCA-32:
    0.96); the default keeps 18 such units, with larger variance, and reaches 0.96.
    """
    X_train, X_test, y_train, y_test = digits01
    kw = dict(n_components=32, max_iter=60, random_state=0)
    default = VariationalAutoencoder(**kw).fit(X_train)
    vae1 = VariationalAutoencoder(beta=1.0, **kw).fit(X_train)

    def accuracy(Z_train, Z_test):
        clf = LogisticRegression(max_iter=2000).fit(Z_train, y_train)
        return clf.score(Z_test, y_test)

    def active(est):
        return int((est.transform(X_train).var(0) > 0.1).sum())

    assert active(default) > active(vae1)
    acc = accuracy(default.transform(X_train), default.transform(X_test))
    acc1 = accuracy(vae1.transform(X_train), vae1.transform(X_test))
    assert acc > acc1 + 0.02
    pca = PCA(32).fit(X_train)
    assert acc > accuracy(pca.transform(X_train), pca.transform(X_test)) - 0.03


def test_grid_search_by_likelihood_without_labels(digits01):
    X = digits01[0][:500]
    search = GridSearchCV(
        VariationalAutoencoder(max_iter=8, random_state=0),
        {"beta": [1.0, 4.0]},
        cv=2,
    ).fit(X)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # beta=1 maximises the ELBO itself; a beta-VAE gives up likelihood
    assert search.best_params_ == {"beta": 1.0}


def test_gaussian_likelihood_on_standardised_data(digits):
    X = StandardScaler().fit_transform(digits[0])
    for variance in ("learned", 1.0):
        vae = VariationalAutoencoder(n_components=8, max_iter=15, gaussian_variance=variance,
                                     random_state=0).fit(X)
        assert vae.likelihood_ == "gaussian" and vae.output_activation_ == "identity"
        scores = vae.score_samples(X[:50])
        assert np.isfinite(scores).all()
        assert vae.set_params(n_importance_samples=10).score(X[:50]) >= scores.mean() - 1e-3
        sampled = vae.sample(4, random_state=0, return_mean=False)
        assert sampled.shape == (4, X.shape[1]) and np.isfinite(sampled).all()


def test_bernoulli_needs_data_in_unit_interval(digits, digits01):
    X_raw = digits[0]
    with pytest.raises(ValueError, match="needs input values in \\[0, 1\\]"):
        VariationalAutoencoder(likelihood="bernoulli", max_iter=2).fit(X_raw)
    vae = VariationalAutoencoder(max_iter=2, random_state=0).fit(digits01[0])  # auto
    with pytest.raises(ValueError, match="likelihood='gaussian'"):
        vae.score_samples(X_raw)
    with pytest.raises(ValueError, match="needs input values"):
        vae.partial_fit(X_raw)
    # encoding needs no likelihood: a scaled test set may stray outside [0, 1]
    assert np.isfinite(vae.transform(X_raw)).all()


def test_pickle_round_trip(vae, digits01):
    X = digits01[1]
    vae2 = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(vae2.transform(X), vae.transform(X))
    np.testing.assert_array_equal(vae2.score_samples(X), vae.score_samples(X))
    np.testing.assert_array_equal(vae2.sample(3, random_state=0), vae.sample(3, random_state=0))


def test_common_protocol():
    X = np.random.RandomState(0).rand(120, 10)
    est = VariationalAutoencoder(n_components=4, max_iter=4, batch_size=32, random_state=0)
    with pytest.raises(NotFittedError):
        est.transform(X)
    with pytest.raises(NotFittedError):
        est.sample()
    Z = est.fit_transform(X.astype(np.float32))
    assert Z.shape == (len(X), 4) and Z.dtype == np.float32
    assert est.inverse_transform(Z).shape == X.shape
    n_iter = est.n_iter_
    est.partial_fit(X)
    assert est.n_iter_ == n_iter + 1
