"""ONNX export: parity with skae, and inference speed of onnxruntime vs skae vs torch.

Two tables:

1. **Parity** (every public estimator, fitted on digits scaled to [0, 1], float32):
   the largest absolute difference between onnxruntime and skae on the test digits
   for ``transform`` (codes), ``inverse_transform`` (reconstructions of those codes)
   and, for the deterministic autoencoders, ``score_samples``; and the share of
   identical labels from ``Pipeline(MinMaxScaler(clip=True), est, LogisticRegression)``
   and ``Pipeline(..., SVC)`` exported whole.
2. **Inference speed** of the MLP autoencoder, the VAE and the conv autoencoder on
   28x28 inputs: latency at batch 1 (microseconds per call) and throughput at batch
   4,096 (rows per second) of an onnxruntime session, of ``est.transform`` and of a
   plain ``module.encode`` under :func:`torch.inference_mode`, each the median of
   ``--repeats`` runs measured side by side, with the ratios to onnxruntime.

Usage::

    python benchmarks/onnx_inference.py --threads 1            # both tables
    python benchmarks/onnx_inference.py --threads 1 --no-parity --repeats 9
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import warnings
from pathlib import Path

import numpy as np
import torch
from _common import machine_info, markdown_table, timed, versions, write_json
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

import skae
from skae.onnx import to_onnx


def _session(model, threads):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def _run(sess, X):
    return sess.run(None, {sess.get_inputs()[0].name: X})


# ------------------------------------------------------------------------ parity
def _make(cls, max_iter):
    kwargs = dict(max_iter=max_iter, random_state=0)
    if cls.__name__.startswith("Stacked"):
        return cls(hidden_layer_sizes=(32, 16), **kwargs)
    kwargs["n_components"] = 16
    if "image_shape" in inspect.signature(cls).parameters:
        kwargs["image_shape"] = (8, 8)
    return cls(**kwargs)


def parity(max_iter, threads):
    """One row per public estimator: max |onnxruntime - skae| and label agreement."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X.astype(np.float32), y, test_size=0.25, stratify=y, random_state=0)
    scaler = MinMaxScaler(clip=True).fit(X_train)
    S_train, S_test = scaler.transform(X_train), scaler.transform(X_test)
    rows = []
    for cls in [getattr(skae, n) for n in skae.__all__]:
        if not (inspect.isclass(cls) and hasattr(cls, "fit")):
            continue
        est = _make(cls, max_iter).fit(S_train, y_train)
        row = {"estimator": cls.__name__}
        if hasattr(est, "predict_proba"):
            label, proba = _run(_session(to_onnx(est, S_test[:1], "predict_proba"), threads),
                                S_test)
            row["proba"] = float(np.abs(proba - est.predict_proba(S_test)).max())
            row["labels_clf"] = float(np.mean(label == est.predict(S_test)))
            rows.append(row)
            continue
        Z = _run(_session(to_onnx(est, S_test[:1]), threads), S_test)[0]
        row["codes"] = float(np.abs(Z - est.transform(S_test)).max())
        R = _run(_session(to_onnx(est, Z[:1], "inverse_transform"), threads), Z)[0]
        row["recon"] = float(np.abs(R - est.inverse_transform(Z)).max())
        if "Variational" not in cls.__name__ and cls is not skae.StackedAutoencoder:
            s = _run(_session(to_onnx(est, S_test[:1], "score_samples"), threads), S_test)[0]
            row["scores"] = float(np.abs(s - est.score_samples(S_test)).max())
        for key, head in [("labels_logreg", LogisticRegression(max_iter=1000)),
                          ("labels_svc", SVC())]:
            pipe = make_pipeline(MinMaxScaler(clip=True), _make(cls, max_iter), head)
            pipe.fit(X_train, y_train)
            with warnings.catch_warnings():  # skl2onnx reads SVC.probA_ (deprecated)
                warnings.simplefilter("ignore", FutureWarning)
                label = _run(_session(to_onnx(pipe, X_train[:1]), threads), X_test)[0]
            row[key] = float(np.mean(label == pipe.predict(X_test)))
            row[key.replace("labels", "acc")] = float(np.mean(label == y_test))
        rows.append(row)
    return rows


# ------------------------------------------------------------------------- speed
def _speed_models(n_fit, max_iter):
    X = np.random.default_rng(0).random((n_fit, 784), dtype=np.float32)
    common = dict(n_components=32, max_iter=max_iter, random_state=0)
    return X, [
        ("MLP (784-256-32)", skae.Autoencoder(hidden_layer_sizes=(256,), **common)),
        ("VAE (784-256-32)", skae.VariationalAutoencoder(hidden_layer_sizes=(256,), **common)),
        ("conv (28x28, auto)", skae.ConvAutoencoder(image_shape=(28, 28), **common)),
    ]


def _per_call(fn, n_calls):
    seconds, _ = timed(lambda: [fn() for _ in range(n_calls)])
    return seconds / n_calls


def speed(n_fit, max_iter, batch, repeats, n_calls, threads):
    X_fit, models = _speed_models(n_fit, max_iter)
    X_big = np.random.default_rng(1).random((batch, 784), dtype=np.float32)
    rows = []
    for name, est in models:
        est.fit(X_fit)
        sess = _session(to_onnx(est, X_fit[:1]), threads)
        module = est.net_.module_

        def encode(X, module=module):
            with torch.inference_mode():
                return module.encode(torch.from_numpy(X)).numpy()

        runners = {"ort": lambda X, s=sess: _run(s, X)[0], "transform": est.transform,
                   "encode": encode}
        for rows_per_call, calls in [(1, n_calls), (batch, 1)]:
            Xb = X_big[:rows_per_call]
            for fn in runners.values():  # warm-up
                fn(Xb)
            times = {k: [] for k in runners}
            for _ in range(repeats):  # interleaved, so that drift hits all three alike
                for key, fn in runners.items():
                    times[key].append(_per_call(lambda fn=fn, Xb=Xb: fn(Xb), calls))
            med = {k: statistics.median(v) for k, v in times.items()}
            row = {"model": name, "batch": rows_per_call}
            if rows_per_call == 1:
                row.update({f"{k}": med[k] * 1e6 for k in runners})
                row["unit"] = "us/call"
            else:
                row.update({f"{k}": rows_per_call / med[k] for k in runners})
                row["unit"] = "rows/s"
            row["transform_vs_ort"] = med["transform"] / med["ort"]
            row["encode_vs_ort"] = med["encode"] / med["ort"]
            rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and onnxruntime intra-op threads (default 1)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200,
                        help="calls per batch-1 latency measurement")
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--fit-samples", type=int, default=2048)
    parser.add_argument("--max-iter", type=int, default=5, help="epochs of every fit")
    parser.add_argument("--no-parity", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.calls, args.batch, args.fit_samples, args.max_iter = 2, 5, 64, 128, 1

    torch.set_num_threads(args.threads)
    out = {"config": vars(args) | {"json": str(args.json)}, "machine": machine_info(),
           "versions": versions()}
    if not args.no_parity:
        out["parity"] = parity(args.max_iter, args.threads)
        print("Parity: max |onnxruntime - skae| on the digits test set (float32), "
              "share of identical pipeline labels (and test accuracy)\n")
        print(markdown_table([
            ("estimator", "estimator", None), ("codes", "codes", ".1e"),
            ("reconstructions", "recon", ".1e"), ("score_samples", "scores", ".1e"),
            ("proba", "proba", ".1e"), ("labels LogReg", "labels_logreg", ".3f"),
            ("labels SVC", "labels_svc", ".3f"), ("labels (classifier)", "labels_clf", ".3f"),
            ("acc LogReg", "acc_logreg", ".3f"), ("acc SVC", "acc_svc", ".3f"),
        ], out["parity"]))
        print()
    if not args.no_speed:
        out["speed"] = speed(args.fit_samples, args.max_iter, args.batch, args.repeats,
                             args.calls, args.threads)
        print(f"Inference: batch 1 latency (us per call, lower is better) and batch "
              f"{args.batch} throughput (rows/s, higher is better); median of "
              f"{args.repeats}; {args.threads} thread(s); ratios are time / onnxruntime's\n")
        print(markdown_table([
            ("model", "model", None), ("batch", "batch", "d"), ("unit", "unit", None),
            ("onnxruntime", "ort", ",.0f"), ("est.transform", "transform", ",.0f"),
            ("module.encode", "encode", ",.0f"),
            ("transform / ort (time)", "transform_vs_ort", ".2f"),
            ("encode / ort (time)", "encode_vs_ort", ".2f"),
        ], out["speed"]))
    if args.json:
        write_json(args.json, out)
    return out


if __name__ == "__main__":
    main()
