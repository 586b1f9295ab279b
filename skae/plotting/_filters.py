""":class:`FilterDisplay`: first-layer weights (dense or convolutional) as image tiles."""

from __future__ import annotations

import numpy as np
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import check_is_fitted

from ._common import (
    _check_int,
    _estimator_name,
    _find,
    _flat_images,
    _plot_tiles,
    _resolve_image_shape,
)


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
