"""Run full-size configs as users run them, at narrow widths.

Every config is built as shipped except that its transformer and head widths
are divided by ``--width-divisor`` (depth, heads, token counts, input size,
per-GPU batch, pipeline, optimizer, schedule and AMP settings are kept). It
then trains ``--iters`` iterations through MMEngine's ``Runner`` on the demo
images (``make_demo_data.py``), cropped and resized by the config's own
pipeline to its real input size. On a CPU, ``AmpOptimWrapper`` becomes
:class:`CPUAmpOptimWrapper` (fp16 / bf16 autocast and a gradient scaler on
the CPU). Checked: the loss is finite and non-zero at every iteration, and
every parameter that requires a gradient receives a non-zero one.

    python tools/analysis/check_configs.py [CONFIG ...] [--iters 2]
        [--width-divisor 16] [--batch-size N] [--device cpu|cuda]

Without CONFIG every non-demo config under ``configs/`` is checked.
"""
import argparse
import copy
import glob
import json
import math
import os
import os.path as osp
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional

import torch
from mmengine.config import Config, ConfigDict
from mmengine.hooks import Hook
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import HOOKS, OPTIM_WRAPPERS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:  # run as a script: tools.* importable
    sys.path.insert(0, REPO_ROOT)
CONFIG_ROOT = osp.join(REPO_ROOT, 'configs')

from tools.run_config import training_dataset

# Config keys that hold a channel width (and only a width).
WIDTH_KEYS = frozenset({
    'embed_dims', 'embed_dim', 'decoder_embed_dim', 'in_channels',
    'channels', 'out_channels', 'feat_channels', 'fc_out_channels',
    'conv_out_channels', 'feedforward_channels'
})
# Attention head counts, divided with the widths (the head dimension stays
# as shipped): the (B, heads, T, T) attention maps do not shrink with width.
HEAD_KEYS = frozenset({'num_heads', 'decoder_num_heads'})
# Widths below this are image channels or class counts, never divided.
MIN_WIDTH_TO_DIVIDE = 64


def smooth_images(num_images: int, size: int, seed: int = 0) -> torch.Tensor:
    """Random uint8 images with structure at several scales (coarse colour
    fields plus finer detail), (N, H, W, 3) as ``LoadImageFromFile`` gives
    them: not white noise, whose per-patch normalized pixel targets would be
    unlearnable."""
    generator = torch.Generator().manual_seed(seed)
    up = torch.nn.functional.interpolate
    coarse = torch.rand(num_images, 3, size // 32, size // 32,
                        generator=generator)
    detail = torch.rand(num_images, 3, size // 8, size // 8,
                        generator=generator)
    images = 0.7 * up(coarse, size=size, mode='bicubic') + \
        0.3 * up(detail, size=size, mode='bilinear')
    images = (images.clamp(0, 1) * 255).round().byte()
    return images.permute(0, 2, 3, 1).contiguous()


def is_demo_config(path: str) -> bool:
    """Demo configs (``*_demo-*.py``) already run on the CPU as shipped."""
    return '_demo-' in osp.basename(path)


def full_size_configs() -> List[str]:
    """Every config under ``configs/`` that is neither a ``_base_`` file nor
    a demo config, sorted."""
    paths = glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True)
    return sorted(p for p in paths
                  if '_base_' not in p.split(os.sep) and not is_demo_config(p))


def setting_key(cfg: Config) -> str:
    """What a short run of a config depends on: model, training pipeline,
    per-GPU batch and optimizer wrapper without the learning rate and the
    layer-wise decay rate (a per-layer learning-rate factor). Configs with
    equal keys differ only in their schedule (learning rates, warm-up,
    epochs) or runtime."""
    optim_wrapper = copy.deepcopy(cfg.optim_wrapper.to_dict())
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


def _divide(width: int, divisor: int) -> int:
    if width < MIN_WIDTH_TO_DIVIDE:
        return width
    if width % divisor:
        raise ValueError(f'width {width} is not divisible by the width '
                         f'divisor {divisor}')
    return width // divisor


def _expand_arch(node: dict) -> None:
    """Replace a named ViT ``arch`` (e.g. ``'b'``) by its settings dict, so
    that its widths can be divided."""
    from mmpretrain.registry import MODELS
    arch = node.get('arch')
    if not isinstance(arch, str):
        return
    cls = MODELS.get(node['type'])
    zoo = getattr(cls, 'arch_zoo', None)
    if zoo is None or arch.lower() not in zoo:
        raise KeyError(f'cannot expand arch={arch!r} of {node["type"]}')
    settings = dict(zoo[arch.lower()])
    settings.pop('_delete_', None)
    node['arch'] = ConfigDict(settings)


def iter_dicts(node) -> Iterator[dict]:
    """Every dict in a nested config (``node`` itself included), parents
    before children."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from iter_dicts(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from iter_dicts(value)


def without_stochastic_depth(model_cfg: dict) -> ConfigDict:
    """A copy of a model config with every ``drop_path_rate`` set to 0.

    Stochastic depth drops a residual branch per sample; at a per-GPU batch
    of 2 a branch is now and then dropped for every sample of every audited
    iteration, and its parameters get an all-zero gradient by chance.
    """
    model_cfg = copy.deepcopy(ConfigDict(model_cfg))
    for node in iter_dicts(model_cfg):
        if 'drop_path_rate' in node:
            node['drop_path_rate'] = 0.
    return model_cfg


def narrow_model(model_cfg: dict,
                 width_divisor: int = 16,
                 max_depth: Optional[int] = None) -> ConfigDict:
    """A copy of a model config with every channel width and attention head
    count divided (at least one head).

    Head dimensions, patch sizes, token counts and all other settings are
    kept, and so are depths unless ``max_depth`` is given. Named ViT
    architectures are expanded into their settings first. The backbone's
    ``init_cfg`` of type ``Pretrained`` is dropped (there is no checkpoint of
    the narrow model).

    Args:
        model_cfg (dict): The ``model`` field of a config.
        width_divisor (int): Divisor of every width >= 64. Defaults to 16.
        max_depth (int, optional): Cap on encoder and decoder depths
            (``num_layers``, ``decoder_depth``); ``out_indices`` are clipped
            to it. None keeps the depths.

    Returns:
        ConfigDict: The narrow model config.
    """
    if width_divisor < 1:
        raise ValueError(f'width_divisor must be >= 1, got {width_divisor}')
    model_cfg = copy.deepcopy(ConfigDict(model_cfg))

    def shallow(node):
        if max_depth is None:
            return
        depth = max_depth
        if isinstance(node.get('arch'), dict):
            depth = min(node['arch']['num_layers'], max_depth)
            node['arch']['num_layers'] = depth
        if 'decoder_depth' in node:
            node['decoder_depth'] = min(node['decoder_depth'], max_depth)
        indices = node.get('out_indices')
        if isinstance(indices, (list, tuple)):
            node['out_indices'] = sorted({min(i, depth - 1) for i in indices})

    def visit(node):
        if isinstance(node, dict):
            if 'type' in node and 'arch' in node:
                _expand_arch(node)
            shallow(node)
            for key, value in node.items():
                if key in WIDTH_KEYS and isinstance(value, int):
                    node[key] = _divide(value, width_divisor)
                elif key in HEAD_KEYS and isinstance(value, int):
                    node[key] = max(1, value // width_divisor)
                elif key in WIDTH_KEYS and isinstance(value, (list, tuple)) \
                        and all(isinstance(v, int) for v in value):
                    node[key] = type(value)(
                        _divide(v, width_divisor) for v in value)
                else:
                    visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(model_cfg)
    backbone = model_cfg.get('backbone', {})
    init_cfg = backbone.get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        backbone['init_cfg'] = None
    return model_cfg


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``AmpOptimWrapper`` on the CPU, to check AMP configs without a GPU.

    MMEngine's ``AmpOptimWrapper`` refuses to build without a GPU and its
    ``autocast`` accepts only bfloat16 on the CPU. This wrapper runs the
    forward under ``torch.autocast('cpu', dtype)`` (float16 unless the config
    says otherwise, as on a GPU) and scales the loss with
    ``torch.amp.GradScaler('cpu')`` exactly as ``AmpOptimWrapper`` does.

    Args:
        loss_scale (str | float | dict): As in ``AmpOptimWrapper``.
        dtype (str | torch.dtype, optional): Autocast dtype; float16 when
            None.
        **kwargs: Arguments of ``OptimWrapper``.
    """

    def __init__(self, loss_scale='dynamic', dtype=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._scale_update_param = None
        if loss_scale == 'dynamic':
            self.loss_scaler = torch.amp.GradScaler('cpu')
        elif isinstance(loss_scale, float):
            self._scale_update_param = loss_scale
            self.loss_scaler = torch.amp.GradScaler(
                'cpu', init_scale=loss_scale)
        elif isinstance(loss_scale, dict):
            self.loss_scaler = torch.amp.GradScaler('cpu', **loss_scale)
        else:
            raise TypeError('loss_scale must be "dynamic", a float or a dict, '
                            f'got {loss_scale!r}')
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype or torch.float16

    backward = AmpOptimWrapper.backward
    step = AmpOptimWrapper.step
    state_dict = AmpOptimWrapper.state_dict
    load_state_dict = AmpOptimWrapper.load_state_dict

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield


class _Float32OnCPU:
    """Stands in for mmcv's compiled-op module: CPU half tensors go to an op
    as float32 copies; copies the op changed are written back into their
    originals (ops such as ``roi_align_forward`` fill preallocated outputs),
    inputs are left untouched (autograd saved them)."""

    def __init__(self, ext_module) -> None:
        self._ext_module = ext_module

    def __getattr__(self, name):
        op = getattr(self._ext_module, name)

        def call(*args, **kwargs):
            halves = []

            def upcast(value):
                if isinstance(value, torch.Tensor) and \
                        value.device.type == 'cpu' and value.dtype in (
                            torch.float16, torch.bfloat16):
                    copy_ = value.float()
                    halves.append((value, copy_))
                    return copy_
                return value

            args = [upcast(a) for a in args]
            kwargs = {k: upcast(v) for k, v in kwargs.items()}
            out = op(*args, **kwargs)
            for original, copy_ in halves:  # only outputs the op filled in
                if not torch.equal(original.float(), copy_):
                    original.copy_(copy_)
            return out

        return call


@contextmanager
def mmcv_ops_in_float32_on_cpu(modules=('nms', 'roi_align')):
    """mmcv's CPU kernels of NMS and RoIAlign take float32 only (its CUDA
    kernels take half too), so detectors under CPU autocast need this; it
    changes nothing for CUDA tensors."""
    import importlib
    patched = []
    try:
        for name in modules:
            module = importlib.import_module(f'mmcv.ops.{name}')
            patched.append((module, module.ext_module))
            module.ext_module = _Float32OnCPU(module.ext_module)
        yield
    finally:
        for module, ext_module in patched:
            module.ext_module = ext_module


def map_amp_to_device(optim_wrapper_cfg: dict, device: str) -> ConfigDict:
    """``AmpOptimWrapper`` -> ``CPUAmpOptimWrapper`` on the CPU; unchanged
    on a GPU."""
    optim_wrapper_cfg = copy.deepcopy(ConfigDict(optim_wrapper_cfg))
    if device == 'cpu' and optim_wrapper_cfg.get('type') == 'AmpOptimWrapper':
        optim_wrapper_cfg.type = 'CPUAmpOptimWrapper'
    return optim_wrapper_cfg


@HOOKS.register_module()
class GradientAuditHook(Hook):
    """Record the loss of every iteration and which trainable parameters got
    a non-zero gradient (read during backward: the optimizer wrapper clears
    the gradients after its step). Under AMP the gradients are loss-scaled:
    an inf or NaN there is an overflow at the scaler's current scale (the
    scaler skips that step and lowers the scale), so it counts as a
    gradient."""

    def __init__(self) -> None:
        self.losses: List[float] = []
        self.gradients: Dict[str, List[bool]] = {}
        self._handles = []

    def before_train(self, runner) -> None:
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        for name, param in model.named_parameters():
            if not param.requires_grad:
                continue
            self.gradients[name] = []
            self._handles.append(
                param.register_hook(self._recorder(name)))

    def _recorder(self, name):

        def record(grad):
            # NaN != 0 too: inf * 0 in an overflowed, loss-scaled backward
            self.gradients[name].append(bool((grad != 0).any()))

        return record

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.losses.append(float(outputs['loss']))

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()

    def without_gradient(self) -> List[str]:
        """Trainable parameters that never got a non-zero gradient."""
        return [n for n, seen in self.gradients.items() if not any(seen)]


# Where each task's demo set lives and how its config's dataset is pointed
# at it (the dataset class and pipeline stay the config's own, except that
# the pre-training / classification folders are read as CustomDataset).
DEMO_SETS = dict(
    mmpretrain=dict(
        subdir='imagenet',
        images='train/*/*',
        override=dict(type='CustomDataset', data_prefix='train',
                      ann_file='', split='')),
    mmseg=dict(
        subdir='ade20k',
        images='images/training/*',
        override=dict(
            img_suffix='.png', seg_map_suffix='.png',
            data_prefix=dict(img_path='images/training',
                             seg_map_path='annotations/training'))),
    mmdet=dict(
        subdir='coco',
        images='train/*',
        override=dict(
            metainfo=dict(classes=('nucleus', )),
            ann_file='annotations/instances_train.json',
            data_prefix=dict(img='train/'))))


def reduces_zero_label(dataset_cfg: dict) -> bool:
    """Whether an MMSeg dataset maps label 0 to 'ignore' (ADE20K's
    convention: 0 = other), by its config or its class default."""
    if 'reduce_zero_label' in dataset_cfg:
        return bool(dataset_cfg['reduce_zero_label'])
    import inspect

    from mmseg.registry import DATASETS
    parameter = inspect.signature(DATASETS.get(
        dataset_cfg['type']).__init__).parameters.get('reduce_zero_label')
    return bool(parameter is not None and parameter.default)


def shift_seg_labels(root: str, out: str) -> str:
    """A copy of an ADE20K-style demo set with every label id raised by one
    (0 background -> 1, 1 nucleus -> 2), for datasets that reduce the zero
    label: otherwise background is ignored and a crop without a nucleus
    supervises nothing."""
    import shutil

    import numpy as np
    from PIL import Image
    shutil.copytree(osp.join(root, 'images'), osp.join(out, 'images'),
                    dirs_exist_ok=True)
    for path in glob.glob(osp.join(root, 'annotations', '*', '*.png')):
        target = osp.join(out, osp.relpath(path, root))
        os.makedirs(osp.dirname(target), exist_ok=True)
        labels = np.asarray(Image.open(path)).astype(np.uint8)
        Image.fromarray(labels + 1).save(target)
    return out


def demo_dataset(dataset_cfg: dict, scope: str, demo_root: str,
                 num_samples: int, scratch: str) -> ConfigDict:
    """The config's training dataset read from the demo set of its task and
    repeated to at least ``num_samples`` images. Dataset wrappers (e.g. the
    LSJ configs' ``RepeatDataset``) are unwrapped; the dataset class (except
    for ImageNet) and the pipeline stay the config's own. ``scratch`` holds
    relabelled copies where the dataset needs them."""
    dataset_cfg = training_dataset(dataset_cfg)
    demo = DEMO_SETS[scope]
    root = osp.join(demo_root, demo['subdir'])
    length = len(glob.glob(osp.join(root, demo['images'])))
    if length == 0:
        raise FileNotFoundError(
            f'no demo images under {root}: run '
            f'python tools/dataset_converters/make_demo_data.py --out '
            f'{demo_root}')
    if scope == 'mmseg' and reduces_zero_label(dataset_cfg):
        root = shift_seg_labels(root, osp.join(scratch, 'seg_labels_plus1'))
    dataset = copy.deepcopy(ConfigDict(dataset_cfg))
    dataset.update(copy.deepcopy(demo['override']), data_root=root)
    if scope == 'mmpretrain':
        for key in ('ann_file', 'split'):
            dataset.pop(key)
    return ConfigDict(type='RepeatDataset',
                      times=math.ceil(num_samples / length), dataset=dataset)


def prepare_config(path: str,
                   work_dir: str,
                   demo_root: str,
                   iters: int = 2,
                   width_divisor: int = 16,
                   batch_size: Optional[int] = None,
                   device: str = 'cpu',
                   max_depth: Optional[int] = None,
                   seed: int = 0) -> Config:
    """Load a config and make it a short run of the narrow model on the demo
    data at the config's input size and per-GPU batch, seeded and without
    stochastic depth (see :func:`without_stochastic_depth`).

    Args:
        path (str): Config file.
        work_dir (str): Folder for the run's logs.
        demo_root (str): Root of ``make_demo_data.py``'s output.
        iters (int): Training iterations. Defaults to 2.
        width_divisor (int): See :func:`narrow_model`. Defaults to 16.
        batch_size (int, optional): Per-GPU batch; the config's when None.
        device (str): ``'cpu'`` or ``'cuda'``.
        max_depth (int, optional): See :func:`narrow_model`.
        seed (int): ``randomness.seed`` of the run. Defaults to 0.

    Returns:
        Config: Ready for ``Runner.from_cfg``.
    """
    cfg = Config.fromfile(path)
    scope = cfg.get('default_scope', 'mmpretrain')
    cfg.model = without_stochastic_depth(
        narrow_model(cfg.model, width_divisor, max_depth))
    cfg.randomness = dict(seed=seed)
    loader = cfg.train_dataloader
    batch_size = batch_size or loader.batch_size
    loader.batch_size = batch_size
    loader.dataset = demo_dataset(loader.dataset, scope, demo_root,
                                  batch_size * iters, work_dir)
    # on a CPU the workers would only compete with the model for the cores
    # (and each finished run's workers take seconds to shut down)
    loader.num_workers = 0 if device == 'cpu' else min(
        loader.get('num_workers', 0), 8)
    loader.persistent_workers = False
    loader.pin_memory = False
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    for key in ('val_dataloader', 'val_evaluator', 'val_cfg',
                'test_dataloader', 'test_evaluator', 'test_cfg'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.optim_wrapper = map_amp_to_device(cfg.optim_wrapper, device)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    cfg.load_from = None
    cfg.resume = False
    cfg.visualizer = dict(type=cfg.visualizer.type, vis_backends=[])
    cfg.log_level = 'WARNING'
    return cfg


def check_config(path: str, work_dir: str, demo_root: str,
                 **options) -> dict:
    """Train the narrow model of a config for a few iterations.

    Args:
        path, work_dir, demo_root, **options: See :func:`prepare_config`.

    Returns:
        dict: ``losses`` per iteration, ``without_gradient`` (trainable
        parameters that never got a non-zero gradient), ``batch_size``,
        ``input_shape`` of the first batch, ``optim_wrapper`` type,
        ``amp_dtype`` and ``seconds``.
    """
    from mmengine.runner import Runner
    cfg = prepare_config(path, work_dir, demo_root, **options)
    audit = GradientAuditHook()
    shapes = []

    class InputShapeHook(Hook):

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            inputs = data_batch['inputs']
            shapes.append((len(inputs), ) + tuple(inputs[0].shape))

    start = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(audit, priority='LOWEST')
    runner.register_hook(InputShapeHook(), priority='LOWEST')
    with mmcv_ops_in_float32_on_cpu():
        runner.train()
    wrapper = runner.optim_wrapper
    return dict(
        losses=audit.losses,
        without_gradient=audit.without_gradient(),
        batch_size=cfg.train_dataloader.batch_size,
        input_shape=shapes[0],
        optim_wrapper=type(wrapper).__name__,
        amp_dtype=str(getattr(wrapper, 'cast_dtype', None)),
        seconds=time.perf_counter() - start)


def problems(result: dict) -> List[str]:
    """What is wrong with a :func:`check_config` result (empty when fine)."""
    found = []
    for i, loss in enumerate(result['losses']):
        if not math.isfinite(loss) or loss == 0:
            found.append(f'loss {loss} at iteration {i + 1}')
    if result['without_gradient']:
        found.append('no non-zero gradient: ' +
                     ', '.join(result['without_gradient']))
    return found


def parse_args(argv=None):
    from tools.argument_types import existing_file, positive_int
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        'configs',
        nargs='*',
        type=existing_file,
        help='configs (default: all non-demo configs under configs/)')
    parser.add_argument('--iters', type=positive_int, default=2)
    parser.add_argument('--width-divisor', type=positive_int, default=16)
    parser.add_argument('--max-depth', type=positive_int,
                        help='cap encoder / decoder depths (default: keep)')
    parser.add_argument(
        '--batch-size',
        type=positive_int,
        help='per-GPU batch (default: the config\'s)')
    parser.add_argument('--device', choices=['cpu', 'cuda'],
                        default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--demo-root', default='data/demo',
                        help='output of make_demo_data.py')
    return parser.parse_args(argv)


def main():
    args = parse_args()
    import mmropim  # noqa: F401
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.configs or full_size_configs():
            try:
                result = check_config(
                    path, osp.join(tmp, osp.basename(path)), args.demo_root,
                    iters=args.iters, width_divisor=args.width_divisor,
                    batch_size=args.batch_size, device=args.device,
                    max_depth=args.max_depth)
            except Exception as error:  # report it, check the next config
                failed += 1
                print(f'FAIL {osp.relpath(path, CONFIG_ROOT)}: '
                      f'{type(error).__name__}: {error}')
                continue
            found = problems(result)
            failed += bool(found)
            print(f'{"FAIL" if found else "ok  "} '
                  f'{osp.relpath(path, CONFIG_ROOT)}: batch '
                  f'{result["input_shape"]}, {result["optim_wrapper"]} '
                  f'{result["amp_dtype"]}, losses '
                  f'{[round(v, 4) for v in result["losses"]]}, '
                  f'{result["seconds"]:.1f} s' +
                  ''.join(f'\n     {p}' for p in found))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
