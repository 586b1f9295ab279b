""":class:`LatentSpaceDisplay`: 2-D scatter of the codes, coloured by label."""

from __future__ import annotations

import math

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted

from .._data import SEED_MAX
from ._common import (
    _MAX_QUALITATIVE,
    _check_estimator_methods,
    _estimator_name,
    _single_axes,
)


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
                      "random_state": check_random_state(random_state).randint(SEED_MAX),
                      **(projection_kwargs or {})}
            tsne = TSNE(**params)
            emb, labels = tsne.fit_transform(codes), ("t-SNE 1", "t-SNE 2")
        disp = cls(emb, y, xlabel=labels[0], ylabel=labels[1])
        return disp.plot(ax=ax, cmap=cmap, legend=legend, colorbar=colorbar,
                         scatter_kwargs=scatter_kwargs)
