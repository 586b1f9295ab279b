"""Stacks of pretrained layers: the unrolled autoencoder and the classifier."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from torch import nn

from ._blocks import BlockAutoencoderModule, BlockStack, dense_stack

__all__ = ["StackedAutoencoderModule", "StackedClassifierModule"]


class StackedAutoencoderModule(BlockAutoencoderModule):
    """The unrolled stack: every layer's encoder, then the decoders in reverse.

    ``decoder[j]`` is ``Sequential(Linear, activation)`` where the activation is the
    output activation of the layer that decoder belongs to; the bottom layer's output
    activation is kept apart as ``output_activation`` so that ``forward`` can return
    the logits (binary cross-entropy needs them).
    """

    @classmethod
    def unroll(cls, layers: Sequence[BlockAutoencoderModule]) -> StackedAutoencoderModule:
        """Copies of shallow autoencoders ``layers`` (bottom first) unrolled into one module.

        Each layer has one encoder block and one decoder block; the layers are deep
        copied, so the result shares no parameter with them.
        """
        decoders = [
            nn.Sequential(*copy.deepcopy(layer.decoder[0]),
                          copy.deepcopy(layer.output_activation))
            for layer in layers[:0:-1]  # top layer down to the second one
        ]
        bottom = layers[0]
        decoders.append(copy.deepcopy(bottom.decoder[0]))
        encoders = [copy.deepcopy(layer.encoder[0]) for layer in layers]
        return cls(encoders, decoders, copy.deepcopy(bottom.output_activation))


class StackedClassifierModule(BlockStack):
    """Encoder blocks followed by a linear layer; ``forward`` returns class logits.

    Parameters
    ----------
    encoder_blocks : sequence of torch.nn.Module
        Input side first; the last outputs ``n_top`` values per row.
    n_top : int
        Width of the top code.
    n_classes : int
        Number of classes (logits per row).
    """

    def __init__(self, encoder_blocks, n_top, n_classes):
        super().__init__()
        self.encoder = nn.ModuleList(encoder_blocks)
        self.head = nn.Linear(n_top, n_classes)
        self._set_shape()

    @classmethod
    def with_random_encoder(cls, n_features: int, sizes: Sequence[int], activation: str,
                            n_classes: int) -> StackedClassifierModule:
        """Freshly initialised dense encoder ``n_features -> sizes...`` (every layer with
        ``activation``) and head: the network a pretrained stack starts from."""
        blocks = dense_stack([n_features, *sizes], activation, activation)
        return cls(blocks, sizes[-1], n_classes)

    def encode(self, x):
        """The top code of ``x``."""
        return self._run(self.encoder, x)

    def forward(self, x):
        return self.head(self.encode(x))
