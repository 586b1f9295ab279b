"""The vocabulary every module shares: activations, noise, outputs, losses, penalties."""

from __future__ import annotations

import contextlib
import math
import threading
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "ACTIVATIONS",
    "AEOutput",
    "Penalty",
    "ReconstructionLoss",
    "TrimmedLoss",
    "generator_scope",
    "make_activation",
    "rand_like",
    "randn_like",
]

#: Activation name -> ``torch.nn`` module class, the choices of every ``activation``,
#: ``code_activation`` and ``output_activation`` parameter.
ACTIVATIONS = {
    "identity": nn.Identity,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


# ----------------------------------------------------------------------------- noise
class _Scopes(threading.local):
    def __init__(self):
        self.stack = []


_SCOPES = _Scopes()


@contextlib.contextmanager
def generator_scope(seed: int):
    """Make :func:`rand_like` / :func:`randn_like` draw from generators seeded by ``seed``.

    Inside the block, in the calling thread only, every draw comes from an explicit
    :class:`torch.Generator` for the tensor's device, created on first use and seeded
    with ``seed``; torch's global generators are never touched, so fits running in
    other threads neither see nor change these draws. Outside any scope the two
    functions draw from torch's global generator, like :func:`torch.rand_like`.
    Scopes nest (the innermost one is used). The training engine opens one per
    training call (seeded from the estimator's ``random_state``), so corruptions and
    modules that draw their noise with these functions are reproducible and
    thread-safe.
    """
    _SCOPES.stack.append((int(seed), {}))
    try:
        yield
    finally:
        _SCOPES.stack.pop()


def _scope_generator(device: torch.device):
    if not _SCOPES.stack:
        return None
    seed, generators = _SCOPES.stack[-1]
    key = str(device)
    gen = generators.get(key)
    if gen is None:
        gen = generators[key] = torch.Generator(device=device)
        gen.manual_seed(seed)
    return gen


def rand_like(x: torch.Tensor) -> torch.Tensor:
    """Uniform [0, 1) noise of ``x``'s shape, dtype and device (see :func:`generator_scope`)."""
    return torch.rand(x.shape, dtype=x.dtype, device=x.device,
                      generator=_scope_generator(x.device))


def randn_like(x: torch.Tensor) -> torch.Tensor:
    """Standard normal noise of ``x``'s shape, dtype and device (see :func:`generator_scope`)."""
    return torch.randn(x.shape, dtype=x.dtype, device=x.device,
                       generator=_scope_generator(x.device))


def make_activation(name: str) -> nn.Module:
    """Return a fresh activation module for ``name`` (a key of ``ACTIVATIONS``)."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}."
        ) from None


@dataclass
class AEOutput:
    """What an autoencoder module returns from ``forward``.

    Attributes
    ----------
    reconstruction : Tensor
        The decoder output after the output activation, in input space.
    logits : Tensor
        The decoder output before the output activation (the same tensor as
        ``reconstruction`` for an identity output). Losses that are more stable on
        pre-activations (binary cross-entropy) use it.
    code : Tensor
        The code (latent representation) that ``transform`` returns.
    hidden : tuple of Tensor
        The activations of every encoder layer, the code last. Penalties on hidden
        units (sparsity) read them.
    extras : dict
        Anything else a module wants to hand to its penalties (e.g. posterior
        parameters of a variational autoencoder).
    """

    reconstruction: torch.Tensor
    logits: torch.Tensor
    code: torch.Tensor
    hidden: tuple = ()
    extras: dict = field(default_factory=dict)


class Penalty:
    """Base class of a loss term added to the reconstruction loss.

    A penalty is called as ``penalty(output, X, module)`` with the module's
    :class:`AEOutput`, the (possibly corrupted) encoder input ``X`` and the module,
    and returns a scalar tensor that is already weighted. ``name`` is the key under
    which the training engine records the term in the history
    (``train_<name>``, ``valid_<name>``).
    """

    name = "penalty"

    def __call__(self, output: AEOutput, X: torch.Tensor, module: nn.Module) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class ReconstructionLoss(nn.Module):
    """Reconstruction loss between an :class:`AEOutput` and the clean input.

    Parameters
    ----------
    loss : {"mse", "bce"}
        Mean squared error on the reconstruction, or binary cross-entropy computed
        from the logits (numerically stable; the output activation must be a
        sigmoid, which the estimators enforce).

    The value is a mean over samples and features, so it does not grow with the
    input dimension; :meth:`per_sample` gives the mean over features per sample.
    Papers sum the reconstruction over the features of a sample instead:
    :meth:`terms_per_sample` is the factor between the two, by which the training
    engine divides every penalty, so penalty weights keep their published meaning.
    """

    def __init__(self, loss: str = "mse"):
        super().__init__()
        if loss not in ("mse", "bce"):
            raise ValueError(f"loss must be 'mse' or 'bce', got {loss!r}.")
        self.loss = loss

    @staticmethod
    def terms_per_sample(target: torch.Tensor) -> int:
        """Entries of one sample the loss averages over (papers sum over them)."""
        return max(1, target[0].numel()) if len(target) else 1

    def elementwise(self, output: AEOutput, target: torch.Tensor) -> torch.Tensor:
        """The loss of every entry, of the shape of ``target``."""
        if self.loss == "bce":
            return F.binary_cross_entropy_with_logits(output.logits, target, reduction="none")
        return (output.reconstruction - target).square()

    def per_sample(self, output: AEOutput, target: torch.Tensor) -> torch.Tensor:
        """The loss of every sample, averaged over its features."""
        return self.elementwise(output, target).flatten(1).mean(dim=1)

    def forward(self, output: AEOutput, target: torch.Tensor) -> torch.Tensor:
        """The mean loss over every entry of the batch."""
        if self.loss == "bce":
            return F.binary_cross_entropy_with_logits(output.logits, target)
        return F.mse_loss(output.reconstruction, target)


class TrimmedLoss(nn.Module):
    """A criterion trained on the best-reconstructed samples of each batch only.

    In training mode the loss is the mean of the per-sample losses of ``criterion``
    over the ``ceil((1 - fraction) * n)`` samples of the batch that it reconstructs
    best: the ``fraction`` worst ones, likely anomalies in a contaminated training
    set, give no gradient, so the model does not learn to reconstruct them (the
    trimmed-loss idea of least trimmed squares, applied per mini-batch). In
    evaluation mode (validation, scoring) it is ``criterion``'s mean over every
    sample.

    Parameters
    ----------
    criterion : nn.Module
        A criterion with ``per_sample(output, target)`` (per-sample losses whose
        mean is its value), e.g. :class:`ReconstructionLoss` or the VAE's negative
        log-likelihood; ``terms_per_sample`` is passed through.
    fraction : float in [0, 1)
        Share of each training batch left out of the loss.
    """

    def __init__(self, criterion: nn.Module, fraction: float):
        super().__init__()
        if not 0.0 <= float(fraction) < 1.0:
            raise ValueError(f"fraction must be in [0, 1), got {fraction!r}.")
        self.criterion = criterion
        self.fraction = float(fraction)

    def terms_per_sample(self, target: torch.Tensor):
        per_sample = getattr(self.criterion, "terms_per_sample", None)
        return 1 if per_sample is None else per_sample(target)

    def per_sample(self, output, target: torch.Tensor) -> torch.Tensor:
        return self.criterion.per_sample(output, target)

    def forward(self, output, target: torch.Tensor) -> torch.Tensor:
        losses = self.criterion.per_sample(output, target)
        if not self.training or self.fraction == 0.0 or len(losses) < 2:
            return losses.mean()
        keep = max(1, math.ceil((1.0 - self.fraction) * len(losses)))
        return losses.topk(keep, largest=False, sorted=False).values.mean()
