"""Data-parallel training over a :mod:`torch.distributed` process group.

skae does not start processes: launch the script with ``torchrun`` (or any
launcher that sets ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``...), call
:func:`torch.distributed.init_process_group` and fit as usual. While a group of
more than one process is initialised, every estimator's ``fit`` and
``partial_fit`` train one model data-parallel
(:class:`~torch.nn.parallel.DistributedDataParallel`): each process passes the
same data and computes its share of every mini-batch, gradients are averaged,
and every process ends with the same fitted estimator. See ``docs/scale.rst``.

These helpers are the only place where the engine talks to
:mod:`torch.distributed`; outside a group they are never called.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.distributed as dist

from ._data import SEED_MAX

__all__ = ["all_reduce_sum", "broadcast", "check_same_length", "local_device", "world", "wrap"]


def world():
    """``(rank, world_size)`` while a process group of > 1 process is running, else None."""
    if not (dist.is_available() and dist.is_initialized()):
        return None
    size = dist.get_world_size()
    return (dist.get_rank(), size) if size > 1 else None


def _local_cuda_index() -> int:
    local = os.environ.get("LOCAL_RANK")  # set by torchrun
    return int(local) if local is not None else torch.cuda.current_device()


def _comm_device() -> torch.device:
    # NCCL only moves CUDA tensors (each process its own GPU); gloo moves CPU tensors.
    if dist.get_backend() == "nccl":
        return torch.device("cuda", _local_cuda_index())
    return torch.device("cpu")


def broadcast(tensor: torch.Tensor, src: int = 0) -> torch.Tensor:
    """``tensor`` as held by rank ``src``, on every process (a copy, same device)."""
    buf = tensor.detach().clone().to(_comm_device())
    dist.broadcast(buf, src=src)
    return buf.to(tensor.device)


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum of ``tensor`` over the processes (a new tensor on ``tensor``'s device)."""
    buf = tensor.detach().clone().to(_comm_device())
    dist.all_reduce(buf, op=dist.ReduceOp.SUM)
    return buf.to(tensor.device)


def check_same_length(n: int, what: str):
    """Raise the same ValueError on every process unless all passed ``n`` rows.

    Data-parallel training needs the same data on every process; different
    lengths would otherwise leave the processes waiting for each other forever.
    """
    t = torch.tensor([n, -n], dtype=torch.int64)
    buf = t.to(_comm_device())
    dist.all_reduce(buf, op=dist.ReduceOp.MAX)
    hi, neg_lo = buf.tolist()
    if hi != -neg_lo:
        raise ValueError(
            f"Data-parallel training needs the same {what} on every process, but the "
            f"processes passed between {-neg_lo} and {hi} rows. Pass the same X (e.g. "
            "the same memory-mapped file) to fit on every rank."
        )


def shared_seed(rng: np.random.RandomState) -> np.random.RandomState:
    """A RandomState seeded identically on every process (from rank 0's ``rng``)."""
    seed = torch.tensor([int(rng.randint(SEED_MAX))], dtype=torch.int64)
    return np.random.RandomState(int(broadcast(seed).item()))


def local_device(device: str) -> str:
    """This process's CUDA device for a plain ``"cuda"`` inside a process group.

    ``LOCAL_RANK`` (set by ``torchrun``) picks the GPU; without it the current
    device is used. Other devices are returned unchanged.
    """
    if device != "cuda" or world() is None:
        return device
    return f"cuda:{_local_cuda_index()}"


def wrap(module: torch.nn.Module, device) -> torch.nn.parallel.DistributedDataParallel:
    """``module`` in DDP (weights and buffers broadcast from rank 0 now).

    ``find_unused_parameters`` stays False: penalties read weights outside the
    forward pass (the contractive penalty), which that mode would mistake for
    unused parameters.
    """
    device = torch.device(device)
    device_ids = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(module, device_ids=device_ids)
