"""Image shapes of flat rows: the one parser of ``image_shape`` in skae.

Every estimator and display takes images as flat rows of ``C * H * W`` values,
channel first. :func:`parse_image_shape` turns an ``image_shape`` argument, ``(H, W)``
or ``(C, H, W)`` with at most one ``-1`` (inferred, as in :func:`numpy.reshape`), into
``(C, H, W)`` for rows of a given length. The convolutional estimators
(:mod:`skae._conv`) and the displays (:mod:`skae.plotting`) word their own errors
from :class:`ImageShapeError`, which says what is wrong.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["ImageShapeError", "parse_image_shape"]


class ImageShapeError(ValueError):
    """An ``image_shape`` that does not describe the rows.

    Attributes
    ----------
    reason : {"invalid", "divisible", "size"}
        ``"invalid"``: not ``(H, W)`` / ``(C, H, W)`` of positive integers with at most
        one -1; ``"divisible"``: the number of features is not a multiple of the
        product of the known entries (``known``); ``"size"``: ``dims`` (``(C, H, W)``)
        hold ``known`` values, not the number of features.
    known : int or None
    dims : tuple of int or None
    """

    def __init__(self, reason, known=None, dims=None):
        super().__init__(reason)
        self.reason = reason
        self.known = known
        self.dims = dims


def parse_image_shape(shape, n_features: int) -> tuple:
    """``(C, H, W)`` of rows of ``n_features`` values described by ``shape``.

    Parameters
    ----------
    shape : tuple of int
        ``(H, W)`` or ``(C, H, W)``; one entry may be -1, inferred from ``n_features``.
    n_features : int
        Values per row.

    Returns
    -------
    dims : tuple of int
        ``(C, H, W)`` with ``C * H * W == n_features``.

    Raises
    ------
    ImageShapeError
        When ``shape`` is malformed or does not match ``n_features``.
    """
    try:
        dims = tuple(shape)
    except TypeError:
        dims = ()
    valid = len(dims) in (2, 3) and all(
        isinstance(d, numbers.Integral) and not isinstance(d, bool) and (d >= 1 or d == -1)
        for d in dims
    ) and sum(d == -1 for d in dims) <= 1
    if not valid:
        raise ImageShapeError("invalid")
    dims = tuple(int(d) for d in dims)
    if len(dims) == 2:
        dims = (1, *dims)
    known = math.prod(d for d in dims if d != -1)
    if -1 in dims:
        if n_features % known:
            raise ImageShapeError("divisible", known=known)
        dims = tuple(n_features // known if d == -1 else d for d in dims)
    elif known != n_features:
        raise ImageShapeError("size", known=known, dims=dims)
    return dims
