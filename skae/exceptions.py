"""Exceptions raised by skae."""

__all__ = ["TrainingDivergedError"]


class TrainingDivergedError(FloatingPointError, ValueError):
    """The training loss became NaN or infinite.

    The estimator that raised it is left unfitted. It subclasses
    :class:`FloatingPointError` (what went wrong) and :class:`ValueError` (what
    scikit-learn code usually catches for a bad configuration).
    """
