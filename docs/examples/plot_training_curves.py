"""
Training curves: early stopping, penalty terms and KL warm-up
=============================================================

Every skae estimator records its training in a skorch history (``history_``): the
total loss per epoch and, separately, each of its terms (the reconstruction error,
a sparsity or contraction penalty, the KL divergence of a VAE), on the training data
and, with ``early_stopping=True``, on held-out data.
:class:`~skae.plotting.TrainingCurveDisplay` draws one axes per term. This
example reads three such histories.
"""

# %%
# Early stopping
# --------------
# With ``early_stopping=True`` the estimator holds out ``validation_fraction`` of
# the training data, stops once the validation loss has not improved by a relative
# ``tol`` for ``n_iter_no_change`` epochs and restores the weights of the best
# epoch. Trained on 500 digits only, the network soon fits its training data better
# than it generalises: the training loss keeps falling while the validation loss
# levels off.
import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import MinMaxScaler

from skae import Autoencoder, SparseAutoencoder, VariationalAutoencoder
from skae.plotting import TrainingCurveDisplay

X = MinMaxScaler().fit_transform(load_digits().data)

ae = Autoencoder(n_components=32, lr=3e-3, early_stopping=True, validation_fraction=0.25,
                 max_iter=500, random_state=0).fit(X[:500])
best = int(np.argmin(ae.validation_loss_curve_)) + 1
print(f"stopped after {ae.n_iter_} of at most 500 epochs; best validation loss "
      f"{min(ae.validation_loss_curve_):.4f} at epoch {best} (weights restored)")
TrainingCurveDisplay.from_estimator(ae, log_scale=True)

# %%
# The history itself is a :class:`skorch.callbacks.History`: index it by epoch and
# key, e.g. ``ae.history_[:, "valid_loss"]``; ``loss_curve_`` and
# ``validation_loss_curve_`` are the two losses as lists.
for epoch, train, valid in ae.history_[-3:, ("epoch", "train_loss", "valid_loss")]:
    print(f"epoch {epoch}: train_loss {train:.5f}, valid_loss {valid:.5f}")

# %%
# A loss made of several terms
# ----------------------------
# The loss of :class:`~skae.SparseAutoencoder` is the reconstruction error plus the
# weighted sparsity penalty; the history records both. The penalty collapses in the
# first epochs as the units' activations move to the target, then settles at a small
# value that the reconstruction trades against; the reconstruction error improves
# throughout under that constraint.
sae = SparseAutoencoder(n_components=64, max_iter=100, random_state=0).fit(X)
TrainingCurveDisplay.from_estimator(sae, log_scale=True)

# %%
# KL warm-up of a variational autoencoder
# ---------------------------------------
# ``kl_warmup=20`` scales the KL term of the loss from 0 in the first epoch to its
# full weight from epoch 21 on (``kl_weight``). While the KL costs nothing the encoder
# spreads the codes freely and the KL divergence itself (``kl_unweighted``) jumps; as
# its weight grows it is squeezed back. The loss, which counts the KL at its current
# weight, stalls or even rises a little during the warm-up, while the ELBO (always
# at full weight, higher is better) improves throughout. That is why the stopping
# rule watches ``objective``, the loss at full weight, and not the warm-up loss.
vae = VariationalAutoencoder(n_components=8, kl_warmup=20, max_iter=60,
                             random_state=0).fit(X)
TrainingCurveDisplay.from_estimator(vae, terms=["loss", "kl_weight", "kl_unweighted", "elbo"],
                                   n_cols=4)
