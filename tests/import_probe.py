"""Run by tests/test_import_side_effects.py in a fresh interpreter, once
with ``import mmropim`` and once without: writes, as JSON, the losses of
MMPretrain's stock MAE / SimMIM / BEiT models (narrow, seeded), how MMEngine
loads a plain tensor checkpoint and an MMEngine run checkpoint, and (with
the import) every attribute of an MMEngine / MMPretrain / MMSeg / MMDet
module, registry entry or checkpoint loader that the import rebound, and,
as a control, what installing our tools' checkpoint loader rebinds.

    python tests/import_probe.py OUT_DIR [--import-mmropim]
"""
import json
import os.path as osp
import sys

import torch

STOCK_CONFIGS = dict(
    mae='mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py',
    simmim='mmpretrain::simmim/'
    'simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py',
    beit='mmpretrain::beit/beit_beit-base-p16_8xb256-amp-coslr-300e_in1k.py')
LIBRARIES = ('mmengine', 'mmpretrain', 'mmseg', 'mmdet')


def snapshot():
    """id() of every attribute of every loaded module of the libraries, of
    every registry entry, and of MMEngine's checkpoint loaders."""
    from mmengine.registry import Registry
    from mmengine.runner import CheckpointLoader
    modules, registries = {}, {}
    registries['CheckpointLoader._schemes'] = {
        k: id(v) for k, v in CheckpointLoader._schemes.items()}
    for name, module in list(sys.modules.items()):
        if module is None or name.split('.')[0] not in LIBRARIES:
            continue
        attributes = dict(vars(module))
        modules[name] = {k: id(v) for k, v in attributes.items()}
        for key, value in attributes.items():
            if isinstance(value, Registry):
                registries[f'{name}.{key}'] = {
                    k: id(v) for k, v in value.module_dict.items()}
    return modules, registries


def rebound(before, after):
    changes = []
    for kind in (0, 1):
        for name, entries in before[kind].items():
            for key, ident in entries.items():
                if after[kind].get(name, {}).get(key, ident) != ident:
                    changes.append(f'{name}.{key}')
    return changes


def lone_module(relpath):
    """A module of the repository loaded from its file alone: importing it
    through its package would run ``mmropim/__init__.py``, the import whose
    effects are measured."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(relpath))[0],
        osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stock_losses():
    from mmengine.hub import get_config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample

    narrow_model = lone_module('mmropim/utils/model_narrowing.py').narrow_model
    init_default_scope('mmpretrain')
    # image side, mask grid (None: the model masks), second view's side
    inputs_of = dict(mae=(224, None, None), simmim=(192, 48, None),
                     beit=(224, 14, 112))
    losses = {}
    for name, path in STOCK_CONFIGS.items():
        cfg = get_config(path)
        torch.manual_seed(0)
        # Swin has no num_layers to cap
        model = MODELS.build(narrow_model(
            cfg.model, 16, max_depth=None if name == 'simmim' else 2))
        side, grid, second = inputs_of[name]
        generator = torch.Generator().manual_seed(1)
        images = torch.rand(2, 3, side, side, generator=generator)
        samples = []
        for _ in range(2):
            sample = DataSample()
            if grid is not None:
                sample.set_mask(
                    torch.rand(grid, grid, generator=generator) < 0.4)
            samples.append(sample)
        if second is not None:
            images = [images, torch.rand(2, 3, second, second,
                                         generator=generator)]
        torch.manual_seed(2)
        loss = model.loss(images, samples)
        losses[name] = float(sum(v for k, v in loss.items() if 'loss' in k))
    return losses


def checkpoint_loads(out_dir):
    from collections import OrderedDict

    from mmengine.logging import HistoryBuffer
    from mmengine.runner import CheckpointLoader
    plain = osp.join(out_dir, 'plain.pth')
    run = osp.join(out_dir, 'run.pth')
    torch.save(dict(state_dict=OrderedDict(w=torch.arange(3.))), plain)
    torch.save(dict(state_dict=OrderedDict(w=torch.arange(3.)),
                    message_hub=dict(log_scalars=dict(
                        loss=HistoryBuffer([1.0], [1])))), run)
    results = {}
    for name, path in (('plain', plain), ('run', run)):
        try:
            checkpoint = CheckpointLoader.load_checkpoint(path, 'cpu')
            results[name] = sorted(checkpoint['state_dict'])
        except Exception as error:  # noqa: B902
            results[name] = type(error).__name__
    return results


def main():
    out_dir = sys.argv[1]
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    import mmdet.models  # noqa: F401
    import mmengine.runner  # noqa: F401
    import mmpretrain.models  # noqa: F401
    import mmseg.models  # noqa: F401
    report = {}
    if '--import-mmropim' in sys.argv:
        before = snapshot()
        import mmropim  # noqa: F401
        report['rebound'] = rebound(before, snapshot())
    report['checkpoints'] = checkpoint_loads(out_dir)
    report['losses'] = stock_losses()
    if '--import-mmropim' not in sys.argv and any(
            name.split('.')[0] == 'mmropim' for name in sys.modules):
        raise RuntimeError('the run without the import imported mmropim: '
                           'its losses and loads would not be a baseline')
    if '--import-mmropim' in sys.argv:
        # control: what our tools do, to show that the probe sees it
        from mmropim.utils import install_safe_checkpoint_loader
        install_safe_checkpoint_loader()
        report['control_rebound'] = rebound(before, snapshot())
    with open(osp.join(out_dir, 'report.json'), 'w') as f:
        json.dump(report, f)


if __name__ == '__main__':
    main()
