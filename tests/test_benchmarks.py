"""Smoke tests of the benchmark scripts (tiny ``--quick`` configurations).

The entry point ``benchmarks/vs_pca.py`` runs as a subprocess, exactly as the README
command does; the other scripts are imported and their ``main(argv)`` called.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.preprocessing import MinMaxScaler

import skae

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
SHARED = ROOT.parent / "shared" / "data"


def _load(name):
    """Import ``benchmarks/<name>.py`` as a module (benchmarks/ is not a package)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _has_plotting():
    try:
        import matplotlib  # noqa: F401

        from skae import plotting  # noqa: F401
    except ImportError:
        return False
    return True


def test_mlp_regressor_autoencoder_is_a_transformer(digits01):
    common = _load("_common")
    X_train, X_test, _, _ = digits01
    est = common.MLPRegressorAutoencoder(8, hidden_layer_sizes=(32,), max_iter=5,
                                         random_state=0)
    clone(est).fit(X_train[:200])  # clonable, params round-trip
    est.fit(X_train)
    Z = est.transform(X_test)
    assert Z.shape == (len(X_test), 8)
    assert (Z >= 0).all()  # scikit-learn puts the ReLU on the code layer too
    # The manual forward through coefs_ is the fitted MLPRegressor's own forward.
    np.testing.assert_allclose(est.inverse_transform(Z), est.mlp_.predict(X_test),
                               rtol=1e-5, atol=1e-6)
    assert est.n_iter_ == 5 and len(est.loss_curve_) == 5
    with pytest.raises(ValueError, match="features"):
        est.transform(X_test[:, :10])


def test_vs_pca_quick_cli(tmp_path):
    """``python benchmarks/vs_pca.py --quick`` prints the table and writes the JSON."""
    out = tmp_path / "res"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]), OMP_NUM_THREADS="2")
    proc = subprocess.run(
        [sys.executable, str(BENCH / "vs_pca.py"), "--quick", "--no-progress",
         "--threads", "2", "--n-components", "8", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    stdout = proc.stdout
    assert "| Method | Model | Test MSE | MSE / PCA | LR acc. | SVC acc." in stdout

    payload = json.loads((out / "results.json").read_text())
    rows = {r["method"]: r for r in payload["results"]}
    expected = {"PCA", "KernelPCA", "BernoulliRBM", "MLPRegressor", "Autoencoder",
                "SparseAutoencoder", "DenoisingAutoencoder", "ContractiveAutoencoder",
                "StackedAutoencoder", "VariationalAutoencoder"}
    expected |= {n for n in ("ConvAutoencoder", "ConvVariationalAutoencoder")
                 if hasattr(skae, n)}  # digits are 8x8 images
    assert set(rows) == expected, payload["skipped"]
    for name, row in rows.items():
        assert f"| {name} |" in stdout
        assert 0.0 <= row["acc_lr"] <= 1.0 and 0.0 <= row["acc_svc"] <= 1.0
        assert row["fit_time_s"] > 0 and row["transform_time_s"] > 0
        if name == "BernoulliRBM":
            assert row["mse"] is None and row["mse_ratio"] is None  # no inverse
        else:
            assert 0.0 < row["mse"] < 1.0
    assert rows["PCA"]["mse_ratio"] == 1.0
    for name in ("Autoencoder", "VariationalAutoencoder", "MLPRegressor"):
        assert rows[name]["epochs"] == 2  # --quick: 2 epochs

    # The reported PCA error is the one recomputed here on the same split.
    cfg = payload["config"]
    assert (cfg["n_train"], cfg["n_test"], cfg["n_features"]) == (300, 150, 64)
    common = _load("_common")
    data = common.load_dataset("digits", n_train=300, n_test=150, seed=0)
    scaler = MinMaxScaler(clip=True).fit(data.X_train)
    Xs_test = scaler.transform(data.X_test)
    pca = PCA(n_components=8, random_state=0).fit(scaler.transform(data.X_train))
    mse = np.mean((pca.inverse_transform(pca.transform(Xs_test)) - Xs_test) ** 2)
    assert rows["PCA"]["mse"] == pytest.approx(mse, rel=1e-4)

    # The second table: the regularised autoencoders at their natural configuration
    # (on by default on digits), beside their equal-size rows.
    assert "| Method | Natural configuration | Code size |" in stdout
    natural = {r["method"]: r for r in payload["natural"]}
    assert set(natural) == {"SparseAutoencoder", "DenoisingAutoencoder",
                            "ContractiveAutoencoder", "VariationalAutoencoder",
                            "StackedAutoencoder"}, payload["skipped"]
    for name in ("SparseAutoencoder", "DenoisingAutoencoder", "ContractiveAutoencoder"):
        assert natural[name]["n_components"] == 32  # overcomplete: 4 x 8
    assert natural["VariationalAutoencoder"]["n_components"] == 2
    assert natural["StackedAutoencoder"]["n_components"] == 8
    for name, row in natural.items():
        assert 0.0 <= row["acc_lr"] <= 1.0 and 0.0 <= row["acc_svc"] <= 1.0
        assert 0.0 < row["mse"] < 1.0
        assert row["acc_lr_equal_size"] == rows[name]["acc_lr"]
        assert row["acc_svc_equal_size"] == rows[name]["acc_svc"]

    refs = {r["method"] for r in payload["references"]}
    assert {"LogisticRegression on raw pixels", "SVC (rbf) on raw pixels"} <= refs
    assert any(r.startswith("StackedAutoencoderClassifier") for r in refs)
    assert payload["versions"]["torch"] and payload["machine"]["cpu_count"]
    assert (out / "results.md").read_text().strip() in stdout
    if _has_plotting():
        assert "reconstructions.png" in payload["figures"]
        for fig in payload["figures"]:
            assert (out / fig).stat().st_size > 0


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="MNIST not found in ../shared/data")
def test_literature_quick(tmp_path, capsys):
    """``benchmarks/literature.py --quick``: every section, its table, claims and JSON."""
    lit = _load("literature")
    payload = lit.main(["--quick", "--no-progress", "--threads", "1", "--mnist",
                        str(SHARED / "mnist"), "--out", str(tmp_path)])
    stdout = capsys.readouterr().out
    sections = payload["sections"]
    assert list(sections) == lit.SECTIONS
    for name, res in sections.items():
        assert "error" not in res, (name, res.get("error"))
        assert res["table"] in stdout and res["claims"], name
        for c in res["claims"]:
            assert c["section"] == name and isinstance(c["holds"], bool)
            assert c["ours"] and c["published"]
    assert payload["summary"] == [c for res in sections.values() for c in res["claims"]]
    assert "| Section | Claim | Ours | Published | Holds? |" in stdout

    sparse = {r["model"].split(",")[0]: r for r in sections["sparse"]["rows"]}
    assert set(sparse) == {"PCA-30", "sparse", "plain"}  # --quick: one epoch budget
    for key in ("mean_activation", "code_std", "hidden_activation", "mse", "acc_lr"):
        assert np.isfinite(sparse["sparse"][key]), key
    ufldl = [r["model"] for r in sections["ufldl"]["rows"]]
    assert ufldl[0].startswith("raw pixels") and len(ufldl) == 4
    dae = sections["denoising"]["rows"]
    assert all(0.1 <= r["top10"] <= 1.0 and r["spread"] > 0 for r in dae)
    cae = sections["contractive"]
    assert [r["kind"] for r in cae["rows"]] == ["ae", "dae", "cae"]
    # the plain and denoising models are fitted once and shared by both sections
    assert cae["rows"][0]["fit_time_s"] == dae[0]["fit_time_s"]
    assert {r["method"][:3] for r in sections["stacked"]["rows"]} == {
        "(a)", "(b)", "(c)", "(d)", "(e)"}
    vae = sections["vae"]
    assert vae["elbo_subset"] <= vae["iwae"] < 0 and vae["nll"] == -vae["iwae"]

    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["config"]["sizes"]["sparse_epochs"] == [2]
    assert [c["holds"] for c in saved["summary"]] == [c["holds"] for c in payload["summary"]]
    assert (tmp_path / "results.md").read_text().count("## ") == len(lit.SECTIONS) + 1
    if _has_plotting():
        assert set(payload["figures"]) == {"filters_ufldl.png", "filters_denoising.png",
                                           "vae_samples.png"}
        for fig in payload["figures"]:
            assert (tmp_path / fig).stat().st_size > 0


def test_literature_arguments():
    lit = _load("literature")
    args = lit.parse_args(["--sections", "vae, sparse", "--mnist", "/data/mnist"])
    assert args.sections == ["sparse", "vae"] and args.mnist == Path("/data/mnist")
    assert args.threads == 2 and args.out.name == "literature"
    cfg = lit.make_config(lit.parse_args(["--n-train", "0", "--epochs", "7"]))
    assert cfg.dae_train == cfg.vae_train == 60_000 and cfg.dae_epochs == cfg.vae_epochs == 7
    assert cfg.sparse_epochs == (20, 200)
    with pytest.raises(SystemExit):
        lit.parse_args(["--sections", "sparse,nope"])


def test_vs_pca_arguments():
    vs_pca = _load("vs_pca")
    args = vs_pca.parse_args(["--mnist", "/data/mnist"])
    assert args.dataset == "mnist" and args.data_home == Path("/data/mnist")
    assert vs_pca.parse_args(["--mnist"]).dataset == "mnist"
    args = vs_pca.parse_args(["--estimators", "pca, vae,AE,raw", "--hidden", "128,64"])
    assert args.names == ["PCA", "VariationalAutoencoder", "Autoencoder", "raw"]
    assert args.hidden == (128, 64)
    assert args.out.name == "digits"
    with pytest.raises(SystemExit, match="unknown name 'nope'"):
        vs_pca.parse_args(["--estimators", "pca,nope"])


@pytest.mark.slow
def test_rbm_digits_nudge_and_quick_run():
    rbm = _load("rbm_digits")
    X = np.arange(2 * 64, dtype=float).reshape(2, 64) + 1
    Xn, yn = rbm.nudge_dataset(X, np.array([3, 7]))
    assert Xn.shape == (10, 64) and list(yn) == [3, 7] * 5
    img = X[0].reshape(8, 8)
    shifted = [Xn[2 * i].reshape(8, 8) for i in range(1, 5)]
    # each copy is the image moved by one pixel (zero fill), one per direction
    moves = []
    for s in shifted:
        for axis in (0, 1):
            for step in (1, -1):
                ref = np.roll(img, step, axis=axis)
                edge = (0 if step == 1 else -1)
                if axis == 0:
                    ref[edge, :] = 0
                else:
                    ref[:, edge] = 0
                if np.array_equal(s, ref):
                    moves.append((axis, step))
    assert sorted(moves) == [(0, -1), (0, 1), (1, -1), (1, 1)]

    rows = rbm.main(["--quick", "--no-progress", "--estimators", "raw,rbm,cae"])
    assert [r["method"] for r in rows] == [
        "LogisticRegression on raw pixels", "BernoulliRBM + LogisticRegression",
        "ContractiveAutoencoder + LogisticRegression"]
    for r in rows:
        assert 0.3 < r["accuracy"] <= 1.0  # 10 classes: far above chance even when quick
        assert 0.0 <= r["f1"] <= 1.0 and r["fit_time_s"] > 0


@pytest.mark.slow
def test_throughput_quick(tmp_path):
    tp = _load("throughput")
    path = tmp_path / "tp.json"
    # stacked: its layer estimator is built by the script, without mixed precision
    rows = tp.main(["--quick", "--no-progress", "--estimators", "ae,stacked,mlp",
                    "--batch-sizes", "128", "512", "--device", "cpu", "--json", str(path)])
    assert [(r["estimator"], r["device"]) for r in rows] == [
        ("Autoencoder", "cpu"), ("StackedAutoencoder", "cpu"), ("MLPRegressor", "cpu")]
    for r in rows:
        for key in ("fit_128", "fit_512", "transform"):
            assert np.isfinite(r[key]) and r[key] > 0
        # 1,024 samples x 1 epoch: throughput = samples / median fit time
        assert r["fit_128"] == pytest.approx(1024 / r["fit_time_s_128"])
    assert json.loads(path.read_text())["config"]["batch_sizes"] == [128, 512]


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "faces" / "att_faces").is_dir(),
                    reason="AT&T faces not found in ../shared/data")
def test_conv_faces_quick(tmp_path):
    cf = _load("conv_faces")
    res = cf.main(["--quick", "--no-progress", "--no-mnist", "--out", str(tmp_path)])
    rows = {r["method"]: r for r in res["faces"]}
    expected = {"noisy input (no model)", "PCA", "Autoencoder", "DenoisingAutoencoder"}
    if hasattr(skae, "ConvAutoencoder"):
        expected |= {"ConvAutoencoder", "ConvAutoencoder (denoising)"}
    assert set(rows) == expected
    noisy = rows["noisy input (no model)"]["mse_noisy"]
    assert 0.01 < noisy < 0.04  # sigma=0.2 clipped to [0, 1]: below 0.2**2
    # PCA fitted on 300 faces projects most of the noise away
    assert rows["PCA"]["mse_noisy"] < noisy
    assert rows["PCA"]["mse_ratio"] == 1.0
    payload = json.loads((tmp_path / "results.json").read_text())
    assert payload["config"]["size"] == 16 and payload["mnist"] == []


@pytest.mark.slow
def test_sparse_input_quick(tmp_path):
    sparse = _load("sparse_input")
    path = tmp_path / "sparse.json"
    result = sparse.main(["--quick", "--big-rows", "300", "--big-features", "200",
                          "--big-density", "0.01", "--json", str(path)])
    rows = {r["method"]: r for r in result["compare"]}
    assert set(rows) == {"TruncatedSVD", "Autoencoder", "Autoencoder (dense)"}
    # the CSR fit is the fit of its dense twin
    for key in ("mse", "lr_accuracy"):
        assert rows["Autoencoder"][key] == rows["Autoencoder (dense)"][key]
    for r in rows.values():
        assert 0 <= r["mse"] < 1 and 0 < r["lr_accuracy"] <= 1 and r["peak_mb"] >= 0
    big = result["big"]
    assert big["shape"] == [300, 200] and big["code_shape"] == [300, 32]
    assert big["peak_rss_mb"] > 0
    assert json.loads(path.read_text())["big"]["nnz"] == big["nnz"]


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="MNIST not found in ../shared/data")
def test_defaults_mnist_tiny(capsys):
    """``benchmarks/defaults_mnist.py``: PCA row, one estimator, seed 004's table."""
    bench = _load("defaults_mnist")
    out = bench.main(["--mnist", str(SHARED / "mnist"), "--n-train", "300", "--n-test", "100",
                      "--max-iter", "1", "--estimators", "sparse", "--seed004",
                      "--seed004-epochs", "1", "--seed004-seeds", "0", "1", "--threads", "1"])
    rows = {r["method"]: r for r in out["defaults"]}
    assert set(rows) == {"PCA-32", "SparseAutoencoder"}
    assert rows["PCA-32"]["gap"] == 0 and rows["SparseAutoencoder"]["epochs"] == 1
    assert 0 < rows["SparseAutoencoder"]["acc"] <= 1 and rows["SparseAutoencoder"]["mse"] > 0
    seed004 = out["seed004"]
    assert [r["method"] for r in seed004[:3]] == [
        "PCA-30", "seed 004, max_iter=1, random_state=0", "seed 004, max_iter=1, random_state=1"]
    runs, summary = seed004[1:3], seed004[3]
    assert all(0 < r["mean_activation"] < 1 for r in runs)
    # Different seeds give different models; the summary row is their mean and count.
    assert runs[0]["mse"] != runs[1]["mse"]
    assert summary["method"].startswith("max_iter=1: mean of 2 seeds")
    assert summary["acc"] == pytest.approx(np.mean([r["acc"] for r in runs]))
    assert summary["target"] == f"{sum(r['meets'] for r in runs)}/2"
    for r in runs:  # the verdict is exactly the two targets
        assert r["meets"] is (abs(r["mean_activation"] - 0.02) <= 0.015
                              and r["acc"] - seed004[0]["acc"] >= -0.05 - 1e-9)
    stdout = capsys.readouterr().out
    assert "| Estimator (defaults) | LR acc. | - PCA |" in stdout and "Mean act." in stdout
    assert "| Target |" in stdout


def test_onnx_inference_quick(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    bench = _load("onnx_inference")
    path = tmp_path / "onnx.json"
    out = bench.main(["--quick", "--no-parity", "--json", str(path)])  # parity: test_onnx
    rows = out["speed"]
    assert [(r["model"].split()[0], r["batch"]) for r in rows] == [
        ("MLP", 1), ("MLP", 64), ("VAE", 1), ("VAE", 64), ("conv", 1), ("conv", 64)]
    for r in rows:
        assert all(np.isfinite(r[k]) and r[k] > 0 for k in ("ort", "transform", "encode"))
        assert r["transform_vs_ort"] == pytest.approx(
            r["ort"] / r["transform"] if r["batch"] > 1 else r["transform"] / r["ort"])
    assert json.loads(path.read_text())["config"]["threads"] == 1


def test_anomaly_quick(tmp_path, capsys):
    """``benchmarks/anomaly.py --quick``: one digit, two methods, the tabular suite."""
    if not (SHARED / "mnist").is_dir():
        pytest.skip("MNIST files not available")
    bench = _load("anomaly")
    path = tmp_path / "anomaly.json"
    out = bench.main(["--quick", "--digits", "0", "--methods", "skae,PCA,PCA-combined",
                      "--threads", "1", "--data-home", str(SHARED / "mnist"),
                      "--json", str(path)])
    rows = {(r["method"], r["contamination"]): r["auroc"] for r in out["mnist"]}
    methods = ("skae", "PCA", "PCA-combined")
    assert set(rows) == {(m, c) for m in methods for c in (0.0, 0.05)}
    # PCA needs no epochs: real one-class results, for either score
    assert rows[("PCA", 0.0)] > 0.9 and rows[("PCA-combined", 0.0)] > 0.9
    assert all(0 <= v <= 1 for v in rows.values())
    assert 0 <= out["flagged"][0]["flagged_normal"] <= 1
    assert {r["problem"] for r in out["tabular"]} == {"digits one-class", "breast cancer"}
    assert "One-class MNIST, mean AUROC" in capsys.readouterr().out
    assert json.loads(path.read_text())["config"]["quick"] is True


def test_overhead_every_family_quick(tmp_path):
    oh = _load("overhead")
    path = tmp_path / "oh.json"
    rows = oh.main(["--n-samples", "300", "--epochs", "1", "--repeats", "2",
                    "--threads", "1", "--json", str(path), "--no-per-batch"])
    # one row per family, the stack's layers before the whole stacked fit
    assert [r["family"] for r in rows] == [
        "mlp", "denoising", "vae", "conv", "conv_vae",
        "stacked layer 1 (784->256)", "stacked layer 2 (256->32)", "stacked (whole fit)"]
    for r in rows:
        assert r["plain_s"] > 0 and r["skae_s"] > 0
        assert r["ratio_min"] <= r["ratio"] <= r["ratio_max"]
        # a ratio is a ratio of like with like: far from both 0 and 100
        assert 0.2 < r["ratio"] < 5
    assert all(r["transform_ratio"] > 0 for r in rows if "layer" not in r["family"])
    assert len(json.loads(path.read_text())["rows"]) == len(rows)
    with pytest.raises(SystemExit):
        oh.main(["--families", "mlp,nope"])
    plain_us, skae_us = oh.per_batch_cost(repeats=1, n_batches=20)
    assert 0 < plain_us < 1e5 and 0 < skae_us < 1e5


def test_plain_loops_train_the_template(digits01):
    """The reference loops really train: each family's hand-written loss goes down."""
    import torch

    oh = _load("overhead")
    X = np.tile(digits01[0][:300].astype(np.float32), (1, 13))[:, :784]  # 28 x 28 rows
    for name in ("mlp", "denoising", "vae"):  # (the conv families use the same losses)
        fam = oh.FAMILIES[name]
        est = fam.make(1, 64, 1e-3, "cpu", 0).fit(X)
        xb = torch.from_numpy(X[:128])
        before = fam.loss(est.net_.module_.train(), xb).item()
        trained = oh.plain_fit(est.net_.module_, X, fam.loss, epochs=10, batch_size=64,
                               lr=1e-3, device="cpu", seed=0)
        assert fam.loss(trained, xb).item() < before, name


def test_conv_throughput_quick(tmp_path):
    ct = _load("conv_throughput")
    path = tmp_path / "ct.json"
    rows = ct.main(["--threads", "1", "--models", "conv", "--n-samples", "256",
                    "--epochs", "1", "--repeats", "1", "--json", str(path)])
    steps = [r for r in rows if "train_sps" in r]
    assert {(r["layout"], r["onednn"]) for r in steps} == {
        (lay, dnn) for lay in ("contiguous", "channels_last") for dnn in ("on", "off")}
    for r in steps:
        assert r["train_sps"] > 0 and r["infer_sps"] > 0
        # FLOPs / time of a step, and its share of the matmul rate, are consistent
        assert r["train_peak"] == pytest.approx(r["train_gflops"] / r["matmul_gflops"])
    fits = [r for r in rows if r.get("what") == "fit"]
    assert {r["layout"] for r in fits} == {"contiguous", "channels_last"}
    assert json.loads(path.read_text())["rows"]
