"""Data-parallel training with PyTorch's own ``DistributedDataParallel`` inside DeepChem's ``fit``.

Launch any script or the CLI with ``torchrun`` (one process per GPU, or CPU processes on gloo)::

    torchrun --nproc_per_node=4 -m deepchem_finetune.cli pretrain --corpus zinc.smi.gz --out ckpt
    torchrun --nnodes=2 --node_rank=0 --master_addr=HOST --master_port=29500 --nproc_per_node=8 \\
        -m deepchem_finetune.cli pretrain ...

How it fits DeepChem: :func:`init_from_env` starts the process group from torchrun's environment;
:class:`~deepchem_finetune.models.base.BackboneModel` then (1) wraps its network in DDP for the duration
of ``fit`` (gradients are averaged by DDP during ``backward``), (2) gives each rank every
``world_size``-th batch of the same seeded shuffle, the same number of batches on every rank, and
(3) writes checkpoints from rank 0 only.
"""
from __future__ import annotations

import os
from typing import Tuple

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank_and_world() -> Tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` when not distributed."""
    if is_distributed():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    return rank_and_world()[0] == 0


def init_from_env(backend: str = None) -> Tuple[int, int]:
    """Initialise ``torch.distributed`` from torchrun's variables (``RANK``, ``WORLD_SIZE``, ...).

    Does nothing when ``WORLD_SIZE`` is unset or 1. Backend: nccl with CUDA, else gloo.

    Returns
    -------
    tuple
        ``(rank, world_size)``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend=backend)
    return rank_and_world()


def shutdown() -> None:
    """Destroy the process group (call once at the end of a distributed run)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def any_rank(flag: bool) -> bool:
    """True if ``flag`` is True on any rank (every rank gets the same answer); ``flag`` itself when not
    distributed. For decisions that must agree across ranks, such as stopping before a collective ``fit``."""
    if not is_distributed():
        return bool(flag)
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else None
    value = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


class DDPNetwork(DistributedDataParallel):
    """DDP wrapper that still exposes the wrapped network's attributes (``backbone``, ``objective``...)."""

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)


def wrap(network: torch.nn.Module) -> DDPNetwork:
    device_ids = [torch.cuda.current_device()] if next(network.parameters()).is_cuda else None
    # frozen blocks and per-objective heads may leave parameters without gradients in a step
    return DDPNetwork(network, device_ids=device_ids, find_unused_parameters=True)


def rank_share(batches, n_batches: int, seed):
    """This rank's batches of one epoch: every ``world_size``-th of the same seeded shuffle, equally many on every
    rank (the last ``n_batches % world_size`` batches are left out, so no rank waits for another).

    Parameters
    ----------
    batches: iterable
        The epoch's batches, in the same (seeded) order on every rank.
    n_batches: int
        How many there are.
    seed: int or None
        The model's seed; None raises (every rank must draw the same shuffle).
    """
    if seed is None:
        raise ValueError("distributed training needs a seed, so that every rank draws the same shuffle")
    rank, world = rank_and_world()
    usable = (n_batches // world) * world
    for i, batch in enumerate(batches):
        if i >= usable:
            return
        if i % world == rank:
            yield batch
