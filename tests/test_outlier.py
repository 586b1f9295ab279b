"""AutoencoderOutlierDetector and StackedAutoencoder.score_samples (issue 16)."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import (
    Autoencoder,
    AutoencoderOutlierDetector,
    StackedAutoencoder,
    VariationalAutoencoder,
)
from skae.nn import AEOutput, ReconstructionLoss, TrimmedLoss

SMALL = dict(n_components=8, hidden_layer_sizes=(32,), max_iter=40, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="module")
def zero_detector(digits):
    """Trained on 3/4 of the zeros; the rest of the zeros are held-out normal data."""
    X, y = digits
    zeros = np.flatnonzero(y == 0)
    rs = np.random.RandomState(0).permutation(zeros)
    train, held = rs[: 3 * len(rs) // 4], rs[3 * len(rs) // 4:]
    det = AutoencoderOutlierDetector(Autoencoder(**SMALL), contamination=0.1).fit(X[train])
    return det, train, held


def test_api_predict_decision_offset(digits, zero_detector):
    X, _ = digits
    det, train, _ = zero_detector
    s = det.score_samples(X)
    d = det.decision_function(X)
    p = det.predict(X)
    np.testing.assert_allclose(d, s - det.offset_)
    assert set(np.unique(p)) == {-1, 1}
    np.testing.assert_array_equal(p == -1, d < 0)
    # offset_ is the contamination quantile of the training scores
    assert det.offset_ == pytest.approx(np.percentile(det.score_samples(X[train]), 10))
    assert np.mean(det.predict(X[train]) == -1) == pytest.approx(0.1, abs=0.02)
    assert det.n_features_in_ == 64 and det.estimator_.n_features_in_ == 64
    fp = AutoencoderOutlierDetector(Autoencoder(**SMALL), contamination=0.1).fit_predict(X[train])
    np.testing.assert_array_equal(fp, det.predict(X[train]))  # same seed, same model


def test_threshold_on_held_out_normal_data(digits, zero_detector):
    X, _ = digits
    det, _, held = zero_detector
    flagged = np.mean(det.predict(X[held]) == -1)
    # 45 held-out zeros: the 10 % threshold flags a similar fraction (not 0, not half)
    assert 0.0 < flagged <= 0.3


def test_auroc_one_class_digits_beats_isolation_forest(digits, zero_detector):
    X, y = digits
    det, train, held = zero_detector
    test = np.r_[held, np.flatnonzero(y != 0)]
    normal = y[test] == 0
    auc = roc_auc_score(normal, det.score_samples(X[test]))
    iforest = IsolationForest(random_state=0).fit(X[train])
    auc_if = roc_auc_score(normal, iforest.score_samples(X[test]))
    assert auc > 0.95
    assert auc >= auc_if - 0.01


def test_robust_refit_flags_the_planted_anomalies(digits):
    X, y = digits
    rs = np.random.RandomState(0)
    zeros = np.flatnonzero(y == 0)
    others = rs.choice(np.flatnonzero(y != 0), 20, replace=False)  # 10 % anomalies
    X_train = X[np.r_[zeros, others]]
    planted = np.r_[np.zeros(len(zeros), bool), np.ones(20, bool)]
    found, auc = {}, {}
    for robust in (False, "refit", "trim"):
        det = AutoencoderOutlierDetector(Autoencoder(**SMALL), contamination=0.1,
                                         robust=robust, random_state=0).fit(X_train)
        flagged = det.predict(X_train) == -1
        assert np.mean(flagged) == pytest.approx(0.1, abs=0.02)
        found[robust] = flagged[planted].mean()
        auc[robust] = roc_auc_score(~planted, det.score_samples(X_train))
    # refitted without them, or never fitted to them (trimmed), the anomalies
    # reconstruct worse: (nearly) all get flagged
    for robust in ("refit", "trim"):
        assert found[robust] >= found[False] and found[robust] >= 0.9, robust
        assert auc[robust] >= auc[False] - 0.005, robust


def test_trimmed_training_is_the_default_robust_mode(digits):
    X, y = digits
    det = AutoencoderOutlierDetector(Autoencoder(**SMALL), contamination=0.05,
                                     random_state=0).fit(X[y == 1])
    assert det.robust is True
    criterion = det.estimator_.net_.criterion_
    assert isinstance(criterion, TrimmedLoss) and criterion.fraction == 0.1  # 2 x 0.05
    assert "train_reconstruction" not in det.estimator_.history_[-1]  # no extra term
    plain = AutoencoderOutlierDetector(Autoencoder(**SMALL), robust=False,
                                       random_state=0).fit(X[y == 1])
    assert isinstance(plain.estimator_.net_.criterion_, ReconstructionLoss)
    # a stack has no trimmed loss: True falls back to refitting, "trim" says why not
    stack = StackedAutoencoder(n_components=4, hidden_layer_sizes=(8,), max_iter=2)
    fitted = AutoencoderOutlierDetector(stack, random_state=0).fit(X[y == 1])
    assert not hasattr(fitted.estimator_, "_training_criterion")
    with pytest.raises(ValueError, match="trimmed loss.*robust='refit'"):
        AutoencoderOutlierDetector(stack, robust="trim").fit(X[y == 1])
    # the trimmed fraction travels with a pickled detector
    again = pickle.loads(pickle.dumps(det))
    assert isinstance(again.estimator_.net_.criterion_, TrimmedLoss)
    np.testing.assert_array_equal(again.score_samples(X[:9]), det.score_samples(X[:9]))


def test_random_state_makes_fits_reproducible(digits):
    X, y = digits
    est = Autoencoder(n_components=4, hidden_layer_sizes=(16,), max_iter=3)
    a = AutoencoderOutlierDetector(est, random_state=1).fit(X[y == 3])
    b = AutoencoderOutlierDetector(est, random_state=1).fit(X[y == 3])
    np.testing.assert_array_equal(a.score_samples(X[:20]), b.score_samples(X[:20]))
    assert est.random_state is None  # the given estimator is cloned, never changed


def test_works_with_a_vae_and_a_stack(digits):
    X, y = digits
    for est in (VariationalAutoencoder(n_components=4, max_iter=3, random_state=0),
                StackedAutoencoder(4, hidden_layer_sizes=(16,), max_iter=3, random_state=0)):
        det = AutoencoderOutlierDetector(est, contamination=0.2).fit(X[y == 5])
        assert det.decision_function(X[:10]).shape == (10,)
        assert np.mean(det.predict(X[y == 5]) == -1) == pytest.approx(0.2, abs=0.03)


def test_pipeline_and_grid_search_with_roc_auc(digits):
    X, y = digits
    # train on zeros; validate on held-out zeros (label 1) and other digits (label 0)
    zeros, others = np.flatnonzero(y == 0), np.flatnonzero(y != 0)[:200]
    X_all = np.vstack([X[zeros[:120]], X[zeros[120:]], X[others]])
    y_all = np.r_[np.ones(len(zeros)), np.zeros(len(others))]
    fold = np.r_[-np.ones(120), np.zeros(len(zeros) - 120 + len(others))]
    pipe = make_pipeline(MinMaxScaler(clip=True), AutoencoderOutlierDetector(
        Autoencoder(n_components=8, hidden_layer_sizes=(32,), random_state=0)))
    search = GridSearchCV(
        pipe, {"autoencoderoutlierdetector__estimator__max_iter": [1, 40]},
        scoring="roc_auc", cv=PredefinedSplit(fold), refit=False,
    )
    # the training fold holds only zeros: GridSearchCV passes y, the detector ignores it
    search.fit(X_all, y_all)
    assert search.best_params_["autoencoderoutlierdetector__estimator__max_iter"] == 40
    assert search.best_score_ > 0.95


@pytest.mark.parametrize("params, match", [
    ({"contamination": 0.0}, "contamination"),
    ({"contamination": 0.7}, "contamination"),
    ({"contamination": "auto"}, "contamination"),
    ({"estimator": MinMaxScaler()}, "estimator"),
    ({"robust": "yes"}, "robust"),
    ({"score_type": "cosine"}, "score_type"),
])
def test_bad_params_raise_clear_errors(digits, params, match):
    X, _ = digits
    with pytest.raises(ValueError, match=match):
        AutoencoderOutlierDetector(**params).fit(X[:50])


def test_bad_input_raises(digits):
    X, y = digits
    det = AutoencoderOutlierDetector(Autoencoder(n_components=4, max_iter=1)).fit(X[:60])
    with pytest.raises(ValueError, match="features"):
        det.predict(X[:5, :10])
    with pytest.raises(ValueError, match="NaN"):
        det.fit(np.full((10, 4), np.nan))


def _cosine(A, B):
    return np.einsum("ij,ij->i", A, B) / np.linalg.norm(A, axis=1) / np.linalg.norm(B, axis=1)


def test_combined_score_is_error_plus_cosine_standardised_on_the_training_data(digits):
    X, y = digits
    train = X[y == 3]
    det = AutoencoderOutlierDetector(Autoencoder(**SMALL), contamination=0.05).fit(train)
    assert det.score_type == "combined"  # the default
    ae = det.estimator_

    def terms(A):
        return ae.score_samples(A), _cosine(A, ae.inverse_transform(ae.transform(A)))

    err_tr, cos_tr = terms(train)
    q_err, q_cos = np.percentile(err_tr, [25, 50, 75]), np.percentile(cos_tr, [25, 50, 75])
    np.testing.assert_allclose(det.score_center_, [q_err[1], q_cos[1]], rtol=1e-6)
    np.testing.assert_allclose(det.score_scale_, [q_err[2] - q_err[0], q_cos[2] - q_cos[0]],
                               rtol=1e-5)
    err, cos = terms(X)
    expected = ((err - q_err[1]) / (q_err[2] - q_err[0])
                + (cos - q_cos[1]) / (q_cos[2] - q_cos[0]))
    np.testing.assert_allclose(det.score_samples(X), expected, rtol=1e-5, atol=1e-6)
    assert det.offset_ == pytest.approx(np.percentile(det.score_samples(train), 5), rel=1e-6)
    # score_type="estimator": the autoencoder's own score, nothing standardised
    own = AutoencoderOutlierDetector(Autoencoder(**SMALL), contamination=0.05,
                                     score_type="estimator").fit(train)
    np.testing.assert_array_equal(own.score_samples(X), own.estimator_.score_samples(X))
    assert not hasattr(own, "score_center_")
    # refitting with the other score_type drops the standardisation of the first fit
    det.set_params(score_type="estimator").fit(train)
    assert not hasattr(det, "score_center_")


MNIST = Path(__file__).parents[2] / "shared" / "data" / "mnist"


@pytest.mark.slow
@pytest.mark.skipif(not MNIST.is_dir(), reason="needs ../shared/data/mnist")
def test_combined_score_beats_the_error_alone_on_one_class_mnist():
    """A model of eights reconstructs a thin 1 or 7 with a small squared error
    (little ink, little error) but in the wrong shape: the cosine sees it."""
    from skae.datasets import load_mnist

    X, y = load_mnist(MNIST, return_X_y=True)
    X_test, y_test = load_mnist(MNIST, subset="test", return_X_y=True)
    X_test, y_test = X_test[:2000], y_test[:2000]
    auc = {}
    for score_type in ("combined", "estimator"):
        det = AutoencoderOutlierDetector(
            Autoencoder(n_components=32, hidden_layer_sizes=(256,), max_iter=10, random_state=0),
            score_type=score_type, random_state=0).fit(X[y == 8][:1000])
        auc[score_type] = roc_auc_score(y_test == 8, det.score_samples(X_test))
    # measured: 0.841 against 0.763
    assert auc["combined"] > 0.8 and auc["combined"] > auc["estimator"] + 0.03, auc


def test_combined_score_on_sparse_input_and_empty_rows():
    from scipy import sparse

    X = np.random.RandomState(0).rand(120, 10) * (np.random.RandomState(1).rand(120, 10) > 0.6)
    X[:3] = 0.0  # rows of zero norm: cosine 0, not NaN
    det = AutoencoderOutlierDetector(
        Autoencoder(n_components=3, hidden_layer_sizes=(8,), max_iter=3, random_state=0),
        random_state=0).fit(sparse.csr_matrix(X))
    s_sparse = det.score_samples(sparse.csr_matrix(X))
    assert np.all(np.isfinite(s_sparse))
    np.testing.assert_allclose(s_sparse, det.score_samples(X), rtol=1e-5, atol=1e-6)


def test_cosine_is_computed_chunk_by_chunk():
    from skae._outlier import _cosine_to_reconstruction

    X = np.random.RandomState(0).rand(50, 6)
    ae = Autoencoder(n_components=2, hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X)
    # same values, up to float32 rounding (the net sees batches of other sizes)
    np.testing.assert_allclose(_cosine_to_reconstruction(ae, X, chunk=7),
                               _cosine_to_reconstruction(ae, X), rtol=1e-6)
    np.testing.assert_allclose(_cosine_to_reconstruction(ae, X),
                               _cosine(X, ae.inverse_transform(ae.transform(X))), rtol=1e-6)


def test_combined_score_needs_a_reconstruction(digits):
    X, y = digits
    # IsolationForest has fit and score_samples but nothing to reconstruct with
    with pytest.raises(TypeError, match="score_type='combined'.*inverse_transform"):
        AutoencoderOutlierDetector(IsolationForest(), robust=False).fit(X[y == 0])
    det = AutoencoderOutlierDetector(IsolationForest(random_state=0), robust=False,
                                     score_type="estimator").fit(X[y == 0])
    np.testing.assert_array_equal(det.score_samples(X[:5]), det.estimator_.score_samples(X[:5]))


# ------------------------------------------------------- StackedAutoencoder.score_samples
def test_stacked_score_samples_is_the_negative_reconstruction_error(digits):
    X, y = digits
    sae = StackedAutoencoder(8, hidden_layer_sizes=(32,), max_iter=20, random_state=0)
    sae.fit(X[y == 0])
    s = sae.score_samples(X)
    assert s.shape == (len(X),) and s.dtype == np.float64 and np.all(s <= 0)
    # the bottom layer chose mse on these [0, 1] pixels: the mean squared error of
    # the reconstruction through the whole stack
    R = sae.inverse_transform(sae.transform(X))
    np.testing.assert_allclose(s, -np.mean((X - R) ** 2, axis=1), rtol=1e-4, atol=1e-6)
    assert sae.score(X) == pytest.approx(s.mean())
    # the digit it was trained on reconstructs better than the others
    assert roc_auc_score(y == 0, s) > 0.9


def test_trimmed_loss_leaves_the_worst_samples_out_in_training_only():
    base = ReconstructionLoss("mse")
    trimmed = TrimmedLoss(base, 0.25)
    target = torch.zeros(8, 3)
    rec = torch.arange(8.0)[:, None].repeat(1, 3).requires_grad_()  # sample i: error i^2
    out = AEOutput(reconstruction=rec, logits=rec, code=rec)
    per = base.per_sample(out, target)
    trimmed.train()
    loss = trimmed(out, target)
    assert loss.item() == pytest.approx(per[:6].mean().item())  # 6 = ceil(0.75 * 8) kept
    loss.backward()
    assert torch.all(rec.grad[6:] == 0) and torch.all(rec.grad[1:6] != 0)
    trimmed.eval()  # validation and scoring see every sample
    assert trimmed(out, target).item() == pytest.approx(per.mean().item())
    assert trimmed.terms_per_sample(target) == base.terms_per_sample(target) == 3
    torch.testing.assert_close(trimmed.per_sample(out, target), per)
    with pytest.raises(ValueError, match="fraction must be in"):
        TrimmedLoss(base, 1.0)
