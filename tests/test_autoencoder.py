"""Behaviour of skae.Autoencoder as a scikit-learn transformer."""

import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback

from skae import Autoencoder, TrainingDivergedError

FAST = dict(n_components=8, hidden_layer_sizes=(32,), max_iter=10, random_state=0)


def test_pipeline_digits_accuracy(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("ae", Autoencoder(n_components=32, random_state=0)),
            ("clf", LogisticRegression(max_iter=2000)),
        ]
    ).fit(X_train, y_train)
    assert pipe.score(X_test, y_test) >= 0.93


def test_reconstruction_beats_mean_and_matches_pca(digits01):
    X_train, X_test, _, _ = digits01
    ae = Autoencoder(n_components=16, random_state=0).fit(X_train)
    rec = ae.inverse_transform(ae.transform(X_test))
    mse = np.mean((rec - X_test) ** 2)
    baseline = np.mean((X_train.mean(axis=0) - X_test) ** 2)
    pca = PCA(16).fit(X_train)
    mse_pca = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
    assert mse < 0.2 * baseline
    assert mse < 1.3 * mse_pca  # a small nonlinear AE is at least in PCA's league
    # more training lowered the loss
    assert ae.loss_curve_[-1] < 0.5 * ae.loss_curve_[0]


def test_nonlinear_code_beats_pca_at_two_components(digits01):
    X_train, X_test, _, _ = digits01
    ae = Autoencoder(n_components=2, hidden_layer_sizes=(128, 64), random_state=0).fit(X_train)
    mse = np.mean((ae.inverse_transform(ae.transform(X_test)) - X_test) ** 2)
    pca = PCA(2).fit(X_train)
    mse_pca = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
    assert mse < 0.9 * mse_pca


def test_grid_search_in_pipeline_parallel(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("ae", Autoencoder(hidden_layer_sizes=(64,), max_iter=15, random_state=0)),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )
    grid = {"ae__n_components": [4, 24], "ae__lr": [1e-3, 3e-3]}
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=2).fit(X_train, y_train)
    assert search.best_params_["ae__n_components"] == 24
    assert search.best_estimator_.named_steps["ae"].transform(
        MinMaxScaler().fit(X_train).transform(X_test)
    ).shape == (len(X_test), 24)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_grid_search_without_labels_uses_reconstruction_score(digits01):
    X_train = digits01[0]
    search = GridSearchCV(
        Autoencoder(hidden_layer_sizes=(32,), max_iter=15, random_state=0),
        {"n_components": [2, 16]},
        cv=2,
    ).fit(X_train)
    assert search.best_params_ == {"n_components": 16}
    assert (search.cv_results_["mean_test_score"] < 0).all()


def test_clone_and_set_params():
    ae = Autoencoder(n_components=5, hidden_layer_sizes=(10, 7), lr=0.01)
    ae2 = clone(ae)
    assert ae2.get_params() == ae.get_params() and ae2 is not ae
    ae2.set_params(n_components=3, lr=0.1)
    assert (ae2.n_components, ae2.lr, ae.n_components) == (3, 0.1, 5)


def test_same_seed_same_result_and_global_rng_untouched(digits01):
    X = digits01[0][:300]
    torch.manual_seed(123)
    np.random.seed(123)
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    a = Autoencoder(**FAST).fit(X).transform(X)
    b = Autoencoder(**FAST).fit(X).transform(X)
    c = Autoencoder(**{**FAST, "random_state": 1}).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])


def test_partial_fit_sequence_is_reproducible(digits01):
    X = digits01[0][:300]

    def run():
        ae = Autoencoder(**FAST)
        for chunk in np.array_split(X, 3):
            ae.partial_fit(chunk)
        return ae.transform(X)

    np.testing.assert_array_equal(run(), run())


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_persistence_round_trip(digits01, tmp_path, dump):
    X_train, X_test, _, _ = digits01
    ae = Autoencoder(**FAST).fit(X_train)
    if dump == "pickle":
        ae2 = pickle.loads(pickle.dumps(ae))
    else:
        joblib.dump(ae, tmp_path / "ae.joblib")
        ae2 = joblib.load(tmp_path / "ae.joblib")
    np.testing.assert_array_equal(ae.transform(X_test), ae2.transform(X_test))
    np.testing.assert_array_equal(ae.score_samples(X_test), ae2.score_samples(X_test))
    # a loaded model keeps training
    ae2.partial_fit(X_train)
    assert ae2.n_iter_ == ae.n_iter_ + 1


def test_dtype_preserved(digits01):
    X = digits01[0][:200]
    ae = Autoencoder(**FAST).fit(X.astype(np.float32))
    assert ae.transform(X.astype(np.float32)).dtype == np.float32
    assert ae.transform(X).dtype == np.float64
    Z = ae.transform(X)
    assert ae.inverse_transform(Z).dtype == np.float64
    assert ae.inverse_transform(Z.astype(np.float32)).dtype == np.float32
    # integer input is accepted and gives float64
    Xi = (X * 16).round().astype(np.int64)
    assert Autoencoder(**FAST).fit(Xi).transform(Xi).dtype == np.float64


def test_output_activation_auto():
    rng = np.random.RandomState(0)
    X01 = rng.rand(50, 6)
    Xstd = StandardScaler().fit_transform(rng.randn(50, 6))
    assert Autoencoder(**FAST).fit(X01).output_activation_ == "sigmoid"
    assert Autoencoder(**FAST).fit(Xstd).output_activation_ == "identity"
    ae = Autoencoder(**FAST, loss="bce").fit(X01)
    assert ae.output_activation_ == "sigmoid"
    rec = ae.inverse_transform(ae.transform(X01))
    assert rec.min() >= 0 and rec.max() <= 1


def test_bce_needs_unit_interval_and_sigmoid():
    X = np.random.RandomState(0).randn(20, 4)
    with pytest.raises(ValueError, match=r"loss='bce' needs input values in \[0, 1\]"):
        Autoencoder(**FAST, loss="bce").fit(X)
    with pytest.raises(ValueError, match="needs a sigmoid output"):
        Autoencoder(**FAST, loss="bce", output_activation="identity").fit(np.abs(X) / 10)


def test_standardised_data_default_works():
    # Linear output and linear code by default: standardised data reconstruct well.
    from sklearn.datasets import load_digits

    X = StandardScaler().fit_transform(load_digits().data)
    ae = Autoencoder(n_components=32, random_state=0).fit(X)
    mse = np.mean((ae.inverse_transform(ae.transform(X)) - X) ** 2)
    assert mse < 0.2  # the data have unit variance per feature


def test_score_and_score_samples(digits01):
    X_train, X_test, _, _ = digits01
    ae = Autoencoder(**FAST).fit(X_train)
    s = ae.score_samples(X_test)
    assert s.shape == (len(X_test),) and (s <= 0).all()
    rec = ae.inverse_transform(ae.transform(X_test))
    np.testing.assert_allclose(-s, ((rec - X_test) ** 2).mean(axis=1), rtol=1e-4, atol=1e-7)
    assert ae.score(X_test) == pytest.approx(s.mean())
    # anomaly scores: uniform noise reconstructs much worse than digits
    noise = np.random.RandomState(0).rand(50, X_test.shape[1])
    assert ae.score_samples(noise).mean() < 2 * s.mean()


def test_feature_names_and_pandas_output(digits01):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(digits01[0][:100], columns=[f"px{i}" for i in range(64)])
    ae = Autoencoder(**FAST).set_output(transform="pandas").fit(X)
    out = ae.transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [f"autoencoder{i}" for i in range(8)]
    assert list(ae.feature_names_in_) == list(X.columns)
    np.testing.assert_array_equal(ae.get_feature_names_out(), out.columns)


def test_architecture_options(digits01):
    X = digits01[0][:200]
    shallow = Autoencoder(**{**FAST, "hidden_layer_sizes": ()}).fit(X)
    assert [m.out_features for m in shallow.net_.module_.modules()
            if isinstance(m, torch.nn.Linear)] == [8, 64]
    deep = Autoencoder(**{**FAST, "hidden_layer_sizes": 16}).fit(X)
    assert [m.out_features for m in deep.net_.module_.modules()
            if isinstance(m, torch.nn.Linear)] == [16, 8, 16, 64]
    with pytest.raises(ValueError, match="hidden_layer_sizes must be a sequence of positive"):
        Autoencoder(hidden_layer_sizes=(16, 0)).fit(X)
    tanh = Autoencoder(**{**FAST, "code_activation": "tanh"}).fit(X)
    assert np.abs(tanh.transform(X)).max() <= 1


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "rmsprop", torch.optim.Adagrad])
def test_optimizers(digits01, optimizer):
    X = digits01[0][:200]
    ae = Autoencoder(**{**FAST, "lr": 1e-2}, optimizer=optimizer).fit(X)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]


def test_weight_decay_only_on_weights(digits01):
    # an L2 term of the loss (docs/engine.rst), over the weight matrices only
    ae = Autoencoder(**FAST, weight_decay=0.1).fit(digits01[0][:100])
    assert all(g["weight_decay"] == 0 for g in ae.net_.optimizer_.param_groups)
    penalty = ae.net_.penalties[-1]
    assert (penalty.name, penalty.weight) == ("weight_decay", 0.1)
    module = ae.net_.module_
    for p in module.parameters():
        p.grad = None
    out = module(torch.from_numpy(digits01[0][:4].astype(np.float32)))
    penalty(out, None, module).backward()
    for name, p in module.named_parameters():
        assert (p.grad is not None) == name.endswith("weight"), name


def test_early_stopping_restores_best_weights(digits01):
    X = digits01[0]
    ae = Autoencoder(
        n_components=8, hidden_layer_sizes=(32,), max_iter=200, lr=0.02,
        early_stopping=True, n_iter_no_change=3, random_state=0,
    ).fit(X)
    assert ae.n_iter_ < 200
    curve = ae.validation_loss_curve_
    assert len(curve) == ae.n_iter_
    es = dict(ae.net_.callbacks_)["early_stopping"]
    best = int(np.argmin(curve))
    assert es.best_epoch_ == best + 1
    state = ae.net_.module_.state_dict()
    for k, v in es.best_model_weights_.items():
        assert torch.equal(state[k], v)
    # the validation data are not stored with the fitted model
    assert ae.net_.train_split is None


def test_stops_when_training_loss_stalls():
    X = np.random.RandomState(0).rand(64, 4)
    ae = Autoencoder(n_components=4, hidden_layer_sizes=(), max_iter=500, lr=0.05,
                     tol=0.5, n_iter_no_change=2, random_state=0).fit(X)
    assert ae.n_iter_ < 500


def test_too_few_samples_for_early_stopping():
    with pytest.raises(ValueError, match="no training or no validation samples"):
        Autoencoder(**FAST, early_stopping=True).fit(np.ones((1, 3)))


def test_partial_fit_continues(digits01):
    X = digits01[0]
    ae = Autoencoder(**FAST)
    for _ in range(5):
        ae.partial_fit(X)
    assert ae.n_iter_ == 5 and len(ae.loss_curve_) == 5
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    with pytest.raises(ValueError, match="X has 3 features"):
        ae.partial_fit(X[:, :3])


def test_refit_starts_afresh(digits01):
    X = digits01[0][:200]
    ae = Autoencoder(**FAST).fit(X)
    first = ae.transform(X)
    ae.fit(X)
    assert ae.n_iter_ == FAST["max_iter"]
    np.testing.assert_array_equal(first, ae.transform(X))


def test_user_callbacks_run_and_are_not_mutated(digits01):
    class CountEpochs(Callback):
        def __init__(self):
            self.epochs = []

        def on_epoch_end(self, net, **kwargs):
            self.epochs.append(len(net.history))

    cb = CountEpochs()
    ae = Autoencoder(**FAST, callbacks=[("count", cb)]).fit(digits01[0][:100])
    assert cb.epochs == []
    assert dict(ae.net_.callbacks_)["count"].epochs == list(range(1, ae.n_iter_ + 1))


def test_verbose_2_prints_epoch_table(digits01, capsys):
    Autoencoder(**{**FAST, "max_iter": 2}, verbose=2).fit(digits01[0][:100])
    captured = capsys.readouterr()
    assert "train_loss" in captured.out and captured.out.count("\n") >= 4
    assert "epoch/s" not in captured.err  # no progress bar


def test_batch_invariance_at_float32_precision(digits01):
    X = digits01[1]
    ae = Autoencoder(**FAST).fit(digits01[0])
    full = ae.transform(X)
    parts = np.vstack([ae.transform(X[i : i + 7]) for i in range(0, len(X), 7)])
    np.testing.assert_allclose(parts, full, rtol=1e-5, atol=1e-6)
    perm = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_allclose(ae.score_samples(X[perm]), ae.score_samples(X)[perm],
                               rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def fitted():
    return Autoencoder(**FAST).fit(np.random.RandomState(0).rand(40, 5))


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.array([[0.1, np.nan, 0.2, 0.3, 0.4]]), ValueError, "NaN"),
        (np.array([[0.1, np.inf, 0.2, 0.3, 0.4]]), ValueError, "infinity"),
        (np.empty((0, 5)), ValueError, "0 sample"),
        (np.zeros(5), ValueError, "Expected 2D array"),
        (np.zeros((3, 4)), ValueError, "X has 4 features, but Autoencoder is expecting 5"),
        (np.array([["a", "b", "c", "d", "e"]]), ValueError, "could not convert|numeric"),
        # sparse input is accepted (tests/test_sparse_input.py) and checked the same way
        (sp.csr_matrix(np.ones((3, 4))), ValueError, "X has 4 features"),
        (sp.csr_matrix(np.array([[0.1, np.nan, 0.2, 0.3, 0.4]])), ValueError, "NaN"),
    ],
)
@pytest.mark.parametrize("method", ["transform", "score_samples", "partial_fit"])
def test_bad_input_at_transform_time(fitted, X, error, match, method):
    with pytest.raises(error, match=match):
        getattr(fitted, method)(X)


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.array([[0.1, np.nan], [0.2, 0.3]]), ValueError, "NaN"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        (np.zeros(5), ValueError, "Expected 2D array"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "could not convert|numeric"),
        (sp.csr_matrix(np.array([[np.inf, 0.0], [0.2, 0.3]])), ValueError, "infinity"),
    ],
)
def test_bad_input_at_fit_time(X, error, match):
    ae = Autoencoder(**FAST)
    with pytest.raises(error, match=match):
        ae.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(ae)


def test_inverse_transform_checks_code_width(fitted):
    with pytest.raises(ValueError, match="expects codes with n_components=8"):
        fitted.inverse_transform(np.zeros((2, 5)))
    # codes are dense: a sparse matrix of codes is refused, as by scikit-learn
    with pytest.raises(TypeError, match="dense data is required"):
        fitted.inverse_transform(sp.csr_matrix(np.ones((2, 8))))


@pytest.mark.parametrize("method", ["transform", "inverse_transform", "score_samples", "score"])
def test_not_fitted(method):
    with pytest.raises(NotFittedError):
        getattr(Autoencoder(), method)(np.zeros((2, 5)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_components": 0}, "n_components"),
        ({"loss": "mae"}, "loss"),
        ({"lr": -1.0}, "lr"),
        ({"activation": "swish"}, "activation"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
    ],
)
def test_invalid_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        Autoencoder(**params).fit(np.ones((4, 3)))


def test_device_validation():
    with pytest.raises(ValueError, match="not a valid torch device"):
        Autoencoder(device="gpu0").fit(np.ones((4, 3)))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            Autoencoder(device="cuda").fit(np.ones((4, 3)))
        ae = Autoencoder(**FAST, device="auto").fit(np.ones((4, 3)))
        assert ae.net_.device == "cpu"


def test_diverging_training_raises_and_leaves_unfitted(digits):
    X = StandardScaler().fit_transform(digits[0])
    ae = Autoencoder(optimizer="sgd", lr=10.0, max_iter=5, random_state=0)
    with pytest.raises(TrainingDivergedError, match="lower learning rate"):
        ae.fit(X)
    with pytest.raises(NotFittedError):
        ae.transform(X)
    assert not [k for k in vars(ae) if k.endswith("_")]
    # the same failure while continuing training also leaves no half-fitted model
    ae = Autoencoder(optimizer="sgd", lr=1e-3, max_iter=2, random_state=0).fit(X)
    ae.set_params(lr=10.0)
    ae.net_.set_params(lr=10.0)
    with pytest.raises(TrainingDivergedError):
        for _ in range(5):
            ae.partial_fit(X)
    with pytest.raises(NotFittedError):
        ae.transform(X)


def test_partial_fit_honours_new_learning_rate(digits01):
    X = digits01[0]
    ae = Autoencoder(**FAST).partial_fit(X)
    ae.set_params(lr=0.0)
    before = {k: v.clone() for k, v in ae.net_.module_.state_dict().items()}
    ae.partial_fit(X)
    assert all(pg["lr"] == 0.0 for pg in ae.net_.optimizer_.param_groups)
    for k, v in ae.net_.module_.state_dict().items():
        assert torch.equal(v, before[k])  # lr=0: no change
