"""Convolutional autoencoders for images passed as flat rows.

scikit-learn needs 2-D ``X``, so the estimators take images flattened to rows of
``C * H * W`` values (channel first, row-major: what ``images.reshape(n, -1)``
gives for an array of shape ``(n, C, H, W)``) and an ``image_shape`` parameter; the
module reshapes inside. The torch modules are :class:`skae.nn.ConvAutoencoderModule`
and :class:`skae.nn.ConvVAEModule`; :class:`ConvAutoencoder` and
:class:`ConvVariationalAutoencoder` train them through skae's one engine like every
other variant.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import RECONSTRUCTION_CONSTRAINTS, BaseAutoencoder
from ._denoising import NOISES, NoiseMixin
from ._image import ImageShapeError, parse_image_shape
from ._variational import VariationalAutoencoder
from .nn import ConvAutoencoderModule, ConvVAEModule, conv_output_size

__all__ = ["ConvAutoencoder", "ConvVariationalAutoencoder"]


# ------------------------------------------------------------------------ estimators
def _positive_ints(name, value, n=None):
    """``value`` (an int, or a sequence of ``n`` ints when ``n`` is given) as a tuple."""
    if n is not None and isinstance(value, Integral | np.integer) and not isinstance(value, bool):
        value = (value,) * n
    try:
        values = tuple(value)
    except TypeError:
        values = None
    ok = values is not None and all(
        isinstance(v, Integral | np.integer) and not isinstance(v, bool) and v >= 1
        for v in values
    )
    if not ok or not values or (n is not None and len(values) != n):
        what = "a sequence of positive integers" if n is None else (
            f"a positive integer or a sequence of {n} positive integers (one per layer of "
            f"filters)")
        raise ValueError(f"{name} must be {what}, got {value!r}.")
    return tuple(int(v) for v in values)


class _ConvMixin:
    """Image-shape handling and conv-stack parameters shared by the conv estimators."""

    _conv_constraints: dict = {
        "image_shape": ["array-like", None],
        "filters": ["array-like", StrOptions({"auto"})],
        "kernel_size": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "strides": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "batchnorm": ["boolean"],
    }

    #: ``filters="auto"``: the first of these that the image is large enough for.
    _AUTO_FILTERS = (16, 32, 64, 128)

    def _conv_spec(self):
        """``(filters, kernel_sizes, strides)`` as tuples of equal length, validated.

        ``filters="auto"`` keeps the layers of :attr:`_AUTO_FILTERS` whose input is
        at least 4 pixels along its longer side: a strided layer on a 2 x 2 or 1 x 1
        map only adds depth (on 8 x 8 digits, four layers leave a conv VAE's codes
        classifying at 0.92, two at 0.97). 28 x 28 and larger images keep all four.
        Before the image shape is known (parameter checks) all four are returned.
        """
        if isinstance(self.filters, str):
            n = len(self._AUTO_FILTERS)
            kernel_sizes = _positive_ints("kernel_size", self.kernel_size, n)
            strides = _positive_ints("strides", self.strides, n)
            shape = getattr(self, "image_shape_", None)
            if shape is not None:
                (h, w), n = shape[1:], 0
                for k, st in zip(kernel_sizes, strides, strict=True):
                    if n and max(h, w) < 4:
                        break
                    h, w, n = conv_output_size(h, k, st), conv_output_size(w, k, st), n + 1
            return self._AUTO_FILTERS[:n], kernel_sizes[:n], strides[:n]
        filters = _positive_ints("filters", self.filters)
        n = len(filters)
        return (filters, _positive_ints("kernel_size", self.kernel_size, n),
                _positive_ints("strides", self.strides, n))

    def _resolve_image_shape(self, n_features: int) -> tuple:
        shape = self.image_shape
        if shape is None:
            side = math.isqrt(n_features)
            if side * side == n_features:
                return (1, side, side)
            warnings.warn(
                f"{type(self).__name__}: X has {n_features} features, which is not a perfect "
                "square, so each row is treated as a one-row image of shape "
                f"(1, 1, {n_features}) (a 1-D signal). Pass image_shape=(H, W) or (C, H, W) "
                "for images, or image_shape=(1, -1) to silence this warning.",
                UserWarning,
                stacklevel=2,
            )
            return (1, 1, n_features)
        try:
            return parse_image_shape(shape, n_features)
        except ImageShapeError as exc:
            if exc.reason == "invalid":
                msg = (f"image_shape must be None, (H, W) or (C, H, W) with positive integers "
                       f"(one of them may be -1, inferred from n_features), got {shape!r}.")
            elif exc.reason == "divisible":
                msg = (f"image_shape={shape!r} needs a number of features divisible by "
                       f"{exc.known}, but X has {n_features} features.")
            else:
                msg = (f"image_shape={shape!r} describes images of C*H*W = "
                       f"{'*'.join(map(str, exc.dims))} = {exc.known} values, but X has "
                       f"{n_features} features. Each row must be one image flattened channel "
                       "first, row-major.")
            raise ValueError(msg) from None

    def _validate_X(self, X, reset: bool):
        X = super()._validate_X(X, reset)
        if reset:
            self._conv_spec()  # fail before any work on a bad value
            self.image_shape_ = self._resolve_image_shape(X.shape[1])
        return X

    def _channels_last(self) -> bool:
        """Channels-last kernels for a model trained on the CPU.

        Measured 1.14-1.45x faster fits there (``benchmarks/conv_throughput.py``,
        :func:`skae.nn.use_channels_last`); on GPUs the layout stays torch's
        default, which has not been measured.
        """
        device = self.device
        if device == "auto":
            return not torch.cuda.is_available()
        try:
            return torch.device(device).type == "cpu"
        except (RuntimeError, TypeError, ValueError):
            return False

    def _conv_module_kwargs(self) -> dict:
        filters, kernel_sizes, strides = self._conv_spec()
        return dict(image_shape=self.image_shape_, n_components=self.n_components,
                    filters=filters, kernel_sizes=kernel_sizes, strides=strides,
                    hidden_layer_sizes=self._hidden_sizes(), activation=self.activation,
                    batchnorm=self.batchnorm, channels_last=self._channels_last())


class ConvAutoencoder(_ConvMixin, NoiseMixin, BaseAutoencoder):
    """Convolutional autoencoder for images given as flat rows.

    scikit-learn transformers take 2-D data, so ``X`` holds one image per row,
    flattened to ``C * H * W`` values, and ``image_shape`` says how to fold it back;
    the estimator then sits behind scalers and in Pipelines like any transformer.

    The encoder is a stack of convolutions (``filters``, ``kernel_size``,
    ``strides``; padding ``kernel_size // 2``) with ``activation``, then an optional
    dense ``hidden_layer_sizes`` and a dense code layer of ``n_components`` units
    with ``code_activation``. The decoder mirrors it: dense layers back to the
    feature map, then transposed convolutions back to ``(C, H, W)``, and the output
    activation. For every layer the transposed convolution gets the
    ``output_padding`` that restores the exact size its convolution saw, so any
    ``H`` and ``W`` work (odd, non-square, down to 1 x 1) and the reconstruction
    always has the input's shape, without cropping.

    With ``noise`` set, training batches are corrupted before the encoder and the
    network learns to reconstruct the clean images (a convolutional denoising
    autoencoder), with the corruptions and vocabulary of
    :class:`DenoisingAutoencoder`.

    Read more in the :doc:`User Guide </conv>`.

    Parameters
    ----------
    n_components : int, default=32
        Size of the code (the number of output features of ``transform``).
    image_shape : tuple of int or None, default=None
        Shape of one image: ``(H, W)`` (one channel) or ``(C, H, W)``. The rows of
        ``X`` are the images flattened channel first, row-major (``C * H * W``
        values, what ``images.reshape(n_samples, -1)`` gives for an array of shape
        ``(n_samples, C, H, W)``). One entry may be -1, inferred from the number
        of features as in :func:`numpy.reshape`: ``(1, -1)`` treats each row as a
        1-D signal. ``None`` means a square one-channel image when the number of
        features is a perfect square (784 -> 28 x 28) and otherwise a 1-D signal,
        with a warning. The resolved ``(C, H, W)`` is stored in ``image_shape_``.
    filters : sequence of int or "auto", default="auto"
        Number of filters of each convolution layer, input side first. ``"auto"``
        is ``(16, 32, 64, 128)``, without the layers whose input would be smaller
        than 4 pixels along its longer side (8 x 8 images get ``(16, 32)``; 28 x 28
        and larger images all four). The decoder mirrors them.
    kernel_size : int or sequence of int, default=3
        Size of the (square) kernels: one for all layers, or one per layer. The
        padding is ``kernel_size // 2`` ("same" padding for odd sizes).
    strides : int or sequence of int, default=2
        Stride of every layer, or one per layer. A stride-2 layer halves the
        height and width (rounding up; a 1-pixel side stays 1), so the default
        maps 28 x 28 images to 14, 7, 4 and 2 x 2 feature maps. Stride 1 keeps the
        size and costs more: ``(2, 1, 1, 1)`` keeps 14 x 14 maps of up to 128
        channels, about 4 times the compute and 8 times the weights of the default
        on MNIST.
    hidden_layer_sizes : int or sequence of int, default=()
        Dense layers between the flattened feature map and the code (mirrored in
        the decoder); ``()`` connects them directly.
    activation : {"relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid", \
"identity"}, default="relu"
        Activation after every convolution and hidden dense layer.
    batchnorm : bool, default=True
        Batch normalisation between every (transposed) convolution and its
        activation, the decoder's last layer excepted. It keeps the features of
        different images apart early in training: without it the sigmoid code
        units saturate within a few dozen steps and the network only learns the
        mean image (see the user guide). ``transform`` and the other inference
        methods use the running statistics, so they are deterministic and treat
        each row on its own.
    code_activation : str, default="sigmoid"
        Activation of the code layer (same choices as ``activation``): codes in
        (0, 1).
    output_activation : {"auto", "identity", "sigmoid", "tanh"}, default="auto"
        As in :class:`Autoencoder`: ``"auto"`` gives a sigmoid for data in [0, 1]
        (pixels, :class:`~sklearn.preprocessing.MinMaxScaler` output).
    loss : {"mse", "bce"}, default="mse"
        Reconstruction loss (between the reconstruction and the clean input).
    noise : {"masking", "gaussian", "salt_and_pepper"} or None, default=None
        Corrupt training batches as :class:`DenoisingAutoencoder` does; ``None``
        trains a plain autoencoder.
    noise_level : float, default=0.2
        Probability that a pixel is corrupted (``"masking"``,
        ``"salt_and_pepper"``), or standard deviation of the Gaussian noise in the
        units of the data. Ignored when ``noise=None``.
    clip_noise : bool, default=True
        Keep corrupted values inside the training data range, as in
        :class:`DenoisingAutoencoder` (Gaussian noise on pixels in [0, 1] is
        clipped to [0, 1]).
    max_iter : int, default=100
        Maximum number of epochs.
    batch_size, lr, optimizer, weight_decay, early_stopping, validation_fraction, \
n_iter_no_change, tol, device, mixed_precision, compile, random_state, verbose, \
callbacks
        As in :class:`Autoencoder` (same defaults). ``random_state`` also seeds the
        noise.

    Attributes
    ----------
    image_shape_ : tuple of int
        The image shape ``(C, H, W)`` used.
    noise_range_ : tuple of float
        ``(min, max)`` of the training data, the clipping range of the noise (only
        when ``noise`` is set).
    net_, output_activation_, n_iter_, loss_curve_, validation_loss_curve_, \
history_, n_features_in_, feature_names_in_, n_samples_seen_
        As in :class:`Autoencoder`. ``net_.module_`` is a
        :class:`skae.nn.ConvAutoencoderModule`; its first convolution is
        ``net_.module_.encoder[0][0]``, whose ``weight`` of shape
        ``(filters[0], C, k, k)`` holds the first-layer filters.

    See Also
    --------
    Autoencoder : The fully connected autoencoder.
    DenoisingAutoencoder : The noise options, on a fully connected network.
    ConvVariationalAutoencoder : A convolutional variational autoencoder.
    sklearn.decomposition.PCA : Linear dimensionality reduction.

    Notes
    -----
    Convolutions are much more expensive than dense layers of the same input size;
    on a CPU keep the images small or the first strides at 2. The rows per
    inference batch are chosen from the widest layer so that memory stays bounded.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import ConvAutoencoder
    >>> X = MinMaxScaler().fit_transform(load_digits().data)   # 8 x 8 images
    >>> cae = ConvAutoencoder(n_components=16, filters=(8, 16), max_iter=2,
    ...                       random_state=0).fit(X)
    >>> cae.image_shape_
    (1, 8, 8)
    >>> cae.transform(X).shape
    (1797, 16)
    >>> cae.inverse_transform(cae.transform(X[:3])).shape
    (3, 64)
    >>> cae.net_.module_.encoder[0][0].weight.shape   # first-layer filters
    torch.Size([8, 1, 3, 3])
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **RECONSTRUCTION_CONSTRAINTS,
        **_ConvMixin._conv_constraints,
        "noise": [StrOptions(set(NOISES)), None],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "clip_noise": ["boolean"],
    }

    def __init__(
        self,
        n_components=32,
        *,
        image_shape=None,
        filters="auto",
        kernel_size=3,
        strides=2,
        hidden_layer_sizes=(),
        activation="relu",
        batchnorm=True,
        code_activation="sigmoid",
        output_activation="auto",
        loss="mse",
        noise=None,
        noise_level=0.2,
        clip_noise=True,
        max_iter=100,
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
        self.image_shape = image_shape
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.batchnorm = batchnorm
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

    # ------------------------------------------------------------------ hooks
    def _build_module(self, n_features):
        return ConvAutoencoderModule(
            **self._conv_module_kwargs(),
            code_activation=self.code_activation,
            output_activation=self.output_activation_,
        )


class ConvVariationalAutoencoder(_ConvMixin, VariationalAutoencoder):
    """Convolutional variational autoencoder for images given as flat rows.

    :class:`VariationalAutoencoder` (same objective, likelihoods, KL warm-up,
    ELBO / IWAE :meth:`score_samples` and :meth:`sample`) with the encoder and
    decoder of :class:`ConvAutoencoder`: convolutions, then the two dense heads of
    the posterior :math:`q(z \\mid x)` on the flattened feature map (or on the last
    of ``hidden_layer_sizes``); dense layers back to the feature map and mirrored
    transposed convolutions to ``(C, H, W)``.

    Read more in the :doc:`User Guide </conv>`.

    Parameters
    ----------
    n_components : int, default=16
        Dimension of the latent space.
    image_shape : tuple of int or None, default=None
        As in :class:`ConvAutoencoder`.
    filters : sequence of int or "auto", default="auto"
        As in :class:`ConvAutoencoder`.
    kernel_size : int or sequence of int, default=3
        As in :class:`ConvAutoencoder`.
    strides : int or sequence of int, default=2
        As in :class:`ConvAutoencoder`.
    hidden_layer_sizes : int or sequence of int, default=()
        Dense layers between the flattened feature map and the posterior heads.
    activation : str, default="relu"
        Activation after every convolution and hidden dense layer.
    batchnorm : bool, default=True
        As in :class:`ConvAutoencoder`.
    likelihood, gaussian_variance, beta, kl_warmup, n_importance_samples, \
sample_latent
        As in :class:`VariationalAutoencoder`.
    max_iter : int, default=100
        Maximum number of epochs.
    batch_size, lr, optimizer, weight_decay, early_stopping, validation_fraction, \
n_iter_no_change, tol, device, mixed_precision, compile, random_state, verbose, \
callbacks
        As in :class:`Autoencoder`.

    Attributes
    ----------
    image_shape_ : tuple of int
        The image shape ``(C, H, W)`` used.
    likelihood_, elbo_, elbo_curve_, net_, output_activation_, n_iter_, \
loss_curve_, validation_loss_curve_, history_, n_features_in_, feature_names_in_, \
n_samples_seen_
        As in :class:`VariationalAutoencoder`. ``net_.module_`` is a
        :class:`skae.nn.ConvVAEModule`; ``net_.module_.encoder[0][0].weight``
        holds the first-layer filters.

    See Also
    --------
    VariationalAutoencoder : The fully connected VAE.
    ConvAutoencoder : The deterministic convolutional autoencoder.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import ConvVariationalAutoencoder
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> vae = ConvVariationalAutoencoder(n_components=8, filters=(8, 16), max_iter=2,
    ...                                  random_state=0).fit(X)
    >>> vae.likelihood_, vae.image_shape_
    ('bernoulli', (1, 8, 8))
    >>> vae.sample(3, random_state=0).shape
    (3, 64)
    """

    _parameter_constraints: dict = {
        **VariationalAutoencoder._parameter_constraints,
        **_ConvMixin._conv_constraints,
    }

    def __init__(
        self,
        n_components=16,
        *,
        image_shape=None,
        filters="auto",
        kernel_size=3,
        strides=2,
        hidden_layer_sizes=(),
        activation="relu",
        batchnorm=True,
        likelihood="auto",
        gaussian_variance="learned",
        beta=0.5,
        kl_warmup=0,
        n_importance_samples=1,
        sample_latent=False,
        max_iter=100,
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
        self.image_shape = image_shape
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.batchnorm = batchnorm
        self.likelihood = likelihood
        self.gaussian_variance = gaussian_variance
        self.beta = beta
        self.kl_warmup = kl_warmup
        self.n_importance_samples = n_importance_samples
        self.sample_latent = sample_latent
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

    def _build_module(self, n_features):
        return ConvVAEModule(
            **self._conv_module_kwargs(),
            likelihood=self.likelihood_,
            gaussian_variance=self.gaussian_variance,
        )
