"""MIMVisualizationHook: pictures of the current batch during training,
written through MMEngine's visualizer, without changing the run."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from PIL import Image

from mmropim.visualization import MIMVisualizationHook
from helpers import (PRMIM_TINY_CFG, REPO_ROOT, ROPIM_TINY_CFG, assert_names,
                     logged_scalars, raises_naming, run_tool)

SHORT_RUN = [
    'train_dataloader.dataset.indices=8', 'train_dataloader.batch_size=4',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False', 'train_cfg.max_epochs=2',
    'default_hooks.logger.interval=1'
]


def train(config, work_dir, demo_root, *options, flags=()):
    run_tool('tools/train.py', config, '--work-dir', str(work_dir), *flags,
             '--cfg-options',
             f'train_dataloader.dataset.data_root={demo_root}', *SHORT_RUN,
             *options)
    losses = [row['loss'] for row in logged_scalars(str(work_dir))[-1]
              if 'loss' in row]
    images = sorted(glob.glob(osp.join(str(work_dir), '*', 'vis_data',
                                       'vis_image', '*.png')))
    return losses, images


def test_off_in_every_shipped_config():
    for path in (ROPIM_TINY_CFG, PRMIM_TINY_CFG):
        hooks = [h for h in Config.fromfile(path).custom_hooks
                 if h['type'] == 'MIMVisualizationHook']
        assert len(hooks) == 1 and hooks[0]['enable'] is False


@pytest.mark.parametrize('config, panels, compare', [
    (ROPIM_TINY_CFG, 3, True),  # its preprocessor draws random sketches
    (PRMIM_TINY_CFG, 4, False),  # masks come from the pipeline: no draws
])
@pytest.mark.slow
def test_pictures_land_in_the_work_dir_and_training_is_unchanged(
        config, panels, compare, demo_root, tmp_path):
    on_losses, on_images = train(config, tmp_path / 'on', demo_root,
                                 flags=['--vis-interval', '2'])
    names = sorted(osp.basename(p) for p in on_images)
    assert names == [f'reconstruction_{i}_{step}.png'
                     for i in (0, 1) for step in (2, 4)]
    with Image.open(on_images[0]) as image:  # titled 64 px panels
        width, height = image.size
        assert width >= panels * 64 + (panels - 1) * 4 and height > 64
        assert len(set(image.getdata())) > 100  # a picture, not a blank
    assert len(on_losses) == 4
    if compare:  # drawing restores the random state and train mode
        off_losses, off_images = train(config, tmp_path / 'off', demo_root)
        assert off_images == []
        assert on_losses == off_losses


@pytest.mark.parametrize('config', [
    ROPIM_TINY_CFG,  # the hook at custom_hooks.1, off
    osp.join(REPO_ROOT, 'configs', 'prmim', 'stock',
             'prmim-stock-mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py'),
])  # a stock mix has no custom_hooks: custom_hooks.1.enable=True failed
def test_vis_interval_switches_the_hook_on_by_type(config):
    from mmropim.utils.run_config import switch_on_pictures
    from tools.train import parse_args
    args = parse_args([config, '--vis-interval', '50'])
    cfg = Config.fromfile(config)
    others = [h for h in cfg.get('custom_hooks', [])
              if h['type'] != 'MIMVisualizationHook']
    switch_on_pictures(cfg, args.vis_interval)
    hooks = [h for h in cfg.custom_hooks
             if h['type'] == 'MIMVisualizationHook']
    assert len(hooks) == 1
    assert (hooks[0]['enable'], hooks[0]['interval']) == (True, 50)
    assert [h for h in cfg.custom_hooks if h not in hooks] == others


def test_bad_vis_interval_is_named(capsys):
    from tools.train import parse_args
    with pytest.raises(SystemExit):
        parse_args([ROPIM_TINY_CFG, '--vis-interval', '0'])
    assert_names(capsys.readouterr().err, '--vis-interval', "'0'")


def test_bad_arguments_and_models_are_named():
    with raises_naming(ValueError, 'interval', '0'):
        MIMVisualizationHook(interval=0)

    class Runner:
        model = object()

    with raises_naming(TypeError, 'ROPIM', 'PRMIM', 'object',
                       'enable=False'):
        MIMVisualizationHook(enable=True).before_train(Runner())


def test_ropim_panels_show_the_encoders_input_with_swapped_subspaces():
    """With ``swap_subspaces`` the encoder sees (I - Pi) x: the first
    panel ("what the encoder saw") shows that part, not Pi x."""
    import numpy as np
    import torch
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from mmropim.models.utils import CountSketch, patchify
    from mmropim.visualization import (ROPIM_PANEL_TITLES, denormalize,
                                       ropim_panel_titles, ropim_panels,
                                       unpatchify)
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(ROPIM_TINY_CFG).model
    cfg.swap_subspaces = True
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    images = torch.randn(2, 3, 64, 64)
    sketch = CountSketch.draw(2, 64, model.data_preprocessor.rho,
                              generator=torch.Generator().manual_seed(0))
    panels = ropim_panels(model, images, sketch)
    seen = denormalize(
        unpatchify(sketch.complement(patchify(images, 8)), (8, 8), 8),
        model.data_preprocessor)
    for row, expected in zip(panels, seen):
        np.testing.assert_array_equal(row[0], expected)
    assert ropim_panel_titles(model)[:2] == ('(I-Pi) x (input)',
                                             '(I-Pi) x + Pi x_hat')
    model.swap_subspaces = False
    assert ropim_panel_titles(model) == ROPIM_PANEL_TITLES
