"""Penalty terms for the training engine (pure PyTorch).

Each penalty is called as ``penalty(output, X, module)`` with the module's
:class:`skae.nn.AEOutput`, the encoder input and the module, and returns a weighted
scalar. ``name`` is the history key (``train_<name>``).
"""

from __future__ import annotations

import torch

from .nn import AEOutput, Penalty

__all__ = ["KLSparsityPenalty", "L1ActivityPenalty", "kl_bernoulli"]


def _penalised_layers(output: AEOutput, layers: str):
    if layers == "code":
        return (output.code,)
    if layers == "all":
        return output.hidden or (output.code,)
    raise ValueError(f"layers must be 'code' or 'all', got {layers!r}.")


def kl_bernoulli(rho: float, rho_hat: torch.Tensor) -> torch.Tensor:
    """``KL(rho || rho_hat)`` between Bernoulli distributions, elementwise."""
    return rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))


class KLSparsityPenalty(Penalty):
    """``weight * sum_j KL(target || rho_hat_j)`` over the units of the penalised layers.

    ``rho_hat_j`` is the mean activation of unit ``j`` over the batch; the units must
    be in (0, 1) (sigmoid). ``rho_hat`` is clipped to ``[eps, 1 - eps]`` so the term
    stays finite when a unit saturates.

    Parameters
    ----------
    target : float
        Target mean activation ``rho`` in (0, 1).
    weight : float
        ``beta``, the penalty weight.
    layers : {"code", "all"}
        Penalise the code only, or every encoder layer (the code included).
    eps : float
        Clipping of ``rho_hat``.
    """

    name = "sparsity"

    def __init__(self, target=0.05, weight=1.0, layers="code", eps=1e-6):
        self.target = float(target)
        self.weight = float(weight)
        self.layers = layers
        self.eps = float(eps)

    def __call__(self, output, X, module):
        total = 0.0
        for h in _penalised_layers(output, self.layers):
            rho_hat = h.mean(dim=0).clamp(self.eps, 1 - self.eps)
            total = total + kl_bernoulli(self.target, rho_hat).sum()
        return self.weight * total


class L1ActivityPenalty(Penalty):
    """``weight * mean |h|`` over samples and units, summed over the penalised layers."""

    name = "sparsity"

    def __init__(self, weight=1e-3, layers="code"):
        self.weight = float(weight)
        self.layers = layers

    def __call__(self, output, X, module):
        total = 0.0
        for h in _penalised_layers(output, self.layers):
            total = total + h.abs().mean()
        return self.weight * total
