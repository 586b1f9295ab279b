"""Input corruptions for denoising training (pure PyTorch).

Each corruption is a small picklable callable ``corruption(X) -> X_tilde`` that
returns a corrupted copy of the batch ``X`` (the input is never modified in place).
Random draws use :func:`skae.nn.rand_like` / :func:`skae.nn.randn_like`: the noise is
drawn on ``X``'s device, from the explicit generator of the enclosing
:func:`skae.nn.generator_scope` (which the training engine opens per training call,
seeded from the estimator's ``random_state``) or, outside any scope, from torch's
global generator (so ``MaskingNoise(0.3)(X)`` works on its own and follows
:func:`torch.manual_seed`). The training engine (:class:`skae.engine.AutoencoderNet`)
applies the corruption to training batches only.
"""

from __future__ import annotations

import math

import torch

from .nn import rand_like, randn_like

__all__ = ["Compose", "GaussianNoise", "MaskingNoise", "SaltAndPepperNoise"]


def _check_probability(name: str, p) -> float:
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}.")
    return p


def _check_bounds(low, high):
    low = None if low is None else float(low)
    high = None if high is None else float(high)
    if low is not None and high is not None and not low <= high:
        raise ValueError(f"low must not exceed high, got low={low!r} and high={high!r}.")
    return low, high


class _Corruption:
    """Shared ``__repr__`` and equality of the corruptions (by their parameters)."""

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash((type(self), tuple(vars(self).items())))


class MaskingNoise(_Corruption):
    """Set each input to zero, independently, with probability ``p``.

    .. math::

        \\tilde x_j = m_j x_j, \\qquad m_j \\sim \\mathrm{Bernoulli}(1 - p)

    The kept inputs are not rescaled (unlike dropout): the network learns to fill in
    the erased ones from the others (Vincent et al., 2008).

    Parameters
    ----------
    p : float
        Probability, in [0, 1], that an input is set to 0.

    Examples
    --------
    >>> import torch
    >>> from skae.corruption import MaskingNoise
    >>> MaskingNoise(0.3)
    MaskingNoise(p=0.3)
    >>> X = torch.ones(1000, 100)
    >>> round((MaskingNoise(0.3)(X) == 0).float().mean().item(), 1)
    0.3
    """

    def __init__(self, p: float):
        self.p = _check_probability("p", p)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        return X.masked_fill(rand_like(X) < self.p, 0.0)


class GaussianNoise(_Corruption):
    """Add isotropic Gaussian noise, optionally clipped to ``[low, high]``.

    .. math::

        \\tilde x = \\mathrm{clip}(x + \\varepsilon,\\ \\mathrm{low},\\ \\mathrm{high}),
        \\qquad \\varepsilon \\sim \\mathcal N(0, \\sigma^2 I)

    Parameters
    ----------
    std : float
        Standard deviation :math:`\\sigma` (>= 0) of the noise.
    low, high : float or None, default=None
        Clip the corrupted values from below / above; ``None`` leaves that side
        unbounded.

    Examples
    --------
    >>> import torch
    >>> from skae.corruption import GaussianNoise
    >>> noise = GaussianNoise(0.5, low=0.0, high=1.0)
    >>> noise
    GaussianNoise(std=0.5, low=0.0, high=1.0)
    >>> Xt = noise(torch.full((100, 10), 0.5))
    >>> bool(Xt.min() >= 0.0 and Xt.max() <= 1.0)
    True
    """

    def __init__(self, std: float, low: float | None = None, high: float | None = None):
        std = float(std)
        if not (std >= 0.0 and math.isfinite(std)):
            raise ValueError(f"std must be a finite number >= 0, got {std!r}.")
        self.std = std
        self.low, self.high = _check_bounds(low, high)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        out = X + self.std * randn_like(X)
        if self.low is not None or self.high is not None:
            out = out.clamp(min=self.low, max=self.high)
        return out


class SaltAndPepperNoise(_Corruption):
    """Set each input, with probability ``p``, to ``low`` or ``high`` (equally likely).

    .. math::

        \\tilde x_j = \\begin{cases}
            \\mathrm{low} & \\text{with probability } p/2 \\\\
            \\mathrm{high} & \\text{with probability } p/2 \\\\
            x_j & \\text{with probability } 1 - p
        \\end{cases}

    Vincent et al. (2010) use the minimum and maximum possible input values, e.g. 0
    and 1 for pixels scaled to [0, 1].

    Parameters
    ----------
    p : float
        Probability, in [0, 1], that an input is corrupted.
    low, high : float, default=0.0, 1.0
        The "pepper" and "salt" values.

    Examples
    --------
    >>> import torch
    >>> from skae.corruption import SaltAndPepperNoise
    >>> SaltAndPepperNoise(0.2)
    SaltAndPepperNoise(p=0.2, low=0.0, high=1.0)
    >>> Xt = SaltAndPepperNoise(1.0, low=-1.0, high=2.0)(torch.zeros(4, 3))
    >>> set(Xt.flatten().tolist()) <= {-1.0, 2.0}
    True
    """

    def __init__(self, p: float, low: float = 0.0, high: float = 1.0):
        self.p = _check_probability("p", p)
        if low is None or high is None:
            raise ValueError("low and high must be numbers, got None.")
        self.low, self.high = _check_bounds(low, high)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        # One uniform draw per input decides both whether and how it is corrupted:
        # u < p/2 -> low, p/2 <= u < p -> high, otherwise kept.
        u = rand_like(X)
        half = 0.5 * self.p
        out = X.masked_fill(u < half, self.low)
        return out.masked_fill((u >= half) & (u < self.p), self.high)


class Compose(_Corruption):
    """Apply several corruptions in turn, the first one first.

    Parameters
    ----------
    *corruptions : callable
        Each maps a tensor to a corrupted tensor of the same shape.

    Examples
    --------
    >>> from skae.corruption import Compose, GaussianNoise, MaskingNoise
    >>> Compose(GaussianNoise(0.1), MaskingNoise(0.5))
    Compose(GaussianNoise(std=0.1, low=None, high=None), MaskingNoise(p=0.5))
    """

    def __init__(self, *corruptions):
        for c in corruptions:
            if not callable(c):
                raise TypeError(f"Compose expects callables, got {c!r}.")
        self.corruptions = tuple(corruptions)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        for corruption in self.corruptions:
            X = corruption(X)
        return X

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(map(repr, self.corruptions))})"
