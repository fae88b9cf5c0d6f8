"""Time, memory and batches of a training step, for the benchmarks.

Wall-clock timing (CUDA work included), the CUDA peak memory of a step
above what is resident, the bytes autograd saves for backward, and batches
from a config's own pipeline over in-memory images.
"""
import os
import statistics
import time
from typing import Callable, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import Compose, default_collate


def synchronize(device: torch.device) -> None:
    """Wait for the work queued on ``device`` (a no-op off CUDA)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timed_ms(fn: Callable[[], object], device: torch.device) -> float:
    """Wall time of one call of ``fn`` in ms (CUDA work included)."""
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return 1000 * (time.perf_counter() - start)


def median_ms(fn: Callable[[], object], repeats: int,
              device: torch.device) -> float:
    """Median of ``repeats`` timed calls, after one warm-up call."""
    fn()
    return statistics.median(timed_ms(fn, device) for _ in range(repeats))


def interleaved_median_ms(steps: Sequence[Callable[[], object]], repeats: int,
                          device: torch.device) -> List[float]:
    """Median wall time in ms of each step, timed round-robin (one of each
    per round) so that drifts of a shared machine hit all steps alike.

    For steps of similar cost; time millisecond-scale work with
    :func:`median_ms`.

    Args:
        steps (Sequence[callable]): The steps, called without arguments;
            each is called once to warm up, then ``repeats`` times.
        repeats (int): Timed rounds.
        device (torch.device): Where the steps run.

    Returns:
        list[float]: One median per step, in the order of ``steps``.
    """
    for fn in steps:  # warm-up
        fn()
    times = [[] for _ in steps]
    for _ in range(repeats):
        for fn, record in zip(steps, times):
            record.append(timed_ms(fn, device))
    return [statistics.median(record) for record in times]


def peak_memory_above_resident_mb(step: Callable[[], object],
                                  device: torch.device) -> Optional[float]:
    """The CUDA peak memory of one call of ``step`` above what was
    allocated before it, in MiB; None (and ``step`` not called) off CUDA.
    """
    if device.type != 'cuda':
        return None
    synchronize(device)
    resident = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    step()
    synchronize(device)
    return (torch.cuda.max_memory_allocated(device) - resident) / 2**20


def saved_activation_bytes(model: torch.nn.Module,
                           forward: Callable[[], object]) -> int:
    """Bytes the autograd graph of ``forward()`` keeps for backward,
    excluding the parameters of ``model`` and counting shared storages
    once."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in params:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = forward()
    del loss
    return sum(storages.values())


class PipelineOverImages(torch.utils.data.Dataset):
    """A config's pipeline after ``LoadImageFromFile`` over in-memory
    images, cycled to ``length`` samples.

    Args:
        pipeline_cfg (list[dict]): The pipeline; its transforms are built
            in the current default scope.
        pool (list[np.ndarray]): (H, W, 3) uint8 images.
        length (int): Samples in the dataset.
    """

    def __init__(self, pipeline_cfg: list, pool: list, length: int) -> None:
        steps = [t for t in pipeline_cfg if t['type'] != 'LoadImageFromFile']
        self.pipeline = Compose(steps)
        self.pool = pool
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        img = self.pool[index % len(self.pool)].copy()
        return self.pipeline(
            dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2]))


def seed_numpy_in_worker(worker_id: int) -> None:
    """Seed numpy in a data-loader worker from the worker's torch seed."""
    np.random.seed(torch.initial_seed() % 2**31)


def pipeline_batches(pipeline_cfg: list, pool: list, batch_size: int,
                     num_batches: int, seed: int = 0) -> list:
    """``num_batches`` distinct collated batches of ``batch_size`` samples
    of :class:`PipelineOverImages`, shuffled from ``seed``, loaded by up to
    8 worker processes."""
    dataset = PipelineOverImages(pipeline_cfg, pool, batch_size * num_batches)
    workers = min(8, os.cpu_count() or 1)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers if workers > 1 else 0,
        collate_fn=default_collate,
        worker_init_fn=seed_numpy_in_worker,
        generator=torch.Generator().manual_seed(seed))
    return list(loader)
