"""The contractive autoencoder: a penalty on the Jacobian of the encoder."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._base import RECONSTRUCTION_CONSTRAINTS, BaseAutoencoder
from .penalties import ContractivePenalty


class ContractiveAutoencoder(BaseAutoencoder):
    """Autoencoder whose code is made insensitive to small changes of the input.

    The contractive autoencoder (CAE) of Rifai et al. (2011) adds the squared
    Frobenius norm of the Jacobian of the encoder :math:`f` to the reconstruction
    loss:

    .. math::

        L = \\text{reconstruction}
            + \\lambda \\, \\frac{1}{m} \\sum_{i=1}^m \\lVert J_f(x_i) \\rVert_F^2,
        \\qquad
        \\lVert J_f(x) \\rVert_F^2 = \\sum_{j, i}
            \\Big(\\frac{\\partial f_j(x)}{\\partial x_i}\\Big)^2,

    averaged over a mini-batch of :math:`m` samples, with :math:`\\lambda` =
    ``contractive_weight``. The penalty flattens the code along every direction
    of input space, and the reconstruction term keeps it sensitive only along the
    directions the data actually vary in: the code follows the data manifold and
    ignores small perturbations off it.

    The weight :math:`\\lambda` is in the paper's convention, relative to the
    reconstruction error summed over the features (see :ref:`penalty-scale`).

    The default encoder has a ReLU hidden layer and a sigmoid code, trained with
    cross-entropy on [0, 1] data (as in the paper): the sigmoid bounds the code, so
    the Jacobian cannot shrink by a mere rescaling of the code, and the first decoder
    layer has columns of fixed norm (``decoder_norm``) so the decoder cannot grow to
    compensate a flattened code. Its penalty is the exact layer-by-layer product
    :math:`J = D_L W_L \\cdots D_1 W_1`, which costs about ``n_components`` encoder
    passes per sample (a fit takes about 3 times a plain autoencoder's; see
    :class:`skae.penalties.ContractivePenalty` and
    ``benchmarks/contractive_cost.py``). ``hidden_layer_sizes=()`` gives the
    one-layer model of the paper, ``input -> sigmoid code -> output``, whose penalty
    has the closed form

    .. math::

        \\lVert J_f(x) \\rVert_F^2 = \\sum_{j=1}^k \\big(h_j (1 - h_j)\\big)^2
            \\sum_{i=1}^d W_{ji}^2, \\qquad h = \\sigma(W x + b),

    at :math:`O(dk)` per sample (an epoch costs little more than a plain
    autoencoder epoch), but as an undercomplete model it learns much less in the same
    number of epochs (MNIST, 32 codes, 20 epochs: a logistic regression on its codes
    scores 0.63, against 0.85 for the default; ``docs/contractive.rst``).

    Read more in the :doc:`User Guide </contractive>`.

    Parameters
    ----------
    n_components : int, default=32
        Size of the code (the number of output features of ``transform``).
    hidden_layer_sizes : int or sequence of int, default=(256,)
        Sizes of the encoder's hidden layers, input side first; the decoder mirrors
        them. ``()`` is the one-layer contractive autoencoder of the paper, with the
        closed-form penalty.
    activation : {"relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid", "identity"}, \
default="relu"
        Activation of the hidden layers. ``"gelu"`` falls back to an autograd
        Jacobian (slower); the others use the layer-by-layer product.
    code_activation : str, default="sigmoid"
        Activation of the code layer (same choices as ``activation``). Sigmoid by
        default (unlike :class:`Autoencoder`), as in Rifai et al. (2011): saturated
        units have a small derivative, which is how the model contracts.
    output_activation : {"auto", "identity", "sigmoid", "tanh"}, default="auto"
        As in :class:`Autoencoder`.
    loss : {"auto", "mse", "bce"}, default="auto"
        Reconstruction loss. ``"auto"`` is binary cross-entropy (the paper's) for
        training data in [0, 1] and the squared error otherwise (stored in
        ``reconstruction_loss_``).
    contractive_weight : float, default=0.03
        Penalty weight :math:`\\lambda` (>= 0; 0 gives a plain autoencoder), relative
        to the reconstruction error summed over the features, as in the paper. On
        MNIST (5,000 images, 32 codes, 20 epochs) 0.03 lowers the mean
        :math:`\\lVert J \\rVert_F` on test images by a third while a logistic
        regression on the codes stays within 0.02 of PCA's; 0.1 costs another 0.01
        of accuracy (``docs/contractive.rst``). Tune it with
        :class:`~sklearn.model_selection.GridSearchCV`.
    decoder_norm : float or None, default=5.0
        Norm of each code unit's weights in the first decoder layer (see
        :class:`skae.nn.FixedNormLinear`); ``None`` leaves the decoder
        unconstrained.
    lr : float, default=1e-2
        Learning rate; higher than :class:`Autoencoder`'s because saturating sigmoid
        code units learn slowly (MNIST, 20 epochs: 0.74 with 1e-3 against 0.83 with
        1e-2 for a logistic regression on the codes of the unpenalised model).
    max_iter, batch_size, optimizer, weight_decay, early_stopping, \
validation_fraction, n_iter_no_change, tol, device, mixed_precision, compile, \
random_state, verbose, callbacks
        As in :class:`Autoencoder`. The stopping rule watches the total loss
        (reconstruction + penalty).

    Attributes
    ----------
    reconstruction_loss_ : str
        The reconstruction loss used, ``"bce"`` or ``"mse"``.
    net_, output_activation_, n_iter_, loss_curve_, validation_loss_curve_, \
history_, n_features_in_, feature_names_in_, n_samples_seen_
        As in :class:`Autoencoder`. ``history_`` records ``train_reconstruction`` and
        ``train_contraction`` (the weighted penalty) separately.

    See Also
    --------
    Autoencoder : Without the penalty.
    SparseAutoencoder : Penalises the code activations instead of their derivatives.

    References
    ----------
    S. Rifai, P. Vincent, X. Muller, X. Glorot and Y. Bengio. Contractive
    auto-encoders: explicit invariance during feature extraction. ICML 2011.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import ContractiveAutoencoder
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> cae = ContractiveAutoencoder(n_components=16, max_iter=5, random_state=0).fit(X)
    >>> cae.transform(X).shape
    (1797, 16)
    >>> cae.jacobian_norm(X[:3]).shape
    (3,)
    >>> "train_contraction" in cae.history_[-1]
    True
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        **RECONSTRUCTION_CONSTRAINTS,
        "contractive_weight": [Interval(Real, 0, None, closed="left")],
        "decoder_norm": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        n_components=32,
        *,
        hidden_layer_sizes=(256,),
        activation="relu",
        code_activation="sigmoid",
        output_activation="auto",
        loss="auto",
        contractive_weight=0.03,
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
        self.contractive_weight = contractive_weight
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

    def _build_penalties(self):
        return [*super()._build_penalties(), ContractivePenalty(self.contractive_weight)]

    def jacobian_norm(self, X):
        """Frobenius norm of the encoder's Jacobian at each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points at which to evaluate :math:`\\lVert J_f(x) \\rVert_F`.

        Returns
        -------
        norms : ndarray of shape (n_samples,)
            :math:`\\lVert \\partial f(x_i) / \\partial x_i \\rVert_F` for each row
            (float64; computed in float32). Lower means a code less sensitive to
            small changes of the input.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        module = self.net_.module_
        penalty = ContractivePenalty(1.0)

        def fn(xb):
            sq = penalty.per_sample(module(xb), xb, module)
            return sq.clamp_min(0).sqrt()

        # Not inference_mode: the autograd fallback (torch.func) needs autograd;
        # under no_grad it still differentiates inside, but records no graph.
        return self.net_.apply_batched(
            fn, X, self._inference_rows(), np.float64, inference_mode=False
        )
