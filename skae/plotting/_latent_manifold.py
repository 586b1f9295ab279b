""":class:`LatentManifoldDisplay`: decoded images over a 2-D grid of latent values."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import check_array, check_is_fitted

from ._common import (
    _check_estimator_methods,
    _check_int,
    _estimator_name,
    _flat_images,
    _resolve_image_shape,
    _single_axes,
    _value_range,
)


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
