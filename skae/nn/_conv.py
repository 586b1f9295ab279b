"""Convolutional autoencoders on flat rows: the conv stacks and the two modules."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ._blocks import BlockAutoencoderModule, dense_stack
from ._core import make_activation
from ._variational import BlockVAEModule

__all__ = [
    "BatchNorm2d",
    "ConvAutoencoderModule",
    "ConvVAEModule",
    "conv_output_size",
    "conv_stacks",
    "use_channels_last",
]


class BatchNorm2d(nn.BatchNorm2d):
    """:class:`torch.nn.BatchNorm2d` that accepts a single value per channel in training.

    A training batch with one value per channel (one sample of a 1 x 1 feature map,
    e.g. the last mini-batch of a dataset whose size is one more than a multiple of
    ``batch_size``) has no batch statistics; torch raises on it. Such a batch is
    normalised with the running statistics instead, as in evaluation mode.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.shape[0] * x.shape[2] * x.shape[3] == 1:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight,
                                self.bias, False, 0.0, self.eps)
        return super().forward(x)


def use_channels_last(module: nn.Module) -> nn.Module:
    """Put ``module``'s 4-D weights in the channels-last memory format, in place.

    A convolution whose kernel is channels-last (NHWC) computes channels-last
    feature maps, whatever the layout of its input, and oneDNN runs small
    convolutions and their transposes faster so on a CPU (the default 28 x 28 conv
    autoencoders: 1.12-1.23x faster training steps, 1.3-1.6x faster inference on
    1-2 threads; ``benchmarks/conv_throughput.py``). Values, ``state_dict`` keys and shapes are
    unchanged; only the strides differ, and they survive ``.to(device)``, copying and
    pickling. Returns ``module``.
    """
    return module.to(memory_format=torch.channels_last)


def conv_output_size(size: int, kernel_size: int, stride: int) -> int:
    """Length of one spatial axis after a convolution with padding ``kernel_size // 2``.

    ``floor((size + 2 * (kernel_size // 2) - kernel_size) / stride) + 1``: ``size``
    for an odd kernel and stride 1 ("same" padding), ``ceil(size / stride)`` for an
    odd kernel in general, and never less than 1, however small ``size`` is.
    """
    return (size + 2 * (kernel_size // 2) - kernel_size) // stride + 1


def conv_stacks(image_shape, filters, kernel_sizes, strides, activation="relu",
                batchnorm=False):
    """Encoder convolutions and the transposed convolutions that mirror them exactly.

    Layer ``i`` is ``Conv2d(kernel_sizes[i], stride=strides[i],
    padding=kernel_sizes[i] // 2)`` followed by ``activation``. The decoder runs the
    layers backwards with ``ConvTranspose2d`` of the same kernel, stride and padding.
    A strided convolution maps several input sizes to one output size, so each
    transposed convolution gets the ``output_padding`` (``0 <= op < stride``, per
    axis) that restores the exact size the encoder saw: the reconstruction always
    has the input's shape, with no cropping.

    Parameters
    ----------
    image_shape : tuple of int
        ``(C, H, W)`` of the input.
    filters, kernel_sizes, strides : sequence of int
        One entry per convolution layer, input side first.
    activation : str
        Key of :data:`skae.nn.ACTIVATIONS`, used after every layer except the
        decoder's last one (whose output is the logits).
    batchnorm : bool, default=False
        Put a :class:`BatchNorm2d` between each (transposed) convolution and its
        activation (the convolution then has no bias).

    Returns
    -------
    encoder : list of nn.Sequential
        ``Conv2d, [BatchNorm2d,] activation`` per layer.
    decoder : list of nn.Sequential
        ``ConvTranspose2d, [BatchNorm2d,] activation`` per layer; the last is the
        transposed convolution alone.
    feature_shape : tuple of int
        ``(filters[-1], h, w)``, the shape of the encoder's output.
    sizes : list of tuple of int
        ``(h, w)`` before the first layer and after each layer.
    """
    channels, height, width = (int(s) for s in image_shape)
    sizes = [(height, width)]
    for k, s in zip(kernel_sizes, strides, strict=True):
        h, w = sizes[-1]
        sizes.append((conv_output_size(h, k, s), conv_output_size(w, k, s)))
    chans = [channels, *(int(f) for f in filters)]
    encoder, decoder = [], []
    for i, (k, s) in enumerate(zip(kernel_sizes, strides, strict=True)):
        encoder.append(nn.Sequential(
            nn.Conv2d(chans[i], chans[i + 1], k, stride=s, padding=k // 2, bias=not batchnorm),
            *([BatchNorm2d(chans[i + 1])] if batchnorm else []),
            make_activation(activation),
        ))
        (h_in, w_in), (h_out, w_out) = sizes[i], sizes[i + 1]
        # ConvTranspose2d gives (out - 1) * s - 2 * (k // 2) + k + output_padding.
        pad = tuple(
            n_in - ((n_out - 1) * s - 2 * (k // 2) + k)
            for n_in, n_out in ((h_in, h_out), (w_in, w_out))
        )
        assert all(0 <= p < s for p in pad), (sizes, k, s, pad)
        last = i == 0  # the decoder's last layer gives the logits
        layers = [nn.ConvTranspose2d(chans[i + 1], chans[i], k, stride=s, padding=k // 2,
                                     output_padding=pad, bias=last or not batchnorm)]
        if not last:
            layers += [BatchNorm2d(chans[i])] if batchnorm else []
            layers.append(make_activation(activation))
        decoder.append(nn.Sequential(*layers))
    h, w = sizes[-1]
    return encoder, decoder[::-1], (chans[-1], h, w), sizes


def _activation_width(image_shape, filters, sizes) -> int:
    """Largest number of values per sample in one layer of the conv stacks, input included."""
    widths = [int(f) * h * w for f, (h, w) in zip(filters, sizes[1:], strict=True)]
    return max([*widths, math.prod(image_shape)])


def _flat_input(blocks: nn.ModuleList) -> nn.ModuleList:
    """Dense blocks that first flatten the feature map (a Flatten block if there are none)."""
    if len(blocks):
        blocks[0].insert(0, nn.Flatten())
    else:
        blocks.append(nn.Flatten())
    return blocks


def _image_decoder(n_components, hidden, feature_shape, activation, deconvs) -> list:
    """Dense layers from the code back to the feature map, then the transposed convolutions.

    The output is flattened back to rows of ``C * H * W`` values.
    """
    n_flat = math.prod(feature_shape)
    dense_out = dense_stack([n_components, *hidden[::-1], n_flat], activation, activation)
    dense_out[-1].append(nn.Unflatten(1, feature_shape))
    deconvs[-1].append(nn.Flatten())
    return [*dense_out, *deconvs]


class ConvAutoencoderModule(BlockAutoencoderModule):
    """Convolutional autoencoder on flat rows of ``C * H * W`` values.

    Encoder: the convolutions of :func:`conv_stacks`, then dense layers
    ``flattened features -> hidden_layer_sizes... -> n_components`` (the code). The
    decoder mirrors it: dense layers back to the flattened feature map, then
    transposed convolutions back to ``(C, H, W)``. ``encode`` and ``forward`` take
    rows of shape ``(n, C * H * W)`` and reshape them to images (``input_shape``);
    ``decode`` returns rows of the same shape.

    ``encoder[0][0]`` is the first convolution, so ``encoder[0][0].weight`` (of shape
    ``(filters[0], C, k, k)``) holds the first-layer filters, in the same place as
    the first dense layer's weights of :class:`skae.nn.MLPAutoencoderModule`.

    Parameters
    ----------
    image_shape : tuple of int
        ``(C, H, W)``.
    n_components : int
        Code dimension.
    filters, kernel_sizes, strides : sequence of int
        One entry per convolution layer, input side first.
    hidden_layer_sizes : sequence of int, default=()
        Dense layers between the flattened feature map and the code.
    activation, code_activation, output_activation : str
        Keys of :data:`skae.nn.ACTIVATIONS`.
    batchnorm : bool, default=False
        Batch normalisation after every (transposed) convolution but the last.
    channels_last : bool, default=False
        Store the (transposed) convolution kernels in the channels-last memory
        format (:func:`use_channels_last`), so the feature maps are channels-last too.
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        n_components: int,
        filters: Sequence[int],
        kernel_sizes: Sequence[int],
        strides: Sequence[int],
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        code_activation: str = "sigmoid",
        output_activation: str = "identity",
        batchnorm: bool = False,
        channels_last: bool = False,
    ):
        image_shape = tuple(int(s) for s in image_shape)
        hidden = [int(h) for h in hidden_layer_sizes]
        convs, deconvs, feature_shape, sizes = conv_stacks(
            image_shape, filters, kernel_sizes, strides, activation, batchnorm)
        n_flat = math.prod(feature_shape)
        dense_in = _flat_input(
            dense_stack([n_flat, *hidden, n_components], activation, code_activation))
        decoder = _image_decoder(n_components, hidden, feature_shape, activation, deconvs)
        super().__init__([*convs, *dense_in], decoder, make_activation(output_activation),
                         input_shape=image_shape,
                         activation_width=_activation_width(image_shape, filters, sizes))
        self.feature_shape = feature_shape
        if channels_last:
            use_channels_last(self)

    @property
    def image_shape(self) -> tuple:
        """``(C, H, W)`` of one input row."""
        return self.input_shape


class ConvVAEModule(BlockVAEModule):
    """Variational autoencoder with a convolutional encoder and decoder, on flat rows.

    The encoder blocks are the convolutions of :func:`conv_stacks`, flattened, then
    the dense ``hidden_layer_sizes``; the posterior heads ``mu_head`` /
    ``logvar_head`` read the last of them (the flattened feature map without hidden
    layers). The decoder is dense layers back to the feature map, then the
    transposed convolutions. Everything else (likelihoods, reparameterisation,
    ``log_px``) is :class:`BlockVAEModule`'s. Inputs and outputs are flat rows.

    Parameters
    ----------
    image_shape : tuple of int
        ``(C, H, W)``.
    n_components : int
        Latent dimension.
    filters, kernel_sizes, strides : sequence of int
        One entry per convolution layer, input side first.
    hidden_layer_sizes : sequence of int, default=()
        Dense layers between the flattened feature map and the heads.
    activation : str, default="relu"
        Key of :data:`skae.nn.ACTIVATIONS`.
    likelihood, gaussian_variance
        As in :class:`BlockVAEModule`.
    batchnorm : bool, default=False
        Batch normalisation after every (transposed) convolution but the last.
    channels_last : bool, default=False
        As in :class:`ConvAutoencoderModule`.
    """

    def __init__(self, image_shape, n_components, filters, kernel_sizes, strides,
                 hidden_layer_sizes=(), activation="relu", likelihood="bernoulli",
                 gaussian_variance="learned", batchnorm=False, channels_last=False):
        image_shape = tuple(int(s) for s in image_shape)
        hidden = [int(h) for h in hidden_layer_sizes]
        convs, deconvs, feature_shape, sizes = conv_stacks(
            image_shape, filters, kernel_sizes, strides, activation, batchnorm)
        n_flat = math.prod(feature_shape)
        dense_in = _flat_input(dense_stack([n_flat, *hidden], activation, activation))
        width = hidden[-1] if hidden else n_flat
        mu_head = nn.Linear(width, n_components)
        logvar_head = nn.Linear(width, n_components)
        decoder = _image_decoder(n_components, hidden, feature_shape, activation, deconvs)
        super().__init__(
            [*convs, *dense_in], mu_head, logvar_head, decoder,
            n_features=math.prod(image_shape), likelihood=likelihood,
            gaussian_variance=gaussian_variance, input_shape=image_shape,
            activation_width=_activation_width(image_shape, filters, sizes),
        )
        self.feature_shape = feature_shape
        if channels_last:
            use_channels_last(self)

    @property
    def image_shape(self) -> tuple:
        """``(C, H, W)`` of one input row."""
        return self.input_shape
