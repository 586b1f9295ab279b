"""Plain-data state of a fitted net, for pickle-free persistence (``skops.io``).

A fitted skae estimator pickles (and deep-copies, and saves with
:func:`skops.io.dump`) as plain data: its parameters and fitted attributes, and
in place of the skorch net the weights, the optimizer state and the training
history as numpy arrays, lists, dicts, strings and numbers. ``__setstate__``
rebuilds the net through the same path ``fit`` builds it and loads that data
into it, so loading never unpickles a torch object and the only classes a
``skops`` file names are skae's own estimators.
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.history import History

#: Key of the net's plain-data state in an estimator's ``__getstate__`` dict.
NET_STATE_KEY = "_skae_net_state"


def plain(obj):
    """``obj`` with tensors and numpy scalars turned into Python numbers and lists."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(plain(v) for v in obj)
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().tolist()
    if isinstance(obj, np.generic | np.ndarray):
        return obj.tolist()
    return obj


def tensors_to_numpy(state: dict) -> dict:
    """A ``state_dict`` as CPU numpy arrays (copies, so the file owns its data)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in state.items()}


def numpy_to_tensors(state: dict) -> dict:
    return {k: torch.from_numpy(np.array(v)) for k, v in state.items()}


def optimizer_state(optimizer) -> dict:
    """``optimizer.state_dict()`` with its tensors as numpy arrays."""
    sd = optimizer.state_dict()
    state = {
        int(i): {k: v.detach().cpu().numpy().copy() if isinstance(v, torch.Tensor) else plain(v)
                 for k, v in s.items()}
        for i, s in sd["state"].items()
    }
    return {"state": state, "param_groups": plain(sd["param_groups"])}


def load_optimizer_state(optimizer, state: dict) -> None:
    optimizer.load_state_dict({
        "state": {i: {k: torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v
                      for k, v in s.items()} for i, s in state["state"].items()},
        "param_groups": state["param_groups"],
    })


def usable_device(device: str) -> str:
    """``device`` if this machine can run it, else ``"cpu"`` (a CUDA model on a CPU box)."""
    from ._base import resolve_device

    try:
        return resolve_device(device)
    except ValueError:
        return "cpu"


def net_state(net) -> dict:
    """Everything of a fitted net that ``restore_net`` needs, as plain data."""
    stopping = dict(net.callbacks_).get("early_stopping")
    return {
        "module": tensors_to_numpy(net.module_.state_dict()),
        "criterion": tensors_to_numpy(net.criterion_.state_dict()),
        "optimizer": optimizer_state(net.optimizer_),
        "history": plain(list(net.history)),
        "device": str(net.device),
        "lr": float(net.lr),
        "batch_size": int(net.batch_size),
        "random_state": None if net.random_state is None else int(net.random_state),
        "early_stopping": bool(stopping is not None
                               and str(stopping.monitor).startswith("valid_")),
    }


def restore_net(est, state: dict):
    """Rebuild ``est``'s net from ``net_state`` output (weights on a usable device)."""
    from .engine import seeded

    device = usable_device(state["device"])
    # Building the modules draws initial weights from torch's global generator; they
    # are overwritten, and ``seeded`` gives the caller's generator state back.
    with seeded(0):
        parts = est._net_parts()
    net = est._make_net(
        parts["module"],
        criterion=parts["criterion"],
        penalties=parts.get("penalties", ()),
        n_samples=state["batch_size"],
        device=device,
        train_split=None,
        early_stopping=state["early_stopping"],
        random_state=state["random_state"],
        # float16 autocast needs CUDA: a model fitted with it trains in bfloat16 on a CPU
        mixed_precision=(None if device == "cpu" and est.mixed_precision == "float16"
                         else est.mixed_precision),
    )
    net.corruption = parts.get("corruption")
    net.lr = state["lr"]
    net.batch_size = state["batch_size"]
    net.initialize()
    net.module_.load_state_dict(numpy_to_tensors(state["module"]))
    net.criterion_.load_state_dict(numpy_to_tensors(state["criterion"]))
    load_optimizer_state(net.optimizer_, state["optimizer"])
    net.history = History(state["history"])
    return net
