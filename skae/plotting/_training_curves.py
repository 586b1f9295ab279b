""":class:`TrainingCurveDisplay`: the loss and every penalty term per epoch."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import check_is_fitted

from ._common import (
    _check_int,
    _estimator_name,
    _find,
    _make_axes,
)

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
