"""Config typos are refused when the run is built, naming the key and what
it is close to: a top-level key nothing reads (silently ignored before) and
a checkpoint hook argument (before: a TypeError at the first save)."""
import glob
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

import mmropim  # noqa: F401
from mmropim.engine import SafeCheckpointHook
from mmropim.utils.config_checks import (ConfigKeyError, ConfigValueError,
                                         check_config_keys, check_custom_keys,
                                         check_option_keys,
                                         check_top_level_keys)
from mmropim.utils.run_config import load_run_config
from helpers import (REPO_ROOT, ROPIM_TINY_CFG, assert_names, raises_naming,
                     run_tool_process)

FINETUNE_CFG = osp.join(REPO_ROOT, 'configs', 'prmim', 'benchmarks',
                        'vit-mini-p8_1xb32-coslr-10e_demo-64px.py')
SHORT_RUN = ['train_dataloader.dataset.indices=32', 'train_cfg.max_epochs=1']


def train(tmp_path, demo_root, config, *options):
    return run_tool_process(
        'tools/train.py', config, '--work-dir', str(tmp_path / 'work'),
        '--cfg-options', f'train_dataloader.dataset.data_root={demo_root}',
        *SHORT_RUN, *options)


def test_checkpoint_hook_typo_is_refused_before_training(tmp_path,
                                                         demo_root):
    result = train(tmp_path, demo_root, ROPIM_TINY_CFG,
                   'default_hooks.checkpoint.max_keep_ckpt=1')
    assert result.returncode != 0
    # the hook, the typo and the argument it is close to
    assert_names(result.stderr, 'SafeCheckpointHook', "'max_keep_ckpt'",
                 "'max_keep_ckpts'")
    assert 'Epoch(train)' not in result.stdout + result.stderr


def test_top_level_typo_is_refused(tmp_path, demo_root):
    config = tmp_path / 'typo.py'
    config.write_text(f'_base_ = [{ROPIM_TINY_CFG!r}]\n'
                      'trian_cfg = dict(max_epochs=1)\n')
    result = train(tmp_path, demo_root, str(config))
    assert result.returncode != 0
    assert_names(result.stderr, 'ConfigKeyError', "'trian_cfg'",
                 "'train_cfg'")
    assert 'Epoch(train)' not in result.stdout + result.stderr


def test_hook_arguments_are_checked_when_built():
    with raises_naming(TypeError, 'SafeCheckpointHook', "'intervall'",
                       "'interval'"):
        SafeCheckpointHook(intervall=2)
    with raises_naming(TypeError, "'save_random_state'",
                       "'save_random_states'"):
        SafeCheckpointHook(save_random_state=False)
    hook = SafeCheckpointHook(interval=2, max_keep_ckpts=1, save_best='auto',
                              published_keys=['meta', 'state_dict'])
    assert hook.max_keep_ckpts == 1
    with raises_naming(TypeError, 'CheckpointHook', "'save_optimiser'",
                       "'save_optimizer'"):
        check_config_keys(Config(dict(default_hooks=dict(checkpoint=dict(
            type='CheckpointHook', save_optimiser=False)))))


@pytest.mark.parametrize('key,meant', [('work_dirs', 'work_dir'),
                                       ('default_hook', 'default_hooks'),
                                       ('param_schedulers', 'param_scheduler'),
                                       ('val_evaluater', 'val_evaluator'),
                                       # two edits: the case of two letters
                                       ('auto_scale_LR', 'auto_scale_lr'),
                                       ('Val_Cfg', 'val_cfg'),
                                       # two edits, in a long key
                                       ('defualt_hook', 'default_hooks')])
def test_close_top_level_keys_are_refused(key, meant):
    with raises_naming(ConfigKeyError, repr(key), repr(meant)):
        check_top_level_keys({key: 1})


@pytest.mark.parametrize('key,value,replacement', [
    ('lr_config', dict(policy='step', step=[1]), 'param_scheduler'),
    ('runner', dict(type='EpochBasedRunner', max_epochs=5), 'train_cfg'),
    ('optimizer', dict(type='SGD', lr=10.), 'optim_wrapper.optimizer'),
    ('resume_from', 'epoch_1.pth', 'resume=True'),
    ('resume_from', 'epoch_1.pth', 'load_from'),
])
def test_mmcv1_keys_are_refused(key, value, replacement):
    """MMEngine's runner reads none of MMCV 1.x's keys: the run trained
    with the config's other settings (AdamW, not SGD at lr 10; from
    scratch, not resumed), silently."""
    cfg = Config.fromfile(ROPIM_TINY_CFG)
    cfg[key] = value
    with raises_naming(ConfigKeyError, repr(key), 'MMCV 1.x', replacement):
        check_config_keys(cfg)


def test_mmcv1_leftovers_that_repeat_the_config_pass():
    """Shipped MMSeg / MMDet configs name their optimizer first and hand
    it to optim_wrapper; some MMPretrain / MMSeg ones still carry an MMCV 1.x
    key that only repeats what the MMEngine keys say."""
    cfg = Config.fromfile(ROPIM_TINY_CFG)
    cfg.optimizer = cfg.optim_wrapper.optimizer.to_dict()
    cfg.runner = dict(type='EpochBasedRunner',
                      max_epochs=cfg.train_cfg.max_epochs)
    cfg.data = dict(samples_per_gpu=cfg.train_dataloader.batch_size)
    cfg.resume_from = None
    check_config_keys(cfg)
    # the same keys saying something else are refused
    cfg.data = dict(samples_per_gpu=2 * cfg.train_dataloader.batch_size)
    with raises_naming(ConfigKeyError, "'data'", 'train_dataloader'):
        check_config_keys(cfg)
    cfg.pop('data')
    cfg.runner.type = 'IterBasedRunner'
    with raises_naming(ConfigKeyError, "'runner'", 'train_cfg'):
        check_config_keys(cfg)


def test_optimizer_variable_of_the_config_files_passes(tmp_path):
    """MMSeg's / MMDet's schedules name their optimizer and hand it to
    optim_wrapper; a config replacing that optim_wrapper leaves the variable
    behind. An ``optimizer`` a file sets without using it is MMCV 1.x's."""
    (tmp_path / 'schedule.py').write_text(
        "optimizer = dict(type='SGD', lr=0.01)\n"
        'optim_wrapper = dict(optimizer=optimizer)\n')
    (tmp_path / 'replaced.py').write_text(
        "_base_ = ['schedule.py']\n"
        'optim_wrapper = dict(_delete_=True, '
        "optimizer=dict(type='AdamW', lr=1e-3))\n")
    check_config_keys(Config.fromfile(tmp_path / 'replaced.py'))
    (tmp_path / 'mmcv1.py').write_text(
        "_base_ = ['replaced.py']\n"
        'optimizer = dict(lr=10.)\n')
    with raises_naming(ConfigKeyError, "'optimizer'", 'MMCV 1.x',
                       'optim_wrapper.optimizer'):
        check_config_keys(Config.fromfile(tmp_path / 'mmcv1.py'))


@pytest.mark.parametrize('config,key,value,allowed', [
    ('ropim', 'optim_wrapper.paramwise_cfg.flat_decay_mul', 0.,
     'flat_decay_mult'),
    ('ropim', 'optim_wrapper.paramwise_cfg.custom_key',
     {'pos_embed': dict(lr_mult=0.)}, 'custom_keys'),
    ('finetune', 'optim_wrapper.paramwise_cfg.layer_decay_rat', 0.1,
     'layer_decay_rate'),
    # MMEngine's constructor reads it; MMPretrain's layer-decay one does not
    ('finetune', 'optim_wrapper.paramwise_cfg.bias_lr_mult', 0.1,
     'layer_decay_rate'),
    ('ropim', 'auto_scale_lr', dict(base_batch_size=8, enabel=True),
     'enable'),
    ('ropim', 'env_cfg.cudnn_benchmrk', True, 'cudnn_benchmark'),
])
def test_unread_nested_keys_are_refused(config, key, value, allowed):
    """Keys of paramwise_cfg, auto_scale_lr and env_cfg that nothing reads
    (before: the run trained without them)."""
    cfg = Config.fromfile(dict(ropim=ROPIM_TINY_CFG,
                               finetune=FINETUNE_CFG)[config])
    cfg.merge_from_dict({key: value})
    bad = key.split('.')[-1] if '.' in key else 'enabel'
    with raises_naming(ConfigKeyError, repr(bad), repr(allowed)):
        check_config_keys(cfg)


def test_paramwise_cfg_of_other_constructors_is_not_checked():
    """Another constructor reads its own keys (MMSeg's layer decay:
    num_layers, decay_rate)."""
    cfg = Config.fromfile(ROPIM_TINY_CFG)
    cfg.optim_wrapper.constructor = 'LayerDecayOptimizerConstructor'
    cfg.optim_wrapper.paramwise_cfg = dict(num_layers=12, decay_rate=0.65)
    check_config_keys(cfg)


def test_config_variables_are_not_taken_for_typos():
    check_top_level_keys(dict.fromkeys([
        '_base_', 'custom_imports', 'dataset_type', 'data_root',
        'train_pipeline', 'test_pipeline', 'bgr_mean', 'bgr_std',
        'pretrained', 'mini_arch', 'num_classes', 'crop_size', 'img_scale',
        'backend_args', 'norm_cfg', 'image_size', 'batch_augments',
        'model_wrapper_cfg', 'tta_model', 'tta_pipeline', 'max_epochs',
        'val_interval', 'base_lr', 'vis_backends', 'metainfo'
    ]))


def test_every_shipped_config_passes():
    configs = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                               recursive=True))
    configs = [c for c in configs if '/_base_/' not in c]
    assert len(configs) > 40
    for config in configs:
        check_config_keys(Config.fromfile(config))


@pytest.mark.parametrize('option,value,named', [
    ('max_epochs', 1, 'train_cfg.max_epochs'),
    ('data_root', '/x', 'train_dataloader.dataset.data_root'),
    ('lr', 0.1, 'optim_wrapper.optimizer.lr'),
    # a typo of a runner key: difflib's close match
    ('resume_form', True, "'resume'"),
    ('train_cfg_max_epochs', 1, "'train_cfg'"),
])
def test_unread_keys_added_by_cfg_options_are_refused(option, value, named):
    """A top-level key that --cfg-options adds and nothing reads changed
    nothing (before: the run went on with the config's value, silently)."""
    cfg = Config(dict(
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=20),
        train_dataloader=dict(dataset=dict(data_root='data/demo')),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3))))
    with raises_naming(ConfigKeyError, f'--cfg-options sets {option!r}',
                       'no effect', named):
        check_option_keys(cfg, {option: value})
    # the same through the loader of tools/train.py and tools/test.py
    with raises_naming(ConfigKeyError, repr(option), 'no effect'):
        load_run_config(ROPIM_TINY_CFG, cfg_options={option: value})


def test_config_variables_set_by_cfg_options_are_refused():
    """The demo config's own data_root is a variable, read when the file is
    parsed: setting it afterwards left every dataset on the old root."""
    with raises_naming(ConfigKeyError, "--cfg-options sets 'data_root'",
                       'variable of the config file', 'no effect',
                       'train_dataloader.dataset.data_root'):
        load_run_config(ROPIM_TINY_CFG, cfg_options={'data_root': '/x'})


def test_cfg_options_keys_that_are_read_pass():
    """Runner keys pass whether the config has them or not."""
    options = {'resume': True, 'randomness.seed': 1,
               'experiment_name': 'x', 'train_cfg.max_epochs': 1,
               'env_cfg.cudnn_benchmark': True}
    cfg = load_run_config(ROPIM_TINY_CFG, cfg_options=options)
    assert cfg.randomness.seed == 1 and cfg.experiment_name == 'x'


class _Backbone(nn.Module):

    def __init__(self):
        super().__init__()
        self.pos_embed = nn.Parameter(torch.zeros(1, 4, 8))
        self.ln1 = nn.LayerNorm(8)
        self.layers = nn.ModuleList([nn.Linear(8, 8)])


class _Model(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = _Backbone()
        self.mask_token = nn.Parameter(torch.zeros(1, 1, 8))


@pytest.mark.parametrize('constructor', [
    'DefaultOptimWrapperConstructor',
    'LearningRateDecayOptimWrapperConstructor'
])
@pytest.mark.parametrize('key,close', [('pos_embd', 'pos_embed'),
                                       ('backbone.norm1', 'backbone.ln1'),
                                       ('mask_tokens', 'mask_token'),
                                       ('.layer.', 'layers')])
def test_custom_keys_matching_no_parameter_are_refused(
        constructor, key, close):
    """MMEngine and MMPretrain apply a custom key to the parameters whose
    name holds it; one holding none was ignored, silently."""
    optim_wrapper = dict(constructor=constructor,
                         paramwise_cfg=dict(custom_keys={
                             key: dict(decay_mult=0.),
                             'backbone.pos_embed': dict(decay_mult=0.)}))
    with raises_naming(ConfigKeyError, repr(key), repr(close),
                       'no parameter'):
        check_custom_keys(_Model(), optim_wrapper)


def test_custom_keys_that_match_or_are_stock_pass():
    """A stock key of MMPretrain's, MMSeg's or MMDet's configs names a
    parameter only some backbones have (a BEiT has no pos_embed): it may
    match nothing."""
    keys = ['pos_embed', '.mask_token', 'backbone.layers.0', 'ln1', 'bias',
            # stock, matching nothing here
            'cls_token', '.cls_token', 'backbone.absolute_pos_embed',
            'relative_position_bias_table', 'norm']
    check_custom_keys(_Model(), dict(paramwise_cfg=dict(
        custom_keys={k: dict(decay_mult=0.) for k in keys})))
    # other constructors match their own way (MMSeg's layer decay)
    check_custom_keys(_Model(), dict(
        constructor='LayerDecayOptimizerConstructor',
        paramwise_cfg=dict(custom_keys={'nothing': dict(decay_mult=0.)})))


def test_train_refuses_a_custom_key_matching_no_parameter(
        tmp_path, demo_root):
    result = train(tmp_path, demo_root, ROPIM_TINY_CFG,
                   'optim_wrapper.paramwise_cfg.custom_keys.rel_pos_bais'
                   '.decay_mult=0')
    assert result.returncode != 0
    assert_names(result.stderr, 'ConfigKeyError', "'rel_pos_bais'",
                 "'rel_pos_bias'")
    assert 'Epoch(train)' not in result.stdout + result.stderr


@pytest.mark.parametrize('key,value,close', [
    ('train_cfg.val_intervel', 1, "'val_interval'"),
    ('train_cfg.max_epoch', 1, "'max_epochs'"),
    ('val_cfg.fp61', True, "'fp16'"),
    ('default_hooks.chekpoint.interval', 1, "'checkpoint'"),
    ('default_hooks.loger', None, "'logger'"),
    ('default_hooks.logger.intervel', 1, "'interval'"),
    ('custom_hooks', [dict(type='FiniteLossHook', max_zero_loss_iter=9)],
     "'max_zero_loss_iters'"),
])
def test_nested_typos_are_refused_up_front(key, value, close):
    """Before: a TypeError or KeyError when the runner built the loop or
    the hook, after it had written to the work dir."""
    cfg = Config.fromfile(ROPIM_TINY_CFG)
    cfg.val_cfg = dict()
    cfg.merge_from_dict({key: value})
    bad = 'max_zero_loss_iter' if key == 'custom_hooks' else \
        key.split('.')[-1 if key.endswith('intervel') else 1]
    with raises_naming(ConfigKeyError, repr(bad), close):
        check_config_keys(cfg)


def test_loops_built_without_a_type_are_checked():
    """MMEngine builds EpochBasedTrainLoop or IterBasedTrainLoop from
    by_epoch when the train_cfg has no type (MMPretrain's configs)."""
    check_config_keys(Config(dict(
        train_cfg=dict(by_epoch=True, max_epochs=1, val_interval=1),
        val_cfg=dict(), test_cfg=dict(fp16=True))))
    with raises_naming(ConfigKeyError, "'val_intervals'", "'val_interval'",
                       'EpochBasedTrainLoop'):
        check_config_keys(Config(dict(train_cfg=dict(
            by_epoch=True, max_epochs=1, val_intervals=1))))
    with raises_naming(ConfigKeyError, "'max_epochs'", "'max_iters'",
                       'IterBasedTrainLoop'):
        check_config_keys(Config(dict(train_cfg=dict(by_epoch=False,
                                                     max_epochs=1))))


def test_stock_model_keys_our_parts_do_not_take_are_refused(tmp_path):
    """MMPretrain's MAE config with backbone type ROPIMViT keeps MAEViT's
    mask_ratio (the child's dict merges into the base's): a TypeError when
    the runner built the model, after writing to the work dir. Named up
    front with the _delete_ fix; the shipped configs pass."""
    child = tmp_path / 'mix.py'
    child.write_text(
        "_base_ = 'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_"
        "in1k.py'\n"
        "model = dict(backbone=dict(type='ROPIMViT'))\n")
    cfg = Config.fromfile(str(child))
    with raises_naming(ConfigKeyError, 'model.backbone', "'mask_ratio'",
                       'ROPIMViT', '_delete_=True'):
        check_config_keys(cfg)
    cfg.model.backbone.pop('mask_ratio')
    check_config_keys(cfg)
    cfg.model.head.update(norm_pixel=True)  # MAEPretrainHead's is norm_pix
    with raises_naming(ConfigKeyError, 'model.head', "'norm_pixel'",
                       "'norm_pix'"):
        check_config_keys(cfg)


@pytest.mark.parametrize('config,setting,close', [
    ('ropim', 'decay_mul', "'decay_mult'"),
    ('ropim', 'lr_mul', "'lr_mult'"),
    # the optimizer's own settings apply to the parameter group too
    ('ropim', 'weight_decy', "'weight_decay'"),
    ('finetune', 'decay_mul', "'decay_mult'"),
])
def test_misspelt_custom_key_settings_are_refused(config, setting, close):
    """MMEngine's constructor reads lr_mult and decay_mult of a custom key
    (MMPretrain's layer-decay one: decay_mult) and copies the rest into the
    parameter group, where nothing reads a typo (before: '.cls_token':
    dict(decay_mul=0.0) trained with decay_mult=1.0, silently)."""
    cfg = Config.fromfile(dict(ropim=ROPIM_TINY_CFG,
                               finetune=FINETUNE_CFG)[config])
    cfg.optim_wrapper.paramwise_cfg.custom_keys['.cls_token'] = {
        setting: 0.}
    with raises_naming(ConfigKeyError, 'custom_keys', "'.cls_token'",
                       repr(setting), close):
        check_config_keys(cfg)


@pytest.mark.parametrize('setting', ['lr_mult', 'lr'])
def test_custom_key_learning_rates_with_layer_decay_are_refused(setting):
    """MMPretrain's layer-decay constructor sets every group's lr from
    layer_decay_rate: a custom key's lr_mult or lr was ignored, silently."""
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.optim_wrapper.paramwise_cfg.custom_keys['.cls_token'] = {
        setting: 0.1}
    with raises_naming(ConfigKeyError, "'.cls_token'", repr(setting),
                       'LearningRateDecayOptimWrapperConstructor',
                       'layer_decay_rate'):
        check_config_keys(cfg)


def test_custom_key_settings_read_elsewhere_pass():
    """The constructors copy a custom key's other settings into its
    parameter group: the optimizer's own (betas), or ones an optimizer
    or a hook reads there (MMPretrain's LARS: lars_exclude, SimSiamHook:
    fix_lr, in its shipped configs)."""
    cfg = Config.fromfile(ROPIM_TINY_CFG)
    cfg.optim_wrapper.paramwise_cfg.custom_keys.update({
        'bn': dict(decay_mult=0, lr_mult=0.024, lars_exclude=True),
        'predictor': dict(fix_lr=True),
        'head': dict(betas=(0.9, 0.99), lr=1e-3)})
    check_config_keys(cfg)


@pytest.mark.parametrize('key,value,where,bad,close,cls', [
    ('optim_wrapper.optimizer.weight_decy', 0.05, 'optim_wrapper.optimizer',
     'weight_decy', 'weight_decay', 'AdamW'),
    ('optim_wrapper.clip_grad', dict(max_nrm=1.), 'optim_wrapper.clip_grad',
     'max_nrm', 'max_norm', 'clip_grad_norm_'),
    ('optim_wrapper.clip_grad', dict(type='value', clip_valu=1.),
     'optim_wrapper.clip_grad', 'clip_valu', 'clip_value',
     'clip_grad_value_'),
    ('optim_wrapper.accumulative_count', 2, 'optim_wrapper',
     'accumulative_count', 'accumulative_counts', 'OptimWrapper'),
    ('optim_wrapper', dict(type='AmpOptimWrapper', loss_scal='dynamic'),
     'optim_wrapper', 'loss_scal', 'loss_scale', 'AmpOptimWrapper'),
    ('param_scheduler.0.begn', 1, 'param_scheduler.0', 'begn', 'begin',
     'LinearLR'),
    ('log_processor', dict(windw_size=10), 'log_processor', 'windw_size',
     'window_size', 'LogProcessor'),
    ('visualizer.vis_backends.0.save_dri', 'x', 'visualizer.vis_backends.0',
     'save_dri', 'save_dir', 'LocalVisBackend'),
    ('visualizer.nmae', 'x', 'visualizer', 'nmae', 'name',
     'UniversalVisualizer'),
    ('val_evaluator.top_k', 1, 'val_evaluator', 'top_k', 'topk',
     'Accuracy'),
    ('val_evaluator', [dict(type='Accuracy', topk=1),
                       dict(type='Accuracy', top_k=1)], 'val_evaluator.1',
     'top_k', 'topk', 'Accuracy'),
    ('test_evaluator', dict(_delete_=True,
                            metrics=dict(type='Accuracy', top_k=1)),
     'test_evaluator.metrics', 'top_k', 'topk', 'Accuracy'),
    ('test_evaluator', dict(_delete_=True,
                            metrics=[dict(type='Accuracy', top_k=1)]),
     'test_evaluator.metrics.0', 'top_k', 'topk', 'Accuracy'),
    ('train_dataloader.batchsize', 2, 'train_dataloader', 'batchsize',
     'batch_size', 'DataLoader'),
    ('val_dataloader.num_worker', 2, 'val_dataloader', 'num_worker',
     'num_workers', 'DataLoader'),
])
def test_arguments_of_built_objects_are_refused_up_front(
        key, value, where, bad, close, cls):
    """Before: a TypeError when the runner built the optimizer, scheduler,
    log processor, visualizer, evaluator or data loader (after writing to
    the work dir), or at the first clipped step."""
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.merge_from_dict({key: value})
    with raises_naming(ConfigKeyError, f'{where} sets {bad!r}', repr(close),
                       cls):
        check_config_keys(cfg)


def test_arguments_are_checked_in_the_downstream_scopes():
    """MMSeg's and MMDet's configs build their optimizer, schedulers,
    evaluator and visualizer under default_scope mmseg / mmdet."""
    seg, det = (sorted(glob.glob(osp.join(
        REPO_ROOT, 'configs', 'downstream', name, '*.py')))[0]
        for name in ('ade20k', 'coco'))
    for config, key, value, bad, close, cls in [
            (seg, 'optim_wrapper.optimizer.weight_decy', 0.05, 'weight_decy',
             'weight_decay', 'AdamW'),
            (seg, 'param_scheduler.1.powr', 1., 'powr', 'power', 'PolyLR'),
            (seg, 'val_evaluator.iou_metric', ['mIoU'], 'iou_metric',
             'iou_metrics', 'IoUMetric'),
            (seg, 'visualizer.alpah', 0.5, 'alpah', 'alpha',
             'SegLocalVisualizer'),
            (det, 'val_evaluator.format_onyl', True, 'format_onyl',
             'format_only', 'CocoMetric'),
            (det, 'optim_wrapper.clip_grad', dict(max_nrom=1.), 'max_nrom',
             'max_norm', 'clip_grad_norm_')]:
        cfg = Config.fromfile(config)
        check_config_keys(cfg)
        cfg.merge_from_dict({key: value})
        with raises_naming(ConfigKeyError, repr(bad), repr(close), cls):
            check_config_keys(cfg)


def test_clip_grad_type_and_arguments_are_checked():
    """MMEngine's OptimWrapper takes clip_grad type 'norm' or 'value' and
    calls torch's clip_grad_norm_ / clip_grad_value_ with the rest."""
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.optim_wrapper.clip_grad = dict(type='l2', max_norm=1.)
    with raises_naming(ConfigValueError, 'optim_wrapper.clip_grad.type',
                       "'l2'", "'norm'", "'value'"):
        check_config_keys(cfg)
    cfg.optim_wrapper.clip_grad = dict(norm_type=2)
    with raises_naming(ConfigKeyError, 'optim_wrapper.clip_grad',
                       "'max_norm'"):
        check_config_keys(cfg)
    cfg.optim_wrapper.clip_grad = dict(type='value', clip_value=1.)
    check_config_keys(cfg)


@pytest.mark.parametrize('key,value,named', [
    # before: a whole epoch, then a ZeroDivisionError
    ('train_cfg.val_interval', 0, 'an integer >= 1'),
    ('train_cfg.val_interval', 2.5, 'an integer >= 1'),
    ('train_cfg.dynamic_intervals', [(4, 0)], 'an integer >= 1'),
    # before: exit status 0, nothing trained
    ('train_cfg.max_epochs', 0, 'an integer >= 1'),
    ('train_cfg', dict(_delete_=True, type='IterBasedTrainLoop',
                       max_iters=0), 'an integer >= 1'),
    # before: an AssertionError when the runner built the loop
    ('train_cfg.max_epochs', 1.5, 'an integer >= 1'),
    # before: no interval checkpoints, silently (MMEngine: -1 is 'never')
    ('default_hooks.checkpoint.interval', 0, '-1'),
    ('default_hooks.checkpoint.interval', -2, '-1'),
    ('default_hooks.checkpoint.interval', 1.5, '-1'),
])
def test_bad_run_lengths_and_intervals_are_refused(key, value, named):
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.merge_from_dict({key: value})
    shown = 'max_iters' if key == 'train_cfg' else key.split('.')[-1]
    bad = 0 if key == 'train_cfg' or key.endswith('dynamic_intervals') \
        else value
    with raises_naming(ConfigValueError, shown, f'got {bad!r}', named):
        check_config_keys(cfg)


def test_good_run_lengths_and_intervals_pass():
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.merge_from_dict({'train_cfg.max_epochs': 1,
                         'train_cfg.val_interval': 1,
                         'train_cfg.dynamic_intervals': [(4, 2)],
                         'default_hooks.checkpoint.interval': -1})
    check_config_keys(cfg)
    cfg.merge_from_dict({'default_hooks.checkpoint.interval': 3,
                         'train_cfg.max_epochs': 2.0})
    check_config_keys(cfg)


@pytest.mark.parametrize('key,value,named', [
    # before: MMEngine's ValueError when the hooks were built, naming no key
    ('default_hooks.logger.interval', 0,
     ('default_hooks.logger.interval', 'got 0', 'an integer >= 1')),
    # before: a ValueError when the schedulers were built, naming none
    ('param_scheduler', [dict(type='LinearLR', begin=5, end=5)],
     ('param_scheduler.0', 'begin=5', 'end=5', 'larger than begin')),
    # before: torch's ValueError when the loader was built
    ('train_dataloader.persistent_workers', True,
     ('train_dataloader.persistent_workers', 'num_workers', '0')),
    # before: skipped by the argument check, then a registry KeyError
    ('val_evaluator', dict(type='Accuracy', metrics=[dict(type='Accuracy')]),
     ('val_evaluator', "'Accuracy'", 'metric', "'Evaluator'")),
])
def test_bad_values_that_fail_late_are_refused(key, value, named):
    cfg = Config.fromfile(FINETUNE_CFG)
    check_config_keys(cfg)
    cfg.merge_from_dict({key: value})
    if key.endswith('persistent_workers'):
        cfg.train_dataloader.num_workers = 0
    with raises_naming(ConfigValueError, *named):
        check_config_keys(cfg)


def test_validation_that_never_runs_is_warned_about():
    """val_begin after the last epoch trained without validating, silently
    (a stock MMDet way to turn validation off: warned about, not
    refused)."""
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.merge_from_dict({'train_cfg.val_begin': 11})
    with pytest.warns(UserWarning) as warned:
        check_config_keys(cfg)
    assert_names(str(warned[-1].message), 'train_cfg.val_begin', '11',
                 'train_cfg.max_epochs', '(10)', 'never validates',
                 'val_cfg=None')


def test_values_close_to_the_refused_ones_pass(recwarn):
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.merge_from_dict({
        'default_hooks.logger.interval': 1,
        'train_cfg.val_begin': 10,
        'param_scheduler': [dict(type='LinearLR', begin=0, end=1),
                            dict(type='CosineAnnealingLR', T_max=9,
                                 begin=1)],
        'train_dataloader.persistent_workers': False,
        'val_evaluator': dict(_delete_=True,
                              metrics=[dict(type='Accuracy')]),
    })
    cfg.train_dataloader.num_workers = 0
    check_config_keys(cfg)
    cfg.merge_from_dict({'train_dataloader.persistent_workers': True,
                         'train_dataloader.num_workers': 2,
                         # no validation at all is said by val_cfg=None
                         'train_cfg.val_begin': 50, 'val_cfg': None,
                         'val_dataloader': None, 'val_evaluator': None})
    check_config_keys(cfg)
    assert not [w for w in recwarn if 'val_begin' in str(w.message)]


def test_hook_priority_is_not_taken_for_an_argument():
    """MMEngine's Runner.register_hook takes ``priority`` out of a hook dict
    before it builds the hook (66 stock OpenMMLab configs set it)."""
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.merge_from_dict({
        'default_hooks.checkpoint.priority': 'VERY_LOW',
        'default_hooks.timer': dict(type='IterTimerHook', priority='NORMAL'),
        'custom_hooks.0.priority': 'VERY_HIGH'})
    check_config_keys(cfg)
    cfg.merge_from_dict({'custom_hooks.0.priorty': 'VERY_HIGH'})
    with raises_naming(ConfigKeyError, 'custom_hooks.0', "'priorty'"):
        check_config_keys(cfg)


@pytest.mark.parametrize('key,value,close', [
    ('param_scheduler.1.type', 'CosineAnnealingLr', 'CosineAnnealingLR'),
    ('custom_hooks.0.type', 'FiniteLosHook', 'FiniteLossHook'),
    ('optim_wrapper.optimizer.type', 'AdamWW', 'AdamW'),
    ('train_dataloader.sampler.type', 'DefaultSamplr', 'DefaultSampler'),
    ('model.head.type', 'LinearClsHaed', 'LinearClsHead'),
    ('train_dataloader.dataset.type', 'CustomDatset', 'CustomDataset'),
    ('train_dataloader.dataset.pipeline.0.type', 'LoadImageFromFil',
     'LoadImageFromFile'),
    ('val_evaluator.type', 'Acuracy', 'Accuracy'),
])
def test_type_names_nothing_registers_are_refused(key, value, close):
    """Before: the registry's KeyError once the runner built the part,
    after writing to the work dir."""
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.merge_from_dict({key: value})
    where = key.rsplit('.', 1)[0]
    with raises_naming(ConfigKeyError, f'{where}.type', repr(value),
                       f'did you mean {close!r}'):
        check_config_keys(cfg)


def test_type_names_of_other_scopes_and_classes_pass():
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.merge_from_dict({
        'param_scheduler.1.type': 'mmengine.CosineAnnealingLR',
        'optim_wrapper.optimizer.type': torch.optim.AdamW})
    check_config_keys(cfg)


@pytest.mark.parametrize('key,value,named', [
    # before: the accepted list lacked what the runner reads itself
    ('param_scheduler.0.convert_to_iter_baesd', True,
     ("'convert_to_iter_baesd'", "did you mean 'convert_to_iter_based'")),
    # before: "OptimWrapper does not take 'lr'", with no pointer
    ('optim_wrapper.lr', 1e-3,
     ("'lr'", 'optim_wrapper.optimizer.lr', 'AdamW')),
])
def test_refusals_point_at_the_key_meant(key, value, named):
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.merge_from_dict({key: value})
    with raises_naming(ConfigKeyError, *named):
        check_config_keys(cfg)


def test_randomness_keys_are_those_set_randomness_takes():
    """Before: ``TypeError: Runner.set_randomness() got an unexpected
    keyword argument 'sead'`` once the runner was built."""
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.merge_from_dict({'randomness': dict(seed=1, deterministic=False,
                                            diff_rank_seed=True)})
    check_config_keys(cfg)
    cfg.randomness = dict(sead=1)
    with raises_naming(ConfigKeyError, 'randomness', "'sead'",
                       "did you mean 'seed'"):
        check_config_keys(cfg)


def test_dataset_arguments_are_checked_up_front():
    """Before: ``BaseDataset.__init__() got an unexpected keyword argument
    'data_prefx'`` when the data loader was built."""
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.merge_from_dict({'train_dataloader.dataset.data_prefx': 'train'})
    with raises_naming(ConfigKeyError, 'train_dataloader.dataset',
                       "'data_prefx'", "did you mean 'data_prefix'"):
        check_config_keys(cfg)
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.train_dataloader.dataset = dict(
        type='RepeatDataset', times=2, dataset=dict(
            cfg.train_dataloader.dataset, lazy_init=True))
    check_config_keys(cfg)


def test_a_model_part_registered_as_a_function_is_left_to_it():
    """Before: ``AttributeError: 'function' object has no attribute
    '__mro__'`` from the model-key check (MMPretrain's chinese_clip configs
    register builder functions)."""
    from mmpretrain.registry import MODELS

    def tiny_backbone_builder(**kwargs):
        return torch.nn.Identity()

    MODELS.register_module(name='TinyBackboneBuilderForChecks',
                           module=tiny_backbone_builder, force=True)
    cfg = Config.fromfile(FINETUNE_CFG)
    cfg.model.backbone = dict(type='TinyBackboneBuilderForChecks', depth=3)
    check_config_keys(cfg)
