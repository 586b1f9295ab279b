"""
A variational autoencoder with a 2-D latent space
=================================================

:class:`~skae.VariationalAutoencoder` is a generative model: a standard normal prior
on a latent code ``z`` and a decoder that turns ``z`` into a distribution over
images. With two latent dimensions everything it learned can be drawn: where the
digits land in the latent space, what the decoder makes of every point of it, and
new digits sampled from the prior. Its ``score`` is a lower bound on the
log-likelihood of the data, in nats.
"""

# %%
# Fitting
# -------
# Pixels in [0, 1] get a Bernoulli likelihood (``likelihood="auto"``). A KL warm-up
# of 10 epochs lets the decoder learn to use the code before the KL term pulls the
# posterior towards the prior.
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from skae import VariationalAutoencoder
from skae.plotting import LatentManifoldDisplay, LatentSpaceDisplay, SampleDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = MinMaxScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), np.clip(scaler.transform(X_test), 0, 1)

vae = VariationalAutoencoder(n_components=2, hidden_layer_sizes=(128,), kl_warmup=10,
                             max_iter=150, random_state=0).fit(X_train)
print(f"likelihood: {vae.likelihood_}, epochs: {vae.n_iter_}")

# %%
# Held-out log-likelihood
# -----------------------
# ``score`` is the mean evidence lower bound (ELBO) per digit. With
# ``n_importance_samples=k`` it becomes the importance-weighted bound of Burda et
# al. (2016), tighter as ``k`` grows. Both are lower bounds on ``log p(x)``, so they
# can compare models, or flag digits the model finds unlikely (``score_samples``).
elbo = vae.score(X_test)
iwae = vae.set_params(n_importance_samples=100).score(X_test)
vae.set_params(n_importance_samples=1)
print(f"test ELBO {elbo:.2f} nats, IWAE bound (k=100) {iwae:.2f} nats per digit")

# %%
# The latent space
# ----------------
# ``transform`` returns the posterior mean of each digit's code.
# :class:`~skae.plotting.LatentSpaceDisplay` draws the test digits' codes, coloured
# by their (unused in training) label: the classes form regions of the latent
# space without the model ever seeing a label.
LatentSpaceDisplay.from_estimator(vae, X_test, y_test)

# %%
# What the decoder draws everywhere
# ---------------------------------
# :class:`~skae.plotting.LatentManifoldDisplay` decodes a grid of latent points,
# evenly spaced in probability under the prior (from its 5 % to its 95 % quantile
# on each axis). The digits morph continuously into one another: the VAE's latent
# space is smooth, which a plain autoencoder's does not have to be.
LatentManifoldDisplay.from_estimator(vae, n_grid=10)

# %%
# New digits
# ----------
# :meth:`~skae.VariationalAutoencoder.sample` draws ``z`` from the prior and decodes
# it; :class:`~skae.plotting.SampleDisplay` shows the mean images (Bernoulli
# probabilities) of such draws.
SampleDisplay.from_estimator(vae, n_samples=40, random_state=0)
