"""The scikit-learn side shared by every skae autoencoder.

:class:`BaseAutoencoder` turns the training engine into a scikit-learn
transformer: dtype handling, seeding, the fit / partial_fit / transform /
inverse_transform / score protocol, the rollback of a failed fit and the fitted
attributes. Input validation and the datasets are the data layer's
(:mod:`skae._data`), the training loop the engine's (:mod:`skae.engine`), the torch
modules :mod:`skae.nn`'s. A variant overrides the hooks listed, with their
contracts, in ``docs/engine.rst`` (``_build_module``, ``_build_criterion``,
``_build_penalties``, ``_build_corruption``, ``_build_callbacks``...); it never writes
a training loop.
"""

from __future__ import annotations

import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split
from skorch.utils import noop

from . import _distributed, _persist
from ._data import (
    FLOAT_DTYPES,
    SEED_MAX,
    check_float32_range,
    make_dataset,
    model_input,
    validate_input,
)
from .engine import AutoencoderNet, seeded
from .exceptions import OvercompleteCodeWarning, TrainingDivergedError
from .nn import ACTIVATIONS, MLPAutoencoderModule, ReconstructionLoss, TrimmedLoss
from .penalties import L2WeightPenalty

OPTIMIZERS = {
    "adam": (torch.optim.Adam, {}),
    "adamw": (torch.optim.AdamW, {}),
    "sgd": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (torch.optim.RMSprop, {}),
}

#: Parameters of the autoencoders trained on a reconstruction loss with a deterministic
#: code (every one but the variational ones, whose likelihood replaces them).
RECONSTRUCTION_CONSTRAINTS: dict = {
    "code_activation": [StrOptions(set(ACTIVATIONS))],
    "output_activation": [StrOptions({"auto", "identity", "sigmoid", "tanh"})],
    "loss": [StrOptions({"mse", "bce", "auto"})],
}


def available_devices() -> list:
    """The ``device`` values this machine's PyTorch can train on (besides ``"auto"``)."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and xpu.is_available():
        names.append("xpu")
    return names


def _device_error(device, reason: str) -> ValueError:
    names = [repr(d) for d in [*available_devices(), "auto"]]
    names = ", ".join(names[:-1]) + " and " + names[-1]
    return ValueError(f"device={device!r} {reason}. The devices available here are {names}.")


def resolve_device(device: str) -> str:
    """Map ``"auto"`` to ``"cuda"``/``"cpu"`` and check that the device can be used.

    Anything this PyTorch build cannot train on here (a device type without
    hardware or support, such as ``"mps"`` off Apple silicon, ``"xla"`` or
    ``"meta"``) gets a ValueError naming the available devices, before any work.
    """
    if device == "auto":
        return _distributed.local_device("cuda") if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise _device_error(device, "is not a valid torch device") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise _device_error(device, "was requested but CUDA is not available on this machine")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise _device_error(
            device, f"is not visible: only {torch.cuda.device_count()} CUDA device(s) are")
    known = {d.split(":")[0] for d in available_devices()}
    if dev.type not in known:
        raise _device_error(device, "cannot be used by this PyTorch build on this machine")
    try:  # e.g. a device index that does not exist
        torch.empty(1, device=dev)
    except (RuntimeError, AssertionError) as exc:
        raise _device_error(device, f"cannot be used ({exc})") from None
    # inside a torch.distributed group, a plain "cuda" is this process's GPU
    return _distributed.local_device(str(dev))


def resolve_precision(mixed_precision, device: str):
    """The autocast dtype name (or None) for ``mixed_precision`` on ``device``.

    ``True`` picks bfloat16 where the device supports it (CPUs, Ampere and newer
    GPUs) and float16 on older GPUs; float16 is for CUDA devices only.
    """
    if mixed_precision is None or (
        isinstance(mixed_precision, bool | np.bool_) and not mixed_precision
    ):
        return None
    cuda = torch.device(device).type == "cuda"
    bf16_ok = not cuda or torch.cuda.is_bf16_supported()
    if isinstance(mixed_precision, bool | np.bool_):
        return "bfloat16" if bf16_ok else "float16"
    if mixed_precision == "float16" and not cuda:
        raise ValueError(
            "mixed_precision='float16' needs a CUDA device (device="
            f"{device!r}); on the CPU use mixed_precision='bfloat16' (or True)."
        )
    if mixed_precision == "bfloat16" and not bf16_ok:
        raise ValueError(
            f"mixed_precision='bfloat16' is not supported by {device!r}; use 'float16' "
            "(or True, which picks the supported one)."
        )
    return mixed_precision



class NetEstimatorMixin:
    """The engine set-up and inference every skae estimator shares.

    Builds :class:`~skae.engine.AutoencoderNet` from the common training parameters
    and runs the fitted ``net_`` in batches. Used by :class:`BaseAutoencoder` and by
    meta-estimators that train their own modules through the engine (the stacked
    estimators).
    """

    #: At most this many rows per batch in transform / inverse_transform /
    #: score_samples / predict ...
    _inference_batch_size = 4096
    #: ... and at most this many values in the widest activation tensor of a batch
    #: (64 MB of float32): the rows follow from the module's ``activation_width``.
    _inference_budget = 1 << 24

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "device": [str],
        "mixed_precision": ["boolean", StrOptions({"bfloat16", "float16"})],
        "compile": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
    }

    def _hidden_sizes(self) -> tuple:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, Integral):
            sizes = (sizes,)
        sizes = tuple(sizes)
        if not all(isinstance(s, Integral | np.integer) and s >= 1 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be a sequence of positive integers, got {sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    #: History key (after ``train_``/``valid_``) that the stopping rule watches.
    _stopping_metric = "loss"

    def _build_callbacks(self) -> list:
        """Extra ``(name, callback)`` pairs a variant needs; they run before stopping."""
        return []

    def _with_weight_decay(self, penalties) -> tuple:
        """``penalties`` plus the L2 term of ``weight_decay`` (when non-zero)."""
        penalties = tuple(penalties)
        if self.weight_decay:
            penalties += (L2WeightPenalty(self.weight_decay),)
        return penalties

    #: Label of the progress bar (``verbose=1``); the class name when None.
    _progress_desc = None

    def _make_net(self, module, *, criterion, penalties, n_samples, device, train_split,
                  early_stopping, random_state=None, mixed_precision=None):
        """The engine configured from the estimator's training parameters.

        ``mixed_precision`` overrides the estimator's parameter when given.
        """
        opt_cls, opt_kwargs = OPTIMIZERS.get(self.optimizer, (self.optimizer, {}))
        kwargs = {f"optimizer__{k}": v for k, v in opt_kwargs.items()}
        verbose = int(self.verbose)
        if verbose == 1:
            kwargs["callbacks__progress_bar__desc"] = self._progress_desc or type(self).__name__
        # The variant's own bookkeeping (e.g. the VAE's ELBO) runs before the user's
        # callbacks, so an epoch's record is complete when a user callback sees it.
        callbacks = list(self._build_callbacks())
        callbacks += [copy.deepcopy(cb) for cb in (self.callbacks or [])]
        monitor = ("valid_" if early_stopping else "train_") + self._stopping_metric
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor=monitor,
                    patience=self.n_iter_no_change,
                    threshold=self.tol,
                    threshold_mode="rel",
                    load_best=early_stopping,
                    # its messages would break the progress bar's line
                    sink=noop if verbose == 1 else print,
                ),
            )
        )
        return AutoencoderNet(
            module,
            criterion=criterion,
            penalties=self._with_weight_decay(penalties),
            optimizer=opt_cls,
            lr=self.lr,
            max_epochs=self.max_iter,
            batch_size=min(self.batch_size, n_samples),
            train_split=train_split,
            callbacks=callbacks,
            verbose=verbose,
            device=device,
            mixed_precision=resolve_precision(
                self.mixed_precision if mixed_precision is None else mixed_precision, device),
            compile=bool(self.compile),
            random_state=random_state,
            **kwargs,
        )

    def _split(self, n_samples: int, rng: np.random.RandomState):
        n_valid = math.ceil(self.validation_fraction * n_samples)
        if n_valid < 1 or n_samples - n_valid < 1:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction={self.validation_fraction} "
                f"of the data, which leaves no training or no validation samples with "
                f"n_samples={n_samples}. Use more samples or early_stopping=False."
            )
        perm = rng.permutation(n_samples)
        return perm[n_valid:], perm[:n_valid]

    @staticmethod
    def _shared_random_state(random_state, rng):
        """``rng``, made the same on every process of a data-parallel fit.

        An int ``random_state`` already agrees everywhere; ``None`` or a RandomState
        instance may not, and the validation split and the seeds must.
        """
        if _distributed.world() is None or isinstance(random_state, Integral):
            return rng
        return _distributed.shared_seed(rng)

    # ------------------------------------------------------------ fitted state
    def _record_net(self, net):
        """The fitted attributes every net-backed estimator shares, from ``net``."""
        self.net_ = net
        self.n_iter_ = len(net.history)
        self.loss_curve_ = (
            [float(v) for v in net.history[:, "train_loss"]] if len(net.history) else []
        )
        valid = [float(e["valid_loss"]) for e in net.history if "valid_loss" in e]
        if valid:
            self.validation_loss_curve_ = valid

    def _reset_fitted(self):
        for key in list(vars(self)):
            if key.endswith("_") and not key.startswith("__"):
                delattr(self, key)
        self.__dict__.pop("_rng", None)

    def _fit_guarded(self, fit, *, first_call: bool = True):
        """Run ``fit()`` so that a failure never leaves a half-fitted estimator.

        A first call starts from nothing (no fitted attribute of an earlier fit
        survives). An interrupt keeps what ``fit`` recorded of the completed epochs
        (fitted if there were any); any other error of a first call, and a
        divergence at any call, leaves the estimator unfitted.
        """
        if first_call:
            self._reset_fitted()
        try:
            return fit()
        except KeyboardInterrupt:
            if first_call and not self.__sklearn_is_fitted__():
                self._reset_fitted()
            raise
        except BaseException as exc:
            if first_call or isinstance(exc, TrainingDivergedError):
                self._reset_fitted()
            raise

    # ------------------------------------------------------------ validation
    def _validate_X(self, X, reset: bool):
        """Validate ``X`` (see :func:`skae._data.validate_input`): never densifies it.

        Sparse matrices, memory maps and other lazy arrays come back as a
        :class:`~skae._data.LazyArray`, read batch by batch; the rest as a float
        ndarray. Variants extend this hook to check or record what they need.
        """
        return validate_input(self, X, reset)

    def _inference_rows(self, per_row: int = 1, budget: int | None = None) -> int:
        """Rows per inference batch of the fitted module.

        At most ``_inference_batch_size``, and few enough that ``per_row`` copies of
        the module's widest layer (``net_.module_.activation_width`` values per row)
        hold at most ``budget`` values (``_inference_budget`` by default).
        """
        budget = self._inference_budget if budget is None else budget
        width = getattr(self.net_.module_, "activation_width", None) or 1
        return int(min(self._inference_batch_size, max(1, budget // (width * per_row))))

    def _apply(self, fn, X, dtype=np.float32) -> np.ndarray:
        """``fn`` applied to ``X`` batch by batch (results as a ``dtype`` ndarray)."""
        return self.net_.apply_batched(fn, X, self._inference_rows(), dtype)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # sparse input is densified one batch at a time (skae._data.SparseArray)
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        return tags

    # ----------------------------------------------------------- persistence
    #: Fitted attributes that are views of the net, re-pointed after loading.
    _net_views = ("history_",)

    def _net_parts(self) -> dict:
        """The untrained ``module``, ``criterion``, ``penalties`` and ``corruption``
        that ``fit`` built, from the fitted attributes (used to rebuild ``net_``)."""
        raise NotImplementedError

    def _link_net_views(self):
        if "history_" in self._net_views:
            self.history_ = self.net_.history

    def __getstate__(self):
        # Plain data only (see skae._persist): pickle, copy.deepcopy and skops.io
        # all store the net as numpy weights, optimizer state and history.
        state = dict(super().__getstate__())  # may be __dict__ itself
        net = state.pop("net_", None)
        for key in self._net_views:
            state.pop(key, None)
        if net is not None:
            state[_persist.NET_STATE_KEY] = _persist.net_state(net)
        if isinstance(state.get("_rng"), np.random.RandomState):
            state["_rng"] = _persist.plain(state["_rng"].get_state(legacy=True))
        return state

    def __setstate__(self, state):
        state = dict(state)
        net_state = state.pop(_persist.NET_STATE_KEY, None)
        rng = state.pop("_rng", None)
        super().__setstate__(state)
        if rng is not None:
            self._rng = np.random.RandomState()
            name, keys, pos, has_gauss, cached = rng
            self._rng.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss,
                                 cached))
        if net_state is not None:
            self.net_ = _persist.restore_net(self, net_state)
            self._link_net_views()


class CodeTransformerMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """``transform`` = ``net_.module_.encode``, ``inverse_transform`` = ``decode``.

    For estimators with ``n_components`` and a fitted ``net_`` whose module has
    ``encode`` and ``decode``; output features are named ``<classname><i>``.
    """

    def transform(self, X):
        """Encode ``X`` into the code space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The codes, of the same float dtype as ``X`` (float64 for integer input).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._apply(self.net_.module_.encode, X, X.dtype)

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`)
            The reconstructions, of the same float dtype as ``X``.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=list(FLOAT_DTYPES), input_name="X")
        check_float32_range(Z)
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__}.inverse_transform "
                f"expects codes with n_components={self.n_components} features."
            )
        return self._apply(self.net_.module_.decode, Z, Z.dtype)

    @property
    def _n_features_out(self):
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.allow_nan = False
        return tags


class BaseAutoencoder(NetEstimatorMixin, CodeTransformerMixin, BaseEstimator):
    """Base class of skae's autoencoders. Not meant to be used directly.

    Subclasses declare their ``__init__`` with keyword-only parameters (at least
    those in ``_parameter_constraints`` below) and override the ``_build_*``
    hooks.
    """

    # What every autoencoder takes; the variants add theirs (never remove any).
    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        **NetEstimatorMixin._parameter_constraints,
    }

    # ------------------------------------------------------------------ hooks
    def _build_module(self, n_features: int) -> torch.nn.Module:
        return MLPAutoencoderModule(
            n_features,
            self.n_components,
            hidden_layer_sizes=self._hidden_sizes(),
            activation=self.activation,
            code_activation=self.code_activation,
            output_activation=self.output_activation_,
            decoder_norm=getattr(self, "decoder_norm", None),
        )

    def _build_criterion(self) -> torch.nn.Module:
        return ReconstructionLoss(self.reconstruction_loss_)

    #: Set by :class:`skae.AutoencoderOutlierDetector` on its own clones (robust
    #: training): the share of each training batch, the worst reconstructed, left
    #: out of the loss (:class:`skae.nn.TrimmedLoss`). Not a parameter: 0 otherwise.
    _trim_fraction = 0.0

    def _training_criterion(self) -> torch.nn.Module:
        """The variant's criterion, trimmed when ``_trim_fraction`` is set."""
        criterion = self._build_criterion()
        if self._trim_fraction:
            criterion = TrimmedLoss(criterion, self._trim_fraction)
        return criterion

    def _build_penalties(self) -> list:
        return []

    def _build_corruption(self, X: np.ndarray):
        return None

    def _net_parts(self) -> dict:
        # The corruption reads only the range of the training data, kept in noise_range_.
        low, high = getattr(self, "noise_range_", (0.0, 0.0))
        return {
            "module": self._build_module(self.n_features_in_),
            "criterion": self._training_criterion(),
            "penalties": self._build_penalties(),
            "corruption": self._build_corruption(np.array([[low, high]], dtype=np.float32)),
        }

    #: Warn at fit when the code is not smaller than the input (the variants whose
    #: only regularisation is the bottleneck).
    _undercomplete = False

    def _check_code_size(self, n_features: int):
        if self._undercomplete and self.n_components >= n_features:
            warnings.warn(
                f"{type(self).__name__} is undercomplete by design, but n_components="
                f"{self.n_components} >= n_features={n_features}: with a code at least as "
                "large as the input, the network can learn the identity map (copy its "
                "input) instead of useful features. Use n_components < n_features, or "
                "SparseAutoencoder, DenoisingAutoencoder or ContractiveAutoencoder for an "
                "overcomplete code.",
                OvercompleteCodeWarning,
                stacklevel=6,  # the caller of fit (under _fit_context)
            )

    # ------------------------------------------------------------ validation
    @staticmethod
    def _in_unit_interval(X) -> bool:
        return bool(X.size) and X.min() >= 0.0 and X.max() <= 1.0

    def _resolve_loss(self, X) -> None:
        """Set ``reconstruction_loss_``: ``loss``, with ``"auto"`` chosen from ``X``.

        ``"auto"`` is binary cross-entropy for data in [0, 1] (pixels, MinMaxScaler
        output: the loss of Vincent et al. and Rifai et al. for such data, whose
        gradient does not vanish where a sigmoid output saturates) and the squared
        error otherwise. Called once, on the first fit, before anything is built.
        """
        loss = self.loss
        if loss == "auto":
            loss = "bce" if self._in_unit_interval(X) else "mse"
        self.reconstruction_loss_ = loss

    def _resolve_output_activation(self, X: np.ndarray) -> str:
        choice = self.output_activation
        if self.reconstruction_loss_ == "bce":
            if choice not in ("auto", "sigmoid"):
                raise ValueError(
                    f"loss='bce' needs a sigmoid output; got output_activation={choice!r}. "
                    "Use output_activation='auto' or 'sigmoid', or loss='mse'."
                )
            return "sigmoid"
        if choice != "auto":
            return choice
        # Data in [0, 1] (pixels, MinMaxScaler output) get a sigmoid output; anything
        # else (e.g. standardised data) a linear one.
        return "sigmoid" if self._in_unit_interval(X) else "identity"

    def _check_loss_range(self, X: np.ndarray):
        """Binary cross-entropy compares with values in [0, 1] only."""
        if self.reconstruction_loss_ == "bce" and X.size and (X.min() < 0.0 or X.max() > 1.0):
            what = ("loss='auto' chose 'bce' from the training data, which"
                    if self.loss == "auto" else "loss='bce'")
            raise ValueError(
                f"{what} needs input values in [0, 1], but X lies in "
                f"[{X.min():.4g}, {X.max():.4g}]. Scale it (e.g. MinMaxScaler(clip=True)) "
                "or use loss='mse'."
            )

    # ------------------------------------------------------------------- fit
    def _fit(self, X, *, incremental: bool):
        first_call = not incremental or not self.__sklearn_is_fitted__()
        return self._fit_guarded(
            lambda: self._fit_unchecked(X, incremental=incremental, first_call=first_call),
            first_call=first_call,
        )

    def _fit_unchecked(self, X, *, incremental: bool, first_call: bool):
        X = self._validate_X(X, reset=first_call)
        if first_call:
            self._resolve_loss(X)
        self._check_loss_range(X)
        X32 = model_input(X)
        if not first_call:
            net = self.net_
            # set_params between calls: the learning rate (optimizer state kept) and the
            # penalty weights take effect; the architecture and noise stay as first fit.
            if net.lr != self.lr:
                net.set_params(lr=self.lr)
            net.penalties = self._with_weight_decay(self._build_penalties())
            net.random_state = self._rng.randint(SEED_MAX)
            n_epochs = len(net.history)
            try:
                net.partial_fit(make_dataset(X32), epochs=1)
            except KeyboardInterrupt:
                # the epoch completed and the interrupt came after it: count it
                if len(net.history) > n_epochs:
                    self._record_fit(net, X32, self.n_samples_seen_ + len(X32))
                raise
            return self._record_fit(net, X32, self.n_samples_seen_ + len(X32))

        self._hidden_sizes()  # fail before any work on a bad value
        device = resolve_device(self.device)
        self._check_code_size(X32.shape[1])
        rng = check_random_state(self.random_state)
        rng = self._shared_random_state(self.random_state, rng)
        seed = rng.randint(SEED_MAX)
        self.output_activation_ = self._resolve_output_activation(X)
        early = self.early_stopping and not incremental
        if early:
            train_idx, valid_idx = self._split(len(X32), rng)
            dataset = make_dataset(X32, rows=train_idx)
            train_split = predefined_split(make_dataset(X32, rows=valid_idx))
        else:
            dataset, train_split = make_dataset(X32), None
        with seeded(seed, device):  # weight initialisation draws from the global RNG
            module = self._build_module(X32.shape[1])
        net = self._make_net(
            module,
            criterion=self._training_criterion(),
            penalties=self._build_penalties(),
            n_samples=len(dataset),
            device=device,
            train_split=train_split,
            early_stopping=early,
            random_state=seed,
        )
        net.corruption = self._build_corruption(X32)
        net.initialize()
        self._rng = rng
        try:
            net.partial_fit(dataset, epochs=1 if incremental else None)
        except KeyboardInterrupt:
            if len(net.history):  # keep the completed epochs
                self._record_fit(net, X32, len(X32))
            raise
        return self._record_fit(net, X32, len(X32))

    def _record_fit(self, net, X32, n_samples_seen):
        if net.train_split is not None:
            net.train_split = None  # the validation data must not travel with the model
            # so later partial_fit calls have none: their stopping rule watches the
            # training loss (a valid_ monitor would fail on the missing key)
            stopping = dict(net.callbacks_).get("early_stopping")
            if stopping is not None:
                stopping.monitor = "train_" + self._stopping_metric
                stopping.load_best = False
        self.n_samples_seen_ = n_samples_seen
        return self._set_fitted(net, X32)

    def _set_fitted(self, net, X32):
        """Record the fitted state; variants extend it (``X32`` is the training data)."""
        self._record_net(net)
        self.history_ = net.history
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. A :class:`numpy.memmap` (or another lazily indexed 2-D
            array: ``h5py.Dataset``, ``zarr.Array``...) is never copied whole: it is
            scanned once in chunks (finite values, range) and every mini-batch is
            read and converted to float32 on the fly; a :mod:`scipy.sparse` matrix (CSR,
            CSC, COO...) is densified one mini-batch at a time, with the same result
            as its dense twin.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one pass (epoch) over ``X``, continuing from the current state.

        The first call initialises the network (``output_activation='auto'`` is
        resolved from that first chunk); later calls continue training it, so a
        dataset can be streamed chunk by chunk, as with
        :class:`~sklearn.decomposition.IncrementalPCA` (``n_samples_seen_`` counts
        the samples); a chunk can be a slice of a memory-mapped file, read batch by
        batch. ``early_stopping`` is ignored.
        Between calls, changes to ``lr`` and to penalty weights made with
        ``set_params`` take effect (the optimizer keeps its state); the architecture,
        optimizer type, batch size and input corruption stay those of the first call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, incremental=True)

    # -------------------------------------------------------------- inference
    def score_samples(self, X):
        """Negative reconstruction error of each sample (higher = better reconstructed).

        The error is the training loss (``loss``) averaged over the features,
        without penalties or input corruption. Use it as an anomaly score: unusual
        samples reconstruct badly and get low values.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-sample negative reconstruction error (float64).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        self._check_loss_range(X)
        net = self.net_
        err = net.apply_batched(
            lambda xb: net.criterion_.per_sample(net.module_(xb), xb),
            X,
            self._inference_rows(),
            np.float64,
        )
        return -err

    def score(self, X, y=None):
        """Negative mean reconstruction error on ``X`` (higher is better).

        This lets :class:`~sklearn.model_selection.GridSearchCV` tune an
        autoencoder, or a Pipeline ending in one, without labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Mean of :meth:`score_samples`.
        """
        return float(np.mean(self.score_samples(X)))
