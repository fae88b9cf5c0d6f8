"""Loading a run config as ``tools/train.py`` and ``tools/test.py`` do:
their shared command line (:func:`run_parser`), the command-line overrides
(work dir, ``--cfg-options``, launcher, AMP), the CPU set-up of a
distributed launch, and ``--data-root`` (pre-training on an image
folder)."""
import argparse
import os
import os.path as osp
from typing import Optional, Union

import torch
import torch.distributed as dist
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.utils import get_installed_path

from ..compat import register_config_package
from .argument_types import add_trust_checkpoint_argument, output_dir
from .checkpoint_compat import install_safe_checkpoint_loader

DOWNSTREAM_SCOPES = ('mmseg', 'mmdet')
#: Where an installed (not editable) mmropim keeps its configs and model
#: index.
PACKAGED_FILES = osp.join('mmropim', '.mim', '')


def load_config(config: str) -> Config:
    """``Config.fromfile`` that also resolves ``mmropim::`` names in
    ``_base_`` (``_base_ = 'mmropim::ropim/...'``) to the configs of the
    installed package, as ``mmpretrain::`` names resolve to MMPretrain's.

    Args:
        config (str): Path of the config file.

    Returns:
        Config: The loaded config.

    Raises:
        FileNotFoundError: ``config`` is missing, or it names an
            ``mmropim::`` config while mmropim is installed from a clone in
            editable mode (which carries no packaged configs).
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file {config} does not exist')
    register_config_package()
    try:
        cfg = Config.fromfile(config)
    except FileNotFoundError as error:
        if PACKAGED_FILES not in str(error) or osp.isfile(
                osp.join(get_installed_path('mmropim'), '.mim',
                         'model-index.yml')):
            raise  # not about packaged configs, or a packaged one missing
        raise FileNotFoundError(
            f'{error}: {config} names an mmropim:: config, which an '
            'installed mmropim serves from mmropim/.mim/configs (pip install '
            '<clone>, not pip install -e); this mmropim has no packaged '
            'configs: name the base by its path (configs/...) '
            'instead') from error
    for value in cfg.values():
        drop_package_scope(value)
    return cfg


def drop_package_scope(node, package: str = 'mmropim') -> None:
    """Remove the ``_scope_='mmropim'`` that MMEngine gives every component
    of an ``mmropim::`` base (one written by hand goes too: there is no
    such scope to build in). mmropim registers its parts into the
    registries of the scope its configs name (MMPretrain's, MMSeg's,
    MMDet's) and has none of its own, so those parts build in the run's
    default scope, as they do from a base named by its path.

    Args:
        node (dict | list | tuple): A config (dict) or part of one; changed
            in place.
        package (str): The package scope to remove.
    """
    if isinstance(node, dict):
        if node.get('_scope_') == package:
            del node['_scope_']
        for value in node.values():
            drop_package_scope(value, package)
    elif isinstance(node, (list, tuple)):
        for value in node:
            drop_package_scope(value, package)


def load_run_config(config: str,
                    work_dir: Optional[str] = None,
                    cfg_options: Optional[dict] = None,
                    launcher: str = 'none',
                    amp: bool = False,
                    no_amp: bool = False) -> Config:
    """Load a config and apply the command-line overrides common to the
    train and test entry points.

    Args:
        config (str): Path of the config file.
        work_dir (str, optional): Output folder; defaults to the config's
            ``work_dir`` or ``./work_dirs/<config name>``.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        launcher (str): ``none``, ``pytorch``, ``slurm`` or ``mpi``.
        amp (bool): Switch to automatic mixed precision.
        no_amp (bool): Switch an automatic-mixed-precision config to fp32
            (``AmpOptimWrapper`` to ``OptimWrapper`` without its AMP
            arguments, no fp16 test), e.g. to run it on a CPU.

    Returns:
        Config: The config, ready for ``Runner.from_cfg``.
    """
    cfg = load_config(config)
    if cfg_options:
        from .config_checks import check_option_keys

        # a key nothing reads would change nothing
        check_option_keys(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    if cfg.get('default_scope') in DOWNSTREAM_SCOPES:
        # a config that forgot custom_imports=['mmropim.downstream']
        import mmropim.downstream  # noqa: F401
    if launcher != 'none' and not torch.cuda.is_available():
        setup_cpu_distributed(cfg, launcher)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    drop_collate_scope(cfg)
    if amp and no_amp:
        raise ValueError('--amp and --no-amp contradict each other: give '
                         'one of them')
    if no_amp:
        switch_to_fp32(cfg)
    if amp:
        if not torch.cuda.is_available():
            raise RuntimeError(
                '--amp needs a CUDA device (MMEngine\'s AmpOptimWrapper runs '
                'on cuda/npu/mlu only); drop --amp to train on the CPU.')
        if 'optim_wrapper' in cfg:
            if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'OptimWrapper':
                cfg.optim_wrapper.type = 'AmpOptimWrapper'
                cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            cfg.setdefault('test_cfg', dict())
            cfg.test_cfg.fp16 = True
    return cfg


def drop_collate_scope(cfg: Config) -> None:
    """Drop the ``_scope_`` that MMEngine adds to a data loader's
    ``collate_fn`` when a config inherits another codebase's
    (``_base_ = 'mmpretrain::...'``): MMEngine's ``Runner`` passes every
    key but ``type`` to the function, and ``default_collate`` stopped with
    a ``TypeError`` inside a worker. The function is looked up under the
    config's own scope, which finds MMEngine's and MMPretrain's alike."""
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(split)
        collate_fn = loader.get('collate_fn') if isinstance(
            loader, dict) else None
        if isinstance(collate_fn, dict) and '_scope_' in collate_fn:
            collate_fn.pop('_scope_')


def switch_to_fp32(cfg: Config) -> None:
    """Turn an automatic-mixed-precision config into fp32: an
    ``AmpOptimWrapper`` (or a subclass) becomes MMEngine's ``OptimWrapper``
    without the arguments only the AMP wrapper takes (``loss_scale``,
    ``dtype``, ...), and ``test_cfg.fp16`` is dropped."""
    import inspect

    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    from mmengine.registry import OPTIM_WRAPPERS
    optim_wrapper = cfg.get('optim_wrapper')
    if isinstance(optim_wrapper, dict) and 'optimizer' in optim_wrapper:
        kind = optim_wrapper.get('type', 'OptimWrapper')
        if isinstance(kind, str):
            with OPTIM_WRAPPERS.switch_scope_and_registry(
                    optim_wrapper.get('_scope_', cfg.get(
                        'default_scope', 'mmpretrain'))) as registry:
                kind = registry.get(kind)
        if inspect.isclass(kind) and issubclass(kind, AmpOptimWrapper):
            amp_only = set(inspect.signature(
                AmpOptimWrapper.__init__).parameters) - set(
                    inspect.signature(OptimWrapper.__init__).parameters)
            for key in amp_only:
                optim_wrapper.pop(key, None)
            optim_wrapper.type = 'OptimWrapper'
            optim_wrapper.pop('_scope_', None)
    if isinstance(cfg.get('test_cfg'), dict):
        cfg.test_cfg.pop('fp16', None)


def training_dataset(dataset_cfg: dict) -> dict:
    """The dataset under any wrappers (``RepeatDataset`` ...), the one with
    the pipeline."""
    while 'pipeline' not in dataset_cfg and 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


# keys of the training dataset that --data-root keeps: BaseDataset's own
# (which images, how they are stored), not those naming the data
KEPT_DATASET_KEYS = ('indices', 'serialize_data', 'lazy_init', 'max_refetch')


def train_on_image_folder(cfg: Config,
                          data_root: str,
                          high_bit_range: Union[str, int] = 'full') -> None:
    """Pre-train on every image below ``data_root`` (nested folders, any
    format Pillow reads, no labels): the training dataset becomes
    MMPretrain's ``CustomDataset`` without labels, read through the
    config's own pipeline, whose ``LoadImageFromFile`` becomes
    :class:`~mmropim.datasets.LoadImageWithPillow` with as many channels as
    the backbone's ``in_channels`` (1: grayscale, 3: color, 4: color +
    alpha; 16-bit images scaled by ``high_bit_range``). The dataset's
    ``indices``, ``serialize_data``, ``lazy_init`` and ``max_refetch`` are
    kept. Validation is switched off (there are no labels).

    Args:
        cfg (Config): A pre-training config; changed in place.
        data_root (str): The image folder.
        high_bit_range (str | int): ``LoadImageWithPillow``'s: 'full',
            'image' or the bits the values use. Defaults to 'full'.

    Raises:
        ValueError: When the backbone's ``in_channels`` is not 1, 3 or 4, or
            the data preprocessor's mean / std / ``to_rgb`` do not fit it.
    """
    from mmropim.datasets import pillow_extensions
    from mmropim.utils import config_type_name
    dataloader = cfg.get('train_dataloader')
    if not dataloader:
        raise ValueError('--data-root needs a config with train_dataloader')
    channels = check_image_channels(cfg)
    dataset = training_dataset(dataloader.dataset)  # under RepeatDataset...
    if 'pipeline' not in dataset:
        raise ValueError(
            '--data-root replaces the training dataset under its wrappers '
            f'but found no pipeline in {dict(dataset)!r} (several datasets '
            'in a ConcatDataset?): set the dataset in the config instead')
    loader = dict(type='LoadImageWithPillow')
    if channels != 3:
        loader.update(channels=channels)
    if high_bit_range != 'full':
        loader.update(high_bit_range=high_bit_range)
    pipeline = [
        loader if config_type_name(t) == 'LoadImageFromFile' else t
        for t in dataset.pipeline
    ]
    if pipeline == list(dataset.pipeline):
        raise ValueError(
            '--data-root swaps the pipeline\'s LoadImageFromFile for '
            'LoadImageWithPillow (any format and mode), but the training '
            'pipeline has no LoadImageFromFile: '
            f'{[t.get("type") for t in dataset.pipeline]}')
    # what every MMEngine dataset takes (a subset, how it is stored) stays
    kept = {key: dataset[key] for key in KEPT_DATASET_KEYS if key in dataset}
    dataset.clear()  # in place: the wrappers keep their settings
    dataset.update(
        **kept,
        type='CustomDataset',
        data_root=data_root,
        ann_file='',
        data_prefix='',
        with_label=False,
        extensions=pillow_extensions(),
        pipeline=pipeline)
    for key in ('val_dataloader', 'val_evaluator', 'val_cfg'):
        cfg[key] = None


def check_image_channels(cfg: Config) -> int:
    """The channel count ``--data-root`` reads images with: the backbone's
    ``in_channels`` (3 when unset), checked against the data preprocessor.

    Args:
        cfg (Config): A pre-training config.

    Returns:
        int: 1, 3 or 4.

    Raises:
        ValueError: Naming the setting that does not fit.
    """
    from mmropim.datasets.transforms.load_image_with_pillow import CHANNELS
    model = cfg.get('model') or {}
    channels = (model.get('backbone') or {}).get('in_channels', 3)
    if channels not in CHANNELS:
        raise ValueError(
            f'--data-root reads images as 1 (gray), 3 (color) or 4 (color + '
            f'alpha) channels, but model.backbone.in_channels={channels!r}')
    preprocessor = model.get('data_preprocessor') or cfg.get(
        'data_preprocessor') or {}
    # MMEngine's preprocessors take 1 value (for every channel) or 3
    allowed = (1, ) if channels == 4 else sorted({1, channels})
    for key in ('mean', 'std'):
        values = preprocessor.get(key)
        if values is not None and len(values) not in allowed:
            raise ValueError(
                f'the data preprocessor\'s {key} has {len(values)} values '
                f'but the backbone takes in_channels={channels}: give '
                f'{" or ".join(map(str, allowed))} (MMEngine\'s preprocessors '
                'take one value for all channels, or 3; '
                'tools/analysis/image_mean_std.py DIR '
                f'--channels {channels} prints them)')
    if channels != 3 and any(
            preprocessor.get(key)
            for key in ('to_rgb', 'bgr_to_rgb', 'rgb_to_bgr')):
        raise ValueError(
            f'the data preprocessor swaps color channels (to_rgb=True) but '
            f'images are read with {channels} channel(s) (gray / RGBA, '
            'already in order): set model.data_preprocessor.to_rgb=False')
    return channels


def setup_cpu_distributed(cfg: Config, launcher: str) -> None:
    """Distributed training on CPUs: a gloo process group and a CPU DDP
    wrapper, where MMEngine would bind every process to a GPU.

    MMEngine's ``init_dist`` calls ``torch.cuda.set_device`` and its DDP
    wrapper defaults to ``device_ids=[LOCAL_RANK]``; both need CUDA. The
    runner skips ``init_dist`` when a process group exists, so the group is
    created here (``env://``, as ``torch.distributed.run`` sets it up) and
    the wrapper gets ``device_ids=None``. Nothing changes on GPUs.

    Args:
        cfg (Config): The run config; ``model_wrapper_cfg`` and
            ``env_cfg.dist_cfg`` are updated.
        launcher (str): Only ``'pytorch'`` (``tools/dist_train.sh``) runs on
            CPUs.
    """
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs CUDA GPUs; on CPUs use '
            '--launcher pytorch (tools/dist_train.sh CONFIG N) or --launcher '
            'none.')
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.setdefault('env_cfg', ConfigDict())
    cfg.env_cfg.setdefault('dist_cfg', ConfigDict())
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or ConfigDict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.device_ids = None
    cfg.model_wrapper_cfg = wrapper


def switch_on_pictures(cfg: Config, interval: int) -> None:
    """``tools/train.py --vis-interval N``: switch on the config's
    :class:`~mmropim.visualization.MIMVisualizationHook`, found in
    ``custom_hooks`` by its type (its index differs between configs; a
    stock mix has none), drawing every ``interval`` iterations; one is
    added when the config has none.

    Args:
        cfg (Config): The run config; changed in place.
        interval (int): Iterations between two pictures.

    Raises:
        ValueError: The config has several such hooks.
    """
    from mmropim.utils import config_type_name
    hooks = list(cfg.get('custom_hooks') or [])
    found = [hook for hook in hooks
             if config_type_name(hook) == 'MIMVisualizationHook']
    if len(found) > 1:
        raise ValueError(
            f'--vis-interval: custom_hooks holds {len(found)} '
            'MIMVisualizationHook entries; keep one')
    if found:
        found[0].update(enable=True, interval=interval)
    else:
        hooks.append(dict(type='MIMVisualizationHook', enable=True,
                          interval=interval))
    cfg.custom_hooks = hooks


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
