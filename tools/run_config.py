"""The command line shared by ``tools/train.py`` and ``tools/test.py``;
the config loading itself is :mod:`mmropim.utils.run_config`. Imported by
them, not run itself."""
import sys

if __name__ == '__main__':
    sys.exit('tools/run_config.py is imported by tools/train.py and '
             'tools/test.py and runs nothing itself; run one of them, e.g. '
             'python tools/train.py --help')

import argparse
import os

from mmengine.config import Config, DictAction

from mmropim.utils.checkpoint_compat import install_safe_checkpoint_loader
from mmropim.utils.run_config import load_run_config
from tools.argument_types import add_trust_checkpoint_argument, output_dir


def run_parser(description: str, job: str,
               work_dir_help: str) -> argparse.ArgumentParser:
    """A parser with what ``tools/train.py`` and ``tools/test.py`` share:
    the config, ``--work-dir``, ``--amp``, ``--no-amp``, ``--cfg-options``,
    ``--launcher``, ``--trust-checkpoint`` and the launcher's
    ``--local-rank``.

    Args:
        description (str): What the tool does.
        job (str): ``'training'`` or ``'testing'``, for the help texts.
        work_dir_help (str): What the tool writes into ``--work-dir``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', type=output_dir, help=work_dir_help)
    parser.add_argument(
        '--amp', action='store_true', help=f'mixed precision {job}')
    parser.add_argument(
        '--no-amp',
        action='store_true',
        help=f'fp32 {job} of a mixed-precision config (its AmpOptimWrapper '
        'becomes an OptimWrapper), e.g. on a CPU')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. train_cfg.max_epochs=2')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help=f'job launcher for distributed {job}')
    add_trust_checkpoint_argument(parser)
    parser.add_argument(
        '--local_rank',
        '--local-rank',
        type=int,
        default=0,
        help='set by torch.distributed launchers (tools/dist_train.sh); '
        'do not pass it yourself')
    return parser


def parse_run_arguments(parser: argparse.ArgumentParser,
                        argv=None) -> argparse.Namespace:
    """Parse ``argv`` and export ``LOCAL_RANK`` for MMEngine (launchers
    that pass ``--local-rank`` instead of setting it)."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def run_config_from_args(args: argparse.Namespace) -> Config:
    """What ``tools/train.py`` and ``tools/test.py`` do first: install the
    safe checkpoint loader (trusting only the files ``--trust-checkpoint``
    names) and load the config with the command-line overrides.

    Args:
        args (argparse.Namespace): From :func:`parse_run_arguments`, with
            ``config``, ``work_dir``, ``amp`` and ``no_amp``.

    Returns:
        Config: The run config.
    """
    install_safe_checkpoint_loader(trusted_files=args.trust_checkpoint)
    return load_run_config(args.config, args.work_dir, args.cfg_options,
                           args.launcher, args.amp, args.no_amp)
