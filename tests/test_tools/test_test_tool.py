"""tools/test.py's ``--show-dir`` / ``--interval`` and ``--tta``, as
MMPretrain's own tools/test.py has them, run in-process on the cut demo set;
the checks that run before the test (the checkpoint fills the model) hold
with them."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope
from mmpretrain.models.tta.score_tta import AverageClsScoreTTA
from mmpretrain.registry import MODELS

import mmropim  # noqa: F401
from mmropim.utils.model_checkpoint import CheckpointMismatchError
from tools.test import main, parse_args
from helpers import PRMIM_TINY_CFG, REPO_ROOT, raises_naming

CONFIG = osp.join(REPO_ROOT, 'configs', 'prmim', 'benchmarks',
                  'vit-mini-p8_1xb32-linear-coslr-10e_demo-64px.py')
HELD_OUT = 28  # images of the cut demo set's val/


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A classifier checkpoint of the demo config (its weights as
    initialized: what is tested is the tool, not the model)."""
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        init_default_scope('mmpretrain')
        model = MODELS.build(cfg.model)
    model.init_weights()
    path = str(tmp_path_factory.mktemp('ckpt') / 'epoch_1.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def data_options(root):
    return ['--cfg-options', f'test_dataloader.dataset.data_root={root}',
            'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False']


def test_parser_takes_show_dir_interval_and_tta(tmp_path):
    args = parse_args([CONFIG, CONFIG, '--show-dir', str(tmp_path / 'vis'),
                       '--interval', '3', '--tta'])
    assert (args.show_dir, args.interval, args.tta) == (
        str(tmp_path / 'vis'), 3, True)
    args = parse_args([CONFIG, CONFIG])
    assert (args.show_dir, args.interval, args.tta) == (None, 1, False)


@pytest.mark.parametrize('argv,names', [
    (['--interval', '0'], ('--interval', '>= 1', '0')),
    (['--show-dir', CONFIG], ('--show-dir', CONFIG, 'folder')),
])
def test_bad_show_flags_stop_before_any_work(capsys, argv, names):
    with pytest.raises(SystemExit):
        parse_args([CONFIG, CONFIG, *argv])
    line = capsys.readouterr().err.strip().splitlines()[-1]
    for name in names:
        assert name in line, line


def test_show_dir_writes_a_picture_every_interval(checkpoint,
                                                  small_demo_root, tmp_path):
    show_dir = tmp_path / 'vis'
    main([CONFIG, checkpoint, '--work-dir', str(tmp_path / 'work'),
          '--show-dir', str(show_dir), '--interval', '4',
          *data_options(small_demo_root)])
    pictures = sorted(os.listdir(show_dir))
    assert len(pictures) == HELD_OUT // 4, pictures
    assert all(p.endswith('.png') for p in pictures)


def test_tta_averages_the_flipped_and_the_plain_scores(
        checkpoint, small_demo_root, tmp_path, monkeypatch):
    """Without a ``tta_model`` / ``tta_pipeline`` in the config: flip TTA,
    the two scores of each image averaged by MMPretrain's
    AverageClsScoreTTA."""
    views = []
    merge = AverageClsScoreTTA.merge_preds

    def spy(self, data_samples_list):
        views.extend(len(samples) for samples in data_samples_list)
        return merge(self, data_samples_list)

    monkeypatch.setattr(AverageClsScoreTTA, 'merge_preds', spy)
    out = tmp_path / 'metrics.json'
    main([CONFIG, checkpoint, '--work-dir', str(tmp_path / 'work'), '--tta',
          '--out', str(out), *data_options(small_demo_root)])
    assert views == [2] * HELD_OUT
    assert out.is_file()


def test_out_item_pred_dumps_every_prediction(checkpoint, small_demo_root,
                                              tmp_path):
    """``--out-item pred`` (MMPretrain's flag) dumps one prediction per
    test image through MMEngine's DumpResults; the metrics stay the
    default."""
    import mmengine
    out = tmp_path / 'preds.pkl'
    main([CONFIG, checkpoint, '--work-dir', str(tmp_path / 'work'),
          '--out', str(out), '--out-item', 'pred',
          *data_options(small_demo_root)])
    predictions = mmengine.load(str(out))
    assert len(predictions) == HELD_OUT
    assert {'pred_score', 'gt_label'} <= set(predictions[0])
    assert parse_args([CONFIG, CONFIG, '--out', 'm.json']).out_item == \
        'metrics'


def test_out_item_pred_needs_a_pickle_name(capsys):
    with pytest.raises(SystemExit):
        parse_args([CONFIG, CONFIG, '--out', 'preds.json', '--out-item',
                    'pred'])
    line = capsys.readouterr().err.strip().splitlines()[-1]
    for name in ('--out-item pred', 'preds.json', '.pkl'):
        assert name in line, line


def test_tta_takes_the_config_s_own_pipeline(checkpoint, small_demo_root,
                                             tmp_path, monkeypatch):
    config = tmp_path / 'three_views.py'
    config.write_text(
        f'_base_ = [{CONFIG!r}]\n'
        'tta_model = dict(type="AverageClsScoreTTA")\n'
        'tta_pipeline = [\n'
        '    dict(type="LoadImageFromFile"),\n'
        '    dict(type="TestTimeAug", transforms=[[\n'
        '        dict(type="RandomFlip", prob=1.),\n'
        '        dict(type="RandomFlip", prob=0.),\n'
        '        dict(type="RandomFlip", prob=1., direction="vertical"),\n'
        '    ], [dict(type="PackInputs")]]),\n'
        ']\n')
    views = []
    merge = AverageClsScoreTTA.merge_preds

    def spy(self, data_samples_list):
        views.extend(len(samples) for samples in data_samples_list)
        return merge(self, data_samples_list)

    monkeypatch.setattr(AverageClsScoreTTA, 'merge_preds', spy)
    main([str(config), checkpoint, '--work-dir', str(tmp_path / 'work'),
          '--tta', *data_options(small_demo_root)])
    assert views == [3] * HELD_OUT


def test_tta_still_refuses_a_checkpoint_without_the_head(
        small_demo_root, tmp_path):
    """MMEngine loads the checkpoint into the model inside the TTA wrapper
    with strict=False: a pre-training checkpoint (no head) would be tested
    with a random head; it is refused as without --tta."""
    cfg = Config.fromfile(PRMIM_TINY_CFG)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        init_default_scope('mmpretrain')
        model = MODELS.build(cfg.model)
    path = str(tmp_path / 'pretrained.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    with raises_naming(CheckpointMismatchError, 'head.layers.head.weight'):
        main([CONFIG, path, '--work-dir', str(tmp_path / 'work'), '--tta',
              *data_options(small_demo_root)])


def test_show_dir_with_tta_is_refused_before_the_test(checkpoint,
                                                      tmp_path):
    """With --tta each image comes as several views, which MMPretrain's
    VisualizationHook cannot draw (its own tools/test.py stops in the hook
    at the first batch): both together stop up front."""
    with raises_naming(ValueError, '--show-dir', '--tta'):
        main([CONFIG, checkpoint, '--work-dir', str(tmp_path / 'work'),
              '--tta', '--show-dir', str(tmp_path / 'vis')])
    assert not (tmp_path / 'vis').exists()


def test_show_dir_and_tta_name_what_they_cover_on_other_configs(
        checkpoint, tmp_path):
    """MMSeg / MMDet configs draw and augment through their own hooks and
    models: the flags stop with a message rather than do nothing."""
    config = osp.join(REPO_ROOT, 'configs', 'downstream', 'ade20k',
                      'upernet_prmim-vit-mini-p8_1xb4-40iter_demo-nuclei-'
                      '128px.py')
    for flag in (['--tta'], ['--show-dir', str(tmp_path / 'vis')]):
        with raises_naming(ValueError, flag[0], 'mmseg', 'MMPretrain'):
            main([config, checkpoint, '--work-dir', str(tmp_path / 'w'),
                  *flag])


def test_a_missing_test_data_root_is_named_before_the_runner(
        checkpoint, tmp_path):
    """Only the test split is read (its training folders often absent);
    a test folder that does not exist is named by its key."""
    missing = tmp_path / 'nope'
    with raises_naming(FileNotFoundError,
                       'test_dataloader.dataset.data_root',
                       repr(str(missing))):
        main([CONFIG, checkpoint, '--work-dir', str(tmp_path / 'work'),
              *data_options(missing)])
    assert not (tmp_path / 'work').exists()
