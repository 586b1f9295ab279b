"""Autoencoders made of blocks: the block loops, and the fully connected autoencoder."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ._core import AEOutput, make_activation

__all__ = [
    "BlockAutoencoderModule",
    "BlockStack",
    "FixedNormLinear",
    "MLPAutoencoderModule",
    "dense_stack",
]


class FixedNormLinear(nn.Linear):
    """Linear layer whose weight columns (one per input unit) have a fixed L2 norm.

    ``y = x W^T + b`` with every column :math:`W_{:, j} = \\text{norm} \\cdot
    V_{:, j} / \\lVert V_{:, j} \\rVert` of the stored ``weight`` :math:`V`. Used as
    the first decoder layer of a sparse autoencoder: it is the constraint
    dictionary learning puts on its atoms. Without it a sparsity penalty on the
    code can be met by shrinking the code and growing the decoder by the same
    factor, which leaves the reconstruction unchanged but the codes ever smaller.

    Parameters
    ----------
    in_features, out_features : int
        As in :class:`torch.nn.Linear`.
    norm : float, default=1.0
        The norm of every column.
    bias : bool, default=True
        As in :class:`torch.nn.Linear`.
    """

    def __init__(self, in_features: int, out_features: int, norm: float = 1.0,
                 bias: bool = True):
        super().__init__(in_features, out_features, bias=bias)
        self.norm = float(norm)

    def normalized_weight(self) -> torch.Tensor:
        """The weight actually applied (columns rescaled to ``norm``)."""
        scale = self.norm / self.weight.norm(dim=0, keepdim=True).clamp_min(1e-12)
        return self.weight * scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.normalized_weight(), self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, norm={self.norm}"


def dense_stack(sizes: Sequence[int], activation: str, last_activation: str | None):
    """Linear layers ``sizes[0] -> ... -> sizes[-1]``, one block per layer.

    Each block is ``Sequential(Linear, activation)``; the last block uses
    ``last_activation`` (no activation module at all when None). The layers are
    created input side first, which fixes the order their weights are drawn in.
    """
    blocks = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        is_last = i == len(sizes) - 2
        act = last_activation if is_last else activation
        layers = [nn.Linear(n_in, n_out)]
        if act is not None:
            layers.append(make_activation(act))
        blocks.append(nn.Sequential(*layers))
    return nn.ModuleList(blocks)


def _widest_linear(module: nn.Module) -> int:
    """The largest ``in_features`` / ``out_features`` of the Linear layers of ``module``."""
    sizes = [n for m in module.modules() if isinstance(m, nn.Linear)
             for n in (m.in_features, m.out_features)]
    return max(sizes, default=1)


class BlockStack(nn.Module):
    """What every block-built module shares: the block loops and two attributes.

    Subclasses hold their encoder blocks in ``encoder`` (and, for autoencoders, their
    decoder blocks in ``decoder``), both :class:`torch.nn.ModuleList`, and call
    :meth:`_set_shape` once their layers exist.

    Attributes
    ----------
    input_shape : tuple of int or None
        Shape of one sample as the first block expects it (``(C, H, W)`` for
        convolutions); rows of ``n_features`` values are reshaped to it first. None
        leaves the rows as they are.
    activation_width : int
        The largest number of values one sample occupies in any layer (input
        included): what one row of a batch costs in the widest activation tensor.
        The estimators size their inference batches from it.
    """

    def _set_shape(self, input_shape=None, activation_width=None):
        self.input_shape = None if input_shape is None else tuple(int(s) for s in input_shape)
        self.activation_width = (int(activation_width) if activation_width
                                 else _widest_linear(self))

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Rows ``(n, n_features)`` as the first block expects them."""
        if self.input_shape is None:
            return x
        return x.reshape(x.shape[0], *self.input_shape)

    @staticmethod
    def _run(blocks, x: torch.Tensor, hidden: list | None = None) -> torch.Tensor:
        """``blocks`` applied in order; each block's output is appended to ``hidden``."""
        for block in blocks:
            x = block(x)
            if hidden is not None:
                hidden.append(x)
        return x

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder blocks applied to the code ``z``, before the output activation."""
        return self._run(self.decoder, z)


class BlockAutoencoderModule(BlockStack):
    """Autoencoder made of given encoder and decoder blocks.

    ``encoder`` and ``decoder`` are ModuleLists of blocks applied in order; the
    output activation is kept apart so that ``forward`` can also return the logits.
    ``forward`` records every encoder block's output in ``AEOutput.hidden``.

    Parameters
    ----------
    encoder_blocks, decoder_blocks : sequence of torch.nn.Module
        The blocks, input side first; the last encoder block outputs the code.
    output_activation : torch.nn.Module
        Applied to the last decoder block's output (the logits).
    input_shape : tuple of int or None, default=None
        Shape the input rows are reshaped to before the first block (see
        :class:`BlockStack`).
    activation_width : int or None, default=None
        See :class:`BlockStack`; None takes the widest Linear layer.
    """

    def __init__(self, encoder_blocks, decoder_blocks, output_activation: nn.Module, *,
                 input_shape=None, activation_width=None):
        super().__init__()
        self.encoder = nn.ModuleList(encoder_blocks)
        self.decoder = nn.ModuleList(decoder_blocks)
        self.output_activation = output_activation
        self._set_shape(input_shape, activation_width)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code of ``x``: the encoder blocks applied in order."""
        return self._run(self.encoder, self._inputs(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The reconstruction decoded from the code ``z``."""
        return self.output_activation(self.decode_logits(z))

    def forward(self, x: torch.Tensor) -> AEOutput:
        """Encode and decode ``x``; the :class:`AEOutput` also holds every encoder layer."""
        hidden = []
        code = self._run(self.encoder, self._inputs(x), hidden)
        logits = self.decode_logits(code)
        return AEOutput(
            reconstruction=self.output_activation(logits),
            logits=logits,
            code=code,
            hidden=tuple(hidden),
        )


class MLPAutoencoderModule(BlockAutoencoderModule):
    """Fully connected autoencoder ``n_features -> hidden -> n_components -> hidden -> n_features``.

    The decoder mirrors the encoder's hidden sizes. Every hidden layer uses
    ``activation``; the code layer uses ``code_activation`` and the output layer
    ``output_activation``.

    Parameters
    ----------
    n_features : int
        Input (and output) dimension.
    n_components : int
        Code dimension.
    hidden_layer_sizes : sequence of int
        Sizes of the encoder's hidden layers, input side first. ``()`` gives the
        shallow autoencoder ``input -> code -> output``.
    activation, code_activation, output_activation : str
        Keys of :data:`ACTIVATIONS`.
    decoder_norm : float or None, default=None
        When set, the first decoder layer (the one reading the code) is a
        :class:`FixedNormLinear` whose columns have this norm.
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        code_activation: str = "identity",
        output_activation: str = "identity",
        decoder_norm: float | None = None,
    ):
        hidden = [int(h) for h in hidden_layer_sizes]
        decoder = dense_stack([n_components, *hidden[::-1], n_features], activation, None)
        if decoder_norm is not None:
            first = decoder[0][0]
            decoder[0][0] = FixedNormLinear(first.in_features, first.out_features,
                                            norm=decoder_norm)
        super().__init__(
            dense_stack([n_features, *hidden, n_components], activation, code_activation),
            decoder,
            make_activation(output_activation),
        )
