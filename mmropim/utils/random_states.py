"""The random states that decide a run's sketches, masks, drop paths and
augmentation, as plain data a checkpoint can hold (tensors, lists, numbers;
they load with ``torch.load(weights_only=True)``)."""
import random
from typing import List

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_world_size


def get_random_states() -> dict:
    """This process's torch (CPU and current CUDA device), numpy and Python
    random states."""
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    states = dict(
        torch=torch.get_rng_state(),
        numpy=dict(kind=kind, keys=torch.from_numpy(keys.astype(np.int64)),
                   position=int(position), has_gauss=int(has_gauss),
                   cached_gaussian=float(cached_gaussian)),
        python=dict(version=version, internal=list(internal),
                    gauss_next=gauss_next))
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state()
    return states


def set_random_states(states: dict) -> None:
    """Restore what :func:`get_random_states` returned (its tensors may be
    on any device: a resumed checkpoint is mapped to the GPU)."""
    torch.set_rng_state(states['torch'].cpu())
    numpy_state = states['numpy']
    np.random.set_state(
        (numpy_state['kind'],
         numpy_state['keys'].cpu().numpy().astype(np.uint32),
         numpy_state['position'], numpy_state['has_gauss'],
         numpy_state['cached_gaussian']))
    python_state = states['python']
    random.setstate((python_state['version'],
                     tuple(python_state['internal']),
                     python_state['gauss_next']))
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state(states['cuda'].cpu())


def gather_random_states() -> List[dict]:
    """:func:`get_random_states` of every rank, in rank order (a collective
    under distributed training: every rank must call it)."""
    states = get_random_states()
    if get_world_size() == 1:
        return [states]
    return all_gather_object(states)
