"""List the images of a config's training set that cannot be decoded.

    python tools/analysis/check_data.py CONFIG [--cfg-options ...]
        [--workers N]

An unreadable image otherwise stops a run when the data loader first
reaches it (MMCV's ``failed to load image: PATH``), possibly hours in;
this reads every image the way ``LoadImageFromFile`` does, before any
training, and names all the bad files at once. ``tools/train.py
--check-data`` runs it before building the runner.
"""
import argparse
import os.path as osp
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import List, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import mmcv
from mmengine.config import Config, DictAction
from mmengine.registry import DATASETS, init_default_scope

from tools.argument_types import existing_file, positive_int

SHOWN = 20


class UnreadableImagesError(RuntimeError):
    """Some images of a training set cannot be decoded."""


def image_paths(dataset_cfg: dict, default_scope: str) -> List[str]:
    """Every ``img_path`` of a dataset config, in dataset order.

    Args:
        dataset_cfg (dict): ``train_dataloader.dataset`` of a config
            (any dataset of MMPretrain, MMSeg or MMDet, wrappers included).
        default_scope (str): The config's ``default_scope``.

    Returns:
        list[str]: The image files.
    """
    init_default_scope(default_scope)
    import mmropim  # noqa: F401  (our datasets and transforms)
    dataset = DATASETS.build(dataset_cfg)
    dataset.full_init()
    return [
        dataset.get_data_info(index)['img_path']
        for index in range(len(dataset))
    ]


def read_error(path: str, color_type: str, backend: str) -> str:
    """Why an image cannot be decoded as ``LoadImageFromFile`` would, or
    ``''`` when it can."""
    try:
        with open(path, 'rb') as file:
            content = file.read()
        image = mmcv.imfrombytes(content, flag=color_type, backend=backend)
    except Exception as error:  # any reason: report it with the path
        return f'{type(error).__name__}: {error}'
    if image is None:
        return 'not an image the decoder can read'
    return ''


def loader_settings(pipeline: list) -> Tuple[str, str]:
    """``color_type`` and ``imdecode_backend`` of the pipeline's image
    loader (MMCV's defaults when it sets none)."""
    for step in pipeline or []:
        if str(step.get('type', '')).endswith('LoadImageFromFile'):
            return (step.get('color_type', 'color'),
                    step.get('imdecode_backend', 'cv2'))
    return 'color', 'cv2'


def check_training_images(cfg: Config, workers: int = 8) -> int:
    """Decode every training image of ``cfg``; raise if any fails.

    Args:
        cfg (Config): A run config with a ``train_dataloader``.
        workers (int): Decoding threads.

    Returns:
        int: The number of images checked.

    Raises:
        UnreadableImagesError: Naming every unreadable file (the first
            20, and the count).
    """
    dataset_cfg = cfg.train_dataloader.dataset
    paths = image_paths(dataset_cfg, cfg.get('default_scope', 'mmpretrain'))
    color_type, backend = loader_settings(
        dataset_cfg.get('pipeline', dataset_cfg.get('dataset', {}).get(
            'pipeline')))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        errors = list(
            pool.map(lambda p: read_error(p, color_type, backend), paths))
    bad = [(p, e) for p, e in zip(paths, errors) if e]
    if bad:
        listed = '\n'.join(f'  {p}: {e}' for p, e in bad[:SHOWN])
        more = f'\n  ... and {len(bad) - SHOWN} more' if len(bad) > SHOWN \
            else ''
        raise UnreadableImagesError(
            f'{len(bad)} of the {len(paths)} training images cannot be '
            f'read; remove or replace them:\n{listed}{more}')
    return len(paths)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', type=existing_file, help='config file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. '
        'train_dataloader.dataset.data_root=DIR')
    parser.add_argument(
        '--workers', type=positive_int, default=8, help='decoding threads')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    count = check_training_images(cfg, args.workers)
    print(f'all {count} training images can be read')


if __name__ == '__main__':
    main()
