"""The sparse autoencoder: a KL-divergence or L1 activity penalty on the code."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAutoencoder
from .penalties import KLSparsityPenalty, L1ActivityPenalty


class SparseAutoencoder(BaseAutoencoder):
    """Autoencoder whose code units are pushed to be rarely active.

    With ``sparsity="kl"`` (the classic sparse autoencoder of Ng's UFLDL notes) the
    loss is

    .. math::

        L = \\text{reconstruction} + \\beta \\sum_j \\mathrm{KL}(\\rho \\,\\|\\, \\hat\\rho_j),
        \\quad \\hat\\rho_j = \\frac{1}{m} \\sum_{i=1}^m h_j(x_i),

    where :math:`\\hat\\rho_j` is the mean activation of code unit :math:`j` over a
    mini-batch of :math:`m` samples, :math:`\\rho` = ``sparsity_target`` and
    :math:`\\beta` = ``sparsity_weight``. The code units are sigmoids, so activations
    lie in (0, 1); :math:`\\hat\\rho` is clipped to :math:`[10^{-6}, 1 - 10^{-6}]` so
    the loss stays finite. With ``sparsity="l1"`` the penalty is
    :math:`\\beta \\cdot \\mathrm{mean}_{i,j} |h_j(x_i)|` (an activity penalty; any code
    activation works). L2 weight decay on the weights (not the biases) is
    ``weight_decay``.

    Sparse codes can be wider than the input (overcomplete) and still be useful: each
    unit learns a local feature (a stroke) that fires for few inputs.

    Parameters
    ----------
    n_components : int, default=64
        Number of code units.
    hidden_layer_sizes : int or sequence of int, default=()
        Encoder hidden layers (decoder mirrors them). ``()`` is the classic one-layer
        sparse autoencoder ``input -> code -> output``.
    activation : str, default="sigmoid"
        Activation of the hidden layers (must be ``"sigmoid"`` when
        ``sparsity="kl"`` and ``sparsity_layers="all"``).
    code_activation : str, default="sigmoid"
        Activation of the code layer; must be ``"sigmoid"`` for ``sparsity="kl"``.
    output_activation : {"auto", "identity", "sigmoid", "tanh"}, default="auto"
        As in :class:`Autoencoder`.
    loss : {"mse", "bce"}, default="mse"
        Reconstruction loss.
    sparsity : {"kl", "l1"}, default="kl"
        The sparsity penalty.
    sparsity_target : float, default=0.05
        Target mean activation :math:`\\rho` of each unit (``sparsity="kl"``).
    sparsity_weight : float, default=0.1
        Penalty weight :math:`\\beta`. The reconstruction loss is a mean over
        features, the KL term a sum over units, so the right size depends on the data;
        0.1 holds the mean activation near the target on [0, 1]-scaled digits.
    sparsity_layers : {"code", "all"}, default="code"
        Penalise the code only, or every encoder layer.
    lr : float, default=1e-2
        Learning rate; higher than :class:`Autoencoder`'s because saturating sigmoid
        units learn slowly (on digits, 1e-3 leaves the penalised model at 6x the
        reconstruction error after 200 epochs).
    max_iter, batch_size, optimizer, weight_decay, early_stopping, \
validation_fraction, n_iter_no_change, tol, device, mixed_precision, compile, \
random_state, verbose, callbacks
        As in :class:`Autoencoder`; ``weight_decay`` is the L2 weight decay.

    Attributes
    ----------
    mean_activation_ : ndarray of shape (n_components,)
        Mean activation of each code unit on the training data (of the last
        ``partial_fit`` call when training incrementally).
    net_, output_activation_, n_iter_, loss_curve_, validation_loss_curve_, \
history_, n_features_in_, feature_names_in_, n_samples_seen_
        As in :class:`Autoencoder`. ``history_`` records ``train_reconstruction`` and
        ``train_sparsity`` separately.

    See Also
    --------
    Autoencoder : Without the penalty.
    sklearn.decomposition.DictionaryLearning : Sparse codes by optimisation.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import SparseAutoencoder
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> sae = SparseAutoencoder(n_components=64, max_iter=50, random_state=0).fit(X)
    >>> sae.transform(X).shape
    (1797, 64)
    >>> bool(sae.mean_activation_.mean() < 0.1)
    True
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "sparsity": [StrOptions({"kl", "l1"})],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
        "sparsity_layers": [StrOptions({"code", "all"})],
    }

    def __init__(
        self,
        n_components=64,
        *,
        hidden_layer_sizes=(),
        activation="sigmoid",
        code_activation="sigmoid",
        output_activation="auto",
        loss="mse",
        sparsity="kl",
        sparsity_target=0.05,
        sparsity_weight=0.1,
        sparsity_layers="code",
        max_iter=200,
        batch_size=128,
        lr=1e-2,
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
        self.sparsity = sparsity
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight
        self.sparsity_layers = sparsity_layers
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

    def _build_penalties(self):
        if self.sparsity == "kl":
            bad = self.code_activation != "sigmoid" or (
                self.sparsity_layers == "all"
                and self._hidden_sizes()
                and self.activation != "sigmoid"
            )
            if bad:
                raise ValueError(
                    "sparsity='kl' compares mean activations with a Bernoulli target, so the "
                    "penalised units must be sigmoids: got code_activation="
                    f"{self.code_activation!r}, activation={self.activation!r}, "
                    f"sparsity_layers={self.sparsity_layers!r}. Use sigmoid units or "
                    "sparsity='l1'."
                )
            penalty = KLSparsityPenalty(
                self.sparsity_target, self.sparsity_weight, layers=self.sparsity_layers
            )
        else:
            penalty = L1ActivityPenalty(self.sparsity_weight, layers=self.sparsity_layers)
        return [*super()._build_penalties(), penalty]

    def _set_fitted(self, net, X32):
        super()._set_fitted(net, X32)
        codes = net.apply_batched(net.module_.encode, X32, self._inference_batch_size)
        self.mean_activation_ = codes.mean(axis=0).astype("float64")
        return self
