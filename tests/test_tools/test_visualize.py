import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmropim.visualization.panels import sketch_panels, token_state_panel
from helpers import REPO_ROOT, assert_names, run_tool

ROPIM_CFG = osp.join(REPO_ROOT, 'configs', 'ropim',
                     'ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py')
PRMIM_CFG = osp.join(REPO_ROOT, 'configs', 'prmim',
                     'prmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py')


def test_sketch_panels_split_the_image_exactly():
    rng = np.random.default_rng(0)
    # low contrast, so that the signed complement panel is not clipped
    image = rng.integers(96, 160, (32, 32, 3), dtype=np.uint8)
    original, projected, removed = sketch_panels(image, 8, 0.25)
    assert np.array_equal(original, image)
    # Pi x + (I - Pi) x = x, up to the display offsets and rounding
    total = projected.astype(int) + removed.astype(int) - 128
    assert np.abs(total - image.astype(int)).max() <= 2
    assert not np.array_equal(projected, image)


def test_token_state_panel_colours_exactly_the_tokens():
    image = np.full((16, 16, 3), 100, np.uint8)
    mask = np.array([[1, 1], [0, 1]])
    throw = np.array([[0, 1], [0, 0]])
    panel = token_state_panel(image, mask, throw, 8)
    retained, thrown, visible = panel[4, 4], panel[4, 12], panel[12, 4]
    assert retained[2] > retained[0]  # blue
    assert thrown[0] > thrown[2]  # red
    assert tuple(visible) == (100, 100, 100)


@pytest.mark.parametrize('method', ['ropim', 'prmim'])
def test_visualize_tool_writes_the_panels(method, pretrain_run, prmim_run,
                                          demo_root, tmp_path):
    config, run = (ROPIM_CFG, pretrain_run) if method == 'ropim' else (
        PRMIM_CFG, prmim_run)
    image = osp.join(demo_root, 'val', 'chelsea', 'chelsea_0000.png')
    out_dir = str(tmp_path)
    run_tool('tools/analysis/visualize.py', config, image, '--checkpoint',
             run['checkpoint'], '--out-dir', out_dir, '--scale', '2')
    names = (['ropim_projection', 'ropim_reconstruction']
             if method == 'ropim' else
             ['prmim_token_states', 'prmim_reconstruction'])
    for name in names:
        path = osp.join(out_dir, f'{name}_chelsea_0000.png')
        with Image.open(path) as picture:
            # three 64 px panels scaled x2, two 4 px gaps, under a title
            # strip (its text: titles fit the 128 px columns)
            assert picture.size[0] == 3 * 128 + 2 * 4
            assert 128 < picture.size[1] < 128 + 30
            strip = np.asarray(picture)[:picture.size[1] - 128]
            assert (strip < 100).any()
            assert np.asarray(picture).std() > 5  # not a blank picture


def test_visualize_rejects_other_models(tmp_path, demo_root):
    config = osp.join(REPO_ROOT, 'configs', 'ropim', 'benchmarks',
                      'beit-mini-p8_1xb32-coslr-10e_demo-64px.py')
    image = osp.join(demo_root, 'val', 'chelsea', 'chelsea_0000.png')
    with pytest.raises(AssertionError) as failed:  # the tool failed
        run_tool('tools/analysis/visualize.py', config, image,
                 '--out-dir', str(tmp_path))
    # the model type it got and those it draws
    assert_names(str(failed.value), 'ValueError', 'ImageClassifier', 'ROPIM',
                 'PRMIM')


def test_panel_rows_carry_titles_and_scale():
    """Each panel gets its title above it (a column as wide as the longer
    of the two), and ``scale`` enlarges the panels by nearest-neighbour
    repetition; without titles the row is the panels and gaps only."""
    from mmropim.visualization import hstack
    panels = [np.full((8, 8, 3), value, np.uint8) for value in (0, 128)]
    plain = hstack(panels)
    assert plain.shape == (8, 8 + 4 + 8, 3)
    row = hstack(panels, titles=['original', 'a much longer title'],
                 scale=3)
    strip = row.shape[0] - 24
    assert strip > 0 and row.shape[1] > 2 * 24 + 4  # titles wider
    text = row[:strip]
    assert (text < 128).any() and (text == 255).any()  # dark text on white
    # each panel, 3x, under its title, centred in its column
    body = row[strip:]
    assert (body == 0).sum() >= 24 * 24 * 3 and (body == 128).sum() == \
        24 * 24 * 3
    with pytest.raises(ValueError, match='2 panels but 1 titles'):
        hstack(panels, titles=['one'])
