"""Keep torch's CPU threads in line with the parallelism of a Dask cluster.

A scikit-learn search over skae pipelines (``GridSearchCV``, ``cross_validate``...)
runs one fit per task. On a Dask cluster (``joblib.parallel_config(backend="dask")``)
each task runs in a thread of a worker process, and each fit uses torch's intra-op
thread pool. The size of that pool is a per-process setting with two traps:

* Dask's nannies start worker processes with ``OMP_NUM_THREADS=1`` (the
  ``distributed.nanny.pre-spawn-environ`` setting), so by default every task trains
  on **one** core, however many cores the worker's machine has. Workers started
  without a nanny (``dask worker --no-nanny``, ``LocalCluster(processes=False)``) get
  torch's default instead, **all** cores per task, and oversubscribe the machine as
  soon as two tasks run at once.
* ``torch.set_num_threads`` only reaches the calling thread and threads that have not
  run torch yet (OpenMP keeps the count per thread). ``client.run(torch.set_num_threads,
  n)`` runs in each worker's event-loop thread, so task threads that already trained
  a model keep their old count while ``client.run(torch.get_num_threads)`` reports
  the new one.

:class:`TorchThreadsPlugin` sets the count on every task thread of every worker, now
and on workers that join later; :func:`worker_torch_threads` reports what the task
threads will really use. Both need the optional ``distributed`` package; the
module itself imports without it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from numbers import Integral

import torch

try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # distributed is an optional dependency (pip install distributed)
    WorkerPlugin = object
    _HAS_DISTRIBUTED = False
else:
    _HAS_DISTRIBUTED = True

__all__ = ["TorchThreadsPlugin", "worker_torch_threads"]

logger = logging.getLogger(__name__)

#: Seconds to wait for busy task threads when applying or reading the setting.
_THREAD_TIMEOUT = 10.0

# In-process workers (LocalCluster(processes=False)) share one torch: the first
# plugin set-up in a process records the count to restore, the last teardown restores it.
_state_lock = threading.Lock()
_state = {"active": 0, "original": None}


def _require_distributed():
    if not _HAS_DISTRIBUTED:
        raise ImportError(
            "skae.parallel needs the 'distributed' package for Dask clusters: "
            "pip install distributed (or pip install 'skae[distributed]')."
        )


def _task_executor(worker):
    """The thread pool that runs the worker's tasks, with its size, or (None, 0)."""
    executor = worker.executors.get("default")
    n = getattr(executor, "_max_workers", None)
    # Only thread pools: a barrier cannot reach into a process pool.
    if executor is None or not n or not hasattr(executor, "_threads"):
        return None, 0
    return executor, int(n)


async def _on_each_thread(worker, fn, timeout=_THREAD_TIMEOUT):
    """Call ``fn()`` once in each thread of the worker's task pool; return the results.

    Every call waits at a barrier until all the pool's threads hold one, so no thread
    runs two calls and every idle thread runs one. Threads still busy with a task
    after ``timeout`` seconds are skipped (their results are missing from the list).
    """
    executor, n = _task_executor(worker)
    if executor is None:
        return []
    barrier = threading.Barrier(n)

    def call():
        out = fn()
        try:
            barrier.wait(timeout)
        except threading.BrokenBarrierError:
            pass
        return out

    futures = [asyncio.wrap_future(executor.submit(call)) for _ in range(n)]
    done, pending = await asyncio.wait(futures, timeout=timeout + 1.0)
    if pending:
        logger.warning(
            "skae: %d of %d task threads of worker %s were busy; their torch thread "
            "count is unchanged until they next start. Register the plugin before "
            "submitting work.",
            len(pending), n, getattr(worker, "address", "?"),
        )
    return [f.result() for f in futures if f in done]


def _set_threads(n_threads):
    torch.set_num_threads(n_threads)
    return torch.get_num_threads()


class TorchThreadsPlugin(WorkerPlugin):
    """Dask worker plugin that sets the number of torch CPU threads per task.

    Register it on a :class:`distributed.Client` with ``client.register_plugin``; it
    applies to the workers that are connected and to those that join later. In each
    worker it calls :func:`torch.set_num_threads` in the worker's main thread (which
    sets the default of threads created afterwards) and in every thread of the
    worker's task pool, so threads that trained a model before the plugin was
    registered follow the new count too. Unregistering it
    (``client.unregister_worker_plugin(TorchThreadsPlugin.name)``) restores the
    previous count; registering another instance replaces the first.

    Each of a worker's ``nthreads`` task threads runs its own fit with ``n_threads``
    torch threads, so a machine runs ``n_threads`` x (the Dask threads of all its
    workers) torch threads at once. Choose ``n_threads`` = physical cores of a
    machine // Dask threads on that machine: 1 for a ``LocalCluster`` with one
    single-threaded worker per core, 8 for one single-threaded worker on an 8-core
    machine.

    Parameters
    ----------
    n_threads : int, default=1
        Torch intra-op threads each task uses.

    Attributes
    ----------
    name : str
        ``"skae-torch-threads"``, the name the plugin is registered under.

    See Also
    --------
    worker_torch_threads : The thread count the workers' task threads use.

    Notes
    -----
    Requires the ``distributed`` package. Only torch's intra-op pool is set (the one
    that parallelises a matrix product or a convolution); BLAS libraries used by
    NumPy and scikit-learn follow the nanny's ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS``
    environment. With in-process workers (``processes=False``) all workers share the
    client's torch, so the setting is the client process's too while the plugin is
    registered.

    Examples
    --------
    >>> from skae.parallel import TorchThreadsPlugin
    >>> TorchThreadsPlugin(n_threads=2)
    TorchThreadsPlugin(n_threads=2)

    A grid search on a local cluster of two single-threaded worker processes:

    >>> import joblib
    >>> from distributed import Client, LocalCluster
    >>> from skae.parallel import worker_torch_threads
    >>> with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, \\
    ...         Client(cluster) as client:                    # doctest: +SKIP
    ...     client.register_plugin(TorchThreadsPlugin(n_threads=1))
    ...     print(worker_torch_threads(client))
    ...     with joblib.parallel_config(backend="dask"):
    ...         search.fit(X, y)
    {'tcp://127.0.0.1:41025': [1], 'tcp://127.0.0.1:46229': [1]}
    """

    name = "skae-torch-threads"

    def __init__(self, n_threads=1):
        _require_distributed()
        if isinstance(n_threads, bool) or not isinstance(n_threads, Integral):
            raise TypeError(
                f"n_threads must be a positive int, got {type(n_threads).__name__} "
                f"{n_threads!r}."
            )
        if n_threads < 1:
            raise ValueError(f"n_threads must be a positive int, got {n_threads}.")
        self.n_threads = int(n_threads)

    def __repr__(self):
        return f"{type(self).__name__}(n_threads={self.n_threads})"

    async def setup(self, worker):
        with _state_lock:
            if _state["active"] == 0:
                _state["original"] = torch.get_num_threads()
            _state["active"] += 1
        _set_threads(self.n_threads)
        await _on_each_thread(worker, lambda: _set_threads(self.n_threads))

    async def teardown(self, worker):
        with _state_lock:
            _state["active"] = max(0, _state["active"] - 1)
            if _state["active"] or _state["original"] is None:
                return
            original = _state["original"]
            _state["original"] = None
        _set_threads(original)
        from distributed.core import Status

        if worker.status in (Status.running, Status.paused):  # not when closing
            await _on_each_thread(worker, lambda: _set_threads(original))


async def _report_threads(dask_worker):
    return await _on_each_thread(dask_worker, torch.get_num_threads)


def worker_torch_threads(client):
    """The torch CPU thread count of each task thread of each Dask worker.

    Unlike ``client.run(torch.get_num_threads)``, which reads the count in each
    worker's event-loop thread, this asks the threads that run tasks: a fit that
    starts now on a worker uses the count reported for its thread.

    Parameters
    ----------
    client : distributed.Client
        Client of the cluster.

    Returns
    -------
    threads : dict of str to list of int
        For each worker address, one count per task thread (``nthreads`` entries;
        threads busy with a task for more than 10 s are left out).

    Examples
    --------
    >>> from distributed import Client, LocalCluster
    >>> from skae.parallel import worker_torch_threads
    >>> with LocalCluster(n_workers=1, threads_per_worker=2) as cluster, \\
    ...         Client(cluster) as client:                    # doctest: +SKIP
    ...     print(worker_torch_threads(client))
    {'tcp://127.0.0.1:40343': [1, 1]}
    """
    _require_distributed()
    return client.run(_report_threads)
