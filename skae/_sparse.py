"""The sparse autoencoder: a KL-divergence or L1 activity penalty on the code."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import RECONSTRUCTION_CONSTRAINTS, BaseAutoencoder
from .penalties import KLSparsityPenalty, L1ActivityPenalty


class SparseAutoencoder(BaseAutoencoder):
    """Autoencoder whose code units are pushed to be rarely active.

    With ``sparsity="kl"`` (the classic sparse autoencoder of Ng's UFLDL notes) the
    training objective, per sample and in the papers' convention (the reconstruction
    error summed over the :math:`d` features), is

    .. math::

        \\ell(x) + \\beta \\sum_j \\mathrm{KL}(\\rho \\,\\|\\, \\hat\\rho_j)
        + \\frac{\\lambda}{2} \\sum_l \\lVert W_l \\rVert_F^2,
        \\quad \\hat\\rho_j = \\frac{1}{m} \\sum_{i=1}^m h_j(x_i),

    where :math:`\\ell` is the reconstruction error summed over features,
    :math:`\\hat\\rho_j` the mean activation of code unit :math:`j` over a
    mini-batch of :math:`m` samples, :math:`\\rho` = ``sparsity_target``,
    :math:`\\beta` = ``sparsity_weight`` and :math:`\\lambda` = ``weight_decay``
    (skae reports the reconstruction as a mean over features, so the recorded loss
    is this objective divided by :math:`d`; see :ref:`penalty-scale`). The code
    units are sigmoids, so activations lie in (0, 1); :math:`\\hat\\rho` is clipped
    to :math:`[10^{-6}, 1 - 10^{-6}]` so the loss stays finite. With
    ``sparsity="l1"`` the penalty is :math:`\\beta \\sum_j |h_j(x)|` (an activity
    penalty; any code activation works).

    The first decoder layer has columns of fixed norm ``decoder_norm`` (one column
    per code unit), the constraint dictionary learning puts on its atoms: without
    it the penalty can be met by shrinking every code and growing the decoder by
    the same factor, and the codes keep shrinking as long as training runs.

    Sparse codes can be wider than the input (overcomplete) and still be useful: each
    unit learns a local feature (a stroke) that fires for few inputs.

    Read more in the :doc:`User Guide </sparse>`.

    Parameters
    ----------
    n_components : int, default=64
        Number of code units.
    hidden_layer_sizes : int or sequence of int, default=(512,)
        Encoder hidden layers (the decoder mirrors them). ``()`` is the classic
        one-layer sparse autoencoder ``input -> code -> output``. A wide hidden layer
        feeds the sparse code more features to choose from (MNIST, 32 codes, 20
        epochs: 0.856 with 512 units, 0.841 with 256; PCA-32 0.866).
    activation : str, default="relu"
        Activation of the hidden layers (must be ``"sigmoid"`` when
        ``sparsity="kl"`` and ``sparsity_layers="all"``).
    code_activation : str, default="sigmoid"
        Activation of the code layer; must be ``"sigmoid"`` for ``sparsity="kl"``.
    output_activation : {"auto", "identity", "sigmoid", "tanh"}, default="auto"
        As in :class:`Autoencoder`.
    loss : {"auto", "mse", "bce"}, default="auto"
        Reconstruction loss. ``"auto"`` is binary cross-entropy for training data
        in [0, 1] and the squared error otherwise (stored in
        ``reconstruction_loss_``). On MNIST, cross-entropy codes classify about
        1 % better at the same sparsity (``docs/sparse.rst``).
    sparsity : {"kl", "l1"}, default="kl"
        The sparsity penalty.
    sparsity_target : float, default=0.2
        Target mean activation :math:`\\rho` of each unit (``sparsity="kl"``). UFLDL's
        exercises use 0.1 with 196 or more units; with a code as small as PCA's
        (32 units) a unit active for 20 % of the inputs keeps about six units on per
        input, and the codes classify better (digits: 0.951-0.956 against
        0.942-0.951 at 0.1, PCA-32 0.964; MNIST about the same, 0.855-0.857;
        ``docs/sparse.rst``).
    sparsity_weight : float or "auto", default="auto"
        Penalty weight :math:`\\beta`, in the papers' convention (UFLDL's
        :math:`\\beta = 3` means the same here, up to UFLDL's factor 1/2 on the
        squared error: pass 6). ``"auto"`` is ``n_features / 20`` for the KL
        penalty and ``n_features / 1000`` for the L1 one: the reconstruction term
        sums ``n_features`` errors while the penalty sums over the code units, so a
        fixed :math:`\\beta` is about ten times stronger on 8x8 digits than on 28x28
        MNIST; scaling it with ``n_features`` keeps the balance on both (measured in
        ``docs/sparse.rst``).
    sparsity_layers : {"code", "all"}, default="code"
        Penalise the code only, or every encoder layer.
    decoder_norm : float or None, default=5.0
        Norm of each code unit's weights in the first decoder layer (see above);
        ``None`` leaves the decoder unconstrained.
    lr : float, default=1e-2
        Learning rate. Higher than :class:`Autoencoder`'s: at 1e-3 the sigmoid code
        units learn slowly (MNIST, 20 epochs: 0.82 against 0.85 for a logistic
        regression on the codes).
    max_iter, batch_size, optimizer, weight_decay, early_stopping, \
validation_fraction, n_iter_no_change, tol, device, mixed_precision, compile, \
random_state, verbose, callbacks
        As in :class:`Autoencoder`; ``weight_decay`` is :math:`\\lambda` above.

    Attributes
    ----------
    mean_activation_ : ndarray of shape (n_components,)
        Mean activation of each code unit on the training data (of the last
        ``partial_fit`` call when training incrementally).
    sparsity_weight_ : float
        The penalty weight :math:`\\beta` used (``sparsity_weight`` resolved).
    reconstruction_loss_ : str
        The reconstruction loss used, ``"bce"`` or ``"mse"``.
    net_, output_activation_, n_iter_, loss_curve_, validation_loss_curve_, \
history_, n_features_in_, feature_names_in_, n_samples_seen_
        As in :class:`Autoencoder`. ``history_`` records ``train_reconstruction`` and
        ``train_sparsity`` separately.

    See Also
    --------
    Autoencoder : Without the penalty.
    sklearn.decomposition.DictionaryLearning : Sparse codes by optimisation.

    References
    ----------
    A. Ng. Sparse autoencoder. CS294A lecture notes, Stanford, 2011 (UFLDL).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import SparseAutoencoder
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> sae = SparseAutoencoder(n_components=64, max_iter=50, random_state=0).fit(X)
    >>> sae.transform(X).shape
    (1797, 64)
    >>> sae.reconstruction_loss_, sae.sparsity_weight_
    ('bce', 3.2)
    >>> bool(abs(sae.mean_activation_.mean() - 0.2) < 0.02)
    True
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **RECONSTRUCTION_CONSTRAINTS,
        "sparsity": [StrOptions({"kl", "l1"})],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "sparsity_layers": [StrOptions({"code", "all"})],
        "decoder_norm": [Interval(Real, 0, None, closed="neither"), None],
    }

    #: ``sparsity_weight="auto"`` is ``n_features`` times this, per penalty.
    _AUTO_WEIGHT_PER_FEATURE = {"kl": 1 / 20, "l1": 1 / 1000}

    def __init__(
        self,
        n_components=64,
        *,
        hidden_layer_sizes=(512,),
        activation="relu",
        code_activation="sigmoid",
        output_activation="auto",
        loss="auto",
        sparsity="kl",
        sparsity_target=0.2,
        sparsity_weight="auto",
        sparsity_layers="code",
        decoder_norm=5.0,
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
        self.decoder_norm = decoder_norm
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

    def _resolved_sparsity_weight(self) -> float:
        if self.sparsity_weight == "auto":
            return float(self.n_features_in_ * self._AUTO_WEIGHT_PER_FEATURE[self.sparsity])
        return float(self.sparsity_weight)

    def _build_penalties(self):
        weight = self.sparsity_weight_ = self._resolved_sparsity_weight()
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
            penalty = KLSparsityPenalty(self.sparsity_target, weight, layers=self.sparsity_layers)
        else:
            penalty = L1ActivityPenalty(weight, layers=self.sparsity_layers)
        return [*super()._build_penalties(), penalty]

    def _set_fitted(self, net, X32):
        super()._set_fitted(net, X32)
        codes = net.apply_batched(net.module_.encode, X32, self._inference_rows())
        self.mean_activation_ = codes.mean(axis=0).astype(np.float64)
        return self
