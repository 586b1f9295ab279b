"""
Shipping a fitted pipeline: skops and ONNX
==========================================

A pipeline ``MinMaxScaler -> Autoencoder -> LogisticRegression`` is fitted on the
digits, saved with :mod:`skops.io` (no pickle), exported whole to ONNX with
skl2onnx and run in onnxruntime, which needs neither PyTorch nor skae. See
:doc:`/deploy`.
"""

# %%
# Fit the pipeline
# ----------------
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
import skops.io as sio
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

import skae.onnx  # noqa: F401  (registers skae's converters with skl2onnx)
from skae import Autoencoder

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)  # skae computes in float32; so will the ONNX graph
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
pipe = Pipeline([
    ("scale", MinMaxScaler(clip=True)),
    ("ae", Autoencoder(n_components=16, hidden_layer_sizes=(64,), max_iter=30,
                       random_state=0)),
    ("clf", LogisticRegression(max_iter=1000)),
]).fit(X_train, y_train)
print(f"test accuracy: {pipe.score(X_test, y_test):.3f}")

# %%
# Save and load without pickle
# ----------------------------
# :func:`skops.io.get_untrusted_types` lists the types the file would build that
# skops does not trust by default: only skae's own class here. Read the list before
# passing it to :func:`skops.io.load`.
folder = Path(tempfile.mkdtemp())
sio.dump(pipe, folder / "pipeline.skops")
untrusted = sio.get_untrusted_types(file=folder / "pipeline.skops")
print("types to trust:", untrusted)
loaded = sio.load(folder / "pipeline.skops", trusted=untrusted)
print("identical predictions after loading:",
      np.array_equal(loaded.predict(X_test), pipe.predict(X_test)))

# %%
# Export the whole pipeline to ONNX
# ---------------------------------
# The sample fixes the input's dtype (float32) and width; the number of rows stays
# free.
onx = to_onnx(pipe, X_train[:1])
(folder / "pipeline.onnx").write_bytes(onx.SerializeToString())
print(f"{len(onx.graph.node)} ONNX nodes, operators:",
      sorted({node.op_type for node in onx.graph.node}))

# %%
# Serve it with onnxruntime
# -------------------------
# The session gives the labels and the class probabilities (one dict per row, as
# skl2onnx's classifiers do by default).
sess = ort.InferenceSession(str(folder / "pipeline.onnx"), providers=["CPUExecutionProvider"])
labels, probabilities = sess.run(None, {"X": X_test})
print("labels identical to the scikit-learn pipeline:",
      np.array_equal(labels, pipe.predict(X_test)))

# %%
# The autoencoder alone: its codes in ONNX and in skae
# ----------------------------------------------------
# The same converter exports the fitted step by itself; onnxruntime's codes match
# ``transform`` up to float32 rounding.
ae, S_test = pipe["ae"], pipe["scale"].transform(X_test)
codes = ort.InferenceSession(to_onnx(ae, S_test[:1]).SerializeToString()).run(
    None, {"X": S_test})[0]
diff = np.abs(codes - ae.transform(S_test)).max()
print(f"largest |onnxruntime - skae| over the codes: {diff:.1e}")

fig, ax = plt.subplots(figsize=(4.5, 4))
ax.scatter(ae.transform(S_test).ravel(), codes.ravel(), s=2)
ax.set(xlabel="skae transform", ylabel="onnxruntime",
       title=f"16-d codes of {len(S_test)} test digits")
fig.tight_layout()
plt.show()
