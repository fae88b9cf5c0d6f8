"""The full-size configs of a config folder, and which of them differ only
in their schedule (one short check run covers such a group)."""
import copy
import glob
import json
import os
import os.path as osp
from typing import Dict, List

from mmengine.config import Config

from .run_config import training_dataset


def is_demo_config(path: str) -> bool:
    """Demo configs (``*_demo-*.py``) already run on the CPU as shipped."""
    return '_demo-' in osp.basename(path)


def full_size_configs(config_root: str) -> List[str]:
    """Every config below ``config_root`` that is neither a ``_base_`` file
    nor a demo config, sorted.

    Args:
        config_root (str): The config folder, e.g. the repository's
            ``configs``.

    Returns:
        list[str]: The config paths.
    """
    if not osp.isdir(config_root):
        raise FileNotFoundError(f'no config folder {config_root}')
    paths = glob.glob(osp.join(glob.escape(config_root), '**', '*.py'),
                      recursive=True)
    return sorted(p for p in paths
                  if '_base_' not in p.split(os.sep) and not is_demo_config(p))


def setting_key(cfg: Config) -> str:
    """What a short run of a config depends on: model, training pipeline,
    per-GPU batch and optimizer wrapper without the learning rate, the
    layer-wise decay rate (a per-layer learning-rate factor) and gradient
    clipping (a bound on the step). Configs with equal keys differ only in
    their schedule (learning rates, warm-up, epochs, clipping) or
    runtime."""
    optim_wrapper = copy.deepcopy(cfg.optim_wrapper.to_dict())
    optim_wrapper.pop('clip_grad', None)
    optim_wrapper.get('optimizer', {}).pop('lr', None)
    optim_wrapper.get('paramwise_cfg', {}).pop('layer_decay_rate', None)
    return json.dumps([
        cfg.model.to_dict(),
        [dict(t) for t in training_dataset(cfg.train_dataloader.dataset)
         ['pipeline']], cfg.train_dataloader.batch_size, optim_wrapper
    ], sort_keys=True, default=str)


def group_by_setting(paths: List[str]) -> List[List[str]]:
    """Configs grouped by :func:`setting_key`, groups and members in the
    order of ``paths``."""
    groups: Dict[str, List[str]] = {}
    for path in paths:
        groups.setdefault(setting_key(Config.fromfile(path)), []).append(path)
    return list(groups.values())
