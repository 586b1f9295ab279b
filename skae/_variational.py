"""The variational autoencoder: a transformer that is also a generative model."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAutoencoder
from ._data import SEED_MAX
from .callbacks import KLSchedule
from .nn import VAEModule, VAENegLogLikelihood, gaussian_kl
from .penalties import GaussianKLPenalty

__all__ = ["VariationalAutoencoder"]


# ------------------------------------------------------------------------ estimator
class VariationalAutoencoder(BaseAutoencoder):
    """Variational autoencoder (VAE) as a scikit-learn transformer and density model.

    The encoder maps ``x`` to the parameters of a diagonal Gaussian posterior
    :math:`q(z \\mid x) = \\mathcal N(\\mu(x), \\mathrm{diag}\\,\\sigma^2(x))`; the
    decoder gives the likelihood :math:`p(x \\mid z)`; the prior is
    :math:`p(z) = \\mathcal N(0, I)`. Training minimises the negative evidence lower
    bound (ELBO), in nats per sample,

    .. math::

        -\\mathrm{ELBO}(x) = \\mathbb E_{q(z \\mid x)}[-\\log p(x \\mid z)]
            + \\beta\\, \\mathrm{KL}(q(z \\mid x) \\,\\|\\, p(z)),
        \\qquad
        \\mathrm{KL} = \\tfrac12 \\sum_j (\\sigma_j^2 + \\mu_j^2 - 1 - \\log \\sigma_j^2),

    with one reparameterised sample :math:`z = \\mu + \\sigma \\odot \\epsilon`,
    :math:`\\epsilon \\sim \\mathcal N(0, I)`, per training row, through skae's
    training engine (the KL term is the penalty ``"kl"``). The log-variance is
    smoothly bounded to [-20, 10] so training cannot overflow.

    Like :class:`~sklearn.mixture.GaussianMixture` it is also a generative model:
    :meth:`sample` draws new data, :meth:`score_samples` returns a per-sample
    lower bound on :math:`\\log p(x)` and :meth:`score` its mean, so
    :class:`~sklearn.model_selection.GridSearchCV` can choose a VAE by held-out
    likelihood without labels.

    Read more in the :doc:`User Guide </variational>`.

    Parameters
    ----------
    n_components : int, default=16
        Dimension of the latent space.
    hidden_layer_sizes : int or sequence of int, default=(256,)
        Encoder hidden layers, input side first; the decoder mirrors them.
    activation : {"relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid", "identity"}, \
default="relu"
        Activation of the hidden layers.
    likelihood : {"auto", "bernoulli", "gaussian"}, default="auto"
        The decoder's distribution :math:`p(x \\mid z)`. ``"bernoulli"``: each
        feature is a Bernoulli probability (data must lie in [0, 1], e.g. pixels or
        :class:`~sklearn.preprocessing.MinMaxScaler` output; grey values between 0
        and 1 enter the cross-entropy as soft targets, the common practice, though
        the score is then not a normalised density of continuous data).
        ``"gaussian"``: a diagonal Gaussian around the decoder output, normalising
        constant included (a real log-density, for any real data; standardise it
        first). ``"auto"`` picks ``"bernoulli"`` for training
        data in [0, 1] and ``"gaussian"`` otherwise; the choice is stored in
        ``likelihood_``.
    gaussian_variance : "learned" or float, default="learned"
        Variance of the Gaussian likelihood: ``"learned"`` trains one variance per
        feature (independent of :math:`z`; its log is bounded to [-10, 10]); a
        float fixes it (1.0 on standardised data makes the reconstruction term
        half the squared error plus a constant). Ignored for ``"bernoulli"``.
    beta : float, default=0.5
        Weight of the KL term (beta-VAE; > 1 favours disentangled, smoother codes,
        < 1 sharper reconstructions and more active latent units). The reported ELBO
        always uses weight 1. The default 0.5 keeps the codes useful on small inputs:
        on 8x8 digits with 32 latent units, ``beta=1`` leaves 10 of them active (the
        others collapse to the prior) and a logistic regression on the codes scores
        0.918 against PCA's 0.964; ``beta=0.5`` keeps 21 active (0.960). On MNIST both
        score 0.87. Set ``beta=1`` for the model that maximises the ELBO itself
        (``docs/variational.rst``).
    kl_warmup : int, default=0
        Number of epochs over which the KL weight grows linearly from 0 to ``beta``
        (0 in the first epoch, ``beta`` from epoch ``kl_warmup + 1`` on); 0 turns
        warm-up off. Helps against posterior collapse ("inactive" latent units).
    n_importance_samples : int, default=1
        Number :math:`k` of posterior samples per row used by :meth:`score_samples`:
        1 gives the ELBO, :math:`k > 1` the importance-weighted bound (IWAE), which
        tightens towards :math:`\\log p(x)` as :math:`k` grows.
    sample_latent : bool, default=False
        If True, :meth:`transform` returns a sample :math:`z \\sim q(z \\mid x)`
        instead of the posterior mean.
    max_iter : int, default=200
        Maximum number of epochs.
    batch_size : int, default=128
        Mini-batch size.
    lr : float, default=1e-3
        Learning rate.
    optimizer, weight_decay, early_stopping, validation_fraction, n_iter_no_change, \
tol, device, mixed_precision, compile, random_state, verbose, callbacks
        As in :class:`Autoencoder`. The stopping rule watches the full objective
        (reconstruction + ``beta`` * KL, not the warm-up-weighted loss).
        ``random_state`` also seeds the noise of :meth:`score_samples`,
        :meth:`transform` with ``sample_latent=True`` and :meth:`sample`.

    Attributes
    ----------
    likelihood_ : str
        The likelihood used, ``"bernoulli"`` or ``"gaussian"``.
    elbo_ : float
        Training ELBO per sample (nats, KL weight 1) over the last epoch (one
        reparameterised sample per row, averaged over the epoch's batches).
    elbo_curve_ : list of float
        Training ELBO per epoch.
    net_, output_activation_, n_iter_, loss_curve_, validation_loss_curve_, \
history_, n_features_in_, feature_names_in_, n_samples_seen_
        As in :class:`Autoencoder`. ``output_activation_`` is ``"sigmoid"``
        (Bernoulli) or ``"identity"`` (Gaussian). ``loss_curve_`` is the
        (warm-up-weighted) training loss. ``history_`` records per epoch
        ``train_reconstruction`` (:math:`-\\log p(x \\mid z)`),
        ``train_kl`` (the weighted KL; ``train_loss`` is their sum),
        ``kl_weight``, ``train_kl_unweighted``, ``train_elbo`` and
        ``train_objective`` (see :class:`skae.callbacks.KLSchedule`).

    See Also
    --------
    Autoencoder : Deterministic codes, no density.
    sklearn.mixture.GaussianMixture : A density model with the same ``sample`` /
        ``score_samples`` interface.

    Notes
    -----
    ``transform`` returns the posterior mean :math:`\\mu(x)` and ``inverse_transform``
    the mean of :math:`p(x \\mid z)` (probabilities for Bernoulli). In evaluation
    mode the module decodes :math:`z = \\mu(x)`; so the validation loss used by
    ``early_stopping=True`` is the reconstruction at the posterior mean plus the KL
    (deterministic, a little optimistic). :meth:`score_samples` instead uses proper
    Monte Carlo estimates, with noise drawn once per call from a generator seeded by
    ``random_state`` and shared by all rows, so each row's score does not depend on
    the other rows.

    References
    ----------
    D. P. Kingma and M. Welling. Auto-encoding variational Bayes. ICLR 2014.
    Y. Burda, R. Grosse and R. Salakhutdinov. Importance weighted autoencoders.
    ICLR 2016.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import VariationalAutoencoder
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> vae = VariationalAutoencoder(n_components=8, max_iter=20, random_state=0).fit(X)
    >>> vae.likelihood_
    'bernoulli'
    >>> vae.transform(X[:5]).shape
    (5, 8)
    >>> vae.sample(3, random_state=0).shape
    (3, 64)
    >>> bool(vae.score(X) < 0)  # mean ELBO in nats
    True
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "likelihood": [StrOptions({"auto", "bernoulli", "gaussian"})],
        "gaussian_variance": [StrOptions({"learned"}), Interval(Real, 0, None, closed="neither")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "kl_warmup": [Interval(Integral, 0, None, closed="left")],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "sample_latent": ["boolean"],
    }

    #: Number of posterior samples for the reconstruction term of the ELBO in
    #: ``score_samples`` when ``n_importance_samples=1`` (the KL term is analytic).
    _n_elbo_samples = 16
    #: Values per decoded chunk (rows * samples * the module's ``activation_width``) in
    #: ``score_samples``.
    _score_budget = 1 << 22

    def __init__(
        self,
        n_components=16,
        *,
        hidden_layer_sizes=(256,),
        activation="relu",
        likelihood="auto",
        gaussian_variance="learned",
        beta=0.5,
        kl_warmup=0,
        n_importance_samples=1,
        sample_latent=False,
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
        self.likelihood = likelihood
        self.gaussian_variance = gaussian_variance
        self.beta = beta
        self.kl_warmup = kl_warmup
        self.n_importance_samples = n_importance_samples
        self.sample_latent = sample_latent
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

    # ------------------------------------------------------------------ hooks
    def _build_module(self, n_features):
        return VAEModule(
            n_features,
            self.n_components,
            hidden_layer_sizes=self._hidden_sizes(),
            activation=self.activation,
            likelihood=self.likelihood_,
            gaussian_variance=self.gaussian_variance,
        )

    def _build_criterion(self):
        return VAENegLogLikelihood(self.likelihood_)

    def _build_penalties(self):
        return [GaussianKLPenalty(self.beta)]

    # The warm-up-weighted loss rises while the KL weight grows: stop on the
    # beta-weighted objective that KLSchedule records instead.
    _stopping_metric = "objective"

    def _build_callbacks(self):
        return [("kl_schedule", KLSchedule(self.kl_warmup))]

    # ------------------------------------------------------------ validation
    def _resolve_loss(self, X):
        likelihood = self.likelihood
        if likelihood == "auto":
            likelihood = "bernoulli" if self._in_unit_interval(X) else "gaussian"
        self.likelihood_ = likelihood

    def _resolve_output_activation(self, X):
        return "sigmoid" if self.likelihood_ == "bernoulli" else "identity"

    def _check_range(self, X, likelihood):
        if likelihood == "bernoulli" and X.size and (X.min() < 0.0 or X.max() > 1.0):
            raise ValueError(
                "likelihood='bernoulli' needs input values in [0, 1], but X lies in "
                f"[{X.min():.4g}, {X.max():.4g}]. Scale it (e.g. MinMaxScaler) or use "
                "likelihood='gaussian'."
            )

    def _check_loss_range(self, X):
        self._check_range(X, self.likelihood_)

    def _set_fitted(self, net, X32):
        super()._set_fitted(net, X32)
        self.elbo_curve_ = [float(e["train_elbo"]) for e in net.history if "train_elbo" in e]
        # (an interrupt can come between an epoch's loss and its ELBO bookkeeping)
        self.elbo_ = self.elbo_curve_[-1] if self.elbo_curve_ else float("nan")
        # Seed of the noise used by score_samples / transform(sample_latent=True).
        self._noise_seed_ = int(check_random_state(self.random_state).randint(SEED_MAX))
        return self

    # -------------------------------------------------------------- inference
    def _generator(self, seed):
        return torch.Generator().manual_seed(int(seed))

    def transform(self, X):
        """Encode ``X`` into the latent space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The posterior means :math:`\\mu(x)` (deterministic), or with
            ``sample_latent=True`` one draw :math:`z \\sim q(z \\mid x)` per row
            (seeded by ``random_state``: repeated calls give the same draws). Same
            float dtype as ``X``.
        """
        if not self.sample_latent:
            return super().transform(X)
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        eps = torch.randn(len(X), self.n_components, generator=self._generator(self._noise_seed_))
        module = self.net_.module_

        def fn(xb):
            mu, logvar, _ = module.posterior(xb)
            return torch.cat([mu, torch.exp(0.5 * logvar)], dim=1)

        out = self._apply(fn, X)
        k = self.n_components
        return (out[:, :k] + out[:, k:] * eps.numpy()).astype(X.dtype, copy=False)

    def score_samples(self, X):
        """Lower bound on the log-likelihood :math:`\\log p(x)` of each sample, in nats.

        With ``n_importance_samples=1``: the ELBO, analytic KL and the expected
        reconstruction term estimated with 16 posterior samples. With
        ``n_importance_samples=k > 1``: the importance-weighted bound

        .. math::

            \\log \\frac1k \\sum_{i=1}^k \\frac{p(x \\mid z_i)\\, p(z_i)}{q(z_i \\mid x)},
            \\qquad z_i \\sim q(z \\mid x),

        (computed with logsumexp, in memory-bounded chunks), which is >= the ELBO in
        expectation and tends to :math:`\\log p(x)` as :math:`k \\to \\infty`. The
        noise :math:`\\epsilon` is drawn once per call from a generator seeded by
        ``random_state`` (fixed at fit time) and shared by all rows: results are
        deterministic, and a row's score does not depend on the other rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data (in [0, 1] for a Bernoulli likelihood).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-sample bound in nats (float64; computed in float32). For a Gaussian
            likelihood it is a log-density, so it can be positive.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        # Only the likelihood needs [0, 1] data: encoding a MinMaxScaler'd test set that
        # strays a little outside the training range (transform) is fine.
        self._check_loss_range(X)
        k = int(self.n_importance_samples)
        elbo = k == 1
        n_eps = self._n_elbo_samples if elbo else k
        eps = torch.randn(n_eps, self.n_components, generator=self._generator(self._noise_seed_))
        rows = self._inference_rows(per_row=n_eps, budget=self._score_budget)

        module = self.net_.module_

        def fn(xb):
            logw, mu, logvar = module.log_weights(xb, eps, importance=not elbo,
                                                  budget=self._score_budget)
            if elbo:
                return logw.mean(dim=0) - gaussian_kl(mu, logvar)
            return torch.logsumexp(logw, dim=0) - math.log(k)

        return self.net_.apply_batched(fn, X, rows, np.float64)

    def score(self, X, y=None):
        """Mean log-likelihood bound of ``X`` in nats (higher is better).

        The ELBO (``n_importance_samples=1``) or the importance-weighted bound
        (``n_importance_samples=k > 1``) averaged over the rows, so that
        :class:`~sklearn.model_selection.GridSearchCV` tunes a VAE, or a Pipeline
        ending in one, by held-out likelihood without labels. The bounds are Monte
        Carlo estimates with one set of noise shared by all rows: on the digits
        (450 held-out images) the mean moved by about 0.3 nats between noise seeds for
        the ELBO and 0.1 nats with ``n_importance_samples=50``; raise
        ``n_importance_samples`` when comparing models closer than that.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data (in [0, 1] for a Bernoulli likelihood).
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Mean of :meth:`score_samples`.
        """
        return super().score(X, y)  # overridden for its documentation only

    def sample(self, n_samples=1, random_state=None, *, return_mean=True):
        """Generate new data: draw :math:`z \\sim \\mathcal N(0, I)` and decode.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws (the global random state is not touched). None uses the
            estimator's ``random_state`` (as :meth:`GaussianMixture.sample
            <sklearn.mixture.GaussianMixture.sample>` does), so an int there makes
            repeated calls return the same samples.
        return_mean : bool, default=True
            Return the mean of :math:`p(x \\mid z)` (Bernoulli probabilities in
            [0, 1], the Gaussian mean): the usual way VAE samples are shown. If False,
            also draw :math:`x \\sim p(x \\mid z)` (0/1 values for Bernoulli, Gaussian
            noise of the likelihood's variance added).

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            The samples (float64).
        """
        check_is_fitted(self)
        n_samples = int(n_samples)
        if n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}.")
        rng = check_random_state(self.random_state if random_state is None else random_state)
        gen = self._generator(rng.randint(SEED_MAX))
        z = torch.randn(n_samples, self.n_components, generator=gen)
        module = self.net_.module_
        X = self._apply(module.decode, z.numpy()).astype(np.float64)
        if not return_mean:
            if self.likelihood_ == "bernoulli":
                u = torch.rand(X.shape, generator=gen, dtype=torch.float64).numpy()
                X = (u < X).astype(np.float64)
            else:
                with torch.no_grad():
                    std = torch.exp(0.5 * module.x_logvar()).double().cpu().numpy()
                X = X + std * torch.randn(X.shape, generator=gen, dtype=torch.float64).numpy()
        return X
