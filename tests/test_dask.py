"""Searches over skae pipelines on a Dask cluster (joblib's "dask" backend)."""

import contextlib
import logging
import os
import re
import threading
import time

import joblib
import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from threadpoolctl import threadpool_limits

from skae import Autoencoder

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")  # a dependency of distributed

from distributed import Client, LocalCluster, get_task_stream  # noqa: E402

from skae.parallel import TorchThreadsPlugin, worker_torch_threads  # noqa: E402

# The scheduler serves HTTP even without a dashboard: a free port avoids clashing on 8787.
CLUSTER = dict(dashboard_address=":0", silence_logs=logging.ERROR)
BEFORE_PLUGIN = {}  # worker address -> torch threads of its task threads, before any plugin


@contextlib.contextmanager
def like_a_worker():
    """Run the block single-threaded, as a task runs in the workers below.

    One torch thread (the plugin's setting) and one BLAS / OpenMP thread (the
    nanny's ``OMP_NUM_THREADS=1``) make a local fit the same floating-point
    computation as a fit on the workers.
    """
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(old)


def _wait_gone(pids, timeout=15.0):
    """PIDs among ``pids`` still alive (zombies count) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes, one torch thread per task.

    The tests using it are marked slow: the workers import torch and skae, and the
    first search warms them up: most of this file's time (45 s of 55 s on a busy 2-core
    machine).
    """
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, **CLUSTER) as cluster:
        with Client(cluster) as client:
            # Before the plugin: what the nanny's environment gives (OMP_NUM_THREADS=1).
            BEFORE_PLUGIN.update(worker_torch_threads(client))
            client.register_plugin(TorchThreadsPlugin(n_threads=1))
            pids = client.run(os.getpid)
            assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
            yield client
    # Closing the cluster must leave no worker process behind.
    assert _wait_gone(pids.values()) == []


@pytest.fixture(scope="module")
def data(digits):
    X_train, _, y_train, _ = digits
    return X_train[:300], y_train[:300]


def _pipeline():
    ae = Autoencoder(n_components=8, hidden_layer_sizes=(16,), max_iter=5, batch_size=64,
                     random_state=0)
    return Pipeline([("scale", MinMaxScaler()), ("ae", ae),
                     ("clf", LogisticRegression(max_iter=300))])


def _search():
    grid = {"ae__n_components": [4, 12], "ae__lr": [1e-3, 1e-2]}
    return GridSearchCV(_pipeline(), grid, cv=2)


def _torch_task():
    """Train-like torch work in a task thread; report its torch thread count."""
    a = torch.randn(64, 64)
    (a @ a).sum()
    return torch.get_num_threads()


@pytest.mark.slow
def test_grid_search_on_dask_matches_sequential(client, data):
    X, y = data
    with like_a_worker():
        reference = _search().fit(X, y)
    workers = set(client.scheduler_info()["workers"])
    with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        search = _search().fit(X, y)

    assert search.best_params_ == reference.best_params_
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(search.cv_results_[key], reference.cv_results_[key])
    # The candidates differ, so agreeing on the best one means something.
    assert np.ptp(reference.cv_results_["mean_test_score"]) > 0.05

    # All 4 candidates x 2 folds ran as joblib batches on the workers, on both of them.
    fits = [t for t in stream.data if "_fit_and_score" in t["key"]]
    n_fits = sum(int(re.search(r"_(\d+)_calls", t["key"]).group(1)) for t in fits)
    assert n_fits == 8
    assert {t["worker"] for t in fits} == workers
    # The refit on the whole data happens here, in the client process.
    np.testing.assert_array_equal(
        search.best_estimator_.predict(X), reference.best_estimator_.predict(X)
    )


@pytest.mark.slow
def test_fitted_estimators_come_back_from_workers(client, data):
    X, y = data
    with like_a_worker():
        reference = cross_validate(_pipeline(), X, y, cv=2, return_estimator=True)
    with joblib.parallel_backend("dask"):
        result = cross_validate(_pipeline(), X, y, cv=2, return_estimator=True)
    for remote, local in zip(result["estimator"], reference["estimator"], strict=True):
        ae = remote.named_steps["ae"]
        assert ae.net_.device == "cpu" and ae.n_iter_ == 5
        codes = remote[:-1].transform(X)
        assert codes.shape == (len(X), 8) and np.isfinite(codes).all()
        np.testing.assert_array_equal(codes, local[:-1].transform(X))
        np.testing.assert_array_equal(ae.loss_curve_, local.named_steps["ae"].loss_curve_)
    np.testing.assert_array_equal(result["test_score"], reference["test_score"])


@pytest.mark.slow
def test_plugin_sets_threads_of_every_task(client):
    workers = sorted(client.scheduler_info()["workers"])

    def task_threads():
        futures = [client.submit(_torch_task, workers=[w], allow_other_workers=False,
                                 pure=False) for w in workers]
        return client.gather(futures)

    assert worker_torch_threads(client) == {w: [1] for w in workers}
    # The task threads have now run torch with one thread; the new count must still
    # reach them (set_num_threads in another thread would not).
    assert task_threads() == [1, 1]
    try:
        client.register_plugin(TorchThreadsPlugin(n_threads=2))
        assert task_threads() == [2, 2]
        assert worker_torch_threads(client) == {w: [2] for w in workers}
        assert client.run(torch.get_num_threads) == {w: 2 for w in workers}
        client.unregister_worker_plugin(TorchThreadsPlugin.name)
        # Back to the count before any plugin.
        assert worker_torch_threads(client) == BEFORE_PLUGIN
        assert task_threads() == [BEFORE_PLUGIN[w][0] for w in workers]
    finally:
        client.register_plugin(TorchThreadsPlugin(n_threads=1))
    assert worker_torch_threads(client) == {w: [1] for w in workers}


def test_in_process_workers_share_and_restore_the_client_torch():
    def new_thread_count():
        out = []
        thread = threading.Thread(target=lambda: out.append(torch.get_num_threads()))
        thread.start()
        thread.join()
        return out[0]

    default = new_thread_count()
    with LocalCluster(n_workers=1, processes=False, threads_per_worker=2, **CLUSTER) as cluster:
        with Client(cluster) as client:
            (address,) = client.scheduler_info()["workers"]
            # Threads of an in-process worker start with the client process's default.
            assert worker_torch_threads(client) == {address: [default, default]}
            client.register_plugin(TorchThreadsPlugin(n_threads=1))
            assert worker_torch_threads(client) == {address: [1, 1]}
            assert new_thread_count() == 1  # the process-wide default while registered
    assert new_thread_count() == default  # restored when the worker closed


@pytest.mark.parametrize(
    "n_threads, error, match",
    [
        (0, ValueError, "n_threads must be a positive int, got 0"),
        (-2, ValueError, "got -2"),
        (1.5, TypeError, "got float 1.5"),
        (True, TypeError, "got bool True"),
        ("2", TypeError, "got str '2'"),
    ],
)
def test_plugin_rejects_bad_thread_counts(n_threads, error, match):
    with pytest.raises(error, match=match):
        TorchThreadsPlugin(n_threads=n_threads)
    assert repr(TorchThreadsPlugin(np.int64(3))) == "TorchThreadsPlugin(n_threads=3)"
