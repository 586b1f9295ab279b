"""Wall time of a grid search over a skae pipeline: n_jobs=1 vs a Dask cluster vs loky.

The search is ``GridSearchCV(Pipeline([MinMaxScaler, Autoencoder, LogisticRegression]))``
over 8 candidates (``n_components`` x ``lr`` x ``hidden_layer_sizes``) with ``--cv`` 3
folds and a refit: 25 fits (digits by default; ``--dataset mnist`` takes a 10,000-image
subset of the MNIST training set). Every autoencoder runs exactly ``--max-iter`` epochs (the
stopping rule's patience exceeds the budget), so all modes do the same work. Modes:

* ``serial`` (``n_jobs=1``): one fit after another in this process, with torch's default
  thread count (all usable cores); the baseline of the ratios;
* ``serial-1t`` (``n_jobs=1, 1 thread``): the same with one torch and one BLAS / OpenMP
  thread, what each parallel fit below gets on 2 cores (it separates the gain of
  running fits side by side from that of single-threaded fits);
* ``dask``: ``joblib.parallel_config(backend="dask")`` on a
  ``LocalCluster(n_workers=W, threads_per_worker=1, processes=True)`` with
  :class:`skae.parallel.TorchThreadsPlugin` giving each fit ``cores // W`` torch
  threads (``--workers W``, default 2);
* ``loky``: ``GridSearchCV(n_jobs=W)`` on joblib's default process pool, which starts
  its workers with ``OMP_NUM_THREADS = cores // W`` (torch reads it);
* with ``--oversubscribe``, two deliberately oversubscribed set-ups that show what the
  thread limits save: ``dask-all-cores``, the cluster above with every fit on all
  cores (``TorchThreadsPlugin(cores)``), and ``threading``, joblib's thread pool (W
  threads in this process, each fit on all cores; its concurrent fits are not
  reproducible, see docs/distributed.rst).

``--modes`` picks any of them (the first is the baseline when ``serial`` is left out).
Each of the ``--repeats`` rounds runs every mode once, in turn, so a change in machine
load hits all modes alike; the table shows the median (and min) wall time of the
``fit`` call. Starting the cluster and the loky workers, and a small warm-up search on
each (the workers' first imports of torch, skae and scikit-learn), happen before timing
and are reported separately: they are paid once per session, not per search. The
final refit on the whole training set runs in this process in every mode. Each mode's
``best_params_`` and ``cv_results_['mean_test_score']`` are compared with the baseline's.

Usage::

    python benchmarks/dask_search.py                   # digits: 4 modes x 3 rounds x 25 fits
    python benchmarks/dask_search.py --repeats 5 --oversubscribe
    python benchmarks/dask_search.py --modes serial-1t dask --max-iter 10
    python benchmarks/dask_search.py --dataset mnist --n-train 10000 --max-iter 10
    python benchmarks/dask_search.py --scheduler tcp://host:8786   # an existing cluster
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_dataset, machine_info, markdown_table, versions, write_json  # noqa: E402


def usable_cpus():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def make_search(args, n_jobs=None):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler

    from skae import Autoencoder

    ae = Autoencoder(max_iter=args.max_iter, n_iter_no_change=args.max_iter + 1,
                     batch_size=args.batch_size, random_state=args.seed)
    pipe = Pipeline([("scale", MinMaxScaler()), ("ae", ae),
                     ("clf", LogisticRegression(max_iter=1000))])
    grid = {
        "ae__n_components": [16, 32],
        "ae__lr": [1e-3, 3e-3],
        "ae__hidden_layer_sizes": [(64,), (128,)],
    }
    return GridSearchCV(pipe, grid, cv=args.cv, n_jobs=n_jobs)


def _import_skae():
    import skae  # noqa: F401

    time.sleep(0.5)  # keep this worker busy so the next call lands on another one
    return os.getpid()


#: Mode key -> name in the table.
MODES = {
    "serial": "n_jobs=1",
    "serial-1t": "n_jobs=1, 1 thread",
    "dask": "dask",
    "loky": "loky",
    "dask-all-cores": "dask, torch on all cores",
    "threading": "threading",
}
DEFAULT_MODES = ["serial", "serial-1t", "dask", "loky"]
OVERSUBSCRIBED = ["dask-all-cores", "threading"]


class Modes:
    """Set up the modes once (untimed); ``run(key)`` times one search."""

    def __init__(self, args, X, y):
        self.args, self.X, self.y = args, X, y
        self.cores = usable_cpus()
        self.W = args.workers
        # torch threads per fit in the parallel modes: the cores shared out fairly
        self.per_fit = args.torch_threads or max(1, self.cores // self.W)
        self.stack = contextlib.ExitStack()
        self.startup = {}
        self.client = None
        self.worker_threads = None

    def close(self):
        self.stack.close()

    # ---------------------------------------------------------------------- set-up
    def start(self, keys):
        if any(k.startswith("dask") for k in keys):
            self._start_dask()
            self._warm_up("dask")
        if "loky" in keys:
            self._start_loky()
            self._warm_up("loky")

    def _warm_up(self, key):
        """One small search, so that the workers' first imports are not timed."""
        saved = self.args, self.X, self.y
        self.args = argparse.Namespace(**{**vars(self.args), "max_iter": 1, "cv": 2})
        self.X, self.y = self.X[:200], self.y[:200]
        try:
            self.startup[key] += self.run(key)[0]
        finally:
            self.args, self.X, self.y = saved

    def _start_dask(self):
        from distributed import Client, LocalCluster

        from skae.parallel import TorchThreadsPlugin, worker_torch_threads

        t0 = time.perf_counter()
        if self.args.scheduler:
            self.client = self.stack.enter_context(Client(self.args.scheduler))
            workers = self.client.scheduler_info()["workers"].values()
            self.W = sum(w["nthreads"] for w in workers)
        else:
            cluster = self.stack.enter_context(LocalCluster(
                n_workers=self.W, threads_per_worker=1, processes=True,
                dashboard_address=":0", silence_logs=logging.ERROR))
            self.client = self.stack.enter_context(Client(cluster))
        self.client.register_plugin(TorchThreadsPlugin(self.per_fit))
        self.client.run(_import_skae)
        self.startup["dask"] = time.perf_counter() - t0
        self.worker_threads = worker_torch_threads(self.client)
        self._plugin = TorchThreadsPlugin

    def _start_loky(self):
        from joblib import Parallel, delayed

        t0 = time.perf_counter()
        Parallel(n_jobs=self.W)(delayed(_import_skae)() for _ in range(2 * self.W))
        self.startup["loky"] = time.perf_counter() - t0

    # ------------------------------------------------------------------------ runs
    def describe(self, key):
        """``(parallelism, torch threads per fit)`` of a mode."""
        return {
            "serial": ("this process", torch.get_num_threads()),
            "serial-1t": ("this process", 1),
            "dask": (f"{self.W} workers x 1 thread", self.per_fit),
            "loky": (f"n_jobs={self.W}", self.per_fit),
            "dask-all-cores": (f"{self.W} workers x 1 thread", self.cores),
            "threading": (f"n_jobs={self.W}", torch.get_num_threads()),
        }[key]

    def run(self, key):
        import joblib

        if key == "serial":
            return self._fit(make_search(self.args, n_jobs=None))
        if key == "serial-1t":
            from threadpoolctl import threadpool_limits

            old = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                with threadpool_limits(1):  # BLAS / OpenMP too, as in the workers
                    return self._fit(make_search(self.args, n_jobs=None))
            finally:
                torch.set_num_threads(old)
        if key in ("dask", "dask-all-cores"):
            n = self.per_fit if key == "dask" else self.cores
            self.client.register_plugin(self._plugin(n))  # replaces the previous one
            with joblib.parallel_config(backend="dask"):
                return self._fit(make_search(self.args))
        if key == "loky":
            return self._fit(make_search(self.args, n_jobs=self.W))
        if key == "threading":
            with joblib.parallel_config(backend="threading", n_jobs=self.W):
                return self._fit(make_search(self.args))
        raise ValueError(key)

    def _fit(self, search):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # LogisticRegression convergence on codes
            t0 = time.perf_counter()
            search.fit(self.X, self.y)
            return time.perf_counter() - t0, search


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["digits", "mnist", "fashion_mnist"],
                        default="digits")
    parser.add_argument("--data-home", type=Path, default=None, metavar="DIR",
                        help="folder of the MNIST files (default ../shared/data/mnist)")
    parser.add_argument("--n-train", type=int, default=None,
                        help="stratified training subset (default: all; MNIST: 10000)")
    parser.add_argument("--max-iter", type=int, default=30, help="epochs per fit")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2,
                        help="Dask workers (1 thread each) and loky / threading n_jobs")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="use this Dask scheduler instead of a LocalCluster")
    parser.add_argument("--torch-threads", type=int, default=None, metavar="N",
                        help="torch threads per fit in the dask and loky modes "
                             "(default: usable cores // --workers)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--oversubscribe", action="store_true",
                        help="also time the oversubscribed dask-all-cores and threading modes")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=None,
                        metavar="MODE", help=f"modes to time, among {', '.join(MODES)} "
                        f"(default: {' '.join(DEFAULT_MODES)})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="seconds, for smoke tests: 300 samples, 2 epochs, 2 folds, 1 round")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.quick:
        args.n_train, args.max_iter, args.cv, args.repeats = 300, 2, 2, 1
    n_train = args.n_train
    if n_train is None and args.dataset != "digits":
        n_train = 10_000
    data = load_dataset(args.dataset, data_home=args.data_home, n_train=n_train,
                        seed=args.seed)
    X, y = data.X_train, data.y_train
    print(f"{data.description}: {len(X)} training samples x {X.shape[1]} features; "
          f"8 candidates x {args.cv} folds + refit = {8 * args.cv + 1} fits, "
          f"{args.max_iter} epochs each")

    keys = args.modes or DEFAULT_MODES + (OVERSUBSCRIBED if args.oversubscribe else [])
    modes = Modes(args, X, y)
    try:
        modes.start(keys)
        started = ", ".join(f"{k} {v:.1f} s" for k, v in modes.startup.items())
        print(f"{modes.cores} usable cores; start-up, not timed below: {started or '-'}")
        if modes.worker_threads is not None:
            print(f"torch threads of the Dask workers' task threads: {modes.worker_threads}")
        times = {key: [] for key in keys}
        searches = {}
        for r in range(args.repeats):
            for key in keys:
                seconds, searches[key] = modes.run(key)
                times[key].append(seconds)
                print(f"  round {r + 1}/{args.repeats}  {MODES[key]:<26} {seconds:7.2f} s",
                      flush=True)
    finally:
        modes.close()

    base_key = "serial" if "serial" in keys else keys[0]
    ref, base = searches[base_key], statistics.median(times[base_key])
    rows = []
    for key in keys:
        med = statistics.median(times[key])
        layout, threads = modes.describe(key)
        s = searches[key]
        rows.append({
            "mode": MODES[key], "layout": layout, "threads": threads, "median": med,
            "min": min(times[key]), "ratio": med / base, "speedup": base / med,
            "same_best": "yes" if s.best_params_ == ref.best_params_ else "NO",
            "score_diff": float(np.max(np.abs(s.cv_results_["mean_test_score"]
                                              - ref.cv_results_["mean_test_score"]))),
        })
    base_name = MODES[base_key]
    print()
    print(markdown_table([
        ("mode", "mode", None), ("parallelism", "layout", None),
        ("torch threads / fit", "threads", "d"), ("median s", "median", ".2f"),
        ("min s", "min", ".2f"), (f"time / {base_name}", "ratio", ".2f"),
        ("speed-up", "speedup", ".2f"), ("same best_params_", "same_best", None),
        ("max |Δ mean score|", "score_diff", ".1e"),
    ], rows))
    print(f"\nbest_params_ ({base_name}): {ref.best_params_}, "
          f"best score {ref.best_score_:.4f}; median of {args.repeats} rounds")
    if any(row["same_best"] != "yes" for row in rows):
        print(f"WARNING: a mode found other best_params_ than {base_name}", file=sys.stderr)
    if args.json:
        write_json(args.json, {"args": vars(args), "rows": rows, "times": times,
                               "startup": modes.startup, "best_params": ref.best_params_,
                               "versions": versions(), "machine": machine_info()})
    return rows


if __name__ == "__main__":
    main()
