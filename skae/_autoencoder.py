"""The plain (undercomplete) autoencoder."""

from __future__ import annotations

from ._base import RECONSTRUCTION_CONSTRAINTS, BaseAutoencoder


class Autoencoder(BaseAutoencoder):
    """Undercomplete fully connected autoencoder as a scikit-learn transformer.

    The encoder maps ``n_features -> hidden_layer_sizes... -> n_components``; the
    decoder mirrors it back to ``n_features``. ``transform`` returns the code,
    ``inverse_transform`` decodes codes, and ``score`` is the negative mean
    reconstruction error, so the estimator slots in wherever
    :class:`~sklearn.decomposition.PCA` does: in a Pipeline, in
    :class:`~sklearn.model_selection.GridSearchCV` (with or without labels), in
    ``clone`` and pickles.

    Training runs on PyTorch through skorch; the fitted skorch net is ``net_``.

    Read more in the :doc:`User Guide </autoencoder>`.

    Parameters
    ----------
    n_components : int, default=32
        Size of the code (the number of output features of ``transform``).
    hidden_layer_sizes : int or sequence of int, default=(256,)
        Sizes of the encoder's hidden layers, input side first; the decoder mirrors
        them. ``()`` gives the classic shallow autoencoder
        ``input -> code -> output``.
    activation : {"relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid", "identity"}, \
default="relu"
        Activation of the hidden layers.
    code_activation : str, default="identity"
        Activation of the code layer (same choices as ``activation``). Linear by
        default, so no code unit can die the way a ReLU unit does and codes are
        unbounded like PCA scores.
    output_activation : {"auto", "identity", "sigmoid", "tanh"}, default="auto"
        Activation of the output layer. ``"auto"`` picks ``"sigmoid"`` when
        ``loss="bce"`` or the training data lie in [0, 1] (pixels,
        :class:`~sklearn.preprocessing.MinMaxScaler` output) and ``"identity"``
        otherwise (e.g. standardised data). The choice is stored in
        ``output_activation_``.
    loss : {"mse", "bce"}, default="mse"
        Reconstruction loss: mean squared error, or binary cross-entropy for data
        in [0, 1] (computed from the logits, so it stays finite).
    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).
    batch_size : int, default=128
        Mini-batch size (capped at the number of training samples).
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
default="adam"
        Optimizer. ``"sgd"`` uses Nesterov momentum 0.9. A class is instantiated
        with ``lr`` (and ``weight_decay`` if non-zero).
    weight_decay : float, default=0.0
        L2 penalty on the weights (not the biases), passed to the optimizer
        (decoupled for ``"adamw"``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when the
        validation loss has not improved for ``n_iter_no_change`` epochs, and
        restore the weights of the best epoch. When False, training stops once
        the training loss stalls for ``n_iter_no_change`` epochs (and the last
        weights are kept).
    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Patience, in epochs, of the stopping rule.
    tol : float, default=1e-4
        Relative improvement that counts for the stopping rule: an epoch improves
        when its loss is below ``best * (1 - tol)``.
    device : str, default="cpu"
        Torch device: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, or ``"auto"`` (CUDA
        when available). The data stay in host memory and batches are moved to the
        device one at a time (from pinned memory, asynchronously, on a GPU);
        results are always numpy arrays on the CPU. Inside a
        :mod:`torch.distributed` process group, ``"cuda"`` is this process's GPU
        (``LOCAL_RANK``) and training is data-parallel (see ``docs/scale.rst``).
    mixed_precision : bool or {"bfloat16", "float16"}, default=False
        Train with automatic mixed precision (:func:`torch.autocast`): the forward
        pass and the loss run in a 16-bit float type where that is safe, while the
        weights and the optimizer state stay float32. ``True`` picks
        ``"bfloat16"`` (CPUs, Ampere and newer GPUs) or ``"float16"`` (older GPUs);
        ``"float16"`` needs a CUDA device and uses a gradient scaler. Inference
        (``transform``, ``score_samples``...) always runs in float32.
    compile : bool, default=False
        Compile the training forward pass with :func:`torch.compile`. The first
        epoch pays for the compilation (seconds to a minute), so it pays off on
        long fits, mostly on GPUs. ``net_.module_`` stays the plain module (it
        pickles as usual); inference runs eagerly.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, the validation split and any noise.
        The global torch random state is never changed, in any thread. An int (or
        a RandomState instance, which is advanced) leaves the global numpy state
        alone too and makes results reproducible across calls; ``None`` draws the
        seeds from numpy's global random state, which that advances (scikit-learn's
        convention).
    verbose : int, default=0
        0: silent. 1: a progress bar over the epochs (:class:`skae.callbacks.ProgressBar`,
        a widget in notebooks) with the current loss and each penalty term. 2 or
        more: a per-epoch table (skorch's ``PrintLog``).
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks (copied at fit time, so the originals stay untouched).

    Attributes
    ----------
    net_ : skae.engine.AutoencoderNet
        The trained skorch net (``net_.module_`` is the torch module).
    output_activation_ : str
        The output activation actually used.
    n_iter_ : int
        Number of epochs run (one per ``partial_fit`` call).
    n_samples_seen_ : int
        Number of training samples: ``len(X)`` after ``fit``, the running total
        over the calls to ``partial_fit``.
    loss_curve_ : list of float
        Training loss per epoch.
    validation_loss_curve_ : list of float
        Validation loss per epoch (only with ``early_stopping=True``).
    history_ : skorch.History
        Full training history (per epoch and per batch).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.neural_network.BernoulliRBM : Another unsupervised neural feature learner.

    Notes
    -----
    Computation is in float32; float64 input gives float64 output (the values are
    float32 precision); float64 values beyond float32's range are rejected. A loss
    that becomes NaN or infinite, or grows beyond 10,000 times its first value,
    raises :class:`skae.exceptions.TrainingDivergedError` and leaves the estimator
    unfitted.

    The code is meant to be smaller than the input: ``fit`` warns
    (:class:`skae.exceptions.OvercompleteCodeWarning`) when ``n_components >=
    n_features``, because such a network can learn the identity map. The
    regularised variants (sparse, denoising, contractive) do not warn: their
    penalty or noise is what keeps an overcomplete code useful.

    Ctrl-C (:class:`KeyboardInterrupt`) during ``fit`` or ``partial_fit`` always
    reaches the caller (so scripts, grid searches and cross-validation stop). The
    estimator keeps the epochs that completed: it is fitted with the weights at
    the end of the last complete epoch (the best epoch's with
    ``early_stopping=True``), ``n_iter_ == len(loss_curve_)`` and
    ``n_samples_seen_`` counts the completed ``partial_fit`` calls, or it is left
    unfitted when no epoch completed.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import Autoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = MinMaxScaler().fit_transform(X)
    >>> ae = Autoencoder(n_components=16, max_iter=20, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (1797, 16)
    >>> ae.inverse_transform(ae.transform(X[:3])).shape
    (3, 64)
    >>> ae.output_activation_
    'sigmoid'
    """

    def __init__(
        self,
        n_components=32,
        *,
        hidden_layer_sizes=(256,),
        activation="relu",
        code_activation="identity",
        output_activation="auto",
        loss="mse",
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
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.code_activation = code_activation
        self.output_activation = output_activation
        self.loss = loss
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

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **RECONSTRUCTION_CONSTRAINTS,
    }

    _undercomplete = True
