"""StackedAutoencoder and StackedAutoencoderClassifier (greedy layer-wise pretraining)."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV

from skae import (
    Autoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    StackedAutoencoderClassifier,
)
from skae.nn import StackedAutoencoderModule, StackedClassifierModule

# A fast shallow layer for the tests that check behaviour rather than quality.
FAST_LAYER = Autoencoder(hidden_layer_sizes=(), code_activation="sigmoid", lr=1e-2, max_iter=5)


@pytest.fixture(scope="module")
def digits_clf(digits01):
    X_train, _, y_train, _ = digits01
    return StackedAutoencoderClassifier((128, 64), lr=3e-3, random_state=0).fit(X_train, y_train)


# ------------------------------------------------------------------- classifier
def test_classifier_digits_accuracy(digits_clf, digits01):
    _, X_test, _, y_test = digits01
    assert digits_clf.score(X_test, y_test) >= 0.97
    assert isinstance(digits_clf.net_.module_, StackedClassifierModule)
    assert [e.n_components for e in digits_clf.estimators_] == [128, 64]
    assert [e.net_.module_.encoder[0][0].in_features for e in digits_clf.estimators_] == [64, 128]


def test_pretraining_lowers_each_layers_loss(digits_clf):
    assert len(digits_clf.histories_) == 2
    for est, history in zip(digits_clf.estimators_, digits_clf.histories_, strict=True):
        assert history is est.history_
        assert est.loss_curve_[-1] < 0.7 * est.loss_curve_[0]


def test_predict_proba_consistency(digits_clf, digits01):
    _, X_test, _, _ = digits01
    proba = digits_clf.predict_proba(X_test)
    assert proba.dtype == np.float64 and proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.log(proba), digits_clf.predict_log_proba(X_test), atol=1e-9)
    decision = digits_clf.decision_function(X_test)
    assert decision.shape == (len(X_test), 10)
    np.testing.assert_array_equal(
        digits_clf.classes_[decision.argmax(axis=1)], digits_clf.predict(X_test)
    )


def _encoder_state(module):
    return {k: v.clone() for k, v in module.encoder.state_dict().items()}


def test_fine_tune_top_freezes_encoder_and_all_changes_it(digits01):
    X_train, _, y_train, _ = digits01
    X, y = X_train[:400], y_train[:400]
    kw = dict(layer_estimator=FAST_LAYER, max_iter=5, random_state=0)
    top = StackedAutoencoderClassifier((32, 16), fine_tune="top", **kw).fit(X, y)
    full = StackedAutoencoderClassifier((32, 16), fine_tune="all", **kw).fit(X, y)
    for clf in (top, full):
        assert clf.n_iter_ == 5
    # identical pretraining (same seeds), so the pretrained encoders agree
    for a, b in zip(top.estimators_, full.estimators_, strict=True):
        for pa, pb in zip(a.net_.module_.parameters(), b.net_.module_.parameters(), strict=True):
            assert torch.equal(pa, pb)
    for clf, frozen in ((top, True), (full, False)):
        trained = clf.net_.module_.encoder
        for block, est in zip(trained, clf.estimators_, strict=True):
            pretrained = est.net_.module_.encoder[0]
            same = [
                torch.equal(p, q)
                for p, q in zip(block.parameters(), pretrained.parameters(), strict=True)
            ]
            assert all(same) if frozen else not any(same)
    # the head was trained in both cases
    assert top.loss_curve_[-1] < top.loss_curve_[0]


def test_semi_supervised_minus_one_is_unlabelled(digits01):
    X_train, X_test, y_train, y_test = digits01
    y = y_train.copy()
    y[150:] = -1  # about 11 % labelled
    clf = StackedAutoencoderClassifier((128, 64), lr=3e-3, random_state=0).fit(X_train, y)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert clf.predict_proba(X_test).shape[1] == 10
    assert clf.score(X_test, y_test) >= 0.85
    # pretraining used all samples, the supervised phase only the labelled ones
    assert clf.estimators_[0].n_features_in_ == 64
    assert clf.net_.history[-1]["batches"][-1]["train_batch_size"] <= 150


def test_minus_one_in_object_labels_is_unlabelled():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 5)
    y = np.array(["a", "b"] * 15 + [-1] * 10, dtype=object)
    clf = StackedAutoencoderClassifier((4,), layer_estimator=FAST_LAYER, max_iter=3)
    clf.fit(X, y)
    assert list(clf.classes_) == ["a", "b"]


def test_string_labels(digits01):
    X_train, X_test, y_train, _ = digits01
    names = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
    clf = StackedAutoencoderClassifier(
        (16,), layer_estimator=FAST_LAYER, max_iter=5, random_state=0
    ).fit(X_train[:300], names[y_train[:300]])
    assert set(clf.classes_) == set(names)
    assert set(clf.predict(X_test[:50])) <= set(names)
    # binary: decision_function is the logit difference of shape (n,)
    mask = np.isin(y_train, [0, 1])
    binary = clone(clf).fit(X_train[mask], names[y_train[mask]])
    decision = binary.decision_function(X_train[mask])
    assert decision.shape == (mask.sum(),)
    np.testing.assert_array_equal(
        binary.classes_[(decision > 0).astype(int)], binary.predict(X_train[mask])
    )


def test_label_errors():
    X = np.random.RandomState(0).rand(20, 4)
    clf = StackedAutoencoderClassifier((3,), layer_estimator=FAST_LAYER, max_iter=2)
    with pytest.raises(ValueError, match="no labelled sample"):
        clf.fit(X, -np.ones(20, dtype=int))
    with pytest.raises(ValueError, match="2 classes"):
        clf.fit(X, np.r_[np.zeros(10, int), -np.ones(10, int)])
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.fit(X, np.linspace(0, 1, 20))
    assert not hasattr(clf, "net_")  # a failed fit leaves it unfitted


def test_pretrain_false_is_same_network_from_random_init(digits01):
    X_train, _, y_train, _ = digits01
    clf = StackedAutoencoderClassifier((32, 16), pretrain=False, max_iter=3, random_state=0).fit(
        X_train[:300], y_train[:300]
    )
    assert clf.estimators_ == [] and clf.histories_ == []
    pre = StackedAutoencoderClassifier(
        (32, 16), layer_estimator=FAST_LAYER, max_iter=3, random_state=0
    ).fit(X_train[:300], y_train[:300])
    shapes = [p.shape for p in clf.net_.module_.parameters()]
    assert shapes == [p.shape for p in pre.net_.module_.parameters()]
    # the same code activation (sigmoid) as the pretrained layers
    assert isinstance(clf.net_.module_.encoder[0][1], torch.nn.Sigmoid)


def test_grid_search_over_nested_layer_parameter(digits01):
    X_train, _, y_train, _ = digits01
    clf = StackedAutoencoderClassifier(
        (16,),
        layer_estimator=DenoisingAutoencoder(code_activation="sigmoid", lr=1e-2, max_iter=3),
        max_iter=10,
        lr=3e-3,
        random_state=0,
    )
    assert "layer_estimator__noise_level" in clf.get_params()
    search = GridSearchCV(clf, {"layer_estimator__noise_level": [0.1, 0.5]}, cv=2)
    search.fit(X_train[:400], y_train[:400])
    assert search.best_params_["layer_estimator__noise_level"] in (0.1, 0.5)
    levels = {search.best_estimator_.estimators_[0].noise_level}
    assert levels == {search.best_params_["layer_estimator__noise_level"]}
    assert clf.layer_estimator.noise_level == 0.3  # the template is never fitted or changed
    assert not hasattr(clf.layer_estimator, "net_")


# ------------------------------------------------------------------- transformer
@pytest.fixture(scope="module")
def stacked_pair(digits01):
    X_train = digits01[0]
    kw = dict(hidden_layer_sizes=(48,), max_iter=60, lr=3e-3, random_state=0)
    tuned = StackedAutoencoder(16, fine_tune=True, **kw).fit(X_train)
    raw = StackedAutoencoder(16, fine_tune=False, **kw).fit(X_train)
    return tuned, raw


def _mse(est, X):
    return float(np.mean((est.inverse_transform(est.transform(X)) - X) ** 2))


def test_transformer_shapes_and_reconstruction(stacked_pair, digits01):
    X_train, X_test, _, _ = digits01
    tuned, raw = stacked_pair
    Z = tuned.transform(X_test)
    assert Z.shape == (len(X_test), 16) and Z.dtype == np.float64
    assert tuned.transform(X_test.astype(np.float32)).dtype == np.float32
    assert tuned.inverse_transform(Z).shape == X_test.shape
    assert isinstance(tuned.net_.module_, StackedAutoencoderModule)
    baseline = np.mean((X_train.mean(axis=0) - X_test) ** 2)
    assert _mse(tuned, X_test) < 0.3 * baseline
    assert list(tuned.get_feature_names_out()) == [f"stackedautoencoder{i}" for i in range(16)]


def test_fine_tuning_lowers_reconstruction_error(stacked_pair, digits01):
    X_test = digits01[1]
    tuned, raw = stacked_pair
    assert raw.n_iter_ == 0 and raw.loss_curve_ == []
    assert tuned.n_iter_ > 0
    # same seeds: identical pretrained layers, only the fine-tuning differs
    w_tuned = tuned.estimators_[0].net_.module_.encoder[0][0].weight
    assert torch.equal(w_tuned, raw.estimators_[0].net_.module_.encoder[0][0].weight)
    assert _mse(tuned, X_test) < 0.9 * _mse(raw, X_test)


def test_unfine_tuned_stack_equals_chained_layers(stacked_pair, digits01):
    X_test = digits01[1]
    _, raw = stacked_pair
    Z = X_test
    for est in raw.estimators_:
        Z = est.transform(Z)
    np.testing.assert_allclose(raw.transform(X_test), Z, rtol=1e-5, atol=1e-6)
    R = Z
    for est in raw.estimators_[::-1]:
        R = est.inverse_transform(R)
    np.testing.assert_allclose(raw.inverse_transform(Z), R, rtol=1e-5, atol=1e-6)


def test_stacked_denoising_layers(digits01):
    X_train = digits01[0][:300]
    sdae = StackedAutoencoder(
        8,
        hidden_layer_sizes=[32, 16],
        layer_estimator=DenoisingAutoencoder(noise_level=0.3, hidden_layer_sizes=(99,), max_iter=3),
        max_iter=2,
        random_state=0,
    ).fit(X_train)
    assert [type(e) for e in sdae.estimators_] == [DenoisingAutoencoder] * 3
    assert [e.n_components for e in sdae.estimators_] == [32, 16, 8]
    assert all(e.hidden_layer_sizes == () for e in sdae.estimators_)  # always shallow
    assert all(e.noise_level == 0.3 and e.max_iter == 3 for e in sdae.estimators_)
    assert len({e.random_state for e in sdae.estimators_}) == 3
    assert sdae.transform(X_train).shape == (300, 8)


def test_sparse_layers():
    X = np.random.RandomState(0).rand(60, 10)
    layer = SparseAutoencoder(code_activation="sigmoid", max_iter=2)
    sae = StackedAutoencoder(3, hidden_layer_sizes=(6,), layer_estimator=layer, max_iter=2)
    sae.fit(X)
    assert all(hasattr(e, "mean_activation_") for e in sae.estimators_)


def test_layer_estimator_must_be_a_skae_autoencoder():
    X = np.random.RandomState(0).rand(30, 6)
    with pytest.raises(ValueError, match="layer_estimator must be one of skae's .*got PCA"):
        StackedAutoencoder(2, hidden_layer_sizes=(4,), layer_estimator=PCA()).fit(X)
    with pytest.raises(ValueError, match="layer_estimator"):
        StackedAutoencoder(2, layer_estimator="pca").fit(X)


# ----------------------------------------------------------------------- common
@pytest.mark.parametrize(
    "est",
    [
        StackedAutoencoder(3, hidden_layer_sizes=(6,), layer_estimator=FAST_LAYER, max_iter=3),
        StackedAutoencoderClassifier((6, 3), layer_estimator=FAST_LAYER, max_iter=3),
    ],
    ids=["transformer", "classifier"],
)
def test_pickle_reproducibility_and_not_fitted(est):
    rng = np.random.RandomState(0)
    X, y = rng.rand(50, 8), rng.randint(3, size=50)
    method = "transform" if isinstance(est, StackedAutoencoder) else "predict_proba"
    with pytest.raises(NotFittedError):
        getattr(est, method)(X)
    torch_state = torch.random.get_rng_state()
    a = clone(est).set_params(random_state=0).fit(X, y)
    b = clone(est).set_params(random_state=0).fit(X, y)
    c = clone(est).set_params(random_state=1).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), torch_state)  # global RNG untouched
    out = getattr(a, method)(X)
    np.testing.assert_array_equal(out, getattr(b, method)(X))
    assert not np.array_equal(out, getattr(c, method)(X))
    loaded = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(out, getattr(loaded, method)(X))
    assert len(loaded.estimators_) == 2


