"""
Stacked autoencoder classifier with few labels
==============================================

:class:`~skae.StackedAutoencoderClassifier` pretrains a stack of autoencoders
greedily, one layer at a time, on *all* the training images, then puts a softmax
layer on top and trains the whole network with the labels. Following
scikit-learn's semi-supervised convention, samples labelled ``-1`` are unlabelled:
they take part in the pretraining only. This example hides most of the digits'
labels and compares the pretrained network with the same network trained from
random weights (``pretrain=False``) and with a logistic regression on the pixels.
"""

# %%
# Hiding labels
# -------------
# A stratified subset of the training labels is kept; every other training digit
# is marked ``-1``. The test digits keep all their labels, for scoring.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from skae import StackedAutoencoderClassifier
from skae.plotting import TrainingCurveDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = MinMaxScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), np.clip(scaler.transform(X_test), 0, 1)

rng = np.random.RandomState(0)
order = np.concatenate([rng.permutation(np.flatnonzero(y_train == c)) for c in range(10)])
ranks = np.empty(len(y_train), dtype=int)
for c in range(10):  # rank of each sample within its class, in random order
    members = order[y_train[order] == c]
    ranks[members] = np.arange(len(members))


def hide_labels(n_per_class):
    y_semi = y_train.copy()
    y_semi[ranks >= n_per_class] = -1
    return y_semi


# %%
# Pretrained, not pretrained, linear
# ----------------------------------
# The network is ``64 -> 128 -> 64 -> softmax``; each layer of the stack is the
# default shallow autoencoder with a sigmoid code.
params = dict(hidden_layer_sizes=(128, 64), lr=3e-3, max_iter=100, random_state=0)
n_per_class = [5, 15, 50, len(y_train)]  # labelled digits per class; the last: all
scores = {"pretrained stack": [], "same network, no pretraining": [],
          "logistic regression on pixels": []}
for n in n_per_class:
    y_semi = hide_labels(n)
    labelled = y_semi != -1
    for name, pretrain in [("pretrained stack", True),
                           ("same network, no pretraining", False)]:
        clf = StackedAutoencoderClassifier(pretrain=pretrain, **params).fit(X_train, y_semi)
        scores[name].append(clf.score(X_test, y_test))
        if pretrain:
            pretrained = clf
    logreg = LogisticRegression(max_iter=3000).fit(X_train[labelled], y_train[labelled])
    scores["logistic regression on pixels"].append(logreg.score(X_test, y_test))
    print(f"{labelled.sum():5d} labels: " + ", ".join(
        f"{name} {values[-1]:.3f}" for name, values in scores.items()))

n_labelled = [np.sum(hide_labels(n) != -1) for n in n_per_class]
fig, ax = plt.subplots(figsize=(6, 4))
for name, values in scores.items():
    ax.plot(n_labelled, values, marker="o", label=name)
ax.set(xscale="log", xlabel="labelled training digits", ylabel="test accuracy")
ax.legend()
fig.tight_layout()

# %%
# Pretraining on the unlabelled digits makes the network far better than the same
# network trained from random weights on the few labelled ones. Note the strong
# linear baseline, though: on images as small and clean as these digits, a
# logistic regression on the pixels is hard to beat with few labels, and the
# pretrained network catches up with it, then overtakes it, as labels are added.
# (Each point is one random draw of the labelled digits, so small differences,
# above all with few labels, are within the noise.)
#
# Training curves
# ---------------
# The pretrained classifier (here the last one, trained with every label) keeps the
# history of every pretrained layer (``histories_``) and of the supervised training
# (``net_.history``); :class:`~skae.plotting.TrainingCurveDisplay` draws one row per
# stage.
TrainingCurveDisplay.from_estimator(pretrained)
