"""Helpers shared by the displays: tiles, grids of axes, image shapes, names.

matplotlib is imported inside the functions that draw, never at import time.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.utils.validation import check_array

from .._image import ImageShapeError, parse_image_shape

#: Size in inches of one image tile in the figures the displays create.
_TILE = 0.7
#: Space between image tiles, as a fraction of a tile.
_TILE_GAP = 0.08
#: Label colours beyond this number of classes come from a continuous colormap.
_MAX_QUALITATIVE = 20


def _estimator_name(estimator) -> str:
    steps = getattr(estimator, "steps", None)
    if steps:  # a Pipeline is named after its last step
        return type(steps[-1][1]).__name__
    return type(estimator).__name__


def _find(estimator, predicate):
    """``estimator`` if ``predicate`` holds, else the last Pipeline step where it does."""
    if predicate(estimator):
        return estimator
    for _, step in reversed(getattr(estimator, "steps", None) or []):
        if step is not None and step != "passthrough" and predicate(step):
            return step
    return None


def _check_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _resolve_image_shape(image_shape, n_features, estimator=None):
    """``(C, H, W)`` from ``image_shape``, the estimator's ``image_shape_`` or a square.

    ``image_shape`` is ``(H, W)`` or ``(C, H, W)``; one entry may be -1 (inferred).
    """
    given = image_shape
    if image_shape is None and estimator is not None:
        owner = _find(estimator, lambda e: getattr(e, "image_shape_", None) is not None)
        if owner is not None:
            image_shape = owner.image_shape_
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"Cannot infer the image shape of rows with {n_features} features (not a "
                "perfect square); pass image_shape=(height, width) or "
                "(channels, height, width)."
            )
        return (1, side, side)
    try:
        return parse_image_shape(image_shape, n_features)
    except ImageShapeError as exc:
        if exc.reason == "invalid":
            msg = ("image_shape must be (height, width) or (channels, height, width) with "
                   f"positive integers (one may be -1, inferred), got {image_shape!r}.")
        elif exc.reason == "divisible":
            msg = (f"image_shape={tuple(image_shape)!r} needs a number of features divisible "
                   f"by {exc.known}, but the rows have {n_features}.")
        else:
            source = "image_shape" if given is not None else "the estimator's image_shape_"
            msg = (f"{source}={tuple(image_shape)!r} holds {exc.known} values per image, but "
                   f"the rows have {n_features} features.")
        raise ValueError(msg) from None


def _flat_images(images, image_shape, name):
    """Validate an image array; return ``(rows of shape (n, C*H*W), (C, H, W))``.

    ``images`` are flat rows ``(n, C*H*W)`` or image arrays ``(n, H, W)`` /
    ``(n, C, H, W)``, whose trailing dimensions are the default ``image_shape``.
    """
    arr = np.asarray(images)
    if arr.ndim in (3, 4):
        if image_shape is None:
            image_shape = arr.shape[1:]
        arr = arr.reshape(len(arr), -1)
    arr = check_array(arr, dtype=np.float64, ensure_all_finite=False, input_name=name)
    return arr, _resolve_image_shape(image_shape, arr.shape[1])


def _value_range(arrays, vmin, vmax):
    """Default colour limits: the finite range of ``arrays`` (shared by every tile)."""
    if vmin is None or vmax is None:
        values = np.concatenate([np.ravel(a) for a in arrays])
        values = values[np.isfinite(values)]
        lo, hi = (values.min(), values.max()) if values.size else (0.0, 1.0)
        vmin = float(lo) if vmin is None else vmin
        vmax = float(hi) if vmax is None else vmax
    return vmin, vmax


def _tile(row, shape, vmin, vmax):
    """One flat row as something ``imshow`` draws: 2-D (grey) or (H, W, 3) in [0, 1]."""
    img = np.asarray(row, dtype=np.float64).reshape(shape)
    if shape[0] == 3:
        span = (vmax - vmin) or 1.0
        return np.clip((np.moveaxis(img, 0, -1) - vmin) / span, 0.0, 1.0), True
    return img[0], False


def _imshow(ax, row, shape, *, cmap, vmin, vmax, kwargs):
    img, rgb = _tile(row, shape, vmin, vmax)
    style = {"interpolation": "nearest"}
    if not rgb:
        style.update(cmap=cmap, vmin=vmin, vmax=vmax)
    style.update(kwargs or {})
    return ax.imshow(img, **style)


def _clean(ax):
    """An image tile: no ticks, no frame (the y label stays usable for row names)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _make_axes(ax, n_rows, n_cols, *, figsize, wspace, hspace, caller, layout=None):
    """A ``(n_rows, n_cols)`` array of axes: new, carved out of ``ax``, or ``ax`` itself.

    Returns ``(figure, axes, created)``; ``created`` tells whether the figure is new
    (then the caller may set its margins).
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    if ax is None:
        fig = plt.figure(figsize=figsize, layout=layout)
        axes = fig.subplots(
            n_rows, n_cols, squeeze=False, gridspec_kw={"wspace": wspace, "hspace": hspace}
        )
        return fig, axes, True
    if isinstance(ax, Axes):
        spec = ax.get_subplotspec()
        if spec is None:
            raise ValueError(
                f"{caller} draws a grid of {n_rows} x {n_cols} axes: ax must be a subplot "
                "(from plt.subplots or fig.add_subplot), whose area is split into the "
                "grid, or an array of that many axes."
            )
        fig = ax.figure
        ax.remove()
        grid = spec.subgridspec(n_rows, n_cols, wspace=wspace, hspace=hspace)
        return fig, grid.subplots(squeeze=False), False
    axes = np.asarray(ax, dtype=object)
    if axes.size != n_rows * n_cols or not all(isinstance(a, Axes) for a in axes.flat):
        raise ValueError(
            f"{caller} needs a single subplot or exactly {n_rows * n_cols} axes "
            f"({n_rows} x {n_cols}); got {axes.size} object(s)."
        )
    axes = axes.reshape(n_rows, n_cols)
    return axes[0, 0].figure, axes, False


def _single_axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        # constrained layout keeps the outside legend, colorbar and labels in the figure
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _tile_grid(ax, n_rows, n_cols, caller, label_width=0.0):
    """Axes for a grid of image tiles; new figures get ``label_width`` inches on the left."""
    width = label_width + n_cols * _TILE + 0.2
    height = n_rows * _TILE + 0.2
    fig, axes, created = _make_axes(
        ax, n_rows, n_cols, figsize=(width, height), wspace=_TILE_GAP, hspace=_TILE_GAP,
        caller=caller,
    )
    if created:
        fig.subplots_adjust(
            left=(label_width + 0.1) / width, right=1 - 0.1 / width,
            bottom=0.1 / height, top=1 - 0.1 / height,
        )
    for a in axes.flat:
        _clean(a)
    return fig, axes


def _grid_shape(n, n_cols):
    n_cols = math.ceil(math.sqrt(n)) if n_cols is None else _check_int(n_cols, "n_cols")
    n_cols = min(n_cols, n)
    return math.ceil(n / n_cols), n_cols


def _plot_tiles(display, caller, rows, shape, *, ax, n_cols, cmap, limits, imshow_kwargs):
    """Draw ``rows`` as a grid of tiles; ``limits[i]`` is tile ``i``'s ``(vmin, vmax)``."""
    n_rows, n_cols = _grid_shape(len(rows), n_cols)
    fig, axes = _tile_grid(ax, n_rows, n_cols, caller)
    images = np.empty(len(rows), dtype=object)
    for i, a in enumerate(axes.flat):
        if i >= len(rows):
            a.set_visible(False)
            continue
        lo, hi = limits[i]
        images[i] = _imshow(a, rows[i], shape, cmap=cmap, vmin=lo, vmax=hi,
                            kwargs=imshow_kwargs)
    display.figure_, display.axes_, display.images_ = fig, axes, images
    return display


def _check_estimator_methods(estimator, methods, caller, hint=""):
    missing = [m for m in methods if not hasattr(estimator, m)]
    if missing:
        raise TypeError(
            f"{caller} needs an estimator with {' and '.join(methods)}; "
            f"{_estimator_name(estimator)} has no {' or '.join(missing)}.{hint}"
        )
