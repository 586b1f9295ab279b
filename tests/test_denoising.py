"""DenoisingAutoencoder and the corruptions of skae.corruption."""

import inspect
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import Autoencoder, DenoisingAutoencoder
from skae._base import BaseAutoencoder
from skae.corruption import Compose, GaussianNoise, MaskingNoise, SaltAndPepperNoise
from skae.engine import seeded
from skae.penalties import L1ActivityPenalty

# The settings of the denoising-vs-plain comparison (docs/denoising.rst quotes them).
DENOISE = dict(n_components=32, hidden_layer_sizes=(64,), max_iter=100, random_state=0)
FAST = dict(n_components=4, hidden_layer_sizes=(8,), max_iter=3, batch_size=32, random_state=0)

NOISES = [MaskingNoise(0.3), GaussianNoise(0.2), SaltAndPepperNoise(0.3)]


@pytest.fixture(scope="module")
def big():
    # Values in [0.25, 0.75): never 0 or 1, so every corrupted entry is visible.
    return torch.rand(1000, 200, generator=torch.Generator().manual_seed(0)) * 0.5 + 0.25


@pytest.fixture(scope="module")
def small():
    return np.random.RandomState(0).rand(80, 6) * 4 - 1  # in [-1, 3]


# ----------------------------------------------------------------- the corruptions
def test_masking_noise_statistics(big):
    before = big.clone()
    out = MaskingNoise(0.3)(big)
    masked = out == 0
    assert masked.float().mean().item() == pytest.approx(0.3, abs=0.005)  # 200k draws
    assert torch.equal(out[~masked], big[~masked])  # kept inputs are not rescaled
    assert torch.equal(big, before)  # not in place
    # each sample is masked independently, about 30 % of its inputs
    assert masked.float().mean(1).std().item() == pytest.approx((0.3 * 0.7 / 200) ** 0.5, rel=0.1)
    assert torch.equal(MaskingNoise(0.0)(big), big)
    assert (MaskingNoise(1.0)(big) == 0).all()


def test_gaussian_noise_statistics(big):
    eps = GaussianNoise(0.2)(big) - big
    assert eps.mean().item() == pytest.approx(0.0, abs=0.002)
    assert eps.std().item() == pytest.approx(0.2, rel=0.01)
    assert torch.equal(GaussianNoise(0.0)(big), big)
    # clipped: about P(N(0, 1) > 1) = 15.9 % of the values land on each bound
    out = GaussianNoise(0.5, low=0.0, high=1.0)(torch.full((1000, 200), 0.5))
    assert out.min().item() == 0.0 and out.max().item() == 1.0
    assert (out == 0).float().mean().item() == pytest.approx(0.1587, abs=0.005)
    assert (out == 1).float().mean().item() == pytest.approx(0.1587, abs=0.005)
    # one-sided clipping
    out = GaussianNoise(1.0, low=0.0)(torch.zeros(100, 100))
    assert out.min().item() == 0.0 and out.max().item() > 2.0


def test_salt_and_pepper_statistics(big):
    out = SaltAndPepperNoise(0.3, low=-1.0, high=2.0)(big)
    pepper, salt = out == -1.0, out == 2.0
    assert pepper.float().mean().item() == pytest.approx(0.15, abs=0.005)
    assert salt.float().mean().item() == pytest.approx(0.15, abs=0.005)
    kept = ~(pepper | salt)
    assert torch.equal(out[kept], big[kept])
    assert set(SaltAndPepperNoise(1.0)(big).unique().tolist()) == {0.0, 1.0}  # default values


def test_corruption_validation_and_repr():
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"probability in \[0, 1\]"):
            MaskingNoise(bad)
        with pytest.raises(ValueError, match=r"probability in \[0, 1\]"):
            SaltAndPepperNoise(bad)
    with pytest.raises(ValueError, match="std must be"):
        GaussianNoise(-1.0)
    with pytest.raises(ValueError, match="low must not exceed high"):
        GaussianNoise(0.1, low=1.0, high=0.0)
    with pytest.raises(TypeError, match="callables"):
        Compose(MaskingNoise(0.1), 3)
    assert repr(MaskingNoise(0.3)) == "MaskingNoise(p=0.3)"
    assert repr(GaussianNoise(0.1, high=1)) == "GaussianNoise(std=0.1, low=None, high=1.0)"
    assert repr(SaltAndPepperNoise(0.2, -1, 1)) == "SaltAndPepperNoise(p=0.2, low=-1.0, high=1.0)"
    assert MaskingNoise(0.3) == MaskingNoise(0.3) != MaskingNoise(0.4)


@pytest.mark.parametrize("noise", NOISES, ids=repr)
def test_corruption_is_seeded_and_fresh_per_batch(noise):
    X = torch.rand(64, 10, generator=torch.Generator().manual_seed(1))
    state = torch.get_rng_state()
    with seeded(0):
        a, b = noise(X), noise(X)  # two batches
    with seeded(0):
        a2 = noise(X)
    with seeded(1):
        c = noise(X)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, a2)  # reproducible from the seed
    assert not torch.equal(a, b) and not torch.equal(a, c)  # fresh draws
    noise2 = pickle.loads(pickle.dumps(noise))
    assert noise2 == noise and repr(noise2) == repr(noise)
    with seeded(0):
        assert torch.equal(noise2(X), a)


def test_compose_applies_in_order():
    X = torch.rand(5, 4)
    to_five = SaltAndPepperNoise(1.0, low=5.0, high=5.0)
    assert (Compose(to_five, MaskingNoise(1.0))(X) == 0).all()
    assert (Compose(MaskingNoise(1.0), to_five)(X) == 5).all()
    assert torch.equal(Compose()(X), X)


# ---------------------------------------------------------------- the estimator
def test_parameters_are_autoencoders_plus_noise():
    ae = inspect.signature(Autoencoder.__init__).parameters
    dae = inspect.signature(DenoisingAutoencoder.__init__).parameters
    names = list(ae)
    i = names.index("loss") + 1
    assert list(dae) == [*names[:i], "noise", "noise_level", "clip_noise", *names[i:]]
    assert all(dae[n].default == ae[n].default for n in ae if n != "self")
    assert DenoisingAutoencoder().get_params()["noise"] == "masking"
    assert DenoisingAutoencoder().noise_level == 0.3 and DenoisingAutoencoder().clip_noise


@pytest.fixture(scope="module")
def denoise_pair(digits01):
    X_train = digits01[0]
    dae = DenoisingAutoencoder(noise="masking", noise_level=0.3, **DENOISE).fit(X_train)
    ae = Autoencoder(**DENOISE).fit(X_train)
    return dae, ae


def _mse(est, X_in, X_clean):
    return float(np.mean((est.inverse_transform(est.transform(X_in)) - X_clean) ** 2))


def test_denoising_beats_plain_autoencoder_on_corrupted_inputs(digits01, denoise_pair):
    X_test = digits01[1]
    dae, ae = denoise_pair
    with seeded(0):  # a fixed noisy test set, independent of either model
        X_noisy = MaskingNoise(0.3)(torch.from_numpy(X_test)).numpy()
    assert dae.n_iter_ == ae.n_iter_ == DENOISE["max_iter"]  # same budget
    mse_dae, mse_ae = _mse(dae, X_noisy, X_test), _mse(ae, X_noisy, X_test)
    # measured: 0.026 vs 0.038
    assert mse_dae < 0.85 * mse_ae
    # and both do better than leaving the noisy input as it is
    assert mse_dae < 0.5 * np.mean((X_noisy - X_test) ** 2)


def test_inference_is_deterministic_and_sees_clean_input(digits01, denoise_pair):
    X_train, X_test = digits01[:2]
    dae = denoise_pair[0]
    Z = dae.transform(X_test)
    np.testing.assert_array_equal(Z, dae.transform(X_test))
    with torch.no_grad():
        dae.net_.module_.eval()
        Z_clean = dae.net_.module_.encode(torch.from_numpy(X_test.astype(np.float32)))
    np.testing.assert_allclose(Z, Z_clean.numpy(), rtol=1e-5, atol=1e-6)
    assert dae.score(X_train) == dae.score(X_train)
    np.testing.assert_array_equal(dae.score_samples(X_test), dae.score_samples(X_test))
    # the training loss was measured on corrupted inputs, the score on clean ones
    assert dae.loss_curve_[-1] > 1.3 * -dae.score(X_train)


def test_corrupt_method(digits01, denoise_pair):
    X_test = digits01[1]
    dae = denoise_pair[0]
    state = torch.get_rng_state()
    a = dae.corrupt(X_test, random_state=0)
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(a, dae.corrupt(X_test, random_state=0))
    assert not np.array_equal(a, dae.corrupt(X_test, random_state=1))
    assert a.dtype == np.float64 and a.shape == X_test.shape
    assert dae.corrupt(X_test.astype(np.float32), random_state=0).dtype == np.float32
    nonzero = X_test != 0
    assert np.mean(a[nonzero] == 0) == pytest.approx(0.3, abs=0.02)
    kept = a != 0
    np.testing.assert_array_equal(a[kept], X_test[kept])  # exact, no float32 round trip
    with pytest.raises(ValueError, match="features"):
        dae.corrupt(X_test[:, :10])
    with pytest.raises(NotFittedError):
        DenoisingAutoencoder().corrupt(X_test)


def test_noise_types_use_training_range(small):
    X = small
    lo, hi = X.min(), X.max()
    gauss = DenoisingAutoencoder(noise="gaussian", noise_level=2.0, **FAST).fit(X)
    assert gauss.noise_range_ == (pytest.approx(lo), pytest.approx(hi))
    assert gauss.net_.corruption == GaussianNoise(2.0, low=gauss.noise_range_[0],
                                                  high=gauss.noise_range_[1])
    Xn = gauss.corrupt(X, random_state=0)
    assert Xn.min() >= np.float32(lo) and Xn.max() <= np.float32(hi)
    assert np.mean(Xn != X) > 0.9
    free = DenoisingAutoencoder(noise="gaussian", noise_level=2.0, clip_noise=False, **FAST)
    Xn = free.fit(X).corrupt(X, random_state=0)
    assert free.net_.corruption == GaussianNoise(2.0)
    assert Xn.min() < lo - 1 and Xn.max() > hi + 1
    sp = DenoisingAutoencoder(noise="salt_and_pepper", noise_level=0.5, **FAST).fit(X)
    Xn = sp.corrupt(X, random_state=0)
    changed = Xn != X
    assert np.mean(changed) == pytest.approx(0.5, abs=0.1)
    np.testing.assert_allclose(np.unique(Xn[changed]), [lo, hi], rtol=1e-6)
    sp01 = DenoisingAutoencoder(noise="salt_and_pepper", clip_noise=False, **FAST).fit(X)
    assert sp01.net_.corruption == SaltAndPepperNoise(0.3, 0.0, 1.0)


def test_fit_is_reproducible_and_noise_is_active(small):
    a = DenoisingAutoencoder(**FAST).fit(small).transform(small)
    b = DenoisingAutoencoder(**FAST).fit(small).transform(small)
    c = DenoisingAutoencoder(**{**FAST, "noise_level": 0.6}).fit(small).transform(small)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_invalid_noise_level(small):
    for noise in ("masking", "salt_and_pepper"):
        est = DenoisingAutoencoder(noise=noise, noise_level=1.5, **FAST)
        with pytest.raises(ValueError, match=r"noise_level=1.5 is a probability .* \[0, 1\]"):
            est.fit(small)
        assert not hasattr(est, "net_") and not hasattr(est, "noise_range_")
    DenoisingAutoencoder(noise="gaussian", noise_level=1.5, **FAST).fit(small)  # a std
    with pytest.raises(ValueError, match="noise_level"):
        DenoisingAutoencoder(noise_level=-0.1, **FAST).fit(small)
    with pytest.raises(ValueError, match="noise"):
        DenoisingAutoencoder(noise="dropout", **FAST).fit(small)


def test_pickle_round_trip(small):
    dae = DenoisingAutoencoder(noise="salt_and_pepper", **FAST).fit(small)
    dae2 = pickle.loads(pickle.dumps(dae))
    np.testing.assert_array_equal(dae.transform(small), dae2.transform(small))
    assert dae2.net_.corruption == dae.net_.corruption
    assert dae2.noise_range_ == dae.noise_range_
    np.testing.assert_array_equal(dae.corrupt(small, random_state=3),
                                  dae2.corrupt(small, random_state=3))
    dae2.partial_fit(small)  # keeps training, with its noise
    assert dae2.n_iter_ == dae.n_iter_ + 1
    assert clone(dae).get_params() == dae.get_params()


def test_pipeline_with_logistic_regression(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("dae", DenoisingAutoencoder(n_components=32, hidden_layer_sizes=(64,),
                                         max_iter=40, random_state=0)),
            ("clf", LogisticRegression(max_iter=2000)),
        ]
    ).fit(X_train, y_train)
    assert pipe.score(X_test, y_test) >= 0.9


def test_grid_search_over_noise_level(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("dae", DenoisingAutoencoder(n_components=16, hidden_layer_sizes=(32,),
                                         max_iter=10, random_state=0)),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    search = GridSearchCV(pipe, {"dae__noise_level": [0.1, 0.4]}, cv=2).fit(X_train, y_train)
    assert search.best_params_["dae__noise_level"] in (0.1, 0.4)
    best = search.best_estimator_.named_steps["dae"]
    assert best.net_.corruption == MaskingNoise(search.best_params_["dae__noise_level"])
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.score(X_test, y_test) > 0.5
    # without labels the search ranks by (clean) reconstruction score
    X01 = MinMaxScaler().fit_transform(X_train)
    unsup = GridSearchCV(DenoisingAutoencoder(**FAST), {"noise_level": [0.0, 0.9]}, cv=2)
    assert (unsup.fit(X01).cv_results_["mean_test_score"] < 0).all()


# --------------------------------------------------------------- composition
class SparseDenoising(DenoisingAutoencoder):
    """A sparse denoising autoencoder, by overriding one more hook."""

    def _build_penalties(self):
        return [*super()._build_penalties(), L1ActivityPenalty(1e-3)]


def test_sparse_denoising_composes_penalty_and_noise(digits01):
    X_train = digits01[0]
    kw = dict(n_components=16, hidden_layer_sizes=(32,), max_iter=60, random_state=0)
    est = SparseDenoising(**kw).fit(X_train)
    assert est.net_.corruption == MaskingNoise(0.3)
    assert [p.name for p in est.net_.penalties] == ["sparsity"]
    last = est.history_[-1]
    assert {"train_sparsity", "train_reconstruction"} <= set(last)
    assert last["train_sparsity"] > 0
    assert last["train_loss"] == pytest.approx(
        last["train_reconstruction"] + last["train_sparsity"], rel=1e-4)
    # The recorded reconstruction term is measured on corrupted inputs, so it lies well
    # above the clean reconstruction error (measured 1.25x); without noise it matches.
    assert last["train_reconstruction"] > 1.15 * -est.score(X_train)
    clean = SparseDenoising(**kw, noise_level=0.0).fit(X_train)
    assert clean.history_[-1]["train_reconstruction"] < 1.05 * -clean.score(X_train)
    assert pickle.loads(pickle.dumps(est)).net_.corruption == MaskingNoise(0.3)


class AddOne:
    def __call__(self, X):
        return X + 1.0


class _ShiftingBase(BaseAutoencoder):
    def _build_corruption(self, X):
        other = super()._build_corruption(X)
        return AddOne() if other is None else Compose(other, AddOne())


class ShiftedDenoising(DenoisingAutoencoder, _ShiftingBase):
    pass


def test_corruption_is_cooperative(small):
    est = ShiftedDenoising(noise_level=1.0, **FAST).fit(small)
    corruption = est.net_.corruption
    assert isinstance(corruption, Compose)
    assert isinstance(corruption.corruptions[0], AddOne)
    assert corruption.corruptions[1] == MaskingNoise(1.0)
    # the other base's corruption first, then the masking: everything ends at 0
    assert (est.corrupt(small, random_state=0) == 0).all()
