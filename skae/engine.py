"""The one training engine of skae.

:class:`AutoencoderNet` is a skorch :class:`~skorch.NeuralNet` whose loss is a
criterion (reconstruction by default) plus a list of pluggable penalty terms,
with an optional input corruption applied only while training. Every skae
estimator trains through it; a variant only chooses the module, the criterion,
the penalties and the corruption.

Data reach it through the data layer (:mod:`skae._data`): whole batches sliced
from one tensor, or read and densified one batch at a time from a memory map, an
HDF5 / zarr array or a :mod:`scipy.sparse` matrix; the data classes are importable
from here too.

Optional, per net: mixed precision (:func:`torch.autocast`, with a gradient
scaler for float16), :func:`torch.compile` of the training forward pass, and
data-parallel training with :class:`~torch.nn.parallel.DistributedDataParallel`
when a :mod:`torch.distributed` process group is running (see
:mod:`skae._distributed`).
"""

from __future__ import annotations

import contextlib
import copy
import math
import threading

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping, PassthroughScoring, PrintLog
from skorch.dataset import unpack_data

from . import _distributed
from ._data import (
    ArrayDataset,
    BatchIterator,
    LazyArray,
    LazyDataset,
    ShardBatch,
    host_batch,
)
from .callbacks import ProgressBar
from .exceptions import TrainingDivergedError
from .nn import ReconstructionLoss, generator_scope

__all__ = [
    "ArrayDataset",  # re-exported from skae._data
    "AutoencoderNet",
    "BatchIterator",
    "DIVERGENCE_FACTOR",
    "LazyArray",
    "LazyDataset",
    "seeded",
]


#: Serialises every use of torch's global generators by skae (see :func:`seeded`).
_GLOBAL_RNG_LOCK = threading.RLock()


@contextlib.contextmanager
def seeded(seed: int, device: str | torch.device = "cpu"):
    """Run a block with torch's global generators seeded, then restore their state.

    Covers the CPU generator and, for a CUDA ``device``, that device's generator.
    The estimators use it only around building their torch modules: PyTorch's
    weight initialisation can only draw from the global generators (everything
    drawn during training comes from explicit generators, see
    :func:`skae.nn.generator_scope`). The block holds a process-wide (re-entrant)
    lock, so blocks in different threads run one after the other and each restores
    the state it found: the caller's global RNG state is left as it was, in every
    thread. Keep such blocks short; they pause the other threads' blocks.
    """
    device = torch.device(device)
    devices = []
    if device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=devices, device_type="cuda"):
        torch.default_generator.manual_seed(int(seed))
        for idx in devices:
            with torch.cuda.device(idx):
                torch.cuda.manual_seed(int(seed))
        yield


#: A training batch loss above this factor times the first batch loss of the same
#: training call counts as divergence (see :class:`AutoencoderNet`).
DIVERGENCE_FACTOR = 1e4


class _Interrupted(BaseException):
    """Carries a KeyboardInterrupt past skorch's ``partial_fit``, which swallows it."""

    def __init__(self, interrupt):
        super().__init__()
        self.interrupt = interrupt


# ----------------------------------------------------------------------------- net
class AutoencoderNet(NeuralNet):
    """skorch net training ``criterion(module(corrupt(X)), target) + sum(penalties)``.

    Parameters
    ----------
    module : torch.nn.Module
        Returns an :class:`skae.nn.AEOutput` (or whatever ``criterion`` and
        ``penalties`` accept) from ``forward``.
    criterion : torch.nn.Module or class, default=ReconstructionLoss
        Called as ``criterion(output, target)``; the target is the clean input
        unless the dataset carries an explicit ``y``.
    penalties : sequence of callables, default=()
        Each is called as ``penalty(output, X, module)`` and returns a weighted
        scalar; each needs a distinct ``name``. Every term (``reconstruction``
        and each penalty) is recorded per batch and per epoch in the history as
        ``train_<name>`` / ``valid_<name>``.
    corruption : callable or None, default=None
        ``corruption(X) -> X_tilde``, applied to training batches only (never in
        validation or inference); the loss still compares with the clean input.
    mixed_precision : {None, "bfloat16", "float16"}, default=None
        Run the forward pass and the loss of training and validation batches
        under :func:`torch.autocast` with this dtype (weights, optimizer state and
        inference stay float32). ``"float16"`` adds a gradient scaler
        (:class:`torch.amp.GradScaler`) so small gradients do not underflow.
    compile : bool, default=False
        Run the training and validation forward passes through
        :func:`torch.compile` (``compile__<name>`` parameters are passed to it).
        ``module_`` stays the plain module (its ``state_dict``, pickling and
        ``encode``/``decode`` are unchanged); the compiled wrapper is built on first
        use and never pickled.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.

    random_state : int or None, default=None
        Seed of the training call's own generators: the shuffling (one permutation
        per epoch) and, through :func:`skae.nn.generator_scope`, any noise drawn
        during training (corruption, the VAE's sampling). ``None`` draws a seed
        from torch's global generator at each training call. The estimators set it
        from their ``random_state``; torch's global generators are never used
        while training.

    Notes
    -----
    **Divergence.** Training stops at once with
    :class:`skae.exceptions.TrainingDivergedError` when a batch loss is NaN or
    infinite, or when a training batch loss exceeds :data:`skae.engine.DIVERGENCE_FACTOR`
    (10,000) times the absolute value of the first batch loss of the same
    training call (a loss that explodes while staying finite, which models with
    bounded activations do instead of overflowing).

    **Interrupts.** skorch's ``partial_fit`` swallows :class:`KeyboardInterrupt`
    (Ctrl-C); this net lets it propagate to the caller, after putting itself back
    in a consistent state: an epoch that did not complete (its ``train_loss``, and
    ``valid_loss`` when there is validation data, not yet recorded) is removed
    from the history and the module, criterion, optimizer (and gradient scaler)
    get back the state they had when it began, so the net is exactly the net of
    its completed epochs. The callbacks' ``on_train_end`` then runs as after a
    normal end (with ``load_best``, skorch's :class:`~skorch.callbacks.EarlyStopping`
    restores the best epoch's weights) when at least one epoch is in the history.
    The state is copied at the start of every epoch for this (a copy of the
    weights and the optimizer state: about 1 ms per epoch for a 784-256-32 MLP).
    :class:`~skorch.callbacks.EarlyStopping` ends training by raising
    ``KeyboardInterrupt`` too; that one is recognised and ends training normally.

    **Progress.** ``verbose=1`` shows a :class:`skae.callbacks.ProgressBar` (one bar
    per training call, over the epochs, with the loss terms) instead of skorch's
    per-epoch table, which ``verbose>=2`` prints.

    When a :mod:`torch.distributed` process group with more than one process is
    initialised, :meth:`fit` / :meth:`partial_fit` train data-parallel: every
    process passes the same data, the module is wrapped in
    :class:`~torch.nn.parallel.DistributedDataParallel`, and each process computes
    its share of every global mini-batch of ``batch_size`` rows (the permutation is
    drawn from a generator state broadcast from rank 0). Losses are weighted so
    that the averaged gradient is that of the whole global batch, and the recorded
    losses are global, so every process makes the same stopping decisions.
    ``module_`` stays the plain module.
    """

    def __init__(self, module, criterion=ReconstructionLoss, *, penalties=(), corruption=None,
                 mixed_precision=None, random_state=None, **kwargs):
        kwargs.setdefault("train_split", None)
        super().__init__(module, criterion, **kwargs)
        self.penalties = tuple(penalties)
        self.corruption = corruption
        self.random_state = random_state
        if mixed_precision not in (None, "bfloat16", "float16"):
            raise ValueError(
                f"mixed_precision must be None, 'bfloat16' or 'float16', got {mixed_precision!r}."
            )
        self.mixed_precision = mixed_precision
        # Wrappers built at run time (compiled module, DDP, gradient scaler): never
        # pickled or deep-copied, rebuilt on demand.
        self.runtime_ = {}
        names = self.term_names
        if len(set(names)) != len(names):
            # each term is recorded in the history under its name
            raise ValueError(f"Loss terms need distinct names, got {names}.")

    # -- configuration -----------------------------------------------------------------
    @property
    def term_names(self):
        """Names of the recorded loss terms: the criterion's first, then each penalty's."""
        return ("reconstruction", *(p.name for p in self.penalties))

    def get_default_callbacks(self):
        callbacks = list(super().get_default_callbacks())
        if self.penalties:  # without penalties the only term equals the loss
            for name in self.term_names:
                train = PassthroughScoring(f"train_{name}", on_train=True)
                callbacks.append((f"train_{name}", train))
                callbacks.append((f"valid_{name}", PassthroughScoring(f"valid_{name}")))
        if self.verbose and int(self.verbose) == 1:
            # verbose=1: a progress bar instead of the table (verbose>=2), after the
            # scorings so that it shows every term of the epoch
            callbacks = [(n, cb) for n, cb in callbacks if not isinstance(cb, PrintLog)]
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def get_iterator(self, dataset, training=False):
        if isinstance(dataset, ArrayDataset):
            shard = self._runtime().get("shard")
            generator = self._runtime().get("perm_generator") if training else None
            if training and generator is None:  # outside fit_loop (not used by skae)
                generator = torch.Generator().manual_seed(self._training_seed())
            return BatchIterator(dataset, self.batch_size, shuffle=training,
                                 generator=generator, device=self.device, shard=shard)
        return super().get_iterator(dataset, training=training)

    def torch_compile(self, module, name):
        # skorch would replace module_ by the compiled wrapper, whose state_dict keys,
        # pickling and isinstance checks differ; keep the plain module and compile the
        # forward pass lazily instead (see _forward_module).
        return module

    def _runtime(self) -> dict:
        rt = self.__dict__.get("runtime_")
        if rt is None:  # unpickled, or a net from before runtime_ existed
            rt = self.__dict__["runtime_"] = {}
        return rt

    def __getstate__(self):
        state = super().__getstate__()
        state["runtime_"] = {}
        return state

    def _forward_module(self, training: bool):
        """What runs the forward pass: ``module_``, wrapped in DDP and/or compiled."""
        rt = self._runtime()
        base = rt.get("ddp") if training else None
        if base is None:
            base = self.module_
        if not self.compile:
            return base
        compiled = rt.setdefault("compiled", {})
        entry = compiled.get(id(base))
        if entry is None or entry[0] is not base:
            wrapper = torch.compile(base, **self.get_params_for("compile"))
            entry = compiled[id(base)] = (base, wrapper)
        return entry[1]

    def _autocast(self):
        if self.mixed_precision is None:
            return contextlib.nullcontext()
        device_type = torch.device(self.device).type
        return torch.autocast(device_type, dtype=getattr(torch, self.mixed_precision))

    def _grad_scaler(self):
        if self.mixed_precision != "float16":
            return None
        rt = self._runtime()
        if "scaler" not in rt:
            rt["scaler"] = torch.amp.GradScaler(torch.device(self.device).type)
        return rt["scaler"]

    # -- loss --------------------------------------------------------------------------
    def penalty_scale(self, y_true) -> float:
        """Factor applied to every penalty: 1 / the criterion's ``terms_per_sample``.

        Penalty weights follow the papers, whose objectives sum the reconstruction
        error over the features of a sample. A criterion that averages over them
        instead (:class:`~skae.nn.ReconstructionLoss`) says over how many; dividing
        the penalties by that number makes the loss the papers' objective divided
        by ``n_features``, which leaves Adam's steps as they would be on the papers'
        scale. Criteria without ``terms_per_sample`` (summed likelihoods,
        classification losses) get 1.
        """
        per_sample = getattr(self.criterion_, "terms_per_sample", None)
        return 1.0 if per_sample is None else 1.0 / per_sample(y_true)

    def loss_weights(self) -> dict:
        """Factors callbacks apply to loss terms this epoch: ``{term name: factor}``.

        A callback that schedules a term (:class:`skae.callbacks.KLSchedule` warms up
        the VAE's ``"kl"``) publishes its factors in a ``loss_weights_`` dict; the
        factors of several callbacks multiply. The penalties themselves are never
        changed.
        """
        weights = {}
        for _, cb in getattr(self, "callbacks_", ()):
            for name, factor in (getattr(cb, "loss_weights_", None) or {}).items():
                weights[name] = weights.get(name, 1.0) * factor
        return weights

    def get_loss_terms(self, y_pred, y_true, X=None, training=False):
        """Return ``[criterion, *penalties]`` as a list of scalar tensors.

        Every penalty is multiplied by :meth:`penalty_scale` and by its factor in
        :meth:`loss_weights`, if any.
        """
        terms = [self.criterion_(y_pred, y_true)]
        if self.penalties:
            scale = self.penalty_scale(y_true)
            weights = self.loss_weights()
            for penalty in self.penalties:
                term = penalty(y_pred, X, self.module_) * scale
                if penalty.name in weights:
                    term = term * weights[penalty.name]
                terms.append(term)
        return terms

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """skorch's loss hook: the sum of :meth:`get_loss_terms`.

        Every training and validation step computes its loss here (override it to
        change the loss). The terms are kept for the history (``train_<name>``).
        """
        terms = self.get_loss_terms(y_pred, y_true, X=X, training=training)
        if self.mixed_precision is not None:
            terms = [t.float() for t in terms]
        self._runtime()["terms"] = terms
        return terms[0] if len(terms) == 1 else torch.stack(terms).sum()

    def _step(self, batch, training, **fit_params):
        Xi, yi = unpack_data(batch)
        Xi = Xi.to(self.device, non_blocking=True)
        target = Xi if yi is None else yi.to(self.device, non_blocking=True)
        if training and self.corruption is not None:
            Xi = self.corruption(Xi)
        with self._autocast():
            y_pred = self._forward_module(training)(Xi, **fit_params)
            loss = self.get_loss(y_pred, target, X=Xi, training=training)
        terms = self._runtime().pop("terms", None) or [loss]
        step = {"loss": loss, "y_pred": y_pred, "terms": terms}
        if isinstance(batch, ShardBatch):
            step = self._globalise(step, batch)
        return step

    def _globalise(self, step, batch):
        """Data parallel: weight the local loss for the gradient, record global values."""
        world = _distributed.world()[1]
        # DDP averages gradients over the processes; this weight makes the average
        # that of the mean loss over the whole global batch, whatever its split.
        step["backward_loss"] = step["loss"] * (batch.n_local * world / batch.n_global)
        values = torch.stack([step["loss"].detach(), *(t.detach() for t in step["terms"])])
        values = _distributed.all_reduce_sum(values.float() * batch.n_local) / batch.n_global
        step["loss"] = values[0]
        step["terms"] = list(values[1:]) if len(step["terms"]) > 1 else [values[0]]
        step["n_global"] = batch.n_global
        return step

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        step = self._step(batch, training=True, **fit_params)
        loss = step.pop("backward_loss", step["loss"])
        scaler = self._grad_scaler()
        if scaler is None:
            loss.backward()
        else:
            scaler.scale(loss).backward()
            for name in self._optimizers:
                # true gradients for on_grad_computed callbacks (e.g. norm clipping)
                scaler.unscale_(getattr(self, name + "_"))
        return step

    def _step_optimizer(self, step_fn):
        scaler = self._grad_scaler()
        if scaler is None:
            return super()._step_optimizer(step_fn)
        # GradScaler.step does not take closures: compute the gradients, then step.
        step_fn()
        for name in self._optimizers:
            scaler.step(getattr(self, name + "_"))
        scaler.update()
        return None

    def _set_training(self, training=True):
        # skorch calls this at every batch, and Module.train recurses into every
        # submodule through Module.__setattr__ (~0.1-0.2 ms a batch, 5-10 % of a
        # small layer's step): switch only a module whose tree is not already in the
        # requested mode. Reading the flags costs a third of setting them.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and any(
                    m.training != training for m in module.modules()):
                module.train(training)

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        with torch.no_grad():
            step = self._step(batch, training=False, **fit_params)
        step.pop("backward_loss", None)
        return step

    # -- training calls ----------------------------------------------------------------
    def _training_seed(self) -> int:
        seed = getattr(self, "random_state", None)  # None also for nets pickled before it
        if seed is not None:
            return int(seed)
        return int(torch.randint(2**62, (1,)))

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        epochs = fit_params.get("epochs")
        # the length of the progress bar
        self.planned_epochs_ = int(epochs) if epochs is not None else int(self.max_epochs)
        try:
            return super().partial_fit(X, y, classes, **fit_params)
        except _Interrupted as exc:
            interrupt = exc.interrupt
        except BaseException:
            self._close_progress_bars()
            raise
        # skorch swallows KeyboardInterrupt here; fit_loop has already rolled back the
        # unfinished epoch. Finish as after a normal end, then let the interrupt through.
        try:
            if len(self.history):
                self.notify("on_train_end", X=X, y=y)
        finally:
            self._close_progress_bars()
        raise interrupt

    def _close_progress_bars(self):
        for _, cb in getattr(self, "callbacks_", ()):
            if isinstance(cb, ProgressBar):
                cb.close()

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        rt = self._runtime()
        world = _distributed.world()
        parallel = world is not None and isinstance(X, ArrayDataset)
        seed = self._training_seed()
        if parallel:
            _distributed.check_same_length(len(X), "training data")
            # every process shuffles with the same permutation: rank 0's seed
            seed = int(_distributed.broadcast(torch.tensor([seed], dtype=torch.int64)).item())
        # The call's own generators: one for the permutations, one stream for the noise
        # (per process in data-parallel training). The global generators stay untouched.
        perm_generator = torch.Generator().manual_seed(seed)
        noise_seed = int(torch.randint(2**62, (1,), generator=perm_generator))
        rt["perm_generator"] = perm_generator
        rt["first_loss"] = None
        try:
            if parallel:
                rank, size = world
                noise_seed += 1 + rank
                # Wrapped for this call only: a DDP wrapper kept on a fitted net would hold
                # the process group past destroy_process_group(), and gloo then aborts the
                # interpreter at exit ("terminate called without an active exception").
                rt["ddp"] = _distributed.wrap(self.module_, self.device)
                rt["shard"] = (rank, size)
            with generator_scope(noise_seed):
                return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt as exc:
            if self._stop_requested():
                return self
            self._discard_unfinished_epoch()
            raise _Interrupted(exc) from None
        finally:
            for key in ("shard", "perm_generator", "first_loss", "snapshot"):
                rt.pop(key, None)
            ddp = rt.pop("ddp", None)
            if ddp is not None:
                rt.get("compiled", {}).pop(id(ddp), None)

    def _stop_requested(self) -> bool:
        """Whether the KeyboardInterrupt was skorch's EarlyStopping ending training."""
        return any(
            isinstance(cb, EarlyStopping) and getattr(cb, "misses_", 0) >= cb.patience
            for _, cb in getattr(self, "callbacks_", ())
        )

    # -- interrupts --------------------------------------------------------------------
    def on_epoch_begin(self, net, **kwargs):
        # what an interrupted epoch rolls back to (runs before every callback)
        self._runtime()["snapshot"] = self._training_state()
        super().on_epoch_begin(net, **kwargs)

    def _training_state(self) -> dict:
        """Copies of everything an epoch changes: module, criterion, optimizer state."""
        def copied(state):
            return {k: v.detach().clone() if isinstance(v, torch.Tensor) else copy.deepcopy(v)
                    for k, v in state.items()}

        state = {
            "modules": {name: copied(getattr(self, name + "_").state_dict())
                        for name in [*self._modules, *self._criteria]},
            "optimizers": {name: copy.deepcopy(getattr(self, name + "_").state_dict())
                           for name in self._optimizers},
        }
        scaler = self._runtime().get("scaler")
        if scaler is not None:
            state["scaler"] = scaler.state_dict()
        return state

    def _discard_unfinished_epoch(self):
        """Drop an epoch that did not complete and restore the state it began with."""
        snapshot = self._runtime().pop("snapshot", None)
        if not len(self.history):
            return
        row = self.history[-1]
        complete = "train_loss" in row and ("valid_batch_count" not in row or "valid_loss" in row)
        if complete:
            return
        self.history.pop()
        if snapshot is None:
            return
        for name, state in snapshot["modules"].items():
            getattr(self, name + "_").load_state_dict(state)
        for name, state in snapshot["optimizers"].items():
            getattr(self, name + "_").load_state_dict(state)
        if "scaler" in snapshot:
            self._runtime()["scaler"].load_state_dict(snapshot["scaler"])

    # -- bookkeeping -------------------------------------------------------------------
    def on_batch_end(self, net, batch=None, training=False, loss=None, terms=None,
                     n_global=None, **kwargs):
        prefix = "train" if training else "valid"
        if n_global is not None:
            # the global batch size, so that epoch means agree across processes
            self.history.record_batch(f"{prefix}_batch_size", n_global)
        # skorch already synchronised on loss.item(); reading it again is free.
        value = self.history[-1]["batches"][-1][f"{prefix}_loss"]
        if not math.isfinite(value):
            self._raise_diverged(prefix, value)
        if training:
            rt = self._runtime()
            first = rt.get("first_loss")
            if first is None:
                rt["first_loss"] = value
            elif first != 0 and value > DIVERGENCE_FACTOR * abs(first):
                self._raise_diverged(prefix, value, first)
        if terms is not None and len(terms) > 1:
            values = torch.stack([t.detach() for t in terms]).tolist()
            for name, v in zip(self.term_names, values, strict=True):
                self.history.record_batch(f"{prefix}_{name}", v)

    def _raise_diverged(self, prefix, value, first=None):
        epoch = len(self.history)
        batch = len(self.history[-1]["batches"])
        hint = ", or lower the penalty weights" if self.penalties else ""
        what = f"became {value}" if first is None else (
            f"grew to {value:.4g}, more than {DIVERGENCE_FACTOR:g} times its first value "
            f"({first:.4g}),")
        raise TrainingDivergedError(
            f"Training diverged: the {prefix} loss {what} in epoch {epoch}, "
            f"batch {batch}. Try a lower learning rate (lr={self.lr} now) or scale the "
            f"input features (e.g. with StandardScaler or MinMaxScaler){hint}."
        )

    # -- inference ---------------------------------------------------------------------
    def apply_batched(self, fn, X, batch_size: int = 4096, dtype=np.float32, *,
                      inference_mode: bool = True) -> np.ndarray:
        """Apply ``fn`` (tensor -> tensor) to ``X`` in batches, without gradients.

        The module is put in evaluation mode. ``X`` is an ndarray of any float
        dtype or a :class:`LazyArray`; each batch is converted to float32 and moved
        to the device on its own, and each result is copied once into a
        preallocated array of ``dtype`` whose first dimension is ``len(X)``.
        ``inference_mode=False`` runs under :func:`torch.no_grad` instead (for
        functions that differentiate inside, e.g. with :mod:`torch.func`).
        """
        self.check_is_fitted()
        self._set_training(False)
        device = torch.device(self.device)
        # Pinned staging only where a converted copy is made anyway.
        pin = device.type == "cuda" and (
            isinstance(X, LazyArray) or X.dtype != np.float32 or not X.flags.c_contiguous
        )
        n = len(X)
        out = None
        grad_ctx = torch.inference_mode() if inference_mode else torch.no_grad()
        with grad_ctx:
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                xb = host_batch(X, start, stop, pin=pin).to(device, non_blocking=True)
                yb = fn(xb)
                if out is None:
                    out = np.empty((n, *yb.shape[1:]), dtype=dtype)
                torch.from_numpy(out[start:stop]).copy_(yb)
        if out is None:
            return np.empty((0,), dtype=dtype)
        return out
