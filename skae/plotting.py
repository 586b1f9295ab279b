"""Plots of autoencoders: scikit-learn-style display objects.

Each display follows the convention of :class:`sklearn.metrics.ConfusionMatrixDisplay`:
a classmethod ``from_estimator`` (or ``from_arrays`` / ``from_history``) checks the
estimator, computes what to draw and calls its ``plot`` method, which draws on new or given
matplotlib axes, stores the figure and artists in attributes ending in ``_`` and
returns the display. The data a display draws are kept as its public attributes, so
a display can be re-plotted (``display.plot(cmap="viridis")``) without recomputing.

* :class:`ReconstructionDisplay`: originals above reconstructions (several methods,
  optionally the corrupted inputs of a denoiser);
* :class:`FilterDisplay`: first-layer weights (dense or convolutional) as tiles;
* :class:`LatentSpaceDisplay`: 2-D scatter of the codes, coloured by label;
* :class:`SampleDisplay`: samples drawn from a generative model (VAE);
* :class:`LatentManifoldDisplay`: decoded images over a 2-D grid of latent values;
* :class:`TrainingCurveDisplay`: the loss and every penalty term per epoch, one axes
  each.

Images travel as flat rows (what every skae estimator takes): ``C * H * W`` values
per row, channel first. ``image_shape`` is ``(H, W)`` or ``(C, H, W)``; when it is
not given it is the estimator's ``image_shape_`` (convolutional estimators) or, for
a square number of features, ``(sqrt(n), sqrt(n))``. Three channels are drawn as
RGB; other channel counts show their first channel.

matplotlib is an optional dependency (``pip install skae[plots]``), imported only
when something is drawn: ``import skae`` and ``import skae.plotting`` do not import
it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _num_samples, check_array, check_is_fitted

__all__ = [
    "FilterDisplay",
    "LatentManifoldDisplay",
    "LatentSpaceDisplay",
    "ReconstructionDisplay",
    "SampleDisplay",
    "TrainingCurveDisplay",
]

#: Size in inches of one image tile in the figures the displays create.
_TILE = 0.7
#: Space between image tiles, as a fraction of a tile.
_TILE_GAP = 0.08
#: Label colours beyond this number of classes come from a continuous colormap.
_MAX_QUALITATIVE = 20


# ------------------------------------------------------------------------ helpers
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
        shape = tuple(image_shape)
    except TypeError:
        shape = None
    if (
        shape is None
        or len(shape) not in (2, 3)
        or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool)
                   and (s >= 1 or s == -1) for s in shape)
        or sum(s == -1 for s in shape) > 1
    ):
        raise ValueError(
            "image_shape must be (height, width) or (channels, height, width) with "
            f"positive integers (one may be -1, inferred), got {image_shape!r}."
        )
    shape = tuple(int(s) for s in shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if -1 in shape:  # as in numpy's reshape
        known = -math.prod(shape)
        if n_features % known:
            raise ValueError(
                f"image_shape={tuple(image_shape)!r} needs a number of features divisible "
                f"by {known}, but the rows have {n_features}."
            )
        shape = tuple(n_features // known if s == -1 else s for s in shape)
    if math.prod(shape) != n_features:
        source = "image_shape" if given is not None else "the estimator's image_shape_"
        raise ValueError(
            f"{source}={tuple(image_shape)!r} holds {math.prod(shape)} values per image, but "
            f"the rows have {n_features} features."
        )
    return shape


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


# ----------------------------------------------------------------- reconstructions
class ReconstructionDisplay:
    """Original images above their reconstructions.

    Row by row: the originals, optionally the corrupted inputs the model received
    (denoising), then one row per reconstruction method. Use :meth:`from_estimator`
    (one or several fitted estimators with ``transform`` and ``inverse_transform``:
    any skae autoencoder, :class:`~sklearn.decomposition.PCA`, a Pipeline of such
    steps) or :meth:`from_arrays` (precomputed reconstructions).

    Parameters
    ----------
    originals : array-like of shape (n_images, n_features) or (n_images, [C,] H, W)
        The original images, as flat rows or image arrays.
    reconstructions : array-like or dict of str to array-like
        The reconstructions, of the same shape as ``originals``; a dict gives one
        labelled row per method (in the dict's order).
    corrupted : array-like of the shape of ``originals``, default=None
        The corrupted inputs that were reconstructed, drawn as a row between the
        originals and the reconstructions.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)``; None: the trailing dimensions of image arrays,
        or a square.

    Attributes
    ----------
    figure_ : matplotlib Figure or SubFigure
        Figure holding the grid (that of ``ax`` when one is given).
    axes_ : ndarray of matplotlib Axes, shape (n_rows, n_images)
        One axes per tile.
    images_ : ndarray of matplotlib AxesImage, shape (n_rows, n_images)
        The drawn images; ``images_[0, j].get_array()`` is original ``j``.
    row_labels_ : list of str
        The label of each row (``"original"``, ``"corrupted"``, the method names).

    See Also
    --------
    FilterDisplay : The first-layer weights of an autoencoder.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import Autoencoder
    >>> from skae.plotting import ReconstructionDisplay
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> ae = Autoencoder(n_components=8, max_iter=2, random_state=0).fit(X)
    >>> pca = PCA(n_components=8).fit(X)
    >>> disp = ReconstructionDisplay.from_estimator({"PCA": pca, "autoencoder": ae}, X,
    ...                                             n_images=6)
    >>> disp.row_labels_
    ['original', 'PCA', 'autoencoder']
    >>> disp.images_.shape
    (3, 6)
    >>> plt.close(disp.figure_)
    """

    def __init__(self, originals, reconstructions, *, corrupted=None, image_shape=None):
        self.originals = originals
        self.reconstructions = reconstructions
        self.corrupted = corrupted
        self.image_shape = image_shape

    def _rows(self):
        originals, shape = _flat_images(self.originals, self.image_shape, "originals")
        rows = [("original", originals)]
        if self.corrupted is not None:
            rows.append(("corrupted", self.corrupted))
        recs = self.reconstructions
        if isinstance(recs, Mapping):
            if not recs:
                raise ValueError("reconstructions is an empty dict; give at least one method.")
            rows += [(str(k), v) for k, v in recs.items()]
        else:
            rows.append(("reconstruction", recs))
        checked = []
        for label, data in rows:
            arr = np.asarray(data, dtype=np.float64)
            if arr.ndim in (3, 4):  # image arrays -> flat rows
                arr = arr.reshape(len(arr), -1)
            if arr.shape != originals.shape:
                raise ValueError(
                    f"The {label!r} row has shape {arr.shape}, but the originals have shape "
                    f"{originals.shape} (as flat rows); every row needs one image per original."
                )
            checked.append((label, arr))
        return checked, shape

    def plot(self, *, ax=None, cmap="gray", vmin=None, vmax=None, imshow_kwargs=None):
        """Draw the grid.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, default=None
            None: a new figure. A single subplot: its area is split into the grid.
            An array: exactly ``n_rows * n_images`` axes, used row by row.
        cmap : str or Colormap, default="gray"
            Colormap of single-channel images.
        vmin, vmax : float, default=None
            Colour limits shared by every tile; by default the range of the
            originals, so that reconstructions are compared on the originals' scale.
        imshow_kwargs : dict, default=None
            Extra keyword arguments for :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : ReconstructionDisplay
            The display, with ``figure_``, ``axes_``, ``images_`` and ``row_labels_``.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        rows, shape = self._rows()
        vmin, vmax = _value_range([rows[0][1]], vmin, vmax)
        labels = [label for label, _ in rows]
        n_images = len(rows[0][1])  # >= 1: check_array refuses empty originals
        label_width = 0.08 * max(len(s) for s in labels) + 0.2
        fig, axes = _tile_grid(ax, len(rows), n_images, "ReconstructionDisplay", label_width)
        images = np.empty((len(rows), n_images), dtype=object)
        for i, (label, data) in enumerate(rows):
            for j in range(n_images):
                images[i, j] = _imshow(axes[i, j], data[j], shape, cmap=cmap, vmin=vmin,
                                       vmax=vmax, kwargs=imshow_kwargs)
            axes[i, 0].set_ylabel(label, rotation=0, ha="right", va="center")
        self.figure_, self.axes_, self.images_, self.row_labels_ = fig, axes, images, labels
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        n_images=10,
        X_noisy=None,
        corrupt=False,
        image_shape=None,
        random_state=None,
        name=None,
        ax=None,
        cmap="gray",
        vmin=None,
        vmax=None,
        imshow_kwargs=None,
    ):
        """Reconstruct the first ``n_images`` rows of ``X`` and draw them.

        The reconstruction is ``estimator.inverse_transform(estimator.transform(X))``.

        Parameters
        ----------
        estimator : estimator or dict of str to estimator
            Fitted estimator(s) with ``transform`` and ``inverse_transform``: any
            skae autoencoder, :class:`~sklearn.decomposition.PCA`, or a Pipeline
            whose steps all have both (a scaler then an autoencoder reconstructs in
            the original units). A dict draws one labelled row per estimator.
        X : array-like of shape (n_samples, n_features)
            Data; the first ``n_images`` rows are drawn (slice or shuffle ``X`` to
            choose others).
        n_images : int, default=10
            Number of images (columns); at most ``n_samples``.
        X_noisy : array-like of the shape of ``X``, default=None
            Corrupted version of ``X``: its rows are what the estimator(s)
            reconstruct, drawn as a ``"corrupted"`` row.
        corrupt : bool, default=False
            Corrupt the rows with the estimator's own ``corrupt`` method (e.g.
            :meth:`skae.DenoisingAutoencoder.corrupt`, the training noise) and
            reconstruct those. Needs a single estimator; with a dict, draw the noise
            once yourself and pass ``X_noisy``.
        image_shape : tuple of int, default=None
            ``(H, W)`` or ``(C, H, W)``; None: the estimator's ``image_shape_`` if
            it has one, else a square.
        random_state : int, RandomState instance or None, default=None
            Seeds the noise of ``corrupt=True``.
        name : str, default=None
            Row label of a single estimator; defaults to its class name (a
            Pipeline's last step).
        ax, cmap, vmin, vmax, imshow_kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : ReconstructionDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        if isinstance(estimator, Mapping):
            if not estimator:
                raise ValueError("estimator is an empty dict; give at least one estimator.")
            estimators = {str(k): v for k, v in estimator.items()}
        else:
            estimators = {name if name is not None else _estimator_name(estimator): estimator}
        for est in estimators.values():
            _check_estimator_methods(est, ("transform", "inverse_transform"),
                                     "ReconstructionDisplay")
            check_is_fitted(est)
        n_samples = _num_samples(X)
        n = min(_check_int(n_images, "n_images"), n_samples)
        X_shown = _safe_indexing(X, np.arange(n))
        X_in = None
        if corrupt and X_noisy is not None:
            raise ValueError("Pass either corrupt=True or X_noisy, not both.")
        if X_noisy is not None:
            if _num_samples(X_noisy) != n_samples:
                raise ValueError(
                    f"X_noisy has {_num_samples(X_noisy)} rows but X has {n_samples}; it "
                    "must be a corrupted copy of X."
                )
            X_in = _safe_indexing(X_noisy, np.arange(n))
        elif corrupt:
            if len(estimators) > 1:
                raise ValueError(
                    "corrupt=True needs a single estimator; to compare several, draw the "
                    "noise once (e.g. X_noisy = dae.corrupt(X)) and pass X_noisy."
                )
            (est,) = estimators.values()
            if not hasattr(est, "corrupt"):
                raise TypeError(
                    f"corrupt=True uses the estimator's corrupt method (as "
                    f"DenoisingAutoencoder has); {_estimator_name(est)} has none. Pass "
                    "X_noisy=<corrupted copy of X> instead."
                )
            X_in = est.corrupt(X_shown, random_state=random_state)
        source = X_shown if X_in is None else X_in
        recs = {}
        for label, est in estimators.items():
            recs[label] = np.asarray(est.inverse_transform(est.transform(source)),
                                     dtype=np.float64)
        originals = np.asarray(X_shown, dtype=np.float64)
        # The first estimator that knows its image shape (a convolutional one) sets it.
        owner = next((e for e in estimators.values()
                      if _find(e, lambda s: getattr(s, "image_shape_", None) is not None)),
                     None)
        shape = _resolve_image_shape(image_shape, originals.shape[1], owner)
        disp = cls(
            originals,
            recs,  # a dict even for one estimator: its row is labelled with its name
            corrupted=None if X_in is None else np.asarray(X_in, dtype=np.float64),
            image_shape=shape,
        )
        return disp.plot(ax=ax, cmap=cmap, vmin=vmin, vmax=vmax, imshow_kwargs=imshow_kwargs)

    @classmethod
    def from_arrays(
        cls,
        originals,
        reconstructions,
        *,
        corrupted=None,
        image_shape=None,
        ax=None,
        cmap="gray",
        vmin=None,
        vmax=None,
        imshow_kwargs=None,
    ):
        """Draw precomputed reconstructions (e.g. several methods side by side).

        Parameters
        ----------
        originals, reconstructions, corrupted, image_shape
            As in :class:`ReconstructionDisplay`.
        ax, cmap, vmin, vmax, imshow_kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : ReconstructionDisplay

        Examples
        --------
        >>> import numpy as np
        >>> import matplotlib.pyplot as plt
        >>> from skae.plotting import ReconstructionDisplay
        >>> X = np.random.RandomState(0).rand(4, 16)
        >>> disp = ReconstructionDisplay.from_arrays(
        ...     X, {"identity": X, "mean": np.tile(X.mean(0), (4, 1))})
        >>> disp.axes_.shape
        (3, 4)
        >>> plt.close(disp.figure_)
        """
        check_matplotlib_support(f"{cls.__name__}.from_arrays")
        disp = cls(originals, reconstructions, corrupted=corrupted, image_shape=image_shape)
        return disp.plot(ax=ax, cmap=cmap, vmin=vmin, vmax=vmax, imshow_kwargs=imshow_kwargs)


# ------------------------------------------------------------------------- filters
def _first_layer_weights(estimator):
    """First-layer weights of a fitted model as a numpy array.

    ``(units, n_features)`` for a dense first layer (or ``components_`` of a linear
    decomposition such as PCA), ``(filters, C, k, k)`` for a convolution.
    """
    from torch import nn

    est = _find(
        estimator,
        lambda e: hasattr(getattr(e, "net_", None), "module_") or hasattr(e, "components_"),
    )
    if est is None:
        raise TypeError(
            "FilterDisplay needs a fitted skae estimator (a torch network in net_) or a "
            f"decomposition with components_ (e.g. PCA); {_estimator_name(estimator)} has "
            "neither."
        )
    if not hasattr(getattr(est, "net_", None), "module_"):
        return np.asarray(est.components_, dtype=np.float64), est
    module = est.net_.module_
    encoder = getattr(module, "encoder", None)
    # The encoder's first layer; a module whose encoder is empty (a VAE without hidden
    # layers reads the input with its posterior heads) falls back to its first layer.
    roots = [encoder, module] if isinstance(encoder, nn.Module) else [module]
    for root in roots:
        for layer in root.modules():
            if isinstance(layer, nn.Linear | nn.Conv2d):
                return layer.weight.detach().cpu().double().numpy(), est
    raise TypeError(
        f"The network of {_estimator_name(est)} has no nn.Linear or nn.Conv2d layer whose "
        "weights could be drawn."
    )


class FilterDisplay:
    """First-layer weights drawn as image tiles (the features an encoder detects).

    Each tile is one unit's weights on the input pixels (a dense first layer) or one
    convolution kernel. By default each tile is scaled to its own largest absolute
    weight, so mid-grey is 0 (the convention of Ng's UFLDL notes).

    Parameters
    ----------
    filters : array-like of shape (n_filters, n_features) or (n_filters, [C,] H, W)
        The weights, as flat rows (one per unit) or image arrays.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` of flat rows; None: trailing dimensions of
        image arrays, or a square.

    Attributes
    ----------
    figure_ : matplotlib Figure
    axes_ : ndarray of matplotlib Axes, shape (n_rows, n_cols)
        The grid; cells beyond ``n_filters`` are hidden.
    images_ : ndarray of matplotlib AxesImage, shape (n_filters,)
        One image per filter, in unit order.

    See Also
    --------
    ReconstructionDisplay : Originals above reconstructions.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import SparseAutoencoder
    >>> from skae.plotting import FilterDisplay
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> sae = SparseAutoencoder(n_components=16, max_iter=2, random_state=0).fit(X)
    >>> disp = FilterDisplay.from_estimator(sae)  # 256 hidden units: the first 64
    >>> len(disp.images_), disp.axes_.shape
    (64, (8, 8))
    >>> plt.close(disp.figure_)
    """

    def __init__(self, filters, *, image_shape=None):
        self.filters = filters
        self.image_shape = image_shape

    def plot(self, *, ax=None, cmap="gray", normalize="each", n_cols=None,
             imshow_kwargs=None):
        """Draw the filters.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, default=None
            None: a new figure; a single subplot: its area is split into the grid;
            an array: exactly ``n_rows * n_cols`` axes.
        cmap : str or Colormap, default="gray"
            Colormap of single-channel filters.
        normalize : {"each", "all"}, default="each"
            Colour limits ``[-m, m]`` with ``m`` the largest absolute weight of
            each tile (``"each"``) or of all tiles (``"all"``, which keeps the
            filters' relative strength). RGB filters map ``[-m, m]`` to ``[0, 1]``.
        n_cols : int, default=None
            Tiles per row; None: ``ceil(sqrt(n_filters))``.
        imshow_kwargs : dict, default=None
            Extra keyword arguments for :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : FilterDisplay
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        if normalize not in ("each", "all"):
            raise ValueError(f"normalize must be 'each' or 'all', got {normalize!r}.")
        rows, shape = _flat_images(self.filters, self.image_shape, "filters")
        if len(rows) == 0:
            raise ValueError("There are no filters to draw.")
        m = np.abs(rows).max(axis=1)
        if normalize == "all":
            m = np.full_like(m, m.max())
        m[~(m > 0)] = 1.0  # an all-zero filter is drawn mid-grey
        limits = [(-v, v) for v in m]
        return _plot_tiles(self, "FilterDisplay", rows, shape, ax=ax, n_cols=n_cols,
                           cmap=cmap, limits=limits, imshow_kwargs=imshow_kwargs)

    @classmethod
    def from_estimator(cls, estimator, *, n_filters=64, image_shape=None, ax=None,
                       cmap="gray", normalize="each", n_cols=None, imshow_kwargs=None):
        """Draw the first-layer weights of a fitted estimator.

        The first layer is the first ``nn.Linear`` or ``nn.Conv2d`` of the network's
        encoder (``net_.module_``): for a dense model, each unit's weights on the
        input features, drawn as an image of ``image_shape``; for a convolutional
        model, each kernel ``(C, k, k)``. A stacked estimator shows its bottom
        layer; a linear decomposition (PCA, NMF, ...) its ``components_``; a
        Pipeline the last step that has one of these.

        Parameters
        ----------
        estimator : estimator
            Fitted estimator.
        n_filters : int or None, default=64
            Draw the first ``n_filters`` units (all of them when None or more).
        image_shape : tuple of int, default=None
            Shape of the input images (dense first layers only); None: the
            estimator's ``image_shape_``, else a square.
        ax, cmap, normalize, n_cols, imshow_kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : FilterDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        weights, owner = _first_layer_weights(estimator)
        if n_filters is not None:
            weights = weights[: _check_int(n_filters, "n_filters")]
        if weights.ndim == 4:  # convolution kernels (filters, C, k, k)
            disp = cls(weights)
        else:
            shape = _resolve_image_shape(image_shape, weights.shape[1], owner)
            disp = cls(weights, image_shape=shape)
        return disp.plot(ax=ax, cmap=cmap, normalize=normalize, n_cols=n_cols,
                         imshow_kwargs=imshow_kwargs)


# -------------------------------------------------------------------- latent space
class LatentSpaceDisplay:
    """Scatter plot of 2-D codes, coloured by label.

    Class labels get one colour (and legend entry) each; continuous targets a
    colormap with a colorbar.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, 2)
        The 2-D points (codes, or their projection).
    y : array-like of shape (n_samples,), default=None
        Labels or values that colour the points.
    xlabel, ylabel : str, default=None
        Axis labels.

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : matplotlib Axes
    scatters_ : list of matplotlib PathCollection
        One per class (in ``classes_`` order) for class labels, else one.
    classes_ : ndarray or None
        The classes, when ``y`` holds class labels.
    legend_ : matplotlib Legend or None
    colorbar_ : matplotlib Colorbar or None

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import Autoencoder
    >>> from skae.plotting import LatentSpaceDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> X = MinMaxScaler().fit_transform(X)
    >>> ae = Autoencoder(n_components=8, max_iter=2, random_state=0).fit(X)
    >>> disp = LatentSpaceDisplay.from_estimator(ae, X, y)  # 8-D codes -> PCA
    >>> disp.classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> disp.ax_.get_xlabel()[:4]
    'PC 1'
    >>> plt.close(disp.figure_)
    """

    def __init__(self, embedding, y=None, *, xlabel=None, ylabel=None):
        self.embedding = embedding
        self.y = y
        self.xlabel = xlabel
        self.ylabel = ylabel

    def plot(self, *, ax=None, cmap=None, legend=True, colorbar=True, scatter_kwargs=None):
        """Draw the scatter plot.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None: a new figure.
        cmap : str or Colormap, default=None
            Colours: None gives ``"tab10"`` / ``"tab20"`` for up to 10 / 20
            classes and ``"viridis"`` otherwise (many classes, continuous ``y``).
        legend : bool, default=True
            Add a legend (class labels).
        colorbar : bool, default=True
            Add a colorbar (continuous ``y``).
        scatter_kwargs : dict, default=None
            Extra keyword arguments for :meth:`matplotlib.axes.Axes.scatter`.

        Returns
        -------
        display : LatentSpaceDisplay
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib as mpl

        emb = check_array(self.embedding, dtype=np.float64, input_name="embedding")
        if emb.shape[1] != 2:
            raise ValueError(f"embedding must have 2 columns, got {emb.shape[1]}.")
        fig, ax = _single_axes(ax, (5.5, 4.5))
        n = len(emb)
        style = {"s": float(np.clip(8000 / max(n, 1), 4, 30)), "alpha": 0.8, "linewidths": 0}
        style.update(scatter_kwargs or {})
        self.classes_, self.legend_, self.colorbar_ = None, None, None
        y = None if self.y is None else np.asarray(self.y)
        if y is not None and (y.ndim != 1 or len(y) != n):
            raise ValueError(
                f"y must be 1-D with one value per point ({n}), got shape {y.shape}."
            )
        if y is None:
            self.scatters_ = [ax.scatter(emb[:, 0], emb[:, 1], **style)]
        elif self._is_continuous(y):
            sc = ax.scatter(emb[:, 0], emb[:, 1], c=y.astype(np.float64),
                            cmap=cmap or "viridis", **style)
            self.scatters_ = [sc]
            if colorbar:
                self.colorbar_ = fig.colorbar(sc, ax=ax)
        else:
            classes = np.unique(y)
            k = len(classes)
            if cmap is None:
                cmap = "tab10" if k <= 10 else "tab20" if k <= _MAX_QUALITATIVE else "viridis"
            cmap_obj = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
            if getattr(cmap_obj, "N", 256) >= k and getattr(cmap_obj, "N", 256) <= 20:
                colors = [cmap_obj(i) for i in range(k)]  # qualitative: one entry each
            else:
                colors = [cmap_obj(v) for v in np.linspace(0, 1, k)]
            self.scatters_ = [
                ax.scatter(emb[y == c, 0], emb[y == c, 1], color=colors[i], label=str(c),
                           **style)
                for i, c in enumerate(classes)
            ]
            self.classes_ = classes
            if legend:
                self.legend_ = ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5),
                                         fontsize="small",
                                         markerscale=max(1.0, math.sqrt(30 / style["s"])),
                                         frameon=False)
        if self.xlabel is not None:
            ax.set_xlabel(self.xlabel)
        if self.ylabel is not None:
            ax.set_ylabel(self.ylabel)
        self.figure_, self.ax_ = fig, ax
        return self

    @staticmethod
    def _is_continuous(y):
        if y.dtype.kind not in "iuf":
            return False
        if type_of_target(y) == "continuous":
            return True
        return len(np.unique(y)) > _MAX_QUALITATIVE

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, method="pca", random_state=None,
                       projection_kwargs=None, ax=None, cmap=None, legend=True, colorbar=True,
                       scatter_kwargs=None):
        """Encode ``X`` and draw the codes in 2-D.

        Parameters
        ----------
        estimator : estimator
            Fitted estimator with ``transform`` (an autoencoder, a Pipeline ending
            in one, PCA...).
        X : array-like of shape (n_samples, n_features)
            Data to encode.
        y : array-like of shape (n_samples,), default=None
            Labels or values colouring the points.
        method : {"pca", "first", "tsne"}, default="pca"
            How codes with more than two dimensions become 2-D: their first two
            principal components (axes labelled with the explained variance), their
            first two dimensions, or a t-SNE embedding
            (:class:`sklearn.manifold.TSNE`, slow beyond a few thousand points).
            Two-dimensional codes are drawn as they are with every method.
        random_state : int, RandomState instance or None, default=None
            Seeds t-SNE.
        projection_kwargs : dict, default=None
            Extra parameters of :class:`~sklearn.decomposition.PCA` or
            :class:`~sklearn.manifold.TSNE` (e.g. ``{"perplexity": 50}``).
        ax, cmap, legend, colorbar, scatter_kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : LatentSpaceDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        if method not in ("pca", "first", "tsne"):
            raise ValueError(f"method must be 'pca', 'first' or 'tsne', got {method!r}.")
        _check_estimator_methods(estimator, ("transform",), "LatentSpaceDisplay")
        check_is_fitted(estimator)
        codes = check_array(np.asarray(estimator.transform(X)), dtype=np.float64,
                            input_name="codes")
        d = codes.shape[1]
        if d < 2:
            raise ValueError(
                f"LatentSpaceDisplay draws 2-D codes, but {_estimator_name(estimator)} "
                f"gives {d}-dimensional codes."
            )
        if d == 2 or method == "first":
            emb, labels = codes[:, :2], ("latent dim 0", "latent dim 1")
        elif method == "pca":
            from sklearn.decomposition import PCA

            pca = PCA(**{"n_components": 2, "svd_solver": "full",
                         **(projection_kwargs or {})}).fit(codes)
            emb = pca.transform(codes)
            labels = tuple(f"PC {i + 1} ({100 * r:.0f} % of variance)"
                           for i, r in enumerate(pca.explained_variance_ratio_))
        else:
            from sklearn.manifold import TSNE

            if len(codes) < 5:
                raise ValueError(f"method='tsne' needs at least 5 points, got {len(codes)}.")
            params = {"n_components": 2, "init": "pca",
                      "perplexity": min(30.0, (len(codes) - 1) / 3),
                      "random_state": check_random_state(random_state).randint(2**31 - 1),
                      **(projection_kwargs or {})}
            tsne = TSNE(**params)
            emb, labels = tsne.fit_transform(codes), ("t-SNE 1", "t-SNE 2")
        disp = cls(emb, y, xlabel=labels[0], ylabel=labels[1])
        return disp.plot(ax=ax, cmap=cmap, legend=legend, colorbar=colorbar,
                         scatter_kwargs=scatter_kwargs)


# ------------------------------------------------------------------------- samples
class SampleDisplay:
    """A grid of images generated by a model (e.g. a variational autoencoder).

    Parameters
    ----------
    samples : array-like of shape (n_samples, n_features) or (n_samples, [C,] H, W)
        The generated images.
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` of flat rows; None: trailing dimensions of
        image arrays, or a square.

    Attributes
    ----------
    figure_ : matplotlib Figure
    axes_ : ndarray of matplotlib Axes, shape (n_rows, n_cols)
    images_ : ndarray of matplotlib AxesImage, shape (n_samples,)

    See Also
    --------
    LatentManifoldDisplay : Decoded images over a grid of latent values.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import VariationalAutoencoder
    >>> from skae.plotting import SampleDisplay
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> vae = VariationalAutoencoder(n_components=2, max_iter=2, random_state=0).fit(X)
    >>> disp = SampleDisplay.from_estimator(vae, n_samples=16, random_state=0)
    >>> disp.axes_.shape
    (4, 4)
    >>> plt.close(disp.figure_)
    """

    def __init__(self, samples, *, image_shape=None):
        self.samples = samples
        self.image_shape = image_shape

    def plot(self, *, ax=None, cmap="gray", vmin=None, vmax=None, n_cols=None,
             imshow_kwargs=None):
        """Draw the samples.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, default=None
            None: a new figure; a single subplot: its area is split into the grid;
            an array: exactly ``n_rows * n_cols`` axes.
        cmap : str or Colormap, default="gray"
            Colormap of single-channel images.
        vmin, vmax : float, default=None
            Colour limits shared by all tiles; by default the samples' range.
        n_cols : int, default=None
            Tiles per row; None: ``ceil(sqrt(n_samples))``.
        imshow_kwargs : dict, default=None
            Extra keyword arguments for :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : SampleDisplay
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        rows, shape = _flat_images(self.samples, self.image_shape, "samples")
        if len(rows) == 0:
            raise ValueError("There are no samples to draw.")
        limits = [_value_range([rows], vmin, vmax)] * len(rows)
        return _plot_tiles(self, "SampleDisplay", rows, shape, ax=ax, n_cols=n_cols,
                           cmap=cmap, limits=limits, imshow_kwargs=imshow_kwargs)

    @classmethod
    def from_estimator(cls, estimator, *, n_samples=64, image_shape=None, random_state=None,
                       ax=None, cmap="gray", vmin=None, vmax=None, n_cols=None,
                       imshow_kwargs=None):
        """Draw ``n_samples`` samples from a fitted generative model.

        Parameters
        ----------
        estimator : estimator
            Fitted estimator with a ``sample(n_samples, ...)`` method, e.g.
            :class:`skae.VariationalAutoencoder` (which returns the mean of
            :math:`p(x \\mid z)` for :math:`z` drawn from the prior) or
            :class:`sklearn.mixture.GaussianMixture`.
        n_samples : int, default=64
            Number of samples.
        image_shape : tuple of int, default=None
            ``(H, W)`` or ``(C, H, W)``; None: the estimator's ``image_shape_``,
            else a square.
        random_state : int, RandomState instance or None, default=None
            Passed to ``sample`` (None: the estimator's own ``random_state``).
            Estimators whose ``sample`` takes no ``random_state`` only accept None.
        ax, cmap, vmin, vmax, n_cols, imshow_kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : SampleDisplay
        """
        import inspect

        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        if not callable(getattr(estimator, "sample", None)):
            raise TypeError(
                "SampleDisplay needs a generative model with a sample method, such as "
                f"VariationalAutoencoder; {_estimator_name(estimator)} has none."
            )
        check_is_fitted(estimator)
        n_samples = _check_int(n_samples, "n_samples")
        params = inspect.signature(estimator.sample).parameters
        if "random_state" in params:
            out = estimator.sample(n_samples, random_state=random_state)
        elif random_state is not None:
            raise ValueError(
                f"{_estimator_name(estimator)}.sample takes no random_state; set the "
                "estimator's own random_state and pass random_state=None."
            )
        else:
            out = estimator.sample(n_samples)
        if isinstance(out, tuple):  # GaussianMixture.sample returns (X, labels)
            out = out[0]
        samples = np.asarray(out, dtype=np.float64)
        shape = _resolve_image_shape(image_shape, samples.reshape(len(samples), -1).shape[1],
                                     estimator)
        disp = cls(samples.reshape(len(samples), -1), image_shape=shape)
        return disp.plot(ax=ax, cmap=cmap, vmin=vmin, vmax=vmax, n_cols=n_cols,
                         imshow_kwargs=imshow_kwargs)


# --------------------------------------------------------------- latent manifold
class LatentManifoldDisplay:
    """Images decoded over a regular grid of two latent dimensions.

    The classic picture of a 2-D variational autoencoder (Kingma & Welling, 2014,
    fig. 4): tile ``(i, j)`` is the decoding of the code whose dimension
    ``dims[0]`` is ``grid_x[j]`` and ``dims[1]`` is ``grid_y[i]``, the other
    dimensions held fixed. The tiles form one image; ``grid_y`` grows upwards and
    the tick labels give latent values.

    Parameters
    ----------
    decoded : array-like of shape (n_y, n_x, n_features) or (n_y, n_x, [C,] H, W)
        ``decoded[i, j]`` is the image at ``(grid_x[j], grid_y[i])``.
    grid_x : array-like of shape (n_x,)
        Values of latent dimension ``dims[0]`` (columns, left to right).
    grid_y : array-like of shape (n_y,)
        Values of latent dimension ``dims[1]`` (rows, bottom to top).
    image_shape : tuple of int, default=None
        ``(H, W)`` or ``(C, H, W)`` of flat images; None: trailing dimensions of
        image arrays, or a square.
    dims : tuple of int, default=(0, 1)
        The two latent dimensions (axis labels).

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : matplotlib Axes
    image_ : matplotlib AxesImage
        The mosaic of all tiles, of shape ``(n_y * H, n_x * W)`` (``[..., 3]`` RGB);
        its top row of tiles is ``decoded[-1]``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import VariationalAutoencoder
    >>> from skae.plotting import LatentManifoldDisplay
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> vae = VariationalAutoencoder(n_components=2, max_iter=2, random_state=0).fit(X)
    >>> disp = LatentManifoldDisplay.from_estimator(vae, n_grid=10)
    >>> disp.image_.get_array().shape  # 10 x 10 tiles of 8 x 8 pixels
    (80, 80)
    >>> plt.close(disp.figure_)
    """

    def __init__(self, decoded, grid_x, grid_y, *, image_shape=None, dims=(0, 1)):
        self.decoded = decoded
        self.grid_x = grid_x
        self.grid_y = grid_y
        self.image_shape = image_shape
        self.dims = dims

    def mosaic(self):
        """The tiles assembled into one array ``(n_y * H, n_x * W[, 3])`` (top row last).

        Returns
        -------
        mosaic : ndarray
            Grey values (for RGB images: the raw values, channel last).
        """
        dec = np.asarray(self.decoded, dtype=np.float64)
        if dec.ndim < 3:
            raise ValueError(
                f"decoded must have shape (n_y, n_x, n_features) or (n_y, n_x, [C,] H, W), "
                f"got {dec.shape}."
            )
        n_y, n_x = dec.shape[:2]
        gx, gy = np.ravel(self.grid_x), np.ravel(self.grid_y)
        if (len(gx), len(gy)) != (n_x, n_y):
            raise ValueError(
                f"decoded holds {n_y} x {n_x} images but grid_y / grid_x have "
                f"{len(gy)} / {len(gx)} values."
            )
        flat, shape = _flat_images(dec.reshape(n_y * n_x, *dec.shape[2:]),
                                   self.image_shape, "decoded")
        c, h, w = shape
        imgs = flat.reshape(n_y, n_x, c, h, w)[::-1]  # top row = largest grid_y
        imgs = imgs[:, :, :3] if c == 3 else imgs[:, :, :1]
        mosaic = imgs.transpose(0, 3, 1, 4, 2).reshape(n_y * h, n_x * w, -1)
        return mosaic[..., 0] if mosaic.shape[-1] == 1 else mosaic

    def plot(self, *, ax=None, cmap="gray", vmin=None, vmax=None, n_ticks=5,
             imshow_kwargs=None):
        """Draw the mosaic.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None: a new figure.
        cmap : str or Colormap, default="gray"
            Colormap of single-channel images.
        vmin, vmax : float, default=None
            Colour limits; by default the range of the decoded images.
        n_ticks : int, default=5
            Number of labelled ticks per axis (latent values at tile centres).
        imshow_kwargs : dict, default=None
            Extra keyword arguments for :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : LatentManifoldDisplay
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        mosaic = self.mosaic()
        gx, gy = np.ravel(self.grid_x), np.ravel(self.grid_y)
        n_x, n_y = len(gx), len(gy)
        vmin, vmax = _value_range([mosaic], vmin, vmax)
        h, w = mosaic.shape[0] // n_y, mosaic.shape[1] // n_x
        fig, ax = _single_axes(ax, (6, 6 * (n_y * h) / (n_x * w) + 0.3))
        # One unit per tile on both axes, so ticks can sit at tile centres.
        style = {"interpolation": "nearest", "extent": (0, n_x, 0, n_y), "aspect": h / w}
        if mosaic.ndim == 3:
            span = (vmax - vmin) or 1.0
            mosaic = np.clip((mosaic - vmin) / span, 0.0, 1.0)
        else:
            style.update(cmap=cmap, vmin=vmin, vmax=vmax)
        style.update(imshow_kwargs or {})
        self.image_ = ax.imshow(mosaic, **style)
        n_ticks = _check_int(n_ticks, "n_ticks", minimum=2)
        for set_ticks, grid in ((ax.set_xticks, gx), (ax.set_yticks, gy)):
            idx = np.unique(np.round(np.linspace(0, len(grid) - 1, n_ticks)).astype(int))
            # round-off (norm.ppf(0.5) = -1e-16) must not show as "-1.4e-16"
            tol = 1e-9 * max(np.abs(grid).max(), 1e-300)
            set_ticks(idx + 0.5, [f"{0.0 if abs(grid[i]) < tol else grid[i]:.2g}" for i in idx])
        ax.set_xlabel(f"latent dim {self.dims[0]}")
        ax.set_ylabel(f"latent dim {self.dims[1]}")
        self.figure_, self.ax_ = fig, ax
        return self

    @classmethod
    def from_estimator(cls, estimator, X=None, *, n_grid=15, dims=(0, 1),
                       quantile_range=(0.05, 0.95), image_shape=None, ax=None, cmap="gray",
                       vmin=None, vmax=None, n_ticks=5, imshow_kwargs=None):
        """Decode a grid over two latent dimensions of a fitted model.

        The grid is evenly spaced in probability, so that it covers where codes
        actually lie: ``quantile_range`` is cut into ``n_grid`` levels, mapped

        * without ``X`` (a generative model with a :math:`\\mathcal N(0, I)` prior,
          e.g. a VAE): through the standard normal inverse CDF (as in Kingma &
          Welling, 2014), the other dimensions held at 0, the prior mean;
        * with ``X`` (any model): through the quantiles of the codes of ``X`` on
          each of the two dimensions, the other dimensions held at the median
          code.

        Parameters
        ----------
        estimator : estimator
            Fitted estimator with ``inverse_transform`` (and ``transform`` when
            ``X`` is given) and a code of at least two dimensions.
        X : array-like of shape (n_samples, n_features), default=None
            Data whose codes set the grid; required for models without a
            ``sample`` method (their codes follow no known prior).
        n_grid : int, default=15
            Tiles per side.
        dims : tuple of two int, default=(0, 1)
            The latent dimensions varied along x and y.
        quantile_range : tuple of two float, default=(0.05, 0.95)
            Probability range of the grid, in (0, 1) (endpoints allowed with
            ``X``).
        image_shape : tuple of int, default=None
            ``(H, W)`` or ``(C, H, W)``; None: the estimator's ``image_shape_``,
            else a square.
        ax, cmap, vmin, vmax, n_ticks, imshow_kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : LatentManifoldDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        _check_estimator_methods(
            estimator, ("transform", "inverse_transform") if X is not None
            else ("inverse_transform",), "LatentManifoldDisplay")
        check_is_fitted(estimator)
        n_grid = _check_int(n_grid, "n_grid", minimum=2)
        try:
            lo, hi = (float(q) for q in quantile_range)
        except (TypeError, ValueError):
            raise ValueError(
                f"quantile_range must be two numbers (low, high), got {quantile_range!r}."
            ) from None
        if X is None:
            if not callable(getattr(estimator, "sample", None)):
                raise ValueError(
                    f"{_estimator_name(estimator)} has no latent prior (no sample method): "
                    "pass X, whose codes then set the grid."
                )
            if not 0.0 < lo < hi < 1.0:
                raise ValueError(
                    f"quantile_range must satisfy 0 < low < high < 1, got {quantile_range!r}."
                )
            d = getattr(estimator, "n_components_", None)
            if d is None:
                d = getattr(estimator, "n_components", None)
            if not isinstance(d, numbers.Integral):
                raise ValueError(
                    f"Cannot tell the latent dimension of {_estimator_name(estimator)} (no "
                    "integer n_components); pass X."
                )
            codes = None
        else:
            if not 0.0 <= lo < hi <= 1.0:
                raise ValueError(
                    f"quantile_range must satisfy 0 <= low < high <= 1, got {quantile_range!r}."
                )
            codes = check_array(np.asarray(estimator.transform(X)), dtype=np.float64,
                                input_name="codes")
            d = codes.shape[1]
        d = int(d)
        try:
            dx, dy = (int(v) for v in dims)
        except (TypeError, ValueError):
            raise ValueError(f"dims must be two integers, got {dims!r}.") from None
        if d < 2 or dx == dy or not (0 <= dx < d and 0 <= dy < d):
            raise ValueError(
                f"dims must be two different latent dimensions in [0, {d}), got {dims!r} "
                f"(the code of {_estimator_name(estimator)} has {d} dimension(s))."
            )
        levels = np.linspace(lo, hi, n_grid)
        if codes is None:
            from scipy.stats import norm

            gx = gy = norm.ppf(levels)
            base = np.zeros(d)
        else:
            gx, gy = np.quantile(codes[:, dx], levels), np.quantile(codes[:, dy], levels)
            base = np.median(codes, axis=0)
        Z = np.tile(base, (n_grid * n_grid, 1))
        Z[:, dx] = np.tile(gx, n_grid)  # row-major: index i * n_grid + j
        Z[:, dy] = np.repeat(gy, n_grid)
        decoded = np.asarray(estimator.inverse_transform(Z), dtype=np.float64)
        decoded = decoded.reshape(n_grid * n_grid, -1)
        shape = _resolve_image_shape(image_shape, decoded.shape[1], estimator)
        disp = cls(decoded.reshape(n_grid, n_grid, -1), gx, gy, image_shape=shape,
                   dims=(dx, dy))
        return disp.plot(ax=ax, cmap=cmap, vmin=vmin, vmax=vmax, n_ticks=n_ticks,
                         imshow_kwargs=imshow_kwargs)


# ----------------------------------------------------------------- training curves
_EXCLUDED_SUFFIXES = ("_best", "_batch_count", "dur")


def _history_curves(history):
    """``{key: (epochs, values)}`` of the numeric per-epoch ``train_*``/``valid_*`` keys."""
    entries = list(history)
    keys = []
    for entry in entries:
        for key, value in entry.items():
            if (
                key not in keys
                and key.startswith(("train_", "valid_"))
                and not key.endswith(_EXCLUDED_SUFFIXES)
                and isinstance(value, numbers.Real)
                and not isinstance(value, bool | np.bool_)
            ):
                keys.append(key)
    return _select_keys(entries, keys)


def _select_keys(entries, keys):
    curves = {}
    for key in keys:
        epochs, values = [], []
        for idx, entry in enumerate(entries):
            value = entry.get(key)
            if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
                epochs.append(entry.get("epoch", idx + 1))
                values.append(float(value))
        if values:
            curves[key] = (np.asarray(epochs), np.asarray(values))
    return curves


def _term(key):
    for prefix in ("train_", "valid_"):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def _estimator_histories(estimator):
    """``{stage name: history}`` of a fitted estimator (several stages for stacks)."""
    def has_history(e):
        return (getattr(e, "histories_", None) is not None
                or getattr(e, "history_", None) is not None
                or getattr(getattr(e, "net_", None), "history", None) is not None
                or getattr(e, "loss_curve_", None) is not None)

    est = _find(estimator, has_history)
    if est is None:
        raise TypeError(
            "TrainingCurveDisplay needs an estimator trained epoch by epoch, with a "
            f"history_, net_.history or loss_curve_; {_estimator_name(estimator)} has none."
        )
    name = type(est).__name__
    stages = {}
    if getattr(est, "histories_", None) is not None:  # stacked: layers, then fine-tuning
        for i, hist in enumerate(est.histories_):
            if hist is not None:
                stages[f"layer {i + 1}"] = hist
        net_history = getattr(getattr(est, "net_", None), "history", None)
        if net_history is not None:
            stages["fine-tuning"] = net_history
    elif getattr(est, "history_", None) is not None:
        stages[name] = est.history_
    elif getattr(getattr(est, "net_", None), "history", None) is not None:
        stages[name] = est.net_.history
    else:  # e.g. sklearn's MLPRegressor
        stages[name] = [{"epoch": i + 1, "train_loss": v} for i, v in enumerate(est.loss_curve_)]
    return stages


class TrainingCurveDisplay:
    """Training curves: the loss and each of its terms per epoch, one axes per term.

    Every numeric per-epoch history entry named ``train_<term>`` or
    ``valid_<term>`` is drawn: the total ``loss``, the ``reconstruction`` term and
    each penalty (``sparsity``, ``contraction``, the VAE's ``kl`` ...) on its own
    axes, so that terms of very different sizes stay readable; the training and
    validation curves of a term share its axes. Stacked estimators give one row of
    axes per stage (each pretrained layer, then fine-tuning).

    Parameters
    ----------
    curves : dict of str to dict of str to tuple of arrays
        ``curves[stage][key] = (epochs, values)``, e.g.
        ``{"Autoencoder": {"train_loss": ([1, 2], [0.3, 0.2])}}``.

    Attributes
    ----------
    figure_ : matplotlib Figure
    axes_ : ndarray of matplotlib Axes, shape (n_rows, n_cols)
        The grid; unused cells are hidden.
    lines_ : dict of str to dict of str to matplotlib Line2D
        ``lines_[stage][key]`` draws ``curves[stage][key]``.
    terms_ : dict of str to list of str
        The terms (one axes each) of each stage, in drawing order.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import VariationalAutoencoder
    >>> from skae.plotting import TrainingCurveDisplay
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> vae = VariationalAutoencoder(n_components=2, max_iter=3, random_state=0).fit(X)
    >>> disp = TrainingCurveDisplay.from_estimator(vae)
    >>> disp.terms_["VariationalAutoencoder"]
    ['loss', 'reconstruction', 'kl', 'kl_unweighted', 'elbo', 'objective']
    >>> disp.lines_["VariationalAutoencoder"]["train_kl"].get_ydata().shape
    (3,)
    >>> plt.close(disp.figure_)
    """

    def __init__(self, curves):
        self.curves = curves

    def plot(self, *, ax=None, log_scale=False, n_cols=None, line_kwargs=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, default=None
            None: a new figure; a single subplot: its area is split into the grid;
            an array: exactly ``n_rows * n_cols`` axes.
        log_scale : bool, default=False
            Logarithmic y axes (``"symlog"`` for terms with values <= 0, such as
            the ELBO).
        n_cols : int, default=None
            Axes per row for a single stage (default: up to 3); stacked
            estimators draw one row per stage.
        line_kwargs : dict, default=None
            Extra keyword arguments for :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : TrainingCurveDisplay
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        from matplotlib.ticker import MaxNLocator

        if not isinstance(self.curves, Mapping) or not any(self.curves.values()):
            raise ValueError("There are no training curves to draw (no epochs recorded).")
        stages = {s: c for s, c in self.curves.items() if c}
        terms = {s: self._ordered_terms(c) for s, c in stages.items()}
        cells = [(s, t) for s in stages for t in terms[s]]
        if len(stages) == 1:
            n = len(cells)
            n_cols = min(n, 3) if n_cols is None else min(_check_int(n_cols, "n_cols"), n)
            n_rows = math.ceil(n / n_cols)
            slots = list(range(n))
        else:
            n_rows, n_cols = len(stages), max(len(t) for t in terms.values())
            slots = [r * n_cols + c for r, s in enumerate(stages) for c in range(len(terms[s]))]
        fig, axes, _ = _make_axes(
            ax, n_rows, n_cols, figsize=(3.6 * n_cols, 2.8 * n_rows), wspace=0.05,
            hspace=0.05, caller="TrainingCurveDisplay", layout="constrained",
        )
        flat = axes.ravel()
        used = set(slots)
        for i, a in enumerate(flat):
            if i not in used:
                a.set_visible(False)
        lines = {s: {} for s in stages}
        for (stage, term), slot in zip(cells, slots, strict=True):
            a = flat[slot]
            drawn = []
            for prefix, label, style in (("train_", "train", "-"), ("valid_", "validation", "--")):
                key = prefix + term if prefix + term in stages[stage] else None
                if key is None and prefix == "train_" and term in stages[stage]:
                    key = term  # a key without prefix, asked for explicitly
                if key is None:
                    continue
                epochs, values = stages[stage][key]
                kw = {"linestyle": style, "marker": "." if len(values) < 30 else None}
                kw.update(line_kwargs or {})
                (lines[stage][key],) = a.plot(epochs, values, label=label, **kw)
                drawn.append(values)
            a.set_title(term if len(stages) == 1 else f"{stage}: {term}", fontsize="medium")
            a.set_xlabel("epoch")
            a.xaxis.set_major_locator(MaxNLocator(integer=True))
            if log_scale:
                values = np.concatenate(drawn)
                a.set_yscale("log" if np.all(values > 0) else "symlog")
            if len(drawn) > 1:
                a.legend(fontsize="small")
        self.figure_, self.axes_, self.lines_, self.terms_ = fig, axes, lines, terms
        return self

    @staticmethod
    def _ordered_terms(curves):
        terms = []
        for key in curves:
            if _term(key) not in terms:
                terms.append(_term(key))
        first = [t for t in ("loss", "reconstruction") if t in terms]
        return first + [t for t in terms if t not in first]

    @staticmethod
    def _check_terms(stages, terms):
        """Curves of ``stages`` (``{stage: history}``) restricted to ``terms``."""
        curves = {}
        for stage, history in stages.items():
            if terms is None:
                curves[stage] = _history_curves(history)
            else:
                keys = [k for t in terms for k in (f"train_{t}", f"valid_{t}", t)]
                curves[stage] = _select_keys(list(history), keys)
        if not any(curves.values()):
            if terms is not None:
                available = sorted({_term(k) for h in stages.values()
                                    for k in _history_curves(h)})
                raise ValueError(
                    f"None of the terms {list(terms)} is in the training history; it "
                    f"records {available}."
                )
            raise ValueError("The training history is empty: no epoch has been recorded.")
        return curves

    @classmethod
    def from_estimator(cls, estimator, *, terms=None, log_scale=False, ax=None, n_cols=None,
                       line_kwargs=None):
        """Draw the training history of a fitted estimator.

        The history is the estimator's ``history_`` (skae autoencoders),
        ``net_.history`` (a skorch net) or ``loss_curve_`` (e.g.
        :class:`~sklearn.neural_network.MLPRegressor`); stacked estimators draw
        each layer's history (``histories_``) and the fine-tuning (``net_``). A
        Pipeline draws its last step that has one.

        Parameters
        ----------
        estimator : estimator
            Fitted estimator.
        terms : list of str, default=None
            The terms to draw, e.g. ``["loss", "kl"]``: history keys
            ``train_<term>`` / ``valid_<term>``, or any other per-epoch key such as
            the VAE's ``"kl_weight"``. None: every numeric ``train_*`` /
            ``valid_*`` key (durations and skorch's ``*_best`` flags excluded).
        log_scale, ax, n_cols, line_kwargs
            As in :meth:`plot`.

        Returns
        -------
        display : TrainingCurveDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        curves = cls._check_terms(_estimator_histories(estimator), terms)
        return cls(curves).plot(ax=ax, log_scale=log_scale, n_cols=n_cols,
                                line_kwargs=line_kwargs)

    @classmethod
    def from_history(cls, history, *, name="training", terms=None, log_scale=False, ax=None,
                     n_cols=None, line_kwargs=None):
        """Draw a skorch ``History`` (or any list of per-epoch dicts).

        Parameters
        ----------
        history : skorch.History or list of dict
            One dict per epoch, e.g. ``net.history`` of a
            :class:`skae.engine.AutoencoderNet`.
        name : str, default="training"
            Stage name (the key of ``curves`` and ``lines_``).
        terms, log_scale, ax, n_cols, line_kwargs
            As in :meth:`from_estimator`.

        Returns
        -------
        display : TrainingCurveDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_history")
        curves = cls._check_terms({name: history}, terms)
        return cls(curves).plot(ax=ax, log_scale=log_scale, n_cols=n_cols,
                                line_kwargs=line_kwargs)
