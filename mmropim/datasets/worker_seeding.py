"""Data-loader workers seeded per epoch.

MMEngine's default ``worker_init_fn`` seeds worker ``w`` of rank ``r`` with
``seed + r * num_workers + w`` every time it starts: with
``persistent_workers=False`` the workers restart each epoch and every epoch
replays the first one's random crops, flips and masks.
"""
import os
import random

import numpy as np
import torch
from mmengine.registry import FUNCTIONS


@FUNCTIONS.register_module()
def worker_init_per_epoch(worker_id: int) -> None:
    """Seed numpy, Python and torch in a data-loader worker from PyTorch's
    seed of that worker and the process rank.

    PyTorch gives each worker ``base_seed + worker_id``, with ``base_seed``
    drawn from the main process's torch generator each time the workers
    start (each epoch with ``persistent_workers=False``). So every epoch,
    rank and worker gets its own stream, and a run resumed with the main
    process's random states (:class:`mmropim.engine.SafeCheckpointHook`)
    draws the same streams as the run it continues.

    Use it as ``train_dataloader.worker_init_fn=dict(
    type='worker_init_per_epoch')``.

    Args:
        worker_id (int): Given by the data loader.
    """
    rank = int(os.environ.get('RANK', 0))
    sequence = np.random.SeedSequence(
        [torch.initial_seed() % 2**63, rank, worker_id])
    seed = int(sequence.generate_state(1)[0])
    np.random.seed(seed)
    random.seed(seed)
    torch.manual_seed(seed)
