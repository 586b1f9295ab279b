"""
Sparse codes: the target activation and what the units learn
============================================================

:class:`~skae.SparseAutoencoder` adds to the reconstruction error a penalty
``sparsity_weight * sum_j KL(rho || rho_hat_j)`` that pulls the mean activation
``rho_hat_j`` of every sigmoid code unit towards a small target ``rho``
(``sparsity_target``). Each unit then fires for few digits and has to specialise,
even when the code is as wide as the input (64 units for 64 pixels here), where a
plain autoencoder could settle for a near-identity map.
"""

# %%
# Models with several targets
# ---------------------------
# One sigmoid layer of 64 code units, the classic sparse autoencoder, trained with
# four targets and once without the penalty (``sparsity_weight=0``).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from skae import SparseAutoencoder
from skae.plotting import FilterDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = MinMaxScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), np.clip(scaler.transform(X_test), 0, 1)

targets = [0.02, 0.05, 0.1, 0.2]
models = {rho: SparseAutoencoder(n_components=64, sparsity_target=rho, max_iter=100,
                                 random_state=0).fit(X_train)
          for rho in targets}
plain = SparseAutoencoder(n_components=64, sparsity_weight=0.0, max_iter=100,
                          random_state=0).fit(X_train)

# %%
# Mean activation on held-out digits
# ----------------------------------
# ``transform`` returns the code units' activations, so the achieved sparsity can be
# measured on digits the models never saw. The penalised models track their target;
# without the penalty the units are active about half of the time.
print(f"{'model':>18}  mean activation  test MSE")
for rho, model in models.items():
    codes = model.transform(X_test)
    mse = -model.score(X_test)
    print(f"{'rho=' + str(rho):>18}  {codes.mean():15.3f}  {mse:8.4f}")
print(f"{'no penalty':>18}  {plain.transform(X_test).mean():15.3f}  {-plain.score(X_test):8.4f}")

fig, ax = plt.subplots(figsize=(4.5, 4))
achieved = [models[rho].transform(X_test).mean() for rho in targets]
ax.plot(targets, achieved, "o-", label="SparseAutoencoder")
ax.plot([0, 0.25], [0, 0.25], "k--", lw=1, label="activation = target")
ax.axhline(plain.transform(X_test).mean(), color="C3", ls=":", label="no penalty")
ax.set(xlabel="sparsity_target (rho)", ylabel="mean code activation, test digits",
       ylim=(0, 0.6))
ax.legend(loc="upper left")
fig.tight_layout()

# %%
# How often each unit fires
# -------------------------
# The penalty acts on each unit's mean, not only on the average over units: with
# ``rho=0.05`` every unit's mean activation stays near the target, while the units of
# the unpenalised model sit around 0.5.
fig, ax = plt.subplots(figsize=(5.5, 3.5))
bins = np.linspace(0, 1, 41)
ax.hist(models[0.05].transform(X_test).mean(axis=0), bins=bins, label="rho=0.05")
ax.hist(plain.transform(X_test).mean(axis=0), bins=bins, alpha=0.6, label="no penalty")
ax.set(xlabel="mean activation of a code unit", ylabel="number of units")
ax.legend()
fig.tight_layout()

# %%
# Sparse units are selective
# --------------------------
# A unit that may be active for one digit in twenty cannot respond to everything:
# it specialises. One measure is the share of a unit's total activation that comes
# from its preferred digit class (0.1 for a unit that ignores the class).
def class_selectivity(model):
    codes = model.transform(X_test)
    per_class = np.stack([codes[y_test == c].sum(axis=0) for c in range(10)])
    return np.mean(per_class.max(axis=0) / per_class.sum(axis=0))


for name, model in [("rho=0.05", models[0.05]), ("no penalty", plain)]:
    print(f"{name:>10}: mean share of the preferred class {class_selectivity(model):.2f}")

# %%
# The learned features
# --------------------
# :class:`~skae.plotting.FilterDisplay` draws each unit's input weights as an 8 x 8
# image (mid-grey is 0). Filters are easier to read with a little L2 weight decay
# (``weight_decay``, part of the classic recipe) and more epochs. The sparse units
# become templates of whole digits or large parts of them; without the penalty the
# units respond to small, local pixel patterns that many digits share.
sparse_wd = SparseAutoencoder(n_components=64, sparsity_target=0.05, weight_decay=1e-4,
                              max_iter=200, random_state=0).fit(X_train)
plain_wd = SparseAutoencoder(n_components=64, sparsity_weight=0.0, weight_decay=1e-4,
                             max_iter=200, random_state=0).fit(X_train)
fig = plt.figure(figsize=(10, 5.4))
for subfig, title, model in zip(fig.subfigures(1, 2, wspace=0.05),
                                ["sparsity_target=0.05", "no penalty"],
                                [sparse_wd, plain_wd], strict=True):
    subfig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.9)
    subfig.suptitle(f"{title}, weight_decay=1e-4")
    FilterDisplay.from_estimator(model, n_filters=64, ax=subfig.subplots())
