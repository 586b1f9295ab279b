"""Exceptions and warnings raised by skae."""

__all__ = ["OvercompleteCodeWarning", "TrainingDivergedError"]


class TrainingDivergedError(FloatingPointError, ValueError):
    """The training loss became NaN or infinite, or exploded.

    Raised as soon as a batch loss is not finite, or a training batch loss exceeds
    :data:`skae.engine.DIVERGENCE_FACTOR` (10,000) times the first batch loss of the
    same training call. The estimator that raised it is left unfitted. It
    subclasses :class:`FloatingPointError` (what went wrong) and :class:`ValueError`
    (what scikit-learn code usually catches for a bad configuration).
    """


class OvercompleteCodeWarning(UserWarning):
    """An undercomplete autoencoder was given a code at least as large as its input.

    :class:`skae.Autoencoder` learns useful features only through its bottleneck:
    with ``n_components >= n_features`` it can learn the identity map instead.
    """
