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
