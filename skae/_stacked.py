"""Stacked autoencoders: greedy layer-wise pretraining, fine-tuning, classification.

:class:`StackedAutoencoder` (a transformer) and :class:`StackedAutoencoderClassifier`
are meta-estimators: each layer of the stack is a clone of ``layer_estimator`` (any
skae autoencoder) fitted on the codes of the layer below (Bengio et al., 2007;
Vincent et al., 2010). The pretrained encoders are then copied into one torch module
that is fine-tuned end to end -- for reconstruction (the unrolled autoencoder) or
with a softmax layer on top for classification -- by the one training engine,
:class:`skae.engine.AutoencoderNet`.
"""

from __future__ import annotations

import copy
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import log_softmax
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    _fit_context,
    clone,
)
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_y,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)
from skorch.helper import predefined_split
from torch import nn

from ._autoencoder import Autoencoder
from ._base import BaseAutoencoder, CodeTransformerMixin, NetEstimatorMixin, resolve_device
from ._contractive import ContractiveAutoencoder
from ._data import (
    FLOAT_DTYPES,
    SEED_MAX,
    _as_float32,
    check_float32_range,
    is_lazy,
    make_dataset,
    model_input,
    take_rows,
)
from ._denoising import DenoisingAutoencoder
from ._sparse import SparseAutoencoder
from .engine import seeded
from .nn import (
    ReconstructionLoss,
    StackedAutoencoderModule,
    StackedClassifierModule,
)

__all__ = ["StackedAutoencoder", "StackedAutoencoderClassifier"]



#: The layer estimators a stack supports: the fully connected autoencoders (and
#: subclasses that keep their MLP encoder and decoder).
SUPPORTED_LAYER_ESTIMATORS = (
    Autoencoder, SparseAutoencoder, DenoisingAutoencoder, ContractiveAutoencoder,
)


def default_layer_estimator(device="cpu", mixed_precision=False, compile=False, verbose=0):
    """The layer trained at each level when ``layer_estimator=None``.

    A shallow autoencoder with a sigmoid code. The code must be nonlinear: shallow
    layers with linear codes stack into a purely linear network (a PCA-like
    subspace, whatever the depth). A sigmoid code also keeps every layer's input in
    [0, 1], so each layer above the first gets a sigmoid output too, and no unit
    can die the way a ReLU code unit does. ``lr=1e-2`` because one linear layer
    tolerates a larger step than a deep net; ``max_iter=50`` bounds the time spent
    per layer (the stall rule usually stops earlier on small data).
    """
    return Autoencoder(
        hidden_layer_sizes=(),
        code_activation="sigmoid",
        lr=1e-2,
        max_iter=50,
        device=device,
        mixed_precision=mixed_precision,
        compile=compile,
        verbose=verbose,
    )


def _layer_module(est):
    module = getattr(getattr(est, "net_", None), "module_", None)
    if module is None or not all(hasattr(module, a) for a in ("encoder", "decoder")):
        raise TypeError(
            f"layer_estimator must be a skae autoencoder whose fitted net_.module_ has "
            f"'encoder' and 'decoder' block lists; got {type(est).__name__}."
        )
    if len(module.encoder) != 1 or len(module.decoder) != 1:
        raise ValueError(
            "Each layer of a stack must be shallow (hidden_layer_sizes=()), but the fitted "
            f"layer has {len(module.encoder)} encoder blocks."
        )
    return module


# --------------------------------------------------------------------- shared logic
class _StackedMixin(NetEstimatorMixin):
    """Pretraining and net building shared by the stacked estimators."""

    _parameter_constraints: dict = {
        **NetEstimatorMixin._parameter_constraints,
        "layer_estimator": [HasMethods(["fit", "transform"]), None],
    }

    def _layer_sizes(self) -> tuple:
        raise NotImplementedError

    def _check_layer_estimator(self):
        """Reject a layer estimator the stack cannot use, before any training."""
        base = self.layer_estimator
        if base is None or isinstance(base, SUPPORTED_LAYER_ESTIMATORS):
            return
        names = ", ".join(cls.__name__ for cls in SUPPORTED_LAYER_ESTIMATORS)
        raise ValueError(
            f"layer_estimator must be one of skae's fully connected autoencoders ({names}), "
            "or a subclass of one that keeps its MLP encoder and decoder; got "
            f"{type(base).__name__}. Each layer of a stack must be one dense encoder layer "
            "and one dense decoder layer, which variational and convolutional autoencoders "
            "are not."
        )

    def _pretrain(self, X32, rng, device):
        """Fit one clone of the layer estimator per layer, each on the codes below."""
        base = self.layer_estimator
        if base is None:
            base = default_layer_estimator(device, self.mixed_precision, self.compile,
                                           self.verbose)
        sizes = self._layer_sizes()
        estimators, histories, Z = [], [], X32
        for i, size in enumerate(sizes, start=1):
            est = clone(base)
            try:
                est.set_params(
                    n_components=size,
                    hidden_layer_sizes=(),
                    random_state=rng.randint(SEED_MAX),
                )
            except ValueError as exc:
                raise ValueError(
                    "layer_estimator must accept the parameters n_components, "
                    f"hidden_layer_sizes and random_state (a skae autoencoder): {exc}"
                ) from exc
            # Set by the stack on its own clones: the progress bar's label, and no
            # warning for an overcomplete layer (the stack's sizes are a design choice).
            est._progress_desc = f"layer {i}/{len(sizes)}"
            est._undercomplete = False
            est.fit(Z)
            _layer_module(est)
            Z = _as_float32(est.transform(Z))
            estimators.append(est)
            histories.append(getattr(est, "history_", None))
        return estimators, histories

    def _train(self, module, criterion, X32, y, rng, device, epochs=None, keep_from=1):
        """Train ``module`` with the engine; ``y=None`` trains for reconstruction.

        On an interrupt the net is kept (``_record_net``) when at least ``keep_from``
        epochs completed, and the interrupt is raised again.
        """
        seed = rng.randint(SEED_MAX)
        if self.early_stopping:
            train_idx, valid_idx = self._split(len(X32), rng)
            dataset = make_dataset(X32, y, rows=train_idx)
            train_split = predefined_split(make_dataset(X32, y, rows=valid_idx))
        else:
            dataset, train_split = make_dataset(X32, y), None
        net = self._make_net(
            module,
            criterion=criterion,
            penalties=(),
            n_samples=len(dataset),
            device=device,
            train_split=train_split,
            early_stopping=self.early_stopping,
            random_state=seed,
        )
        net.initialize()
        try:
            if epochs != 0:
                net.partial_fit(dataset, epochs=epochs)
        except KeyboardInterrupt:
            if len(net.history) >= keep_from:
                net.train_split = None
                self._record_net(net)
            raise
        net.train_split = None  # the validation data must not travel with the model
        return net

    # persistence (skae._persist): the layer histories are views of the layers' nets
    _net_views = ("histories_",)

    def _link_net_views(self):
        self.histories_ = [getattr(est, "history_", None) for est in self.estimators_]


class StackedAutoencoder(_StackedMixin, CodeTransformerMixin, BaseEstimator):
    """Stacked autoencoder with greedy layer-wise pretraining, as a transformer.

    The architecture ``n_features -> hidden_layer_sizes... -> n_components`` is
    built one layer at a time: a shallow autoencoder ``n -> m -> n`` is trained on
    ``X``, ``X`` is encoded, a second one ``m -> k -> m`` is trained on those codes,
    and so on. Each layer is a clone of ``layer_estimator`` (a
    :class:`DenoisingAutoencoder` gives a stacked denoising autoencoder) with its
    sizes set; lower layers stay fixed while a layer trains. The pretrained layers
    are then unrolled into one deep autoencoder (all encoders, then the decoders in
    reverse) which, with ``fine_tune=True``, is trained end to end for
    reconstruction.

    Read more in the :doc:`User Guide </stacked>`.

    Parameters
    ----------
    n_components : int, default=32
        Size of the top code (the output features of ``transform``).
    hidden_layer_sizes : int or sequence of int, default=(256,)
        Sizes of the layers below the code, input side first.
    layer_estimator : estimator or None, default=None
        Unfitted fully connected skae autoencoder (:class:`Autoencoder`,
        :class:`SparseAutoencoder`, :class:`DenoisingAutoencoder`,
        :class:`ContractiveAutoencoder` or a subclass; others are rejected before
        training) trained at each level, cloned per layer with
        ``n_components`` set to the layer's size, ``hidden_layer_sizes=()`` (every
        layer is shallow, whatever the estimator says) and a ``random_state`` drawn
        from this estimator's. Its other settings (noise, sparsity, loss,
        ``max_iter``, ``lr``, device ...) are kept. Its nested parameters can be
        set or searched as ``layer_estimator__<name>``. ``None`` means
        ``Autoencoder(hidden_layer_sizes=(), code_activation="sigmoid", lr=1e-2,
        max_iter=50)``: a layer needs a nonlinear code, otherwise the stack is a
        linear map.
    fine_tune : bool, default=True
        After pretraining, train the unrolled autoencoder end to end to reconstruct
        ``X`` (reconstruction loss of the bottom layer's ``loss``, no penalties or
        corruption).
    max_iter : int, default=100
        Maximum number of epochs of the fine-tuning.
    batch_size : int, default=128
        Mini-batch size of the fine-tuning (capped at the number of training samples).
    lr : float, default=1e-3
        Learning rate of the fine-tuning.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, default="adam"
        Optimizer of the fine-tuning, as in :class:`Autoencoder`.
    weight_decay : float, default=0.0
        L2 penalty on the weights (not the biases) during the fine-tuning.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the fine-tuning's training data, stop when
        the validation loss has not improved for ``n_iter_no_change`` epochs and
        restore the best weights. Otherwise training stops once the training loss
        stalls for ``n_iter_no_change`` epochs.
    validation_fraction : float, default=0.1
        Fraction held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Patience, in epochs, of the stopping rule.
    tol : float, default=1e-4
        Relative improvement that counts for the stopping rule.
    device : str, default="cpu"
        Torch device of the fine-tuning and of inference (``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"auto"``). It is also the device of the default layer
        estimator; a given ``layer_estimator`` keeps its own ``device``.
    mixed_precision : bool or {"bfloat16", "float16"}, default=False
        Automatic mixed precision of the fine-tuning, as in :class:`Autoencoder`; also
        used by the default layer estimator (a given one keeps its own).
    compile : bool, default=False
        :func:`torch.compile` the fine-tuning's forward pass, as in
        :class:`Autoencoder`; also used by the default layer estimator.
    random_state : int, RandomState instance or None, default=None
        Seeds every layer (each gets its own seed drawn from it, which overrides the
        layer estimator's ``random_state``), the fine-tuning, the validation split and
        the head's initialisation. The global torch random state is never changed;
        ``None`` draws the seeds from numpy's global random state (scikit-learn's
        convention), an int leaves it alone.
    verbose : int, default=0
        1: a progress bar per layer (``layer 1/2``...) and one for the fine-tuning
        (:class:`skae.callbacks.ProgressBar`); 2 or more: per-epoch tables. It is
        also the default layer estimator's ``verbose``; a given ``layer_estimator``
        keeps its own (set ``layer_estimator__verbose``).
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks of the fine-tuning (copied at fit time).

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted layer estimators, input side first (their networks are copied,
        not shared, into ``net_``).
    histories_ : list of skorch.History
        The training history of each layer.
    net_ : skae.engine.AutoencoderNet
        The unrolled network (``net_.module_`` is a
        :class:`StackedAutoencoderModule`), fine-tuned when ``fine_tune=True``.
    n_iter_ : int
        Number of fine-tuning epochs run (0 without fine-tuning, or when Ctrl-C
        interrupted the first fine-tuning epoch: the pretrained stack is kept).
    loss_curve_ : list of float
        Fine-tuning loss per epoch.
    validation_loss_curve_ : list of float
        Validation loss per epoch (only with ``early_stopping=True``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    StackedAutoencoderClassifier : The same pretraining, then a softmax classifier.
    Autoencoder : A deep autoencoder trained end to end from random weights.

    References
    ----------
    Y. Bengio, P. Lamblin, D. Popovici and H. Larochelle, "Greedy layer-wise
    training of deep networks", NIPS 2007.

    P. Vincent et al., "Stacked denoising autoencoders", JMLR 11, 2010.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import StackedAutoencoder
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> sae = StackedAutoencoder(8, hidden_layer_sizes=(32,), max_iter=5,
    ...                          random_state=0).fit(X)
    >>> sae.transform(X).shape
    (1797, 8)
    >>> [est.n_components for est in sae.estimators_]
    [32, 8]
    >>> sae.inverse_transform(sae.transform(X[:2])).shape
    (2, 64)
    """

    _parameter_constraints: dict = {
        **_StackedMixin._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "fine_tune": ["boolean"],
    }

    def __init__(
        self,
        n_components=32,
        *,
        hidden_layer_sizes=(256,),
        layer_estimator=None,
        fine_tune=True,
        max_iter=100,
        batch_size=128,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        device="cpu",
        mixed_precision=False,
        compile=False,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.layer_estimator = layer_estimator
        self.fine_tune = fine_tune
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.mixed_precision = mixed_precision
        self.compile = compile
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def _layer_sizes(self):
        return (*self._hidden_sizes(), int(self.n_components))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Pretrain the layers greedily on ``X``, then optionally fine-tune.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit_guarded(lambda: self._fit(X))

    _progress_desc = "fine-tuning"

    def _net_parts(self):
        loss = getattr(self.estimators_[0], "reconstruction_loss_", "mse")
        return {"module": StackedAutoencoderModule.unroll(
                    [_layer_module(e) for e in self.estimators_]),
                "criterion": ReconstructionLoss(loss)}

    def _fit(self, X):
        self._check_layer_estimator()
        X = self._validate_X(X, reset=True)
        self._layer_sizes()  # fail before any work on a bad value
        device = resolve_device(self.device)
        rng = self._shared_random_state(self.random_state, check_random_state(self.random_state))
        X32 = model_input(X)
        self.estimators_, self.histories_ = self._pretrain(X32, rng, device)
        loss = getattr(self.estimators_[0], "reconstruction_loss_", "mse")
        net = self._train(
            StackedAutoencoderModule.unroll([_layer_module(e) for e in self.estimators_]),
            ReconstructionLoss(loss),
            X32,
            None,
            rng,
            device,
            epochs=None if self.fine_tune else 0,
            keep_from=0,  # interrupted in fine-tuning: the pretrained stack is a model
        )
        self._record_net(net)
        return self

    def score_samples(self, X):
        """Negative reconstruction error of each sample through the whole stack.

        ``X`` is encoded through every layer and decoded back; the error is the
        fine-tuning loss (the bottom layer's ``reconstruction_loss_``, e.g. the
        squared error) averaged over the features, as in
        :meth:`Autoencoder.score_samples`. Unusual samples reconstruct badly and
        get low values, so it serves as an anomaly score
        (:class:`AutoencoderOutlierDetector`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-sample negative reconstruction error (float64).

        Examples
        --------
        >>> import numpy as np
        >>> from skae import StackedAutoencoder
        >>> X = np.random.RandomState(0).rand(50, 6)
        >>> sae = StackedAutoencoder(2, hidden_layer_sizes=(4,), max_iter=2,
        ...                          random_state=0).fit(X)
        >>> sae.score_samples(X).shape
        (50,)
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        net = self.net_
        # The bottom layer chose the loss; binary cross-entropy needs [0, 1] input.
        if net.criterion_.loss == "bce" and X.size and (X.min() < 0.0 or X.max() > 1.0):
            raise ValueError(
                f"The stack reconstructs with loss='bce', which needs input values in "
                f"[0, 1], but X lies in [{X.min():.4g}, {X.max():.4g}]. Scale it (e.g. "
                "MinMaxScaler(clip=True)) or give the layer estimator loss='mse'."
            )
        err = net.apply_batched(
            lambda xb: net.criterion_.per_sample(net.module_(xb), xb),
            X,
            self._inference_rows(),
            np.float64,
        )
        return -err

    # the mean of score_samples, as every autoencoder's
    score = BaseAutoencoder.score


class StackedAutoencoderClassifier(_StackedMixin, ClassifierMixin, BaseEstimator):
    """Classifier on a greedily pretrained stack of autoencoders.

    ``fit(X, y)`` pretrains the stack ``n_features -> hidden_layer_sizes...`` on all
    of ``X`` exactly like :class:`StackedAutoencoder` (one clone of
    ``layer_estimator`` per layer), puts a softmax layer on the top code and trains
    with the labels through the engine with a cross-entropy loss: the whole network
    (``fine_tune="all"``) or only the softmax layer on frozen features
    (``fine_tune="top"``).

    Semi-supervised learning follows scikit-learn's convention: samples labelled
    ``-1`` are unlabelled; they take part in the pretraining only.

    Read more in the :doc:`User Guide </stacked>`.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(256, 128)
        Sizes of the stacked layers, input side first; the last one is the code
        the softmax layer reads.
    layer_estimator : estimator or None, default=None
        As in :class:`StackedAutoencoder`.
    fine_tune : {"all", "top"}, default="all"
        Train every layer with the labels, or only the softmax layer (the
        pretrained encoder stays bit-identical).
    pretrain : bool, default=True
        Pretrain the stack. With False the same network starts from random weights
        (PyTorch's default initialisation) and is trained on the labelled samples
        only: the baseline pretraining is measured against. ``estimators_`` is
        then empty.
    max_iter : int, default=200
        Maximum number of epochs of the supervised training.
    batch_size : int, default=128
        Mini-batch size of the supervised training (capped at the number of training samples).
    lr : float, default=1e-3
        Learning rate of the supervised training.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, default="adam"
        Optimizer of the supervised training, as in :class:`Autoencoder`.
    weight_decay : float, default=0.0
        L2 penalty on the weights (not the biases) during the supervised training.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the supervised training's training data, stop when
        the validation loss has not improved for ``n_iter_no_change`` epochs and
        restore the best weights. Otherwise training stops once the training loss
        stalls for ``n_iter_no_change`` epochs.
    validation_fraction : float, default=0.1
        Fraction held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Patience, in epochs, of the stopping rule.
    tol : float, default=1e-4
        Relative improvement that counts for the stopping rule.
    device : str, default="cpu"
        Torch device of the supervised training and of inference (``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"auto"``). It is also the device of the default layer
        estimator; a given ``layer_estimator`` keeps its own ``device``.
    mixed_precision : bool or {"bfloat16", "float16"}, default=False
        Automatic mixed precision of the supervised training, as in :class:`Autoencoder`; also
        used by the default layer estimator (a given one keeps its own).
    compile : bool, default=False
        :func:`torch.compile` the supervised training's forward pass, as in
        :class:`Autoencoder`; also used by the default layer estimator.
    random_state : int, RandomState instance or None, default=None
        Seeds every layer (each gets its own seed drawn from it, which overrides the
        layer estimator's ``random_state``), the supervised training, the validation split and
        the head's initialisation. The global torch random state is never changed;
        ``None`` draws the seeds from numpy's global random state (scikit-learn's
        convention), an int leaves it alone.
    verbose : int, default=0
        1: a progress bar per layer (``layer 1/2``...) and one for the supervised training
        (:class:`skae.callbacks.ProgressBar`); 2 or more: per-epoch tables. It is
        also the default layer estimator's ``verbose``; a given ``layer_estimator``
        keeps its own (set ``layer_estimator__verbose``).
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks of the supervised training (copied at fit time).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (of the labelled samples; ``-1`` is not a class).
    estimators_ : list of estimators
        The fitted layer estimators, input side first (their encoders are copied
        into ``net_``).
    histories_ : list of skorch.History
        The pretraining history of each layer.
    net_ : skae.engine.AutoencoderNet
        The trained network; ``net_.module_`` is a
        :class:`StackedClassifierModule` returning logits.
    n_iter_ : int
        Number of supervised epochs run.
    loss_curve_ : list of float
        Supervised training loss (cross-entropy) per epoch.
    validation_loss_curve_ : list of float
        Validation loss per epoch (only with ``early_stopping=True``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    StackedAutoencoder : The pretrained stack as a transformer.
    sklearn.neural_network.MLPClassifier : The same network without pretraining.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import StackedAutoencoderClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = MinMaxScaler().fit_transform(X)
    >>> y_semi = y.copy()
    >>> y_semi[200:] = -1  # only the first 200 samples are labelled
    >>> clf = StackedAutoencoderClassifier((32,), max_iter=20, random_state=0)
    >>> clf.fit(X, y_semi).classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> clf.predict_proba(X[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        **_StackedMixin._parameter_constraints,
        "fine_tune": [StrOptions({"all", "top"})],
        "pretrain": ["boolean"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(256, 128),
        *,
        layer_estimator=None,
        fine_tune="all",
        pretrain=True,
        max_iter=200,
        batch_size=128,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        device="cpu",
        mixed_precision=False,
        compile=False,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.layer_estimator = layer_estimator
        self.fine_tune = fine_tune
        self.pretrain = pretrain
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.mixed_precision = mixed_precision
        self.compile = compile
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def _layer_sizes(self):
        sizes = self._hidden_sizes()
        if not sizes:
            raise ValueError("hidden_layer_sizes must name at least one layer, got ().")
        return sizes

    @staticmethod
    def _unlabelled_mask(y):
        if y.dtype.kind in "iuf":
            return y == -1
        if y.dtype.kind == "O":
            return np.array(
                [not isinstance(v, str) and isinstance(v, Real) and v == -1 for v in y],
                dtype=bool,
            )
        return np.zeros(len(y), dtype=bool)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Pretrain on all of ``X``, then train the classifier on the labelled samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, labelled and unlabelled.
        y : array-like of shape (n_samples,)
            Class labels; ``-1`` marks an unlabelled sample (numeric labels, or an
            object array holding the number -1).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit_guarded(lambda: self._fit(X, y))

    _progress_desc = "supervised training"

    def _fit(self, X, y):
        self._check_layer_estimator()
        if is_lazy(X) or sp.issparse(X):  # never densified whole
            X = self._validate_X(X, reset=True)
            y = _check_y(y, estimator=self)
            check_consistent_length(X, y)
        else:
            X, y = validate_data(self, X, y, dtype=list(FLOAT_DTYPES))
            check_float32_range(X)
        labelled = ~self._unlabelled_mask(y)
        if not labelled.any():
            raise ValueError(
                "y has no labelled sample: every label is -1 (unlabelled). At least "
                "one labelled sample of each of two classes is needed."
            )
        y_lab = y[labelled]
        check_classification_targets(y_lab)
        encoder = LabelEncoder().fit(y_lab)
        classes = encoder.classes_
        if len(classes) < 2:
            raise ValueError(
                f"The labelled samples need at least 2 classes; got 1 class: {classes[0]!r}."
            )
        sizes = self._layer_sizes()
        device = resolve_device(self.device)
        rng = self._shared_random_state(self.random_state, check_random_state(self.random_state))
        X32 = model_input(X)
        if self.pretrain:
            self.estimators_, self.histories_ = self._pretrain(X32, rng, device)
        else:
            self.estimators_, self.histories_ = [], []
        head_seed = rng.randint(SEED_MAX)
        with seeded(head_seed, device):
            if self.pretrain:
                blocks = [copy.deepcopy(_layer_module(e).encoder[0]) for e in self.estimators_]
                module = StackedClassifierModule(blocks, sizes[-1], len(classes))
            else:
                module = StackedClassifierModule.with_random_encoder(
                    X32.shape[1], sizes, self._random_code_activation(device), len(classes))
        if self.fine_tune == "top":
            module.encoder.requires_grad_(False)
        y_idx = encoder.transform(y_lab).astype(np.int64)
        self.classes_ = classes  # before training: an interrupted fit may keep the net
        net = self._train(
            module,
            nn.CrossEntropyLoss(),
            X32 if labelled.all() else take_rows(X32, np.flatnonzero(labelled)),
            y_idx,
            rng,
            device,
        )
        self._record_net(net)
        return self

    def _net_parts(self):
        # the untrained network fit built (persistence: skae._persist restores its state)
        sizes = self._layer_sizes()
        if self.estimators_:
            blocks = [copy.deepcopy(_layer_module(e).encoder[0]) for e in self.estimators_]
            module = StackedClassifierModule(blocks, sizes[-1], len(self.classes_))
        else:
            module = StackedClassifierModule.with_random_encoder(
                self.n_features_in_, sizes, self._random_code_activation("cpu"),
                len(self.classes_))
        if self.fine_tune == "top":
            module.encoder.requires_grad_(False)
        return {"module": module, "criterion": nn.CrossEntropyLoss()}

    def _random_code_activation(self, device) -> str:
        """Activation of the fresh layers of ``pretrain=False``: the layer estimator's code's."""
        base = self.layer_estimator
        if base is None:
            base = default_layer_estimator(device)
        return base.get_params().get("code_activation", "sigmoid")

    def _logits(self, X):
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._apply(self.net_.module_, X, np.float64)

    def decision_function(self, X):
        """Class logits of the softmax layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            The logits; for two classes, the logit of ``classes_[1]`` minus that of
            ``classes_[0]`` (positive means ``classes_[1]``).
        """
        logits = self._logits(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_log_proba(self, X):
        """Log of the class probabilities (log-softmax of the logits, float64).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        return log_softmax(self._logits(X), axis=1)

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits, float64; rows sum to 1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The class of highest probability, from ``classes_``.
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
