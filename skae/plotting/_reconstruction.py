""":class:`ReconstructionDisplay`: original images above their reconstructions."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._common import (
    _check_estimator_methods,
    _check_int,
    _estimator_name,
    _find,
    _flat_images,
    _imshow,
    _resolve_image_shape,
    _tile_grid,
    _value_range,
)


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
