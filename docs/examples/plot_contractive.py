"""
Contractive autoencoders: codes that ignore small perturbations
===============================================================

:class:`~skae.ContractiveAutoencoder` adds ``contractive_weight`` times the squared
Frobenius norm of the encoder's Jacobian to the reconstruction error. The penalty
flattens the code in every direction of input space; the reconstruction term keeps
it sensitive only along the directions in which the data vary. This example
measures both effects on the digits as the weight grows.
"""

# %%
# A range of penalty weights
# --------------------------
# The default model is the one of Rifai et al. (2011): one sigmoid layer, here of
# 32 units, whose penalty has a closed form. ``contractive_weight=0`` is a plain
# autoencoder of the same architecture.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import MinMaxScaler

from skae import ContractiveAutoencoder

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = MinMaxScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), np.clip(scaler.transform(X_test), 0, 1)

weights = [0.0, 1e-4, 1e-3, 1e-2, 3e-2]
models = [
    ContractiveAutoencoder(n_components=32, contractive_weight=w, max_iter=100,
                           random_state=0).fit(X_train)
    for w in weights
]

# %%
# Two kinds of perturbation
# -------------------------
# Each test digit is moved by a small step (norm 0.1, pixels in [0, 1]) in two ways:
# in a random direction, which leaves the set of plausible digits, and towards its
# nearest training digit of the same class, a direction along which digits really
# vary. The *sensitivity* is how far the code moves per unit of input change.
rng = np.random.RandomState(0)
step = 0.1
random_dir = rng.normal(size=X_test.shape)
data_dir = np.empty_like(X_test)
for c in range(10):
    train_c = X_train[y_train == c]
    nearest = NearestNeighbors(n_neighbors=1).fit(train_c)
    idx = nearest.kneighbors(X_test[y_test == c], return_distance=False)[:, 0]
    data_dir[y_test == c] = train_c[idx] - X_test[y_test == c]
for d in (random_dir, data_dir):
    d /= np.linalg.norm(d, axis=1, keepdims=True)


def sensitivity(model, direction):
    codes = model.transform(X_test)
    moved = model.transform(X_test + step * direction)
    return np.linalg.norm(moved - codes, axis=1).mean() / step


results = []
for model in models:
    clf = LogisticRegression(max_iter=3000).fit(model.transform(X_train), y_train)
    results.append({
        "jacobian": model.jacobian_norm(X_test).mean(),
        "random": sensitivity(model, random_dir),
        "data": sensitivity(model, data_dir),
        "accuracy": clf.score(model.transform(X_test), y_test),
        "mse": -model.score(X_test),
    })
print(f"{'weight':>7} {'||J||_F':>8} {'random':>7} {'towards':>8} {'ratio':>6} "
      f"{'accuracy':>9} {'test MSE':>9}")
for w, r in zip(weights, results, strict=True):
    print(f"{w:7g} {r['jacobian']:8.2f} {r['random']:7.2f} {r['data']:8.2f} "
          f"{r['data'] / r['random']:6.2f} {r['accuracy']:9.3f} {r['mse']:9.4f}")

# %%
# :meth:`~skae.ContractiveAutoencoder.jacobian_norm` gives the Frobenius norm of the
# Jacobian per sample: it falls steadily with the weight, and the code's
# sensitivity to both perturbations with it. But it falls faster for random
# directions than for directions towards other digits (the ratio grows): the code
# becomes comparatively more sensitive along the data, which is the point of the
# penalty.
w_plot = [max(w, 3e-5) for w in weights]  # draw weight 0 at the left edge
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ax1.plot(w_plot, [r["random"] for r in results], "o-", label="random direction")
ax1.plot(w_plot, [r["data"] for r in results], "o-", label="towards a nearby digit")
ax1.set(xscale="log", xlabel="contractive_weight (leftmost: 0)",
        ylabel="code change / input change", title="Sensitivity of the code")
ax1.legend()
ax2.plot(w_plot, [r["accuracy"] for r in results], "o-", color="C2")
ax2.set(xscale="log", xlabel="contractive_weight (leftmost: 0)",
        ylabel="test accuracy", title="Logistic regression on the codes")
fig.tight_layout()

# %%
# Too strong a penalty flattens the code along the data as well: reconstruction
# error rises and the codes lose the information a classifier needs. Tune
# ``contractive_weight`` (with :class:`~sklearn.model_selection.GridSearchCV` on a
# pipeline, for example) in the range where the accuracy has not dropped yet.
