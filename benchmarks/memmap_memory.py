"""Peak memory of fitting on a memory-mapped file vs the same data in memory.

Writes an ``--n-samples`` x ``--n-features`` float32 ``.npy`` file (default
300,000 x 784 = 0.94 GB, uniform [0, 1]), then, each in a fresh subprocess:

* ``memmap``: ``Autoencoder.fit(np.load(path, mmap_mode="r"))`` for ``--epochs``
  epochs, then ``transform`` of the memmap;
* ``in-memory``: ``np.load(path)`` (the whole array in RAM), then the same fit and
  transform.

Each child records its memory after the imports and the estimator's construction
(the baseline) and samples ``/proc/self/status`` every few milliseconds during
fit and transform. Reported, minus the baseline:

* ``anon``: peak anonymous (private) memory, the memory the process really
  needs: arrays, tensors, the model, the optimizer;
* ``rss``: peak resident set size (``ru_maxrss``), which also counts the pages
  of the memory-mapped file that the process has touched. Those are the
  kernel's page cache, shared and reclaimable: under memory pressure the kernel
  drops them instead of failing, so a memmap fit can work on files larger than
  RAM.

and each as a ratio to the file size. The per-batch working set (one batch of
rows, the model, Adam's state, the activations) is printed for scale.

Usage::

    python benchmarks/memmap_memory.py                   # 300,000 x 784 (0.94 GB)
    python benchmarks/memmap_memory.py --n-samples 600000 --dir /data/tmp
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

MB = 2**20


def status_kb(*keys):
    """Values (kB) of ``keys`` in /proc/self/status."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in keys:
                out[name] = int(rest.split()[0])
    return out


class PeakSampler(threading.Thread):
    """Polls RssAnon / VmRSS until stopped; keeps the maxima (kB)."""

    def __init__(self, interval=0.005):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = {"RssAnon": 0, "VmRSS": 0}
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            for k, v in status_kb("RssAnon", "VmRSS").items():
                self.peak[k] = max(self.peak[k], v)
            time.sleep(self.interval)

    def stop(self):
        self._halt.set()
        self.join()
        return self.peak


def child(args):
    import torch

    from skae import Autoencoder

    torch.set_num_threads(args.threads)
    ae = Autoencoder(
        n_components=32, hidden_layer_sizes=(256,), max_iter=args.epochs,
        batch_size=args.batch_size, n_iter_no_change=args.epochs + 1, random_state=0,
    )
    # warm up torch's allocator and kernels on a few rows, outside the measurement
    Autoencoder(n_components=32, hidden_layer_sizes=(256,), max_iter=1).fit(
        np.random.default_rng(0).random((512, args.n_features), dtype=np.float32))
    base = status_kb("RssAnon", "VmRSS")
    base_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sampler = PeakSampler()
    sampler.start()
    t0 = time.perf_counter()
    if args.child == "memmap":
        X = np.load(args.path, mmap_mode="r")
    else:
        X = np.load(args.path)
    t_load = time.perf_counter() - t0
    ae.fit(X)
    t_fit = time.perf_counter() - t0 - t_load
    Z = ae.transform(X)
    t_transform = time.perf_counter() - t0 - t_load - t_fit
    peak = sampler.stop()
    rss_peak = peak["VmRSS"]
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    if maxrss > base_maxrss:  # a new high-water mark was set during the measurement
        rss_peak = max(rss_peak, maxrss)
    print(json.dumps({
        "anon_mb": (peak["RssAnon"] - base["RssAnon"]) / 1024,
        "rss_mb": (rss_peak - base["VmRSS"]) / 1024,
        "load_s": t_load, "fit_s": t_fit, "transform_s": t_transform,
        "final_loss": ae.loss_curve_[-1], "codes_mb": Z.nbytes / MB,
    }))


def write_file(path, n, d, seed=0, chunk=16384):
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(seed)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        mm[start:stop] = rng.random((stop - start, d), dtype=np.float32)
    mm.flush()
    del mm


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=300_000)
    parser.add_argument("--n-features", type=int, default=784)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dir", default=None, help="where to write the data file")
    parser.add_argument("--child", choices=["memmap", "in-memory"], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = os.path.join(tmp, "X.npy")
        t0 = time.perf_counter()
        write_file(path, args.n_samples, args.n_features)
        size_mb = os.path.getsize(path) / MB
        print(f"wrote {path}: {args.n_samples} x {args.n_features} float32, "
              f"{size_mb:.0f} MB in {time.perf_counter() - t0:.1f}s", flush=True)
        results = {}
        for mode in ("memmap", "in-memory"):
            cmd = [sys.executable, __file__, "--child", mode, "--path", path,
                   "--n-features", str(args.n_features), "--batch-size", str(args.batch_size),
                   "--epochs", str(args.epochs), "--threads", str(args.threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if out.returncode:
                sys.exit(f"{mode} child failed:\n{out.stderr}")
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
            r = results[mode]
            print(f"{mode}: fit {r['fit_s']:.1f}s, transform {r['transform_s']:.1f}s, "
                  f"final loss {r['final_loss']:.4f}", flush=True)

    d, b, h, k = args.n_features, args.batch_size, 256, 32
    n_params = 2 * (d * h + h * k) + 2 * h + k + d
    # a batch + the model + Adam's two moments + the gradients + activations
    working = (b * d + 4 * n_params + b * (2 * h + k + 2 * d)) * 4 / MB
    print()
    print(f"data file {size_mb:.0f} MB ({args.n_samples} x {args.n_features} float32); "
          f"per-batch working set ~{working:.1f} MB (batch {b}, 784-256-32 MLP, Adam); "
          f"{args.epochs} epoch(s) + transform")
    print(f"{'mode':<10} {'peak anon MB':>13} {'/ file':>7} {'peak RSS MB':>12} {'/ file':>7} "
          f"{'fit s':>7}")
    for mode, r in results.items():
        print(f"{mode:<10} {r['anon_mb']:>13.0f} {r['anon_mb'] / size_mb:>7.2f} "
              f"{r['rss_mb']:>12.0f} {r['rss_mb'] / size_mb:>7.2f} {r['fit_s']:>7.1f}")
    print("(memory above the baseline after imports; codes returned by transform: "
          f"{results['memmap']['codes_mb']:.0f} MB; RSS counts the touched pages of the "
          "memory-mapped file, which are reclaimable page cache)")


if __name__ == "__main__":
    main()
