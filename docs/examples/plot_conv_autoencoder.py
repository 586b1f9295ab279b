"""
A convolutional autoencoder on 8 x 8 digits
===========================================

:class:`~skae.ConvAutoencoder` encodes images with convolutions. scikit-learn
transformers take 2-D data, so the images stay flat rows (64 values per digit here)
and ``image_shape`` tells the estimator how to fold them back into ``(H, W)``
images; it then sits behind a scaler or in a pipeline like any other transformer.
This example compares it with a dense :class:`~skae.Autoencoder` of about the same
size at the same code size.
"""

# %%
# Two 16-dimensional codes
# ------------------------
# Two stride-2 convolutions (16 and 32 filters of 3 x 3) take the 8 x 8 digits to a
# 2 x 2 x 32 feature map, then a dense layer to the 16-unit code; the decoder
# mirrors this with transposed convolutions. The dense baseline has one hidden
# layer of 64 units.
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from skae import Autoencoder, ConvAutoencoder
from skae.plotting import FilterDisplay, ReconstructionDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = MinMaxScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), np.clip(scaler.transform(X_test), 0, 1)

conv = ConvAutoencoder(n_components=16, image_shape=(8, 8), filters=(16, 32),
                       strides=(2, 2), code_activation="identity", max_iter=100,
                       random_state=0).fit(X_train)
dense = Autoencoder(n_components=16, hidden_layer_sizes=(64,), max_iter=100,
                    random_state=0).fit(X_train)
print(f"image shape used: {conv.image_shape_}")

# %%
# Reconstruction and codes
# ------------------------
# Both are scored the same way: held-out reconstruction error, and the accuracy of a
# logistic regression trained on their codes.
for name, model in [("ConvAutoencoder", conv), ("Autoencoder", dense)]:
    n_weights = sum(p.numel() for p in model.net_.module_.parameters())
    clf = LogisticRegression(max_iter=3000).fit(model.transform(X_train), y_train)
    print(f"{name:>15}: {n_weights:6d} weights, test MSE {-model.score(X_test):.4f}, "
          f"accuracy on codes {clf.score(model.transform(X_test), y_test):.3f}")

ReconstructionDisplay.from_estimator({"ConvAutoencoder": conv, "Autoencoder": dense},
                                     X_test, n_images=10)

# %%
# With about as many weights, the convolutional model reconstructs the test digits
# better, while its codes serve a linear classifier no better than the dense ones.
# The convolutions cost several times more compute per epoch. Their strength is on
# larger images, where one small kernel shared over all positions replaces a dense
# layer with a weight for every pixel (``benchmarks/conv_faces.py`` compares the two
# with PCA on faces and MNIST).
#
# The learned filters
# -------------------
# :class:`~skae.plotting.FilterDisplay` finds the first convolution and draws its
# 16 kernels of 3 x 3 weights (mid-grey is 0). Each kernel is applied at every
# position of the digit: this weight sharing is what keeps convolutional networks
# small on large images.
FilterDisplay.from_estimator(conv)
