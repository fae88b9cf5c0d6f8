"""Set-up shared by the benchmark scripts."""
import argparse
import json
import os.path as osp
from typing import Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from tools.argument_types import output_file, positive_int, torch_device

CONFIG_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')


def benchmark_parser(doc: str, batch_size: Optional[int],
                     repeats: int) -> argparse.ArgumentParser:
    """A parser with the benchmarks' common flags: ``--batch-size``,
    ``--repeats`` (timed rounds), ``--device`` (CUDA when present) and
    ``--out FILE.json``.

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
        default='cuda' if torch.cuda.is_available() else 'cpu')
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
