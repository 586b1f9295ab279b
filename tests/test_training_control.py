"""Training that can be stopped, watched and trusted.

Ctrl-C (KeyboardInterrupt) always reaches the caller and leaves a consistent
estimator; verbose=1 shows a progress bar; fits in threads never touch torch's
global RNG; bad devices, float32 overflow, diverging losses and unsupported stack
layers get clear errors; an overcomplete Autoencoder warns.
"""

import threading
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_validate
from skorch.callbacks import Callback, EarlyStopping

from skae import (
    Autoencoder,
    ContractiveAutoencoder,
    ConvAutoencoder,
    ConvVariationalAutoencoder,
    DenoisingAutoencoder,
    OvercompleteCodeWarning,
    SparseAutoencoder,
    StackedAutoencoder,
    StackedAutoencoderClassifier,
    TrainingDivergedError,
    VariationalAutoencoder,
)
from skae.engine import DIVERGENCE_FACTOR, ArrayDataset, AutoencoderNet
from skae.nn import MLPAutoencoderModule, generator_scope, rand_like, randn_like

COMMON = dict(max_iter=30, batch_size=10, n_iter_no_change=100, random_state=0)


def _layer(**kwargs):
    return Autoencoder(hidden_layer_sizes=(), code_activation="sigmoid", max_iter=2,
                       batch_size=10, **kwargs)


# One small configuration per estimator family (16 features = 4 x 4 images).
FAMILIES = {
    "Autoencoder": lambda: Autoencoder(4, hidden_layer_sizes=(8,), **COMMON),
    "SparseAutoencoder": lambda: SparseAutoencoder(8, **COMMON),
    "DenoisingAutoencoder": lambda: DenoisingAutoencoder(4, hidden_layer_sizes=(8,), **COMMON),
    "ContractiveAutoencoder": lambda: ContractiveAutoencoder(4, **COMMON),
    "VariationalAutoencoder": lambda: VariationalAutoencoder(3, hidden_layer_sizes=(8,),
                                                             **COMMON),
    "ConvAutoencoder": lambda: ConvAutoencoder(3, filters=(2,), **COMMON),
    "ConvVariationalAutoencoder": lambda: ConvVariationalAutoencoder(3, filters=(2,), **COMMON),
    "StackedAutoencoder": lambda: StackedAutoencoder(3, hidden_layer_sizes=(6,),
                                                     layer_estimator=_layer(), **COMMON),
    "StackedAutoencoderClassifier": lambda: StackedAutoencoderClassifier(
        (6,), layer_estimator=_layer(), **COMMON),
}
STACKED = ("StackedAutoencoder", "StackedAutoencoderClassifier")


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).rand(60, 16)


@pytest.fixture(scope="module")
def y():
    return np.arange(60) % 3


def _fit(est, X, y):
    return est.fit(X, y) if isinstance(est, StackedAutoencoderClassifier) else est.fit(X)


def _output(est, X):
    if isinstance(est, StackedAutoencoderClassifier):
        return est.predict_proba(X)
    return est.transform(X)


def _fitted_attributes(est):
    return [k for k in vars(est) if k.endswith("_") and not k.startswith("__")]


class Interrupt(Callback):
    """Raises KeyboardInterrupt, as Ctrl-C would, after training batch ``batch`` of
    epoch ``epoch`` (1-based, counted over the net's history)."""

    #: every training call any copy of this callback saw begin (class-wide)
    started = []

    def __init__(self, epoch, batch=1):
        self.epoch = epoch
        self.batch = batch
        self.fired_ = False  # once: the user does not press Ctrl-C again

    def on_train_begin(self, net, **kwargs):
        Interrupt.started.append(net)

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if (training and not self.fired_ and len(net.history) == self.epoch
                and len(net.history[-1]["batches"]) == self.batch):
            self.fired_ = True
            raise KeyboardInterrupt


@pytest.fixture(autouse=True)
def _clear_started():
    Interrupt.started.clear()


# ------------------------------------------------------------------------ Ctrl-C
@pytest.mark.parametrize("name", FAMILIES)
def test_interrupt_in_epoch_3_keeps_the_model_of_epoch_2(name, X, y):
    # the interrupt comes two batches into epoch 3, whose updates must be undone
    est = FAMILIES[name]().set_params(callbacks=[Interrupt(epoch=3, batch=2)])
    with pytest.raises(KeyboardInterrupt):
        _fit(est, X, y)
    assert est.n_iter_ == len(est.loss_curve_) == 2
    two_epochs = _fit(FAMILIES[name]().set_params(max_iter=2), X, y)
    np.testing.assert_array_equal(_output(est, X), _output(two_epochs, X))
    assert est.loss_curve_ == two_epochs.loss_curve_
    if hasattr(est, "elbo_curve_"):
        assert len(est.elbo_curve_) == 2


@pytest.mark.parametrize("name", FAMILIES)
def test_interrupt_in_epoch_1_leaves_the_estimator_unfitted(name, X, y):
    est = FAMILIES[name]()
    if name in STACKED:  # the first layer's first epoch
        est.set_params(layer_estimator=_layer(callbacks=[Interrupt(epoch=1, batch=2)]))
    else:
        est.set_params(callbacks=[Interrupt(epoch=1, batch=2)])
    with pytest.raises(KeyboardInterrupt):
        _fit(est, X, y)
    assert _fitted_attributes(est) == []
    with pytest.raises(NotFittedError):
        _output(est, X)


def test_interrupt_keeps_nothing_of_an_earlier_fit(X):
    est = Autoencoder(4, **COMMON).set_params(max_iter=2).fit(X)
    est.set_params(callbacks=[Interrupt(epoch=1, batch=2)])
    with pytest.raises(KeyboardInterrupt):
        est.fit(X)
    assert _fitted_attributes(est) == []


def test_interrupt_of_the_issue_reproducer_propagates(X):
    class Stop(Callback):  # stands in for Ctrl-C at the end of epoch 2
        def on_epoch_end(self, net, **kw):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    ae = Autoencoder(2, max_iter=50, callbacks=[Stop()], random_state=0)
    with pytest.raises(KeyboardInterrupt):
        ae.fit(X)
    # epoch 2 had completed (its loss recorded) when the interrupt came: it is kept
    assert ae.n_iter_ == len(ae.loss_curve_) == 2
    assert ae.transform(X).shape == (len(X), 2)


def test_interrupt_in_stacked_fine_tuning_epoch_1_keeps_the_pretrained_stack(X, y):
    est = FAMILIES["StackedAutoencoder"]().set_params(callbacks=[Interrupt(epoch=1, batch=2)])
    with pytest.raises(KeyboardInterrupt):
        est.fit(X)
    assert est.n_iter_ == 0 and est.loss_curve_ == []
    pretrained = FAMILIES["StackedAutoencoder"]().set_params(fine_tune=False).fit(X)
    np.testing.assert_array_equal(est.transform(X), pretrained.transform(X))
    # the classifier has no model before its first supervised epoch
    clf = FAMILIES["StackedAutoencoderClassifier"]().set_params(
        callbacks=[Interrupt(epoch=1, batch=2)])
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert _fitted_attributes(clf) == []


def test_interrupted_partial_fit_counts_only_what_was_trained(X):
    chunk = X[:30]
    ae = Autoencoder(4, batch_size=10, random_state=0,
                     callbacks=[Interrupt(epoch=2, batch=2)]).partial_fit(chunk)
    before = ae.transform(X)
    with pytest.raises(KeyboardInterrupt):  # inside the second call's epoch
        ae.partial_fit(chunk)
    assert ae.n_iter_ == len(ae.loss_curve_) == 1
    assert ae.n_samples_seen_ == 30
    np.testing.assert_array_equal(ae.transform(X), before)  # its batches were undone
    ae.partial_fit(chunk)  # training goes on
    assert ae.n_iter_ == len(ae.loss_curve_) == 2 and ae.n_samples_seen_ == 60

    class StopAfter(Callback):  # an interrupt once the second epoch is complete
        def on_epoch_end(self, net, **kw):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    ae = Autoencoder(4, batch_size=10, random_state=0, callbacks=[StopAfter()])
    ae.partial_fit(chunk)
    with pytest.raises(KeyboardInterrupt):
        ae.partial_fit(chunk)
    assert ae.n_iter_ == len(ae.loss_curve_) == 2 and ae.n_samples_seen_ == 60

    first = Autoencoder(4, batch_size=10, callbacks=[Interrupt(epoch=1, batch=2)])
    with pytest.raises(KeyboardInterrupt):
        first.partial_fit(chunk)
    assert _fitted_attributes(first) == []


def test_interrupt_stops_grid_search_cross_validate_and_stacks(X):
    est = Autoencoder(2, **COMMON).set_params(callbacks=[Interrupt(epoch=2)])
    search = GridSearchCV(est, {"n_components": [2, 3]}, cv=2)
    with pytest.raises(KeyboardInterrupt):
        search.fit(X)
    assert len(Interrupt.started) == 1  # the first of 4 fits; the search stopped
    assert not hasattr(search, "cv_results_")
    Interrupt.started.clear()
    with pytest.raises(KeyboardInterrupt):
        cross_validate(est, X, cv=3)
    assert len(Interrupt.started) == 1
    Interrupt.started.clear()
    stack = StackedAutoencoder(
        3, hidden_layer_sizes=(6,), layer_estimator=_layer(callbacks=[Interrupt(epoch=1)]))
    with pytest.raises(KeyboardInterrupt):
        stack.fit(X)
    assert len(Interrupt.started) == 1  # the second layer never trained


def test_stopping_rules_still_end_training_normally(X):
    # skorch's EarlyStopping ends training by raising KeyboardInterrupt itself
    ae = Autoencoder(4, max_iter=50, tol=0.9, n_iter_no_change=2, random_state=0).fit(X)
    assert ae.n_iter_ == 3
    user = EarlyStopping(monitor="train_loss", patience=1, threshold=0.9)
    ae = Autoencoder(4, max_iter=50, random_state=0, callbacks=[user]).fit(X)
    assert ae.n_iter_ == 2 == len(ae.loss_curve_)


def test_engine_rolls_back_an_interrupted_epoch():
    data = ArrayDataset(torch.from_numpy(np.random.RandomState(0).rand(40, 6).astype("f4")))

    def make(**kwargs):
        torch.manual_seed(0)
        module = MLPAutoencoderModule(6, 2, hidden_layer_sizes=(5,))
        return AutoencoderNet(module, batch_size=8, lr=1e-2, optimizer=torch.optim.Adam,
                              verbose=0, random_state=0, **kwargs)

    net = make(max_epochs=5, callbacks=[Interrupt(epoch=2, batch=3)])
    with pytest.raises(KeyboardInterrupt):
        net.fit(data)
    ref = make(max_epochs=1).fit(data)
    assert len(net.history) == 1
    for (name, a), b in zip(net.module_.state_dict().items(), ref.module_.state_dict().values(),
                            strict=True):
        assert torch.equal(a, b), name
    opt, opt_ref = net.optimizer_.state_dict()["state"], ref.optimizer_.state_dict()["state"]
    assert all(torch.equal(opt[k]["exp_avg"], opt_ref[k]["exp_avg"]) for k in opt_ref)


# -------------------------------------------------------------------- progress
def test_verbose_1_shows_a_progress_bar_with_each_term(X, capsys):
    SparseAutoencoder(8, max_iter=3, verbose=1, random_state=0).fit(X)
    captured = capsys.readouterr()
    final = captured.err.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("SparseAutoencoder: 100%")
    assert "3/3" in final
    for term in ("loss=", "reconstruction=", "sparsity="):
        assert term in final
    assert captured.out == ""  # no per-epoch table

    Autoencoder(4, max_iter=2, verbose=1, random_state=0, early_stopping=True).fit(X)
    final = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "2/2" in final and "loss=" in final and "valid=" in final
    assert "reconstruction=" not in final  # a single term is the loss

    Autoencoder(4, verbose=1, random_state=0).partial_fit(X)
    assert "1/1" in capsys.readouterr().err


def test_verbose_0_prints_nothing_and_2_prints_the_table(X, capsys):
    Autoencoder(4, max_iter=2, random_state=0).fit(X)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    Autoencoder(4, max_iter=2, verbose=2, random_state=0).fit(X)
    captured = capsys.readouterr()
    assert "train_loss" in captured.out and captured.err == ""


def test_stacked_verbose_1_shows_one_bar_per_layer_and_the_final_phase(X, y, capsys):
    StackedAutoencoder(3, hidden_layer_sizes=(6,), max_iter=2, verbose=1,
                       random_state=0).fit(X)
    err = capsys.readouterr().err.replace("\r", "\n")
    for label in ("layer 1/2: 100%", "layer 2/2: 100%", "fine-tuning: 100%"):
        assert label in err
    StackedAutoencoderClassifier((6,), max_iter=2, verbose=1, random_state=0).fit(X, y)
    err = capsys.readouterr().err.replace("\r", "\n")
    assert "layer 1/1: 100%" in err and "supervised training: 100%" in err
    # a given layer estimator keeps its own verbose
    StackedAutoencoder(3, hidden_layer_sizes=(6,), layer_estimator=_layer(), max_iter=2,
                       verbose=1, random_state=0).fit(X)
    err = capsys.readouterr().err
    assert "layer 1/2" not in err and "fine-tuning" in err


# ------------------------------------------------------------------ thread safety
def _make_noisy(i):
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, batch_size=8, random_state=i)
    return [Autoencoder(2, **kw), DenoisingAutoencoder(2, **kw),
            VariationalAutoencoder(2, **kw)][i % 3]


def test_concurrent_fits_never_touch_the_global_rng_and_match_fits_alone():
    X = np.random.RandomState(0).rand(200, 16)
    alone = [_make_noisy(i).fit(X).transform(X) for i in range(3)]
    torch.manual_seed(7)
    torch_before, np_before = torch.get_rng_state(), np.random.get_state()[1].copy()
    for round_ in range(10):
        pair = (round_ % 3, (round_ + 1) % 3)
        results, errors = {}, []

        def work(i, results=results, errors=errors):
            try:
                results[i] = _make_noisy(i).fit(X).transform(X)
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert torch.equal(torch.get_rng_state(), torch_before), f"round {round_}"
        for i in pair:  # reproducible, concurrently or alone
            np.testing.assert_array_equal(results[i], alone[i])
    assert np.array_equal(np.random.get_state()[1], np_before)


def test_random_state_none_draws_from_numpy_global_state_only(X):
    np.random.seed(0)
    torch.manual_seed(0)
    torch_before, np_before = torch.get_rng_state(), np.random.get_state()[1].copy()
    DenoisingAutoencoder(2, max_iter=2, random_state=None).fit(X)
    assert torch.equal(torch.get_rng_state(), torch_before)
    assert not np.array_equal(np.random.get_state()[1], np_before)  # scikit-learn's way


def test_generator_scope_is_reproducible_and_per_thread():
    x = torch.zeros(5, 4)
    state = torch.get_rng_state()
    with generator_scope(3):
        a = rand_like(x), randn_like(x)
    with generator_scope(3):
        b = rand_like(x), randn_like(x)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(torch.get_rng_state(), state)
    seen = {}
    with generator_scope(3):
        # another thread is outside this scope: it draws from the global generator
        t = threading.Thread(target=lambda: seen.update(other=rand_like(x)))
        t.start()
        t.join()
        first = rand_like(x)
    assert torch.equal(first, a[0])
    torch.manual_seed(0)
    assert torch.equal(rand_like(x), torch.rand(5, 4, generator=torch.Generator().manual_seed(0)))


# -------------------------------------------------------------------- clear errors
@pytest.mark.parametrize("device", ["xla", "meta", "mps", "cpu:1:2"])
@pytest.mark.parametrize("cls", [Autoencoder, VariationalAutoencoder, StackedAutoencoder])
def test_unusable_device_is_a_value_error_before_any_work(cls, device, X):
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("MPS is available here")
    est = cls(2, max_iter=2, device=device, callbacks=[Interrupt(epoch=99)])
    with pytest.raises(ValueError, match=rf"device='{device}'.* available here are 'cpu'"):
        est.fit(X)
    assert Interrupt.started == [] and _fitted_attributes(est) == []


def test_float32_overflow_is_a_value_error(X, y, tmp_path):
    big = X.copy()
    big[3, 2] = 1e39
    match = "too large for float32"
    with pytest.raises(ValueError, match=match):
        Autoencoder(2, max_iter=2).fit(big)
    mm = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float64,
                                   shape=big.shape)
    mm[:] = big
    with pytest.raises(ValueError, match=match):  # the lazy (memmap) path
        Autoencoder(2, max_iter=2).fit(mm)
    for est in (Autoencoder(2, max_iter=2, random_state=0).fit(X),
                VariationalAutoencoder(2, max_iter=2, random_state=0).fit(X)):
        for method in ("transform", "score_samples", "score"):
            with pytest.raises(ValueError, match=match):
                getattr(est, method)(big)
        Z = est.transform(X)
        Z[0, 0] = -1e39
        with pytest.raises(ValueError, match=match):
            est.inverse_transform(Z)
    clf = StackedAutoencoderClassifier((4,), layer_estimator=_layer(), max_iter=2,
                                       random_state=0)
    with pytest.raises(ValueError, match=match):
        clf.fit(big, y)
    clf.fit(X, y)
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        with pytest.raises(ValueError, match=match):
            getattr(clf, method)(big)


@pytest.mark.parametrize("name", FAMILIES)
def test_exploding_loss_diverges_for_every_estimator(name, y):
    # Standardised-looking data, lr=1e6: models with sigmoid codes (sparse,
    # contractive, conv, stacked) cannot overflow, their loss explodes instead.
    X = np.random.RandomState(0).randn(60, 16)
    est = FAMILIES[name]().set_params(lr=1e6, max_iter=5)
    with pytest.raises(TrainingDivergedError, match="Training diverged: the train loss"):
        _fit(est, X, y)
    assert _fitted_attributes(est) == []


def test_finite_explosion_message_and_factor():
    X = torch.from_numpy(np.random.RandomState(0).randn(60, 8).astype("f4"))
    module = MLPAutoencoderModule(8, 2, code_activation="sigmoid")  # bounded code
    net = AutoencoderNet(module, batch_size=10, lr=1e6, max_epochs=5, verbose=0,
                         optimizer=torch.optim.Adam, random_state=0)
    with pytest.raises(TrainingDivergedError, match=r"grew to .* more than 10000 times its "
                                                    r"first value \("):
        net.fit(ArrayDataset(X))
    losses = [b["train_loss"] for e in net.history for b in e["batches"]]
    assert all(np.isfinite(losses))  # caught although finite
    assert losses[-1] > DIVERGENCE_FACTOR * losses[0] >= max(losses[:-1])


def test_kl_warm_up_does_not_trip_the_divergence_rule(digits01):
    # the KL weight grows from 0 to beta: the KL term enters the loss after epoch 1
    vae = VariationalAutoencoder(8, hidden_layer_sizes=(32,), kl_warmup=10, beta=4.0,
                                 max_iter=12, random_state=0).fit(digits01[0][:600])
    assert vae.n_iter_ == 12
    assert [e["kl_weight"] for e in vae.history_][::5] == [0.0, 2.0, 4.0]


@pytest.mark.parametrize("cls", [StackedAutoencoder, StackedAutoencoderClassifier])
@pytest.mark.parametrize(
    "layer",
    [VariationalAutoencoder(max_iter=1), ConvAutoencoder(max_iter=1),
     ConvVariationalAutoencoder(max_iter=1), PCA()],
    ids=lambda e: type(e).__name__,
)
def test_unsupported_layer_estimator_is_rejected_before_training(cls, layer, X, y):
    if hasattr(layer, "callbacks"):
        layer = clone(layer).set_params(callbacks=[Interrupt(epoch=99)])
    est = cls(hidden_layer_sizes=(4,), layer_estimator=layer, max_iter=1)
    match = (r"layer_estimator must be one of skae's fully connected autoencoders "
             r"\(Autoencoder, SparseAutoencoder, DenoisingAutoencoder, "
             rf"ContractiveAutoencoder\).*got {type(layer).__name__}\.")
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)
    assert Interrupt.started == [] and _fitted_attributes(est) == []


def test_subclass_of_a_supported_layer_estimator_is_accepted(X):
    class MyDenoising(DenoisingAutoencoder):
        pass

    sae = StackedAutoencoder(3, hidden_layer_sizes=(6,), max_iter=1, random_state=0,
                             layer_estimator=MyDenoising(max_iter=1)).fit(X)
    assert [type(e) for e in sae.estimators_] == [MyDenoising, MyDenoising]


def test_overcomplete_autoencoder_warns_and_the_others_do_not():
    X = np.random.RandomState(0).rand(40, 6)
    with pytest.warns(OvercompleteCodeWarning,
                      match=r"n_components=6 >= n_features=6.*learn the identity map"):
        Autoencoder(6, max_iter=1).fit(X)
    with pytest.warns(OvercompleteCodeWarning):
        Autoencoder(8, max_iter=1).partial_fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OvercompleteCodeWarning)
        Autoencoder(5, max_iter=1).fit(X)
        for cls in (SparseAutoencoder, DenoisingAutoencoder, ContractiveAutoencoder,
                    VariationalAutoencoder):
            cls(8, max_iter=1).fit(X)
        # a stack's overcomplete layers are its design (6 -> 10 -> 3)
        StackedAutoencoder(3, hidden_layer_sizes=(10,), max_iter=1).fit(X)
