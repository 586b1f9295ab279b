"""skorch callbacks of the training engine.

:class:`ProgressBar` is what ``verbose=1`` shows: one `tqdm
<https://tqdm.github.io>`_ bar over the epochs of a training call (a widget in
Jupyter notebooks), with the current loss and each of its terms.
"""

from __future__ import annotations

import math

from skorch.callbacks import Callback
from tqdm.auto import tqdm

__all__ = ["ProgressBar"]


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
