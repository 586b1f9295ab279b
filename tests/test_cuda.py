"""device="cuda" paths; skipped without a GPU (CI has none)."""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from skae import Autoencoder

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

FAST = dict(n_components=8, hidden_layer_sizes=(32,), max_iter=10, random_state=0)


@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_fit_transform_on_gpu(digits01, device):
    X_train, X_test, _, _ = digits01
    ae = Autoencoder(**FAST, device=device).fit(X_train)
    assert ae.net_.device.startswith("cuda")
    assert next(ae.net_.module_.parameters()).is_cuda
    Z = ae.transform(X_test)
    assert isinstance(Z, np.ndarray) and Z.shape == (len(X_test), 8)
    rec = ae.inverse_transform(Z)
    assert isinstance(rec, np.ndarray) and np.isfinite(rec).all()
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    # the same seed on the CPU learns nearly the same model
    cpu = Autoencoder(**FAST).fit(X_train)
    np.testing.assert_allclose(cpu.transform(X_test), Z, atol=1e-2)


def test_global_cuda_rng_untouched(digits01):
    state = torch.cuda.get_rng_state()
    Autoencoder(**FAST, device="cuda").fit(digits01[0][:200])
    assert torch.equal(torch.cuda.get_rng_state(), state)


def test_cuda_model_unpickles_on_cpu_only_machine(digits01, tmp_path):
    X_test = digits01[1]
    ae = Autoencoder(**FAST, device="cuda").fit(digits01[0])
    path = tmp_path / "ae.pkl"
    path.write_bytes(pickle.dumps(ae))
    np.save(tmp_path / "X.npy", X_test)
    np.save(tmp_path / "Z.npy", ae.transform(X_test))
    script = textwrap.dedent(
        f"""
        import pickle, warnings, numpy as np, torch
        assert not torch.cuda.is_available()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ae = pickle.loads(open({str(path)!r}, "rb").read())
        Z = ae.transform(np.load({str(tmp_path / "X.npy")!r}))
        np.testing.assert_allclose(Z, np.load({str(tmp_path / "Z.npy")!r}), atol=1e-4)
        assert ae.net_.device == "cpu"
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True,
        env={**__import__("os").environ, "CUDA_VISIBLE_DEVICES": ""},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_cuda_model_loads_with_skops_on_cpu_only_machine(digits01, tmp_path):
    sio = pytest.importorskip("skops.io")
    X_train, X_test = digits01[0], digits01[1]
    ae = Autoencoder(**FAST, device="cuda").fit(X_train)
    path = tmp_path / "ae.skops"
    sio.dump(ae, path)
    assert sio.get_untrusted_types(file=path) == ["skae._autoencoder.Autoencoder"]
    back = sio.load(path, trusted=["skae._autoencoder.Autoencoder"])
    assert back.net_.device.startswith("cuda")  # this machine has the GPU: kept there
    np.save(tmp_path / "X.npy", X_test)
    np.save(tmp_path / "Z.npy", ae.transform(X_test))
    script = textwrap.dedent(
        f"""
        import numpy as np, skops.io as sio, torch
        assert not torch.cuda.is_available()
        ae = sio.load({str(path)!r}, trusted=["skae._autoencoder.Autoencoder"])
        Z = ae.transform(np.load({str(tmp_path / "X.npy")!r}))
        np.testing.assert_allclose(Z, np.load({str(tmp_path / "Z.npy")!r}), atol=1e-4)
        assert ae.net_.device == "cpu" and ae.device == "cuda"
        ae.partial_fit(np.load({str(tmp_path / "X.npy")!r}))  # trains on, on the CPU
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True,
        env={**__import__("os").environ, "CUDA_VISIBLE_DEVICES": ""},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_batches_are_pinned_and_moved_per_batch(digits01):
    from skae.engine import ArrayDataset, BatchIterator, LazyArray, LazyDataset

    X = torch.from_numpy(np.ascontiguousarray(digits01[0][:100], dtype=np.float32))
    for data in (ArrayDataset(X), LazyDataset(LazyArray(X.numpy()))):
        xb, _ = data.take(torch.arange(10), pin_memory=True)
        assert xb.is_pinned()
        batches = list(BatchIterator(data, 32, shuffle=True, device="cuda"))
        assert all(b[0].is_cuda for b in batches)
        assert sum(len(b[0]) for b in batches) == 100


def test_memmap_and_float64_on_gpu(digits01, tmp_path):
    X_train, X_test, _, _ = digits01
    path = tmp_path / "X.npy"
    np.save(path, X_train.astype(np.float32))
    mm = np.load(path, mmap_mode="r")
    gpu = Autoencoder(**FAST, device="cuda").fit(mm)
    cpu = Autoencoder(**FAST).fit(mm)
    Z = gpu.transform(X_test)  # float64 in, converted per batch
    assert isinstance(Z, np.ndarray) and Z.dtype == np.float64
    np.testing.assert_allclose(Z, cpu.transform(X_test), atol=1e-2)
    np.testing.assert_allclose(gpu.transform(mm), gpu.transform(np.asarray(mm)), rtol=1e-6)
    np.testing.assert_allclose(gpu.score_samples(X_test), cpu.score_samples(X_test), atol=1e-3)


@pytest.mark.parametrize("mp", [True, "bfloat16", "float16"])
def test_mixed_precision_on_gpu(digits01, mp):
    if mp == "bfloat16" and not torch.cuda.is_bf16_supported():
        pytest.skip("no bfloat16 on this GPU")
    X_train, X_test, _, _ = digits01
    ae = Autoencoder(**FAST, device="cuda", mixed_precision=mp).fit(X_train)
    expected = mp if isinstance(mp, str) else (
        "bfloat16" if torch.cuda.is_bf16_supported() else "float16")
    assert ae.net_.mixed_precision == expected
    assert ("scaler" in ae.net_.runtime_) == (expected == "float16")
    assert np.isfinite(ae.loss_curve_).all() and ae.loss_curve_[-1] < ae.loss_curve_[0]
    ref = Autoencoder(**FAST, device="cuda").fit(X_train)
    assert ae.loss_curve_[-1] == pytest.approx(ref.loss_curve_[-1], rel=0.2)
    Z = ae.transform(X_test.astype(np.float32))
    assert Z.dtype == np.float32 and np.isfinite(Z).all()
    back = pickle.loads(pickle.dumps(ae))
    np.testing.assert_allclose(back.transform(X_test), ae.transform(X_test), rtol=1e-6)


@pytest.mark.slow
def test_compile_on_gpu(digits01):
    X_train, X_test, _, _ = digits01
    ref = Autoencoder(**FAST, device="cuda").fit(X_train)
    ae = Autoencoder(**FAST, device="cuda", compile=True).fit(X_train)
    np.testing.assert_allclose(ae.loss_curve_, ref.loss_curve_, rtol=1e-3)
    np.testing.assert_allclose(ae.transform(X_test), ref.transform(X_test), atol=1e-3)
    back = pickle.loads(pickle.dumps(ae))
    np.testing.assert_allclose(back.transform(X_test), ae.transform(X_test), rtol=1e-6)


@pytest.mark.parametrize("name", ["SparseAutoencoder", "DenoisingAutoencoder",
                                  "ContractiveAutoencoder", "VariationalAutoencoder",
                                  "StackedAutoencoder"])
def test_every_estimator_on_gpu(digits01, name):
    import skae

    X_train, X_test, _, _ = digits01
    params = dict(n_components=4, max_iter=3, random_state=0)
    est = getattr(skae, name)(**params, device="cuda").fit(X_train)
    assert next(est.net_.module_.parameters()).is_cuda
    Z = est.transform(X_test)
    assert isinstance(Z, np.ndarray) and np.isfinite(Z).all()
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    if name in ("DenoisingAutoencoder", "VariationalAutoencoder"):
        return  # noise drawn on the GPU differs from the CPU's
    ref = getattr(skae, name)(**params).fit(X_train)
    np.testing.assert_allclose(Z, ref.transform(X_test), atol=5e-2)
