"""Set-up shared by the cost benchmarks (``sketch_overhead.py``,
``prmim_cost.py``, ``gpu_smoke.py``); imported by them, not run itself."""
import sys

if __name__ == '__main__':
    sys.exit('tools/benchmarks/common.py is imported by the benchmark scripts '
             'and runs nothing itself; run one of them, e.g. python '
             'tools/benchmarks/prmim_cost.py --help')

import argparse
import json
import os.path as osp
from typing import Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from mmropim.utils.argument_types import (output_file, positive_int,
                                          torch_device)
from mmropim.utils.model_narrowing import narrow_model

CONFIG_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')


def benchmark_parser(doc: str, batch_size: Optional[int],
                     repeats: int) -> argparse.ArgumentParser:
    """A parser with the benchmarks' common flags: ``--batch-size``,
    ``--repeats`` (timed rounds), ``--device`` (CUDA when present),
    ``--width-divisor`` and ``--max-depth`` (smaller models for a quick
    check) and ``--out FILE.json``.

    Args:
        doc (str): The script's docstring; its first line describes it.
        batch_size (int, optional): Default batch; None for each config's.
        repeats (int): Default number of timed rounds.
    """
    parser = argparse.ArgumentParser(description=doc.split('\n')[0])
    parser.add_argument(
        '--batch-size',
        type=positive_int,
        default=batch_size,
        help='images per step (default: '
        f'{batch_size or "the config batch per GPU"})')
    parser.add_argument('--repeats', type=positive_int, default=repeats,
                        help='timed rounds')
    parser.add_argument(
        '--device',
        type=torch_device,
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='cpu, cuda or cuda:N (default: cuda when present)')
    parser.add_argument(
        '--width-divisor',
        type=positive_int,
        default=1,
        help='divide every channel width and attention head count of the '
        'models (a quick check at narrow widths; 1: as shipped)')
    parser.add_argument(
        '--max-depth',
        type=positive_int,
        help='cap the encoder and decoder depths of the models (a quick '
        'check; default: as shipped)')
    parser.add_argument(
        '--out', type=output_file, help='also write the figures as JSON')
    return parser


def write_out_json(args: argparse.Namespace, report: dict) -> None:
    """Write ``report`` to the ``--out`` file, when one was given."""
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=2)


def load_config(relpath: str) -> Config:
    """The config at ``relpath`` under the repository's ``configs/``."""
    return Config.fromfile(osp.join(CONFIG_ROOT, relpath))


def model_config(model_cfg: dict,
                 width_divisor: int,
                 max_depth: Optional[int] = None) -> dict:
    """``model_cfg`` as shipped, or made smaller for a quick check: every
    channel width and head count divided by ``width_divisor`` > 1, encoder
    and decoder depths capped at ``max_depth`` (patch size and token counts
    kept: see ``narrow_model``).

    Args:
        model_cfg (dict): The ``model`` field of a config.
        width_divisor (int): The ``--width-divisor`` flag.
        max_depth (int, optional): The ``--max-depth`` flag; None keeps the
            depths.

    Returns:
        dict: The model config to build.
    """
    if width_divisor == 1 and max_depth is None:
        return model_cfg
    return narrow_model(model_cfg, width_divisor, max_depth)


def model_size_note(args: argparse.Namespace) -> str:
    """How the models differ from the shipped ones, for a report's first
    line: e.g. `` (widths / 16, depth <= 2)``; empty when they do not."""
    notes = []
    if args.width_divisor > 1:
        notes.append(f'widths / {args.width_divisor}')
    if args.max_depth is not None:
        notes.append(f'depth <= {args.max_depth}')
    return f' ({", ".join(notes)})' if notes else ''


def start_benchmark(name: str, device: str) -> torch.device:
    """Log only warnings under ``name``, build in MMPretrain's scope and seed
    torch and numpy with 0.

    Args:
        name (str): The benchmark's logger name.
        device (str): The ``--device`` flag.

    Returns:
        torch.device: The device to run on.
    """
    MMLogger.get_instance(name, log_level='WARNING')
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    np.random.seed(0)
    return torch.device(device)
