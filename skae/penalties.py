"""Penalty terms for the training engine (pure PyTorch).

Each penalty is called as ``penalty(output, X, module)`` with the module's
:class:`skae.nn.AEOutput`, the encoder input and the module, and returns a weighted
scalar. ``name`` is the history key (``train_<name>``).
"""

from __future__ import annotations

import torch

from .nn import AEOutput, FixedNormLinear, Penalty, gaussian_kl

__all__ = [
    "ContractivePenalty",
    "GaussianKLPenalty",
    "KLSparsityPenalty",
    "L1ActivityPenalty",
    "L2WeightPenalty",
    "kl_bernoulli",
]


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
    """``weight * mean_i sum_j |h_ij|``: per sample, summed over the units of the penalised layers.

    Summed over the units like the KL penalty (and the papers' activity
    penalties), averaged over the samples of the batch.
    """

    name = "sparsity"

    def __init__(self, weight=1e-3, layers="code"):
        self.weight = float(weight)
        self.layers = layers

    def __call__(self, output, X, module):
        total = 0.0
        for h in _penalised_layers(output, self.layers):
            total = total + h.abs().flatten(1).sum(dim=1).mean()
        return self.weight * total


def _derivative_from_output(act: torch.nn.Module, h: torch.Tensor) -> torch.Tensor | None:
    """``act'(z)`` written as a function of the output ``h = act(z)``, or None."""
    if isinstance(act, torch.nn.Identity):
        return torch.ones_like(h)
    if isinstance(act, torch.nn.Sigmoid):
        return h * (1 - h)
    if isinstance(act, torch.nn.Tanh):
        return 1 - h.square()
    if isinstance(act, torch.nn.ReLU):
        return (h > 0).to(h.dtype)
    if isinstance(act, torch.nn.LeakyReLU):
        return torch.where(h > 0, torch.ones_like(h), torch.full_like(h, act.negative_slope))
    if isinstance(act, torch.nn.ELU):
        # z <= 0: alpha * exp(z) = h + alpha
        return torch.where(h > 0, torch.ones_like(h), h + act.alpha)
    return None


_OUTPUT_DERIVATIVES = (
    torch.nn.Identity,
    torch.nn.Sigmoid,
    torch.nn.Tanh,
    torch.nn.ReLU,
    torch.nn.LeakyReLU,
    torch.nn.ELU,
)


class ContractivePenalty(Penalty):
    """``weight * mean_i ||J_f(x_i)||_F^2``, J the Jacobian of the code w.r.t. the input.

    The contractive penalty of Rifai et al. (2011). Three ways to compute it, all
    exact and differentiable with respect to the parameters:

    * **Closed form** (one ``Linear`` layer followed by an elementwise activation):
      with :math:`h = s(Wx + b)`, :math:`J = \\mathrm{diag}(s'(z)) W`, so

      .. math:: \\lVert J \\rVert_F^2 = \\sum_j s'(z_j)^2 \\sum_i W_{ji}^2,

      where :math:`s'` is read off the output (sigmoid :math:`h(1-h)`, tanh
      :math:`1-h^2`, identity 1, ReLU :math:`1[h>0]`, leaky ReLU, ELU). It costs
      :math:`O(dk)` per sample on top of the forward pass: no autograd Jacobian.
    * **Layer by layer** (a stack of such blocks, e.g. ``MLPAutoencoderModule``'s
      encoder): :math:`J = D_L W_L \\cdots D_1 W_1` with :math:`D_l` the diagonal
      activation derivatives read off ``output.hidden``. The product is accumulated
      from the code side as a ``(batch, k, h_l)`` tensor, and the first layer enters
      through its Gram matrix :math:`W_1 W_1^\\top` when it is narrower than the
      input. Cost per sample: about :math:`k \\sum_{l \\ge 2} h_l h_{l-1} +
      k \\min(h_1, d) h_1`, i.e. roughly ``n_components`` times an encoder pass (the
      Gram matrix, :math:`h_1^2 d`, is computed once per batch); memory
      ``batch * k * max(h_l)``.
    * **Autograd** (anything else: GELU, custom encoders): the full per-sample
      Jacobian ``torch.func.vmap(torch.func.jacrev(module.encode))(X)``, i.e.
      ``n_components`` backward passes through the encoder per sample, plus a
      second forward pass. See :meth:`jacobian_frobenius_sq`.

    Parameters
    ----------
    weight : float
        The penalty weight :math:`\\lambda`. With ``weight=0`` the term is the
        constant 0 and nothing is computed.
    method : {"auto", "autograd"}
        ``"auto"`` uses the closed form / layer-by-layer product when the encoder is
        a stack of ``Sequential(Linear, activation)`` blocks with a supported
        activation, and autograd otherwise; ``"autograd"`` always uses autograd.
    """

    name = "contraction"

    def __init__(self, weight=0.1, method="auto"):
        if method not in ("auto", "autograd"):
            raise ValueError(f"method must be 'auto' or 'autograd', got {method!r}.")
        self.weight = float(weight)
        self.method = method

    @staticmethod
    def jacobian_frobenius_sq(module: torch.nn.Module, X: torch.Tensor) -> torch.Tensor:
        """Per-sample ``||J||_F^2`` of ``module.encode`` at the rows of ``X`` by autograd.

        Builds the full ``(n, k, d)`` Jacobian with ``torch.func``; differentiable
        with respect to the module's parameters. Works for any ``module.encode`` that
        maps rows independently.
        """
        jac = torch.func.vmap(torch.func.jacrev(module.encode))(X)
        return jac.square().flatten(1).sum(dim=1)

    @staticmethod
    def _layers(output: AEOutput, module: torch.nn.Module):
        """``[(weight, activation), ...]`` of the encoder, or None if not a plain stack."""
        encoder = getattr(module, "encoder", None)
        hidden = getattr(output, "hidden", ())
        if not isinstance(encoder, torch.nn.ModuleList | torch.nn.Sequential):
            return None
        if len(encoder) == 0 or len(hidden) != len(encoder):
            return None
        layers = []
        for block in encoder:
            mods = list(block) if isinstance(block, torch.nn.Sequential) else [block]
            if not mods or len(mods) > 2 or not isinstance(mods[0], torch.nn.Linear):
                return None
            act = mods[1] if len(mods) == 2 else torch.nn.Identity()
            if not isinstance(act, _OUTPUT_DERIVATIVES):
                return None
            layers.append((mods[0].weight, act))
        return layers

    def per_sample(self, output: AEOutput, X: torch.Tensor, module: torch.nn.Module):
        """Unweighted ``||J_f(x_i)||_F^2`` for each row of ``X`` (shape ``(n,)``)."""
        layers = None if self.method == "autograd" else self._layers(output, module)
        if layers is None:
            return self.jacobian_frobenius_sq(module, X)
        derivs = [
            _derivative_from_output(act, h)
            for (_, act), h in zip(layers, output.hidden, strict=True)
        ]
        weights = [w for w, _ in layers]
        if len(layers) == 1:  # closed form: sum_j s'_j^2 sum_i W_ji^2
            return derivs[0].square() @ weights[0].square().sum(dim=1)
        # Reverse accumulation from the code: M = D_L W_L D_{L-1} W_{L-1} ... (n, k, h_l)
        M = derivs[-1].unsqueeze(2) * weights[-1]
        for d, W in zip(reversed(derivs[1:-1]), reversed(weights[1:-1]), strict=True):
            M = (M * d.unsqueeze(1)) @ W
        A = M * derivs[0].unsqueeze(1)  # (n, k, h_1); J = A @ W_1
        W1 = weights[0]
        if W1.shape[0] < W1.shape[1]:  # ||A W_1||^2 = tr(A (W_1 W_1^T) A^T)
            return ((A @ (W1 @ W1.T)) * A).flatten(1).sum(dim=1)
        return (A @ W1).square().flatten(1).sum(dim=1)

    def __call__(self, output, X, module):
        if self.weight == 0:
            return output.code.new_zeros(())
        return self.weight * self.per_sample(output, X, module).mean()


class L2WeightPenalty(Penalty):
    """``weight / 2 * sum ||W||^2`` over the weight matrices and kernels of the module.

    L2 weight decay written as a term of the loss, as the papers write it (UFLDL's
    :math:`\\frac{\\lambda}{2} \\sum_l \\lVert W_l \\rVert_F^2`), so it means the same
    with every optimizer (Adam's ``weight_decay`` adds the same gradient; AdamW's
    decoupled decay does not). Only parameters with two or more dimensions that are
    being trained count: biases, normalisation scales, learned variances and frozen
    layers are not decayed, nor the stored weight of a :class:`~skae.nn.FixedNormLinear`:
    its output does not depend on that weight's scale, so decaying it would only
    shrink the scale, which raises the effective learning rate of its direction.
    """

    name = "weight_decay"

    def __init__(self, weight=1e-4):
        self.weight = float(weight)

    def __call__(self, output, X, module):
        fixed = {id(m.weight) for m in module.modules() if isinstance(m, FixedNormLinear)}
        params = [p for p in module.parameters()
                  if p.ndim >= 2 and p.requires_grad and id(p) not in fixed]
        if not params or self.weight == 0:
            return output.code.new_zeros(()) if hasattr(output, "code") else X.new_zeros(())
        return 0.5 * self.weight * torch.stack([p.square().sum() for p in params]).sum()


class GaussianKLPenalty(Penalty):
    """``beta * scale * mean_i KL(q(z | x_i) || N(0, I))`` in nats per sample.

    The KL term of a variational autoencoder's loss. ``beta`` is the beta-VAE
    weight; ``scale`` is a constant factor (1 by default). A KL warm-up does not
    change either: :class:`skae.callbacks.KLSchedule` scales the term through the
    training engine instead (see :meth:`skae.engine.AutoencoderNet.get_loss_terms`).
    Reads ``mu`` and ``logvar`` from ``output.extras``.
    """

    name = "kl"

    def __init__(self, beta=1.0, scale=1.0):
        self.beta = float(beta)
        self.scale = float(scale)

    @property
    def weight(self):
        return self.beta * self.scale

    def __call__(self, output, X, module):
        kl = gaussian_kl(output.extras["mu"], output.extras["logvar"]).mean()
        return self.weight * kl
