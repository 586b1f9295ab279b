"""
Autoencoder vs PCA, in a pipeline and a grid search
===================================================

:class:`~skae.Autoencoder` has the interface of
:class:`~sklearn.decomposition.PCA`: ``fit``, ``transform`` (the codes),
``inverse_transform`` (decode) and ``score``. This example puts the two side by side
on the digits at equal ``n_components``: how well they reconstruct held-out images,
and how useful their codes are to a classifier in a
:class:`~sklearn.pipeline.Pipeline` tuned by
:class:`~sklearn.model_selection.GridSearchCV`.
"""

# %%
# The data
# --------
# 1,797 images of 8 x 8 pixels (values 0 to 16), split 75 / 25. The scaler is fitted
# on the training part only; test pixels are clipped to [0, 1] like the training ones.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import Autoencoder
from skae.plotting import ReconstructionDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = MinMaxScaler().fit(X_train)
X_train01 = scaler.transform(X_train)
X_test01 = np.clip(scaler.transform(X_test), 0, 1)

# %%
# Reconstruction error at equal code size
# ---------------------------------------
# PCA is the best *linear* code of each size. With a hidden layer of 64 units the
# autoencoder can bend its code to the data, which pays most for small codes. As
# codes grow, PCA catches up: with 16 components and this short training (at most
# 100 epochs) the two are about even.
sizes = [2, 4, 8, 16]
errors = {"PCA": [], "Autoencoder": []}
models = {}
for k in sizes:
    pca = PCA(n_components=k, random_state=0).fit(X_train01)
    ae = Autoencoder(n_components=k, hidden_layer_sizes=(64,), max_iter=100, random_state=0)
    ae.fit(X_train01)
    models[k] = {"PCA": pca, "Autoencoder": ae}
    for name, model in models[k].items():
        X_rec = model.inverse_transform(model.transform(X_test01))
        errors[name].append(np.mean((X_rec - X_test01) ** 2))

for name, err in errors.items():
    print(f"{name:>11}: " + "  ".join(f"k={k}: {e:.4f}" for k, e in zip(sizes, err, strict=True)))

fig, ax = plt.subplots(figsize=(5, 3.5))
for name, err in errors.items():
    ax.plot(sizes, err, marker="o", label=name)
ax.set(xscale="log", xticks=sizes, xticklabels=sizes, xlabel="n_components",
       ylabel="test mean squared error", title="Held-out reconstruction error")
ax.legend()
fig.tight_layout()

# %%
# What the two codes keep
# -----------------------
# :class:`~skae.plotting.ReconstructionDisplay` decodes the same test digits with
# both 4-dimensional models. Four numbers per digit lose detail either way; the
# autoencoder's reconstructions stay somewhat closer to the originals, as the error
# curve says.
ReconstructionDisplay.from_estimator(models[4], X_test01, n_images=10)

# %%
# Codes as features, tuned by cross-validation
# --------------------------------------------
# In a pipeline the autoencoder is a step like any other; its parameters are
# searched as ``ae__<name>``. The PCA pipeline gets the same search over
# ``n_components``.
search_ae = GridSearchCV(
    Pipeline([
        ("scale", MinMaxScaler()),
        ("ae", Autoencoder(hidden_layer_sizes=(64,), max_iter=50, random_state=0)),
        ("clf", LogisticRegression(max_iter=2000)),
    ]),
    {"ae__n_components": [8, 16], "ae__lr": [1e-3, 3e-3]},
    cv=3,
).fit(X_train, y_train)

search_pca = GridSearchCV(
    Pipeline([
        ("scale", MinMaxScaler()),
        ("pca", PCA(random_state=0)),
        ("clf", LogisticRegression(max_iter=2000)),
    ]),
    {"pca__n_components": [8, 16]},
    cv=3,
).fit(X_train, y_train)

for name, search in [("Autoencoder", search_ae), ("PCA", search_pca)]:
    print(f"{name:>11}: best {search.best_params_}, cross-validated accuracy "
          f"{search.best_score_:.3f}, test accuracy {search.score(X_test, y_test):.3f}")

# %%
# For a linear classifier the two codes are close on the digits (compare the
# cross-validated accuracies): the classes are nearly linearly separable in pixel
# space already, so a better reconstruction does not have to mean better features.
# The search is what tells, for a given task.
#
# The fitted search is an ordinary scikit-learn object: ``search_ae.best_estimator_``
# (the pipeline refitted on the whole training set with the best parameters) can be
# pickled, cloned or refitted, and its autoencoder step exposes ``n_iter_``,
# ``loss_curve_`` and the torch network in ``net_``.
best_ae = search_ae.best_estimator_.named_steps["ae"]
print(f"epochs run: {best_ae.n_iter_}, final training loss: {best_ae.loss_curve_[-1]:.4f}")
