"""Pure PyTorch building blocks: every torch module, loss and noise source of skae.

Nothing in this package knows about scikit-learn or skorch; the estimators in
:mod:`skae` assemble these pieces and hand them to the training engine
(:class:`skae.engine.AutoencoderNet`). The modules are built from blocks
(:class:`BlockStack`): an autoencoder is a list of encoder blocks and a list of
decoder blocks (:class:`BlockAutoencoderModule`), a variational autoencoder adds
the two posterior heads between them (:class:`BlockVAEModule`); the fully
connected, convolutional and stacked modules only choose the blocks.

Every name is importable from ``skae.nn``; the private submodules group them:
``_core`` (activations, noise, :class:`AEOutput`, :class:`Penalty`,
:class:`ReconstructionLoss`), ``_blocks`` (the block loops and the MLP),
``_variational``, ``_conv`` and ``_stacked``.
"""

from ._blocks import (
    BlockAutoencoderModule,
    BlockStack,
    FixedNormLinear,
    MLPAutoencoderModule,
    dense_stack,
)
from ._conv import (
    BatchNorm2d,
    ConvAutoencoderModule,
    ConvVAEModule,
    conv_output_size,
    conv_stacks,
    use_channels_last,
)
from ._core import (
    ACTIVATIONS,
    AEOutput,
    Penalty,
    ReconstructionLoss,
    TrimmedLoss,
    generator_scope,
    make_activation,
    rand_like,
    randn_like,
)
from ._stacked import StackedAutoencoderModule, StackedClassifierModule
from ._variational import (
    LOGVAR_BOUNDS,
    X_LOGVAR_BOUNDS,
    BlockVAEModule,
    VAEModule,
    VAENegLogLikelihood,
    gaussian_kl,
    log_likelihood,
    soft_clamp,
)

__all__ = [
    "ACTIVATIONS",
    "AEOutput",
    "BatchNorm2d",
    "BlockAutoencoderModule",
    "BlockStack",
    "BlockVAEModule",
    "ConvAutoencoderModule",
    "ConvVAEModule",
    "FixedNormLinear",
    "LOGVAR_BOUNDS",
    "MLPAutoencoderModule",
    "Penalty",
    "ReconstructionLoss",
    "TrimmedLoss",
    "StackedAutoencoderModule",
    "StackedClassifierModule",
    "VAEModule",
    "VAENegLogLikelihood",
    "X_LOGVAR_BOUNDS",
    "conv_output_size",
    "conv_stacks",
    "dense_stack",
    "gaussian_kl",
    "generator_scope",
    "log_likelihood",
    "make_activation",
    "rand_like",
    "randn_like",
    "soft_clamp",
    "use_channels_last",
]
