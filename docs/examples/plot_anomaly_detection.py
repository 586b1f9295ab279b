"""
Finding unusual digits with an autoencoder
==========================================

:class:`~skae.AutoencoderOutlierDetector` turns any skae autoencoder into a
scikit-learn outlier detector: it learns to reconstruct the training data, and a
sample it reconstructs badly is unusual. Here it learns the threes of the 8x8
digits, and has to tell held-out threes from every other digit. An
:class:`~sklearn.ensemble.IsolationForest` and the reconstruction error of a
:class:`~sklearn.decomposition.PCA` of the same code size are the baselines.
"""

# %%
# One digit as the normal class
# -----------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import RocCurveDisplay, roc_auc_score
from sklearn.model_selection import train_test_split

from skae import Autoencoder, AutoencoderOutlierDetector

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixels in [0, 1]
X_train, X_held = train_test_split(X[y == 3], test_size=0.25, random_state=0)
X_test = np.vstack([X_held, X[y != 3]])
normal = np.r_[np.ones(len(X_held), bool), np.zeros(np.sum(y != 3), bool)]

detector = AutoencoderOutlierDetector(
    Autoencoder(n_components=8, hidden_layer_sizes=(32,), batch_size=32, max_iter=100),
    contamination=0.05,
    random_state=0,
).fit(X_train)

# %%
# Scores and the threshold
# ------------------------
# ``score_samples`` (higher = more normal) is by default the reconstruction error
# and the cosine similarity between each image and its reconstruction, both
# standardised on the training data (``score_type="combined"``; ``"estimator"``
# keeps the error alone). ``predict`` says -1 below ``offset_``, the 5 % quantile
# of the training scores (``contamination=0.05``). On the held-out threes about
# that fraction is flagged.
flagged_normal = np.mean(detector.predict(X_held) == -1)
flagged_others = np.mean(detector.predict(X[y != 3]) == -1)
print(f"held-out threes flagged: {flagged_normal:.1%}, other digits flagged: {flagged_others:.1%}")

pca = PCA(n_components=8).fit(X_train)
pca_score = -np.mean((X_test - pca.inverse_transform(pca.transform(X_test))) ** 2, axis=1)
iforest = IsolationForest(random_state=0).fit(X_train)
error_only = AutoencoderOutlierDetector(
    Autoencoder(n_components=8, hidden_layer_sizes=(32,), batch_size=32, max_iter=100),
    contamination=0.05,
    score_type="estimator",
    random_state=0,
).fit(X_train)
scores = {
    "skae autoencoder": detector.score_samples(X_test),
    "skae, error alone": error_only.score_samples(X_test),
    "PCA reconstruction": pca_score,
    "IsolationForest": iforest.score_samples(X_test),
}
for name, s in scores.items():
    print(f"{name:20s} AUROC {roc_auc_score(normal, s):.3f}")

# %%
# On these 8x8 images, with 130 training threes, PCA is hard to beat and the
# cosine term adds nothing; on 28x28 MNIST digits it lifts the mean AUROC by
# 0.013 and the detector is ahead of PCA and of every baseline (:ref:`anomaly`).

# %%
# ROC curves and the worst-reconstructed test digits
# --------------------------------------------------
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
for name, s in scores.items():
    RocCurveDisplay.from_predictions(normal, s, name=name, ax=ax)
ax.set_title("threes (positive) against the other digits")
s = detector.score_samples(X_test)
ax2.hist([s[normal], s[~normal]], bins=40, label=["held-out threes", "other digits"],
         stacked=True)
ax2.axvline(detector.offset_, color="k", ls="--", label="offset_")
ax2.set_xlabel("score_samples (standardised error + cosine)")
ax2.legend()
fig.tight_layout()
plt.show()
