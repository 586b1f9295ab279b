"""The denoising autoencoder: reconstruct the clean input from a corrupted copy."""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import RECONSTRUCTION_CONSTRAINTS, BaseAutoencoder
from ._data import SEED_MAX
from .corruption import Compose, GaussianNoise, MaskingNoise, SaltAndPepperNoise
from .nn import generator_scope

NOISES = ("masking", "gaussian", "salt_and_pepper")


class NoiseMixin:
    """Input corruption of the denoising estimators: ``noise``, ``noise_level``, ``clip_noise``.

    Builds the training corruption from those parameters (``noise=None``: none) and
    offers :meth:`corrupt`, which draws the same kind of noise. Used by
    :class:`DenoisingAutoencoder` and :class:`~skae.ConvAutoencoder`; place it before
    :class:`~skae._base.BaseAutoencoder` in the bases.
    """

    # ------------------------------------------------------------------ hooks
    def _make_noise(self, low: float, high: float):
        level = float(self.noise_level)
        if self.noise != "gaussian" and level > 1.0:
            raise ValueError(
                f"noise_level={self.noise_level!r} is a probability for noise={self.noise!r} "
                "and must lie in [0, 1]. (Only noise='gaussian' takes a standard deviation, "
                "which may exceed 1.)"
            )
        if self.noise == "masking":
            return MaskingNoise(level)
        if self.noise == "gaussian":
            if self.clip_noise:
                return GaussianNoise(level, low=low, high=high)
            return GaussianNoise(level)
        if self.clip_noise:
            return SaltAndPepperNoise(level, low=low, high=high)
        return SaltAndPepperNoise(level)

    def _build_corruption(self, X: np.ndarray):
        # Cooperative: keep whatever another base class corrupts, then add our noise.
        other = super()._build_corruption(X)
        if self.noise is None:
            return other
        low, high = float(X.min()), float(X.max())
        own = self._make_noise(low, high)
        self.noise_range_ = (low, high)
        return own if other is None else Compose(other, own)

    # ------------------------------------------------------------------ public
    def corrupt(self, X, random_state=None):
        """Return a corrupted copy of ``X``, drawn like the training corruption.

        Useful to build noisy test sets, or to see what the network is trained on.
        The noise is drawn on the CPU from a generator seeded by ``random_state``
        (:func:`skae.nn.generator_scope`); torch's global random state is not used.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Clean data.
        random_state : int, RandomState instance or None, default=None
            Seeds the noise. Pass an int for the same noise on every call; ``None``
            draws the seed from numpy's global random state (scikit-learn's
            convention).

        Returns
        -------
        X_noisy : ndarray of shape (n_samples, n_features)
            The corrupted copy, of the same float dtype as ``X`` (float64 for integer
            input). Entries that the noise leaves alone are exactly those of ``X``;
            with ``noise=None`` (convolutional estimators) the copy is unchanged.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        corruption = self.net_.corruption
        seed = check_random_state(random_state).randint(SEED_MAX)
        # a copy: the caller's array is never modified (a lazy X is read in full:
        # the result has its size anyway)
        Xt = torch.tensor(np.asarray(X))
        with generator_scope(seed), torch.no_grad():
            out = corruption(Xt) if corruption is not None else Xt
        return out.numpy().astype(X.dtype, copy=False)


class DenoisingAutoencoder(NoiseMixin, BaseAutoencoder):
    """Autoencoder trained to reconstruct clean inputs from corrupted ones.

    During training every mini-batch :math:`x` is corrupted into
    :math:`\\tilde x \\sim q(\\tilde x \\mid x)` and the network is trained to recover
    the *clean* input (Vincent et al., 2008, 2010):

    .. math::

        \\min_{f, g} \\; \\frac{1}{n d} \\sum_{i=1}^n
        \\ell\\big(g(f(\\tilde x_i)),\\ x_i\\big).

    Copying the input is no longer a solution, so the code must capture the
    dependencies between input features; the learned features are more robust, and
    the model can repair corrupted inputs (``inverse_transform(transform(X_noisy))``).

    The corruption :math:`q` is chosen by ``noise`` with level :math:`\\nu` =
    ``noise_level``:

    * ``"masking"``: each input is set to 0 with probability :math:`\\nu`;
    * ``"gaussian"``: :math:`\\tilde x = x + \\varepsilon`,
      :math:`\\varepsilon \\sim \\mathcal N(0, \\nu^2 I)`, clipped to the training data
      range when ``clip_noise=True``;
    * ``"salt_and_pepper"``: each input is, with probability :math:`\\nu`, set to the
      minimum or the maximum of the training data (equally likely).

    The corruption is drawn afresh for every mini-batch, only while training, from
    the generator seeded by ``random_state``. ``transform``, ``inverse_transform``,
    ``score`` and ``score_samples`` see the clean input and are deterministic; the
    loss always compares with the clean input. :meth:`corrupt` draws the same kind of
    noise on demand (e.g. to build a noisy test set).

    Read more in the :doc:`User Guide </denoising>`.

    Parameters
    ----------
    n_components : int, default=32
        Size of the code (the number of output features of ``transform``).
    hidden_layer_sizes : int or sequence of int, default=(256,)
        Sizes of the encoder's hidden layers, input side first; the decoder mirrors
        them.
    activation : str, default="relu"
        Activation of the hidden layers.
    code_activation : str, default="identity"
        Activation of the code layer.
    output_activation : {"auto", "identity", "sigmoid", "tanh"}, default="auto"
        As in :class:`Autoencoder`.
    loss : {"mse", "bce"}, default="mse"
        Reconstruction loss, between the reconstruction of the corrupted input and
        the clean input.
    noise : {"masking", "gaussian", "salt_and_pepper"}, default="masking"
        The corruption process.
    noise_level : float, default=0.3
        For ``"masking"`` and ``"salt_and_pepper"``, the probability (in [0, 1]) that
        an input is corrupted; for ``"gaussian"``, the standard deviation (>= 0) of
        the noise, in the units of the data. Higher values regularise more.
    clip_noise : bool, default=True
        Keep corrupted inputs inside the range ``[X.min(), X.max()]`` of the training
        data: Gaussian noise is clipped to it and salt-and-pepper noise uses its two
        ends as values. When False, Gaussian noise is unbounded and salt-and-pepper
        noise uses 0 and 1. Ignored by ``"masking"``.
    max_iter, batch_size, lr, optimizer, weight_decay, early_stopping, \
validation_fraction, n_iter_no_change, tol, device, mixed_precision, compile, \
random_state, verbose, callbacks
        As in :class:`Autoencoder` (same defaults). ``random_state`` also seeds the
        corruption. With ``early_stopping=True`` the validation loss is measured on
        clean inputs.

    Attributes
    ----------
    noise_range_ : tuple of float
        ``(min, max)`` of the training data (of the first call to ``partial_fit``
        when training incrementally): the clipping range and the salt-and-pepper
        values when ``clip_noise=True``.
    net_, output_activation_, n_iter_, loss_curve_, validation_loss_curve_, \
history_, n_features_in_, feature_names_in_, n_samples_seen_
        As in :class:`Autoencoder`. ``net_.corruption`` is the corruption applied to
        training batches. ``loss_curve_`` is the loss on corrupted inputs, so it is
        higher than the clean reconstruction error ``-score(X)``.

    See Also
    --------
    Autoencoder : Without the corruption.
    SparseAutoencoder : Regularises the code with a sparsity penalty instead.
    skae.corruption : The corruption callables, usable with any engine net.

    Notes
    -----
    The corruption composes with the other hooks: a subclass that also overrides
    ``_build_penalties`` (e.g. to add a sparsity penalty) trains a sparse denoising
    autoencoder, and a corruption returned by another base class's
    ``_build_corruption`` is applied before this one.

    References
    ----------
    P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol, "Extracting and
    composing robust features with denoising autoencoders", ICML 2008.

    P. Vincent, H. Larochelle, I. Lajoie, Y. Bengio and P.-A. Manzagol, "Stacked
    denoising autoencoders", JMLR 11, 2010.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae.corruption import MaskingNoise
    >>> from skae import DenoisingAutoencoder
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> dae = DenoisingAutoencoder(n_components=16, hidden_layer_sizes=(64,),
    ...                            noise="masking", noise_level=0.3, max_iter=5,
    ...                            random_state=0).fit(X)
    >>> dae.transform(X).shape
    (1797, 16)
    >>> dae.net_.corruption
    MaskingNoise(p=0.3)
    >>> X_noisy = dae.corrupt(X[:5], random_state=0)   # about 30 % of inputs zeroed
    >>> dae.inverse_transform(dae.transform(X_noisy)).shape   # the repaired digits
    (5, 64)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **RECONSTRUCTION_CONSTRAINTS,
        "noise": [StrOptions(set(NOISES))],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "clip_noise": ["boolean"],
    }

    def __init__(
        self,
        n_components=32,
        *,
        hidden_layer_sizes=(256,),
        activation="relu",
        code_activation="identity",
        output_activation="auto",
        loss="mse",
        noise="masking",
        noise_level=0.3,
        clip_noise=True,
        max_iter=200,
        batch_size=128,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        device="cpu",
        mixed_precision=False,
        compile=False,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.code_activation = code_activation
        self.output_activation = output_activation
        self.loss = loss
        self.noise = noise
        self.noise_level = noise_level
        self.clip_noise = clip_noise
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.mixed_precision = mixed_precision
        self.compile = compile
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
