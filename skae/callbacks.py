"""skorch callbacks of the training engine.

:class:`ProgressBar` is what ``verbose=1`` shows: one `tqdm
<https://tqdm.github.io>`_ bar over the epochs of a training call (a widget in
Jupyter notebooks), with the current loss and each of its terms.
:class:`KLSchedule` warms up the KL term of a variational autoencoder and records
its evidence lower bound.

Like skorch's own callbacks (:class:`~skorch.callbacks.EarlyStopping`), these keep
what they learn during training in attributes ending in ``_``, reset in
``on_train_begin``; they never change the net's parameters or its penalties.
"""

from __future__ import annotations

import math

import torch
from skorch.callbacks import Callback
from tqdm.auto import tqdm

from .nn import gaussian_kl

__all__ = ["KLSchedule", "ProgressBar"]


class ProgressBar(Callback):
    """A progress bar over the epochs of each training call, with the losses.

    The bar advances once per epoch and shows, after each epoch, the training loss
    (``loss``), each of its terms when the loss has several (``reconstruction`` and
    each penalty by name, e.g. ``sparsity``), and the validation loss (``valid``)
    when there is validation data. Its length is the number of epochs the call may
    run (``max_iter`` for ``fit``, 1 for each ``partial_fit`` call); the stopping
    rule may end it earlier. The training engine
    (:class:`skae.engine.AutoencoderNet`) uses it instead of skorch's per-epoch table
    when ``verbose=1``.

    Parameters
    ----------
    desc : str or None, default=None
        Label in front of the bar (e.g. ``"layer 1/2"``).
    file : file-like or None, default=None
        Where the bar is written: ``sys.stderr`` (at the time the bar is created)
        when None. In a Jupyter notebook with ``ipywidgets`` the bar is a widget.
    leave : bool, default=True
        Keep the finished bar on screen.

    Attributes
    ----------
    bar_ : tqdm or None
        The bar of the current training call (None outside one).
    """

    def __init__(self, desc=None, file=None, leave=True):
        self.desc = desc
        self.file = file
        self.leave = leave

    def initialize(self):
        self.bar_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        self.close()
        total = getattr(net, "planned_epochs_", None) or net.max_epochs
        self.bar_ = tqdm(total=total, desc=self.desc, file=self.file, leave=self.leave,
                         unit="epoch", dynamic_ncols=True)

    def on_epoch_end(self, net, **kwargs):
        if self.bar_ is None:
            return
        row = net.history[-1]
        shown = {"loss": row.get("train_loss")}
        for name in getattr(net, "term_names", ()) if len(getattr(net, "penalties", ())) else ():
            shown[name] = row.get(f"train_{name}")
        shown["valid"] = row.get("valid_loss")
        postfix = {k: _fmt(v) for k, v in shown.items() if v is not None}
        self.bar_.set_postfix(postfix, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.close()

    def close(self):
        """Close the bar of the current call, if any (also after an error)."""
        bar = getattr(self, "bar_", None)
        if bar is not None:
            bar.close()
        self.bar_ = None

    def __getstate__(self):
        # a live bar holds a file handle and a lock: never pickled
        state = self.__dict__.copy()
        state["bar_"] = None
        return state


def _fmt(value) -> str:
    value = float(value)
    return f"{value:.4g}" if math.isfinite(value) else str(value)


class KLSchedule(Callback):
    """Linear KL warm-up and ELBO bookkeeping for the training engine.

    At the start of epoch ``e`` (1-based, counted over the whole history, so
    ``partial_fit`` continues the schedule) the loss term named ``"kl"`` (a
    :class:`skae.penalties.GaussianKLPenalty`) gets the factor ``min(1, (e - 1) /
    warmup_epochs)`` (always 1 when ``warmup_epochs=0``): 0 in the first epoch, full
    weight from epoch ``warmup_epochs + 1`` on. The factor is published in
    ``loss_weights_``, which :class:`skae.engine.AutoencoderNet` multiplies the term
    by; the penalty itself is left as it is. The history records per epoch
    ``kl_weight`` (the penalty's weight ``beta`` times the factor),
    ``train_kl_unweighted`` (the KL in nats per sample), ``train_elbo`` (=
    -(reconstruction + KL)) and ``train_objective`` (reconstruction + beta * KL, the
    loss once warm-up is over; the variational estimators' stopping rule watches it),
    and the ``valid_`` versions when there is validation data.

    Parameters
    ----------
    warmup_epochs : int, default=0
        Number of epochs over which the factor grows from 0 to 1.

    Attributes
    ----------
    loss_weights_ : dict
        ``{"kl": factor}`` of the current epoch (empty without a ``"kl"`` term):
        the factor the engine applies to the term.
    sums_ : dict
        ``{"train" | "valid": [summed -log p(x|z), summed KL, rows]}`` of the
        current epoch, from which its ELBO is recorded.
    """

    def __init__(self, warmup_epochs=0):
        self.warmup_epochs = int(warmup_epochs)

    @staticmethod
    def _penalty(net):
        return next((p for p in net.penalties if getattr(p, "name", None) == "kl"), None)

    def on_train_begin(self, net, **kwargs):
        self.loss_weights_ = {}
        self.sums_ = {}

    def on_epoch_begin(self, net, **kwargs):
        self.sums_ = {}
        self.loss_weights_ = {}
        penalty = self._penalty(net)
        if penalty is None:
            return
        epoch = len(net.history)
        factor = min(1.0, (epoch - 1) / self.warmup_epochs) if self.warmup_epochs > 0 else 1.0
        self.loss_weights_ = {"kl": factor}
        net.history.record("kl_weight", penalty.weight * factor)

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, terms=None, **kwargs):
        if y_pred is None or terms is None or "mu" not in getattr(y_pred, "extras", {}):
            return
        with torch.no_grad():
            n = len(y_pred.extras["mu"])
            kl = gaussian_kl(y_pred.extras["mu"], y_pred.extras["logvar"]).sum()
            # one device synchronisation per batch for both values
            nll, kl = torch.stack([terms[0].detach().float() * n, kl.float()]).tolist()
        sums = self.sums_.setdefault("train" if training else "valid", [0.0, 0.0, 0])
        sums[0] += nll
        sums[1] += kl
        sums[2] += n

    def on_epoch_end(self, net, **kwargs):
        penalty = self._penalty(net)
        beta = penalty.beta if penalty is not None else 0.0
        for prefix, (nll, kl, n) in getattr(self, "sums_", {}).items():
            if n:
                nll, kl = nll / n, kl / n
                net.history.record(f"{prefix}_kl_unweighted", kl)
                net.history.record(f"{prefix}_elbo", -(nll + kl))
                net.history.record(f"{prefix}_objective", nll + beta * kl)
        self.sums_ = {}
