"""ONNX export: onnxruntime against skae for every public estimator, alone and in
pipelines (float32 inputs; float64 inputs keep their dtype)."""

import inspect

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

import skae

pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")
skae_onnx = pytest.importorskip("skae.onnx")
from skl2onnx import to_onnx  # noqa: E402

TOL = 1e-4
FAST = dict(max_iter=2, batch_size=64, random_state=0)
PUBLIC = [obj for name in skae.__all__
          if inspect.isclass(obj := getattr(skae, name)) and hasattr(obj, "fit")
          and obj is not skae.AutoencoderOutlierDetector]  # a meta-estimator (issue 16)
TRANSFORMERS = [cls for cls in PUBLIC if hasattr(cls, "transform")]
DETERMINISTIC = [cls for cls in TRANSFORMERS if "Variational" not in cls.__name__
                 and cls is not skae.StackedAutoencoder]


def make(cls):
    if cls.__name__.startswith("Stacked"):
        return cls(hidden_layer_sizes=(16, 4), **FAST)
    kwargs = dict(n_components=4, **FAST)
    if "image_shape" in inspect.signature(cls).parameters:
        kwargs["image_shape"] = (8, 8)
    return cls(**kwargs)


def run(model, X):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: X})


@pytest.fixture(scope="module")
def data(digits01):
    X_train, X_test, y_train, y_test = digits01
    return (X_train[:400].astype(np.float32), X_test.astype(np.float32), y_train[:400],
            y_test)


@pytest.fixture(scope="module")
def fitted(data):
    X_train, _, y_train, _ = data
    return {cls: make(cls).fit(X_train, y_train) for cls in PUBLIC}


def test_every_public_estimator_has_a_converter():
    assert set(skae_onnx.register()) == set(PUBLIC)


@pytest.mark.parametrize("cls", TRANSFORMERS, ids=lambda c: c.__name__)
def test_transform_and_inverse_transform_parity(cls, fitted, data):
    est, X = fitted[cls], data[1]
    model = to_onnx(est, X[:1])  # skl2onnx's own entry point
    assert {node.domain for node in model.graph.node} <= {"", "ai.onnx"}
    Z = run(model, X)[0]
    assert Z.dtype == np.float32 and Z.shape == (len(X), est.n_components)
    np.testing.assert_allclose(Z, est.transform(X), rtol=0, atol=TOL)
    R = run(skae_onnx.to_onnx(est, Z[:1], method="inverse_transform"), Z)[0]
    np.testing.assert_allclose(R, est.inverse_transform(Z), rtol=0, atol=TOL)


@pytest.mark.parametrize("cls", DETERMINISTIC, ids=lambda c: c.__name__)
def test_score_samples_parity(cls, fitted, data):
    est, X = fitted[cls], data[1]
    scores = run(skae_onnx.to_onnx(est, X[:1], method="score_samples"), X)[0]
    assert scores.shape == (len(X),)
    np.testing.assert_allclose(scores, est.score_samples(X), rtol=0, atol=TOL)


def test_score_samples_stay_finite_with_saturated_logits(fitted, data):
    # log(sigmoid(l)) as the exporter writes binary cross-entropy is NaN once the
    # sigmoid saturates; the exported score uses the stable form, as torch does
    X = np.clip(data[1], 0, 1)
    est = skae.Autoencoder(n_components=4, loss="bce", **FAST).fit(np.clip(data[0], 0, 1))
    last = [m for m in est.net_.module_.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.mul_(200.0)
    expected = est.score_samples(X)
    scores = run(skae_onnx.to_onnx(est, X[:1], method="score_samples"), X)[0]
    assert np.isfinite(scores).all() and expected.min() < -5
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=TOL)


def test_score_samples_refused_for_the_vae(fitted, data):
    with pytest.raises(ValueError, match="deterministic"):
        skae_onnx.to_onnx(fitted[skae.VariationalAutoencoder], data[1][:1],
                          method="score_samples")


# skl2onnx's SVC converter reads SVC.probA_, deprecated in scikit-learn 1.9
@pytest.mark.filterwarnings("ignore:Attribute `prob:FutureWarning")
@pytest.mark.parametrize("cls", TRANSFORMERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("head", [LogisticRegression(max_iter=500), SVC()],
                         ids=["logreg", "svc"])
def test_pipeline_labels_are_identical(cls, head, digits):
    X_train, X_test, y_train, _ = digits  # raw pixels 0..16
    X_train, X_test = X_train[:400].astype(np.float32), X_test.astype(np.float32)
    pipe = make_pipeline(MinMaxScaler(clip=True), make(cls), head).fit(X_train, y_train[:400])
    label = run(to_onnx(pipe, X_train[:1]), X_test)[0]
    np.testing.assert_array_equal(label, pipe.predict(X_test))


def test_stacked_classifier_labels_and_probabilities(fitted, data):
    est, X = fitted[skae.StackedAutoencoderClassifier], data[1]
    label, proba = run(skae_onnx.to_onnx(est, X[:1], method="predict_proba"), X)
    np.testing.assert_array_equal(label, est.predict(X))
    np.testing.assert_allclose(proba, est.predict_proba(X), rtol=0, atol=TOL)


def test_float64_input_keeps_its_dtype(fitted, data):
    est = fitted[skae.ConvVariationalAutoencoder]
    X64 = data[1].astype(np.float64)
    Z = run(to_onnx(est, X64[:1]), X64)[0]
    # cast to float32 inside the graph, as skae computes, and back to float64
    assert Z.dtype == np.float64
    np.testing.assert_allclose(Z, est.transform(X64), rtol=0, atol=TOL)


def test_sample_latent_is_refused(data):
    vae = skae.VariationalAutoencoder(n_components=2, sample_latent=True, **FAST)
    vae.fit(data[0])
    with pytest.raises(ValueError, match="posterior mean"):
        to_onnx(vae, data[1][:1])
