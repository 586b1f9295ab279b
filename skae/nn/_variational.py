"""Variational autoencoders: posterior heads, likelihoods, the bound on ``log p(x)``."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ._blocks import BlockStack, dense_stack
from ._core import AEOutput, randn_like

__all__ = [
    "BlockVAEModule",
    "LOGVAR_BOUNDS",
    "VAEModule",
    "VAENegLogLikelihood",
    "X_LOGVAR_BOUNDS",
    "gaussian_kl",
    "log_likelihood",
    "soft_clamp",
]

_LOG_2PI = math.log(2 * math.pi)

#: Bounds of the encoder's log-variance ``log sigma^2(x)`` (soft, see ``soft_clamp``).
LOGVAR_BOUNDS = (-20.0, 10.0)
#: Bounds of a learned log-variance of the Gaussian likelihood ``p(x | z)``.
X_LOGVAR_BOUNDS = (-10.0, 10.0)


def soft_clamp(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Smooth clamp to ``(lo, hi)``: about ``x`` inside, never a zero gradient.

    ``lo + softplus(x - lo) - softplus(x - hi)``: tends to ``lo`` as ``x -> -inf``
    and to ``hi`` as ``x -> +inf``, so ``exp`` of it can never overflow.
    """
    return lo + F.softplus(x - lo) - F.softplus(x - hi)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, diag(exp(logvar))) || N(0, I))`` per row, in nats.

    ``0.5 * sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2)`` over the last dimension.
    """
    return 0.5 * (logvar.exp() + mu.square() - 1.0 - logvar).sum(dim=-1)


def log_likelihood(x, logits, likelihood, x_logvar=None):
    """``log p(x | z)`` summed over the last (feature) dimension, in nats.

    Parameters
    ----------
    x : Tensor of shape (..., n_features)
        Data (broadcast against ``logits``).
    logits : Tensor of shape (..., n_features)
        Decoder output before the output activation: Bernoulli logits, or the
        Gaussian mean.
    likelihood : {"bernoulli", "gaussian"}
    x_logvar : Tensor of shape (n_features,), optional
        Log-variance of the Gaussian likelihood (required for ``"gaussian"``).
    """
    if likelihood == "bernoulli":
        x, logits = torch.broadcast_tensors(x, logits)
        return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)
    if likelihood == "gaussian":
        sq = (x - logits).square() * torch.exp(-x_logvar)
        return -0.5 * (sq + x_logvar + _LOG_2PI).sum(dim=-1)
    raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}.")


class BlockVAEModule(BlockStack):
    """Variational autoencoder made of given encoder blocks, posterior heads and decoder.

    The encoder blocks map a sample to features; the two heads give the posterior
    mean ``mu(x)`` and log-variance ``log sigma^2(x)`` (soft-clamped to
    :data:`LOGVAR_BOUNDS`) of :math:`q(z \\mid x)`; the decoder blocks map a latent
    ``z`` to the logits of a Bernoulli likelihood or the mean of a Gaussian one.

    In training mode ``forward`` draws ``z = mu + sigma * eps`` (the
    reparameterisation trick, with :func:`skae.nn.randn_like`: from the training
    call's generator, see :func:`skae.nn.generator_scope`); in evaluation mode it
    decodes ``z = mu`` (deterministic). ``output.extras`` holds ``mu``, ``logvar``,
    ``z`` and, for a Gaussian likelihood, ``x_logvar``.

    Parameters
    ----------
    encoder_blocks : sequence of torch.nn.Module
        Input side first; may be empty (the heads then read the input).
    mu_head, logvar_head : torch.nn.Module
        Map the encoder's output to ``mu`` and to the raw log-variance.
    decoder_blocks : sequence of torch.nn.Module
        Latent side first; the last outputs the logits of ``n_features`` values
        per row.
    n_features : int
        Values per sample (of the likelihood's variance).
    likelihood : {"bernoulli", "gaussian"}, default="bernoulli"
    gaussian_variance : "learned" or float, default="learned"
        Variance of the Gaussian likelihood: one learned variance per feature
        (soft-clamped log-variance in :data:`X_LOGVAR_BOUNDS`), or a fixed value.
    input_shape, activation_width
        See :class:`BlockStack`.
    """

    def __init__(self, encoder_blocks, mu_head, logvar_head, decoder_blocks, *, n_features,
                 likelihood="bernoulli", gaussian_variance="learned", input_shape=None,
                 activation_width=None):
        super().__init__()
        self.likelihood = likelihood
        # registered in the order of their parameters (encoder, heads, decoder)
        self.encoder = nn.ModuleList(encoder_blocks)
        self.mu_head = mu_head
        self.logvar_head = logvar_head
        self.decoder = nn.ModuleList(decoder_blocks)
        self.learned_variance = likelihood == "gaussian" and gaussian_variance == "learned"
        if self.learned_variance:
            self.x_logvar_raw = nn.Parameter(torch.zeros(n_features))
        else:
            var = 1.0 if gaussian_variance == "learned" else float(gaussian_variance)
            self.register_buffer("x_logvar_raw", torch.full((n_features,), math.log(var)))
        self._set_shape(input_shape, activation_width)

    def x_logvar(self) -> torch.Tensor:
        """Log-variance of the Gaussian likelihood, shape ``(n_features,)``."""
        if self.learned_variance:
            return soft_clamp(self.x_logvar_raw, *X_LOGVAR_BOUNDS)
        return self.x_logvar_raw

    def posterior(self, x):
        """``(mu, logvar, hidden)`` of ``q(z | x)``, ``hidden`` every encoder block's output."""
        hidden = []
        x = self._run(self.encoder, self._inputs(x), hidden)
        mu = self.mu_head(x)
        logvar = soft_clamp(self.logvar_head(x), *LOGVAR_BOUNDS)
        return mu, logvar, tuple(hidden)

    def encode(self, x):
        """The posterior mean ``mu(x)``."""
        return self.posterior(x)[0]

    def _mean(self, logits):
        return torch.sigmoid(logits) if self.likelihood == "bernoulli" else logits

    def decode(self, z):
        """Mean of ``p(x | z)``: Bernoulli probabilities or the Gaussian mean."""
        return self._mean(self.decode_logits(z))

    def log_px(self, x, logits):
        """``log p(x | z)`` per row from the decoder ``logits`` (see :func:`log_likelihood`)."""
        x_logvar = self.x_logvar() if self.likelihood == "gaussian" else None
        return log_likelihood(x, logits, self.likelihood, x_logvar)

    def forward(self, x):
        mu, logvar, hidden = self.posterior(x)
        z = mu + torch.exp(0.5 * logvar) * randn_like(mu) if self.training else mu
        logits = self.decode_logits(z)
        extras = {"mu": mu, "logvar": logvar, "z": z}
        if self.likelihood == "gaussian":
            extras["x_logvar"] = self.x_logvar()
        return AEOutput(reconstruction=self._mean(logits), logits=logits, code=mu,
                        hidden=(*hidden, mu), extras=extras)

    def log_weights(self, x, eps, *, importance: bool, budget: int):
        """Per-sample log-weights of the bounds on ``log p(x)``, shape ``(k, n)``.

        ``eps`` (shape ``(k, n_components)``, on any device) are standard normal
        draws shared by every row: ``z_i = mu(x) + sigma(x) * eps_i``. Without
        ``importance`` the weights are ``log p(x | z_i)`` (their mean is the
        reconstruction term of the ELBO); with it, ``log p(x | z_i) + log p(z_i) -
        log q(z_i | x)`` (their log-mean-exp is the importance-weighted bound). The
        ``k`` samples are decoded in chunks of at most ``budget`` values in the
        widest layer. Also returns ``mu`` and ``logvar``.
        """
        mu, logvar, _ = self.posterior(x)
        std = torch.exp(0.5 * logvar)
        chunk = max(1, budget // (len(x) * self.activation_width))
        out = []
        for start in range(0, len(eps), chunk):
            e = eps[start : start + chunk].to(x.device)[:, None, :]  # (c, 1, k)
            z = mu + std * e  # (c, n, k)
            logits = self.decode_logits(z.reshape(-1, z.shape[-1])).reshape(
                z.shape[0], z.shape[1], -1)
            log_px = self.log_px(x, logits)  # (c, n)
            if importance:
                log_pz = -0.5 * (z.square() + _LOG_2PI).sum(dim=-1)
                log_qz = -0.5 * (e.square() + logvar + _LOG_2PI).sum(dim=-1)
                log_px = log_px + log_pz - log_qz
            out.append(log_px)
        return torch.cat(out), mu, logvar


class VAEModule(BlockVAEModule):
    """MLP variational autoencoder ``x -> hidden... -> (mu, log sigma^2) ; z -> hidden... -> x``.

    A :class:`BlockVAEModule` whose encoder's hidden layers use ``activation``,
    whose two linear heads read the last hidden layer (the input when there is
    none), and whose decoder mirrors the hidden sizes.

    Parameters
    ----------
    n_features, n_components : int
        Input and latent dimensions.
    hidden_layer_sizes : sequence of int
        Encoder hidden sizes, input side first.
    activation : str
        Key of :data:`skae.nn.ACTIVATIONS`.
    likelihood : {"bernoulli", "gaussian"}
    gaussian_variance : "learned" or float
        As in :class:`BlockVAEModule`.
    """

    def __init__(self, n_features, n_components, hidden_layer_sizes=(), activation="relu",
                 likelihood="bernoulli", gaussian_variance="learned"):
        hidden = [int(h) for h in hidden_layer_sizes]
        encoder = dense_stack([n_features, *hidden], activation, activation)
        width = hidden[-1] if hidden else n_features
        mu_head = nn.Linear(width, n_components)
        logvar_head = nn.Linear(width, n_components)
        decoder = dense_stack([n_components, *hidden[::-1], n_features], activation, None)
        super().__init__(encoder, mu_head, logvar_head, decoder, n_features=n_features,
                         likelihood=likelihood, gaussian_variance=gaussian_variance)


class VAENegLogLikelihood(nn.Module):
    """Reconstruction term ``-log p(x | z)``: nats summed over features, mean over rows."""

    def __init__(self, likelihood="bernoulli"):
        super().__init__()
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}.")
        self.likelihood = likelihood

    def per_sample(self, output: AEOutput, target: torch.Tensor) -> torch.Tensor:
        return -log_likelihood(target, output.logits, self.likelihood,
                               output.extras.get("x_logvar"))

    def forward(self, output: AEOutput, target: torch.Tensor) -> torch.Tensor:
        return self.per_sample(output, target).mean()
