"""Scaling out: memory-mapped / lazy data, streaming, mixed precision, compile, DDP.

The CUDA side of the same features is in tests/test_cuda.py (skipped without a GPU).
"""

import os
import pickle
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from skae import (
    Autoencoder,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    StackedAutoencoderClassifier,
    VariationalAutoencoder,
    _data,
)
from skae._data import BatchIterator, LazyArray, LazyDataset
from skae.engine import AutoencoderNet, seeded
from skae.nn import MLPAutoencoderModule

FAST = dict(n_components=4, max_iter=3, n_iter_no_change=100, random_state=0)

ESTIMATORS = [
    Autoencoder(hidden_layer_sizes=(16,), **FAST),
    SparseAutoencoder(**FAST),
    DenoisingAutoencoder(hidden_layer_sizes=(16,), noise="gaussian", noise_level=0.1, **FAST),
    ContractiveAutoencoder(**FAST),
    VariationalAutoencoder(hidden_layer_sizes=(16,), **FAST),
    StackedAutoencoder(hidden_layer_sizes=(8,), **FAST, layer_estimator=Autoencoder(
        hidden_layer_sizes=(), code_activation="sigmoid", lr=1e-2, max_iter=3)),
]


def _id(est):
    return type(est).__name__


@pytest.fixture(scope="module")
def X01(digits01):
    return np.ascontiguousarray(digits01[0][:300], dtype=np.float32)


def to_memmap(tmp_path, X, name="X.npy"):
    path = tmp_path / name
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=X.dtype, shape=X.shape)
    mm[:] = X
    mm.flush()
    del mm
    return np.load(path, mmap_mode="r")


class RowSource:
    """A 2-D array-like that only slices, and records every read.

    ``np.asarray`` on it fails, so any code path that materialises it is caught.
    """

    def __init__(self, X):
        self._X = X
        self.shape = X.shape
        self.dtype = X.dtype
        self.reads = []

    def __len__(self):
        return len(self._X)

    def __getitem__(self, key):
        out = self._X[key]
        self.reads.append(len(out))
        return out

    def __array__(self, *args, **kwargs):
        raise AssertionError("the whole array was materialised")


def weights(est):
    return [p.detach().cpu().numpy() for p in est.net_.module_.parameters()]


# ------------------------------------------------------------------- lazy data
def test_memmap_fit_is_the_in_memory_fit(tmp_path, X01):
    mm = to_memmap(tmp_path, X01)
    for early in (False, True):
        params = dict(hidden_layer_sizes=(16,), early_stopping=early, **FAST)
        lazy = Autoencoder(**params).fit(mm)
        mem = Autoencoder(**params).fit(X01.copy())
        assert lazy.n_features_in_ == 64 and lazy.n_samples_seen_ == len(X01)
        assert lazy.output_activation_ == mem.output_activation_ == "sigmoid"
        # same rows, same order in every batch: the same floating-point computation
        for a, b in zip(weights(lazy), weights(mem), strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(lazy.loss_curve_, mem.loss_curve_)
        Z = lazy.transform(mm)
        assert type(Z) is np.ndarray and Z.dtype == np.float32
        np.testing.assert_array_equal(Z, mem.transform(X01))
        np.testing.assert_array_equal(lazy.score_samples(mm), mem.score_samples(X01))


def test_array_like_is_read_batch_by_batch_never_materialised(X01, monkeypatch):
    monkeypatch.setattr(_data, "_CHUNK_BYTES", 100 * 64 * 4)  # scan 100 rows at a time
    X = np.vstack([X01] * 4)  # 1200 rows
    src = RowSource(X)
    ae = Autoencoder(hidden_layer_sizes=(16,), batch_size=64, **FAST)
    ae._inference_batch_size = 100
    ae.fit(src)
    # validation scans in chunks; training reads one batch at a time
    assert max(src.reads) == 100 and src.reads.count(64) >= 3 * (len(X) // 64)
    src.reads.clear()
    Z = ae.transform(src)
    assert max(src.reads) <= 100 and Z.shape == (len(X), 4)
    src.reads.clear()
    scores = ae.score_samples(src)
    assert max(src.reads) <= 100 and scores.shape == (len(X),)
    np.testing.assert_allclose(Z, ae.transform(X), rtol=1e-6)
    assert ae.score(src) == pytest.approx(ae.score(X), rel=1e-6)


def test_lazy_input_converts_like_validate_data(tmp_path, X01):
    X8 = (X01 * 255).round().astype(np.uint8)
    mm = to_memmap(tmp_path, X8)
    ae = Autoencoder(hidden_layer_sizes=(16,), **FAST).fit(mm)
    ref = Autoencoder(hidden_layer_sizes=(16,), **FAST).fit(X8)
    assert ae.output_activation_ == ref.output_activation_ == "identity"  # 0..255
    Z = ae.transform(mm)
    assert Z.dtype == np.float64  # integer input gives float64, as in memory
    np.testing.assert_allclose(Z, ref.transform(X8), rtol=1e-6)
    lazy = LazyArray(mm)
    assert lazy.dtype == np.float64 and lazy[[5, 1]].dtype == np.float32
    np.testing.assert_array_equal(lazy[[5, 1]], X8[[5, 1]])
    np.testing.assert_array_equal(np.asarray(lazy.subset([3, 0])), X8[[0, 3]])


def test_lazy_input_errors(tmp_path, X01):
    bad = X01.copy()
    bad[123, 7] = np.nan
    with pytest.raises(ValueError, match=r"contains NaN \(in rows"):
        Autoencoder(**FAST).fit(to_memmap(tmp_path, bad, "nan.npy"))
    bad[123, 7] = np.inf
    with pytest.raises(ValueError, match="contains infinity"):
        Autoencoder(**FAST).fit(to_memmap(tmp_path, bad, "inf.npy"))
    with pytest.raises(ValueError, match="Expected a 2D array"):
        Autoencoder(**FAST).fit(to_memmap(tmp_path, X01[:, 0], "1d.npy"))
    with pytest.raises(ValueError, match="0 sample"):
        Autoencoder(**FAST).fit(to_memmap(tmp_path, X01[:0], "empty.npy"))
    ae = Autoencoder(**FAST).fit(X01)
    with pytest.raises(ValueError, match="X has 10 features, but Autoencoder is expecting 64"):
        ae.transform(to_memmap(tmp_path, X01[:, :10].copy(), "narrow.npy"))
    with pytest.raises(ValueError, match="needs input values in"):
        Autoencoder(loss="bce", **FAST).fit(to_memmap(tmp_path, X01 * 2, "wide.npy"))


@pytest.mark.parametrize("est", ESTIMATORS, ids=_id)
def test_every_estimator_fits_and_infers_on_a_memmap(est, tmp_path, X01):
    mm = to_memmap(tmp_path, X01)
    lazy = clone(est).fit(mm)
    mem = clone(est).fit(X01)
    for a, b in zip(weights(lazy), weights(mem), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lazy.transform(mm), mem.transform(X01), rtol=1e-5, atol=1e-6)
    if hasattr(est, "score_samples"):
        np.testing.assert_allclose(lazy.score_samples(mm), mem.score_samples(X01), rtol=1e-5,
                                   atol=1e-5)
    if isinstance(est, SparseAutoencoder):
        np.testing.assert_allclose(lazy.mean_activation_, mem.mean_activation_, rtol=1e-5)
    if isinstance(est, DenoisingAutoencoder):
        assert lazy.noise_range_ == mem.noise_range_
        assert lazy.corrupt(mm, random_state=0).shape == X01.shape
    if isinstance(est, ContractiveAutoencoder):
        np.testing.assert_allclose(lazy.jacobian_norm(mm), mem.jacobian_norm(X01), rtol=1e-5)


def test_stacked_classifier_on_a_memmap(tmp_path, digits01, X01):
    y = digits01[2][:300].copy()
    y[100:] = -1  # semi-supervised: labelled rows are a lazy subset
    mm = to_memmap(tmp_path, X01)
    layer = Autoencoder(hidden_layer_sizes=(), code_activation="sigmoid", max_iter=3)
    params = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0, layer_estimator=layer)
    lazy = StackedAutoencoderClassifier(**params).fit(mm, y)
    mem = StackedAutoencoderClassifier(**params).fit(X01, y)
    np.testing.assert_allclose(lazy.predict_proba(mm), mem.predict_proba(X01), rtol=1e-5,
                               atol=1e-6)


# ------------------------------------------------------------------- streaming
def test_partial_fit_streams_chunks_like_incremental_pca(tmp_path, X01):
    X = np.vstack([X01] * 3)
    mm = to_memmap(tmp_path, X)
    ae = Autoencoder(hidden_layer_sizes=(32,), n_components=8, batch_size=32, lr=1e-2,
                     random_state=0)
    chunks = [(s, min(s + 200, len(X))) for s in range(0, len(X), 200)]
    errors = []
    for _ in range(3):  # three passes over the stream, one epoch per chunk
        for start, stop in chunks:
            ae.partial_fit(mm[start:stop])  # a memmap slice stays on disk
        errors.append(-ae.score(mm))
    assert ae.n_samples_seen_ == 3 * len(X)
    assert ae.n_iter_ == 3 * len(chunks)
    assert errors[2] < errors[1] < errors[0]
    assert errors[-1] < 0.75 * float(((X - X.mean(0)) ** 2).mean())  # beats the mean


# ------------------------------------------------------------- mixed precision
@pytest.mark.parametrize("est", ESTIMATORS, ids=_id)
def test_bfloat16_training_on_cpu(est, X01):
    est = clone(est).set_params(mixed_precision=True, max_iter=6)
    est.fit(X01)
    assert est.net_.mixed_precision == "bfloat16"
    assert all(p.dtype == torch.float32 for p in est.net_.module_.parameters())
    curve = np.asarray(est.loss_curve_)
    assert np.isfinite(curve).all() and curve[-1] < curve[0]
    Z = est.transform(X01.astype(np.float64))
    assert Z.dtype == np.float64 and np.isfinite(Z).all()
    # close to the same fit in float32
    ref = clone(est).set_params(mixed_precision=False).fit(X01)
    assert est.loss_curve_[-1] == pytest.approx(ref.loss_curve_[-1], rel=0.2)


def test_mixed_precision_parameter_checks(X01):
    with pytest.raises(ValueError, match="float16' needs a CUDA device"):
        Autoencoder(mixed_precision="float16", **FAST).fit(X01)
    with pytest.raises(InvalidParameterError, match="mixed_precision"):
        Autoencoder(mixed_precision="fp8", **FAST).fit(X01)
    with pytest.raises(InvalidParameterError, match="compile"):
        Autoencoder(compile="yes", **FAST).fit(X01)
    ae = Autoencoder(**FAST).fit(X01)
    assert ae.net_.mixed_precision is None and ae.net_.compile is False


def make_net(**kwargs):
    return AutoencoderNet(MLPAutoencoderModule(64, 4, hidden_layer_sizes=(16,),
                                               output_activation="sigmoid"),
                          batch_size=32, lr=1e-2, optimizer=torch.optim.Adam, max_epochs=5,
                          verbose=0, **kwargs)


def test_float16_gradient_scaler_path(X01):
    # float16 autocast runs on this CPU build too, which exercises the GradScaler
    # wiring (scale, unscale before callbacks, step without closure) without a GPU.
    data = LazyDataset(LazyArray(X01))
    with seeded(0):
        net = make_net(mixed_precision="float16").fit(data)
    scaler = net.runtime_["scaler"]
    assert scaler.is_enabled() and scaler.get_scale() > 0
    losses = net.history[:, "train_loss"]
    assert np.isfinite(losses).all() and losses[-1] < 0.7 * losses[0]
    assert "scaler" not in pickle.loads(pickle.dumps(net)).runtime_


# --------------------------------------------------------------------- compile
def test_compile_keeps_the_plain_module_and_pickles(X01):
    data = LazyDataset(LazyArray(X01))
    with seeded(0):
        plain = make_net().fit(data)
    with seeded(0):  # the eager backend: compiled graph, same numerics, no C++ build
        net = make_net(compile=True, compile__backend="eager").fit(data)
    runner = net._forward_module(training=True)
    assert type(runner).__name__ == "OptimizedModule" and runner._orig_mod is net.module_
    assert isinstance(net.module_, MLPAutoencoderModule)
    assert not any(k.startswith("_orig_mod") for k in net.module_.state_dict())
    np.testing.assert_allclose(net.history[:, "train_loss"], plain.history[:, "train_loss"],
                               rtol=1e-5)
    clone_ = pickle.loads(pickle.dumps(net))
    assert clone_.runtime_ == {}
    Z = clone_.apply_batched(clone_.module_.encode, X01)
    np.testing.assert_allclose(Z, net.apply_batched(net.module_.encode, X01), rtol=1e-6)


@pytest.mark.slow
def test_compile_estimator_end_to_end(X01):
    # inductor on the CPU: needs a C++ compiler and takes tens of seconds
    if shutil.which(os.environ.get("CXX", "g++")) is None:
        pytest.skip("torch.compile (inductor) needs a C++ compiler")
    params = dict(hidden_layer_sizes=(16,), **FAST)
    ref = Autoencoder(**params).fit(X01)
    ae = Autoencoder(compile=True, **params).fit(X01)
    np.testing.assert_allclose(ae.loss_curve_, ref.loss_curve_, rtol=1e-3)
    np.testing.assert_allclose(ae.transform(X01), ref.transform(X01), atol=1e-3)
    back = pickle.loads(pickle.dumps(ae))
    np.testing.assert_allclose(back.transform(X01), ae.transform(X01), rtol=1e-6)


# ------------------------------------------------------------- data parallel
def test_sharded_batches_cover_each_global_batch_once():
    data = LazyDataset(LazyArray(np.arange(22, dtype=np.float32).reshape(11, 2)))
    for shuffle in (False, True):
        shards = []
        for rank in range(3):
            gen = torch.Generator().manual_seed(0)
            shards.append(list(BatchIterator(data, 4, shuffle=shuffle, generator=gen,
                                             shard=(rank, 3))))
        assert [len(s) for s in shards] == [3, 3, 3]
        for b in range(3):
            parts = [shards[r][b] for r in range(3)]
            n_global = parts[0].n_global
            assert n_global == (4 if b < 2 else 3)
            rows = np.concatenate([p[0].numpy()[: p.n_local, 0] for p in parts])
            assert sum(p.n_local for p in parts) == n_global == len(set(rows))
        all_rows = [p[0].numpy()[: p.n_local, 0] for s in shards for p in s]
        assert sorted(np.concatenate(all_rows) // 2) == list(range(11))


def _ddp_fit(out):
    """What every process of the data-parallel tests runs (the group is initialised)."""
    import torch.distributed as dist

    torch.set_num_threads(1)
    rank = dist.get_rank()
    X = np.load(os.path.join(out, "X.npy"), mmap_mode="r")
    ae = Autoencoder(n_components=4, hidden_layer_sizes=(16,), batch_size=25, max_iter=4,
                     n_iter_no_change=100, random_state=0).fit(X)
    dae = DenoisingAutoencoder(n_components=4, hidden_layer_sizes=(16,), max_iter=3,
                               early_stopping=True, random_state=None).fit(X)
    # penalties that read the weights outside the forward pass, sampling noise
    cae = ContractiveAutoencoder(n_components=4, max_iter=2, random_state=0).fit(X)
    vae = VariationalAutoencoder(n_components=2, hidden_layer_sizes=(8,), max_iter=2,
                                 likelihood="gaussian", random_state=0).fit(X)
    np.savez(os.path.join(out, f"rank{rank}.npz"),
             *[p.detach().numpy() for p in ae.net_.module_.parameters()],
             loss=np.array(ae.loss_curve_), dae=dae.transform(X[:50]),
             dae_loss=np.array(dae.validation_loss_curve_), cae=cae.transform(X[:50]),
             vae=vae.transform(X[:50]), vae_logvar=vae.net_.module_.x_logvar().detach())
    try:  # different data on the ranks: a clear error everywhere, not a hang
        Autoencoder(max_iter=1, random_state=0).fit(X[: 100 + rank])
    except ValueError as exc:
        assert "same training data on every process" in str(exc), exc
        with open(os.path.join(out, f"mismatch{rank}"), "w") as f:
            f.write("detected")
    dist.destroy_process_group()


TORCHRUN_SCRIPT = textwrap.dedent(
    """
    import os
    import sys
    import torch.distributed as dist
    sys.path[:0] = [{root!r}, {tests!r}]
    import test_scale
    dist.init_process_group("gloo")
    test_scale._ddp_fit(sys.argv[1])  # ends with destroy_process_group()
    # torch 2.13's DDP keeps the gloo group's threads alive after
    # destroy_process_group(), and about one exit in ten then aborts in interpreter
    # teardown (SIGABRT, "terminate called without an active exception") after all
    # work is done: see docs/scale.rst. Exit without that teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
    """
)


def _check_ddp_results(out, X):
    ranks = [dict(np.load(out / f"rank{r}.npz")) for r in range(2)]
    for key in ranks[0]:
        np.testing.assert_array_equal(ranks[0][key], ranks[1][key], err_msg=key)
    # a plain autoencoder trained on 2 processes is the single-process fit with the
    # same global batch size, up to the order of floating-point sums
    ref = Autoencoder(n_components=4, hidden_layer_sizes=(16,), batch_size=25, max_iter=4,
                      n_iter_no_change=100, random_state=0).fit(X)
    np.testing.assert_allclose(ranks[0]["loss"], ref.loss_curve_, rtol=1e-4)
    for i, w in enumerate(weights(ref)):
        np.testing.assert_allclose(ranks[0][f"arr_{i}"], w, atol=1e-4)
    assert ranks[0]["dae_loss"][-1] < ranks[0]["dae_loss"][0]
    assert np.abs(ranks[0]["vae_logvar"]).max() > 0  # the learned variance was trained


def test_data_parallel_torchrun_launch(tmp_path, X01):
    # The launch command documented in docs/scale.rst, in fresh processes. (Not forked
    # from the test process: a fork after torch's OpenMP pool has run can deadlock.)
    X = X01[:210]  # 210 = 8 batches of 25 + 10: the last global batch is uneven
    np.save(tmp_path / "X.npy", X)
    tests = os.path.dirname(os.path.abspath(__file__))
    script = tmp_path / "train.py"
    script.write_text(TORCHRUN_SCRIPT.format(root=os.path.dirname(tests), tests=tests))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", str(script), str(tmp_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stderr[-3000:]
    assert all((tmp_path / f"mismatch{r}").exists() for r in range(2))
    _check_ddp_results(tmp_path, X)
