"""Fine-tuning and testing refuse checkpoints that do not fill the model,
instead of MMEngine's ``strict=False`` loading, which trains from random
weights or tests an untrained head with exit status 0."""
import os.path as osp
import shutil
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_state_dict
from mmpretrain.registry import MODELS

import mmropim  # noqa: F401
from mmropim.engine import PretrainedWeightsCheckHook, SafeCheckpointHook
from mmropim.engine.hooks import pretrained_weights_check_hook
from mmropim.utils.model_checkpoint import (CheckpointMismatchError,
                                            check_checkpoint_fits_model)
from helpers import (PRMIM_TINY_CFG, REPO_ROOT, ROPIM_TINY_CFG, assert_names,
                     fake_runner, raises_naming, run_tool_process)

PRMIM_FINETUNE_CFG = osp.join(REPO_ROOT, 'configs', 'prmim', 'benchmarks',
                              'vit-mini-p8_1xb32-coslr-10e_demo-64px.py')
BEIT_FINETUNE_CFG = osp.join(REPO_ROOT, 'configs', 'ropim', 'benchmarks',
                             'beit-mini-p8_1xb32-coslr-10e_demo-64px.py')


def built_model(config, **backbone_options):
    cfg = Config.fromfile(config)
    cfg.model.backbone.update(backbone_options)
    init_default_scope('mmpretrain')
    return MODELS.build(cfg.model)


def save_model(model, path):
    """A checkpoint as our runs write one: plain tensors under
    ``state_dict``."""
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), str(path))
    return str(path)


@pytest.fixture(scope='module')
def pretraining_checkpoints(tmp_path_factory):
    """Freshly built (untrained) ROPIM (BEiT-style) and PR-MIM (plain ViT)
    demo models, saved as pre-training checkpoints: the keys are what
    matters here."""
    root = tmp_path_factory.mktemp('pretraining')
    torch.manual_seed(0)
    return dict(
        ropim_beit=save_model(built_model(ROPIM_TINY_CFG), root / 'ropim.pth'),
        prmim_vit=save_model(built_model(PRMIM_TINY_CFG), root / 'prmim.pth'))


def run(*args):
    return run_tool_process(*args)


def data_options(demo_root):
    return [f'{split}_dataloader.dataset.data_root={demo_root}'
            for split in ('train', 'val', 'test')]


def test_finetuning_refuses_a_checkpoint_of_another_architecture(
        pretraining_checkpoints, demo_root, tmp_path):
    """A BEiT-style ROPIM checkpoint (relative positions, no pos_embed, no
    qkv bias) in the plain-ViT fine-tuning config: MMEngine's Pretrained
    init loads it partly and trains on; the check stops the run before the
    first step, naming the missing weights."""
    work_dir = tmp_path / 'work'
    result = run('tools/train.py', PRMIM_FINETUNE_CFG, '--work-dir',
                 str(work_dir), '--cfg-options',
                 'model.backbone.init_cfg.checkpoint='
                 f'{pretraining_checkpoints["ropim_beit"]}',
                 'train_dataloader.dataset.indices=32',
                 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                 *data_options(demo_root))
    assert result.returncode != 0, result.stdout[-2000:]
    # the checkpoint and the weights it lacks, by name
    assert_names(result.stderr, 'MissingWeightsError',
                 pretraining_checkpoints['ropim_beit'],
                 "'layers.*.attn.qkv.bias'", "'pos_embed'")
    assert 'Epoch(train)' not in result.stdout + result.stderr
    assert not list(work_dir.glob('*.pth'))


def test_finetuning_loads_a_fitting_checkpoint_and_lists_the_rest(
        pretraining_checkpoints, demo_root, tmp_path):
    """The PR-MIM checkpoint fits the plain-ViT fine-tuning config: every
    backbone weight loads, the pooling norm is the recipe's own, the
    decoder and the pre-training final norm are listed unused."""
    result = run('tools/train.py', PRMIM_FINETUNE_CFG, '--work-dir',
                 str(tmp_path / 'work'), '--cfg-options',
                 'model.backbone.init_cfg.checkpoint='
                 f'{pretraining_checkpoints["prmim_vit"]}',
                 'train_dataloader.dataset.indices=32',
                 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                 *data_options(demo_root))
    assert result.returncode == 0, result.stderr[-3000:]
    # the loading report names the checkpoint, the recipe's own pooling
    # norm and the pre-training final norm left unused
    names = (pretraining_checkpoints['prmim_vit'],
             "['ln2.bias', 'ln2.weight']", "['ln1.bias', 'ln1.weight']")
    assert any(all(name in line for name in names)
               for line in (result.stdout + result.stderr).splitlines())


def test_finetuning_refuses_a_load_from_lacking_weights(
        pretraining_checkpoints, demo_root, tmp_path):
    """A pre-training checkpoint given as load_from to the fine-tuning
    config (instead of init_cfg): MMEngine loads it with strict=False and
    trained a random head, exit status 0; the config's check hook stops the
    run before the first step, naming the file and the head."""
    work_dir = tmp_path / 'work'
    path = pretraining_checkpoints['prmim_vit']
    result = run('tools/train.py', PRMIM_FINETUNE_CFG, '--work-dir',
                 str(work_dir), '--cfg-options', f'load_from={path}',
                 'model.backbone.init_cfg=None',
                 'train_dataloader.dataset.indices=32',
                 'train_cfg.max_epochs=1', *data_options(demo_root))
    assert result.returncode != 0, result.stdout[-2000:]
    assert_names(result.stderr, 'CheckpointMismatchError', f'load_from={path}',
                 'lacks 2 of the', "'head.fc.weight'")
    assert 'Epoch(train)' not in result.stdout + result.stderr
    assert not list(work_dir.glob('*.pth'))


def test_check_hook_expands_the_shared_table_of_a_beit_checkpoint(
        pretraining_checkpoints):
    """In the BEiT fine-tuning config the ROPIM checkpoint fills every
    weight (the shared relative table goes into each layer); the check
    leaves the loaded weights as they are."""
    classifier = built_model(
        BEIT_FINETUNE_CFG,
        init_cfg=dict(type='Pretrained',
                      checkpoint=pretraining_checkpoints['ropim_beit'],
                      prefix='backbone.'))
    classifier.init_weights()
    before = {k: v.clone() for k, v in classifier.state_dict().items()}
    hook = PretrainedWeightsCheckHook(
        fresh_parameters=['backbone.ln2.weight', 'backbone.ln2.bias'])
    hook.before_train(SimpleNamespace(cfg=Config(), model=classifier))
    for key, value in classifier.state_dict().items():
        torch.testing.assert_close(value, before[key])
    strict = PretrainedWeightsCheckHook()  # the pooling norm not allowed
    with raises_naming(KeyError, 'ln2.bias', 'ln2.weight'):
        strict.before_train(SimpleNamespace(cfg=Config(), model=classifier))


def test_check_hook_skips_only_resumed_runs():
    """--resume in a work dir with nothing to resume (pre-emptible
    launchers always pass it) starts from the pre-trained weights: they are
    checked. A resumed run has its weights from its run state and is not
    checked, even against a checkpoint without weights."""
    classifier = built_model(
        PRMIM_FINETUNE_CFG,
        init_cfg=dict(type='Pretrained', checkpoint='no/such.pth'))
    for cfg in (Config(), Config(dict(resume=True))):
        with raises_naming(FileNotFoundError, 'no/such.pth'):
            PretrainedWeightsCheckHook().before_train(
                SimpleNamespace(cfg=cfg, model=classifier))
    cfg = Config(dict(resume=True, load_from='work/epoch_1.pth'))
    runner = SimpleNamespace(cfg=cfg, model=classifier)
    hook = PretrainedWeightsCheckHook()
    hook.after_load_checkpoint(
        runner, dict(state_dict={}, meta=dict(epoch=1, iter=2)))
    hook.before_train(runner)
    with raises_naming(TypeError, 'fresh_parameters',
                       "'backbone.ln2.weight'"):
        PretrainedWeightsCheckHook(fresh_parameters='backbone.ln2.weight')


def start_from(hook, classifier, path, state_dict):
    """What the runner does with ``load_from=path`` (no resume): the hook
    sees the checkpoint before its weights load, then training starts."""
    runner = SimpleNamespace(cfg=Config(dict(load_from=path)),
                             model=classifier)
    hook.after_load_checkpoint(runner, dict(state_dict=state_dict, meta={}))
    load_state_dict(classifier, state_dict)  # strict=False, as MMEngine
    hook.before_train(runner)


def test_load_from_checkpoint_lacking_weights_is_refused(tmp_path):
    """MMEngine loads load_from with strict=False: a checkpoint without
    weights of the model (empty, or without pos_embed) trained on from
    their initialization, exit status 0. The check names the file, the
    count and the weights."""
    classifier = built_model(PRMIM_FINETUNE_CFG, init_cfg=None)
    full = classifier.state_dict()
    path = str(tmp_path / 'start.pth')
    with raises_naming(CheckpointMismatchError, path,
                       f'lacks {len(full)} of the {len(full)}',
                       '(in backbone, head)', "'backbone.pos_embed'"):
        start_from(PretrainedWeightsCheckHook(), classifier, path, {})
    without_pos_embed = {k: v for k, v in full.items()
                         if k != 'backbone.pos_embed'}
    with raises_naming(CheckpointMismatchError, path,
                       f'lacks 1 of the {len(full)}',
                       '(in backbone)', "'backbone.pos_embed'"):
        start_from(PretrainedWeightsCheckHook(), classifier, path,
                   without_pos_embed)
    # a head of another number of classes is not loaded either
    other_head = dict(full, **{'head.fc.weight': torch.zeros(20, 96),
                               'head.fc.bias': torch.zeros(20)})
    with raises_naming(CheckpointMismatchError, path, 'head.fc.weight',
                       '(20, 96)', '(14, 96)'):
        start_from(PretrainedWeightsCheckHook(), classifier, path,
                   other_head)


@pytest.mark.parametrize('how', ['resume', 'load_from_without_the_hook'])
def test_every_config_refuses_a_checkpoint_lacking_weights(tmp_path, how):
    """The checkpoint hook (in every config) checks what the runner loaded:
    a resumed checkpoint lacking weights (cut, or of another model) and a
    load_from in a config without PretrainedWeightsCheckHook (a
    pre-training one) trained on from their initialization, exit status
    0."""
    classifier = built_model(PRMIM_FINETUNE_CFG, init_cfg=None)
    full = classifier.state_dict()
    path = str(tmp_path / 'epoch_1.pth')
    cfg = Config(dict(load_from=path, resume=how == 'resume'))
    without_pos_embed = {k: v for k, v in full.items()
                         if k != 'backbone.pos_embed'}
    for state_dict, named in ((without_pos_embed, 'lacks 1 of the'),
                              ({}, f'lacks {len(full)} of the')):
        runner = fake_runner(tmp_path / how, f'weights_{how}', cfg=cfg,
                             model=classifier)
        hook = SafeCheckpointHook(interval=1)
        hook.after_load_checkpoint(
            runner, dict(state_dict=state_dict,
                         meta=dict(epoch=1, iter=2)))
        with raises_naming(CheckpointMismatchError, path, named,
                           "'backbone.pos_embed'"):
            hook.before_train(runner)
        assert not (tmp_path / how).exists()  # nothing written
    runner = fake_runner(tmp_path / how, f'weights_{how}_full', cfg=cfg,
                         model=classifier)
    hook = SafeCheckpointHook(interval=1)
    hook.after_load_checkpoint(runner, dict(state_dict=full,
                                            meta=dict(epoch=1, iter=2)))
    hook.before_train(runner)
    hook.after_train(runner)


def test_load_from_checkpoint_that_fills_the_model_passes(tmp_path):
    """A checkpoint of the model starts the run (with ``module.`` prefixes,
    as a wrapped model writes them; unused keys are only logged); one
    lacking only the recipe's fresh parameters does too."""
    classifier = built_model(PRMIM_FINETUNE_CFG, init_cfg=None)
    full = classifier.state_dict()
    path = str(tmp_path / 'start.pth')
    wrapped = {f'module.{key}': value for key, value in full.items()}
    start_from(PretrainedWeightsCheckHook(), classifier, path,
               dict(wrapped, **{'neck.unused': torch.zeros(1)}))
    fresh = ['backbone.ln2.weight', 'backbone.ln2.bias', 'head.fc.weight',
             'head.fc.bias']
    without_fresh = {k: v for k, v in full.items() if k not in fresh}
    start_from(PretrainedWeightsCheckHook(fresh_parameters=fresh),
               classifier, path, without_fresh)
    with raises_naming(CheckpointMismatchError, 'backbone.ln2.weight'):
        start_from(PretrainedWeightsCheckHook(fresh_parameters=fresh[2:]),
                   classifier, path, without_fresh)


def test_load_from_leaves_to_a_checked_pretrained_init_what_it_fills(
        pretraining_checkpoints, tmp_path):
    """With load_from and a backbone init_cfg Pretrained, the weights the
    load_from file lacks may come from the pre-trained checkpoint, which is
    checked as without load_from, but not loaded again over the weights
    load_from brought."""
    classifier = built_model(
        PRMIM_FINETUNE_CFG,
        init_cfg=dict(type='Pretrained', prefix='backbone.',
                      checkpoint=pretraining_checkpoints['prmim_vit']))
    classifier.init_weights()
    pre_trained = classifier.backbone.pos_embed.detach().clone()
    without_pos_embed = {k: torch.full_like(v, 0.5)
                         for k, v in classifier.state_dict().items()
                         if k != 'backbone.pos_embed'}
    path = str(tmp_path / 'start.pth')
    ln2 = ['backbone.ln2.weight', 'backbone.ln2.bias']
    start_from(PretrainedWeightsCheckHook(fresh_parameters=ln2), classifier,
               path, without_pos_embed)
    torch.testing.assert_close(classifier.backbone.pos_embed, pre_trained)
    for weight in (classifier.backbone.cls_token, classifier.head.fc.bias):
        torch.testing.assert_close(weight, torch.full_like(weight, 0.5))
    # the pre-trained checkpoint must fill the backbone (ln2 not allowed)
    with raises_naming(KeyError, pretraining_checkpoints['prmim_vit'],
                       'ln2.bias', 'ln2.weight'):
        start_from(PretrainedWeightsCheckHook(), classifier, path,
                   without_pos_embed)
    # the head has no Pretrained init: load_from must hold it
    with raises_naming(CheckpointMismatchError, path, '(in head)',
                       'head.fc.weight'):
        start_from(PretrainedWeightsCheckHook(fresh_parameters=ln2),
                   classifier, path, {})


@pytest.mark.parametrize('where', ['backbone', 'model'])
def test_check_hook_reads_init_cfg_lists(pretraining_checkpoints, where):
    """MMEngine takes init_cfg as a dict or a list of dicts, on the model or
    any submodule: a Pretrained entry in a list is checked too."""
    if where == 'backbone':
        classifier = built_model(PRMIM_FINETUNE_CFG, init_cfg=[
            dict(type='TruncNormal', layer='Linear', std=0.02),
            dict(type='Pretrained', prefix='backbone.',
                 checkpoint=pretraining_checkpoints['ropim_beit'])])
        classifier.init_weights()
        missing = ("'layers.*.attn.qkv.bias'", "'pos_embed'")
    else:  # the whole classifier from a pre-training checkpoint: no head
        classifier = built_model(PRMIM_FINETUNE_CFG, init_cfg=None)
        classifier.init_cfg = [
            dict(type='Pretrained',
                 checkpoint=pretraining_checkpoints['prmim_vit'])
        ]
        missing = ("'head.fc.bias'", "'head.fc.weight'")
    hook = PretrainedWeightsCheckHook(
        fresh_parameters=['backbone.ln2.weight', 'backbone.ln2.bias'])
    with raises_naming(KeyError, *missing):
        hook.before_train(SimpleNamespace(cfg=Config(), model=classifier))


def test_check_hook_reads_a_url_from_the_loaders_download(
        pretraining_checkpoints, tmp_path):
    """init_cfg.checkpoint=https://...: MMEngine's Pretrained initializer
    loads it from torch.hub's cache; the check reads that same file through
    the safe loader (no second download), instead of refusing the name as
    a missing local file."""
    hub = tmp_path / 'hub'
    (hub / 'checkpoints').mkdir(parents=True)
    shutil.copy(pretraining_checkpoints['prmim_vit'],
                hub / 'checkpoints' / 'prmim_pretrained.pth')
    url = 'https://example.invalid/models/prmim_pretrained.pth'
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(hub))
    try:
        classifier = built_model(
            PRMIM_FINETUNE_CFG,
            init_cfg=dict(type='Pretrained', checkpoint=url,
                          prefix='backbone.'))
        classifier.init_weights()
        PretrainedWeightsCheckHook(
            fresh_parameters=['backbone.ln2.weight', 'backbone.ln2.bias']
        ).before_train(SimpleNamespace(cfg=Config(), model=classifier))
    finally:
        torch.hub.set_dir(previous)


def test_a_pretrained_init_without_the_check_hook_is_warned(
        pretraining_checkpoints, tmp_path, monkeypatch):
    """A fine-tuning config of one's own, built from our bases without
    PretrainedWeightsCheckHook: the checkpoint hook of our runtime base
    says so when training starts, naming the checkpoint."""
    from mmengine.logging import MessageHub, MMLogger
    logged = []
    monkeypatch.setattr(pretrained_weights_check_hook, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    checkpoint = pretraining_checkpoints['prmim_vit']
    classifier = built_model(
        PRMIM_FINETUNE_CFG,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint,
                      prefix='backbone.'))
    for hooks in ([], [PretrainedWeightsCheckHook()]):
        runner = SimpleNamespace(
            work_dir=str(tmp_path), epoch=0, iter=0, cfg=Config(),
            model=classifier, hooks=hooks, val_loop=None,
            logger=MMLogger.get_instance('unchecked_init'),
            message_hub=MessageHub.get_instance('unchecked_init'))
        hook = SafeCheckpointHook(interval=1)
        hook.before_train(runner)
        hook.after_train(runner)
    assert len(logged) == 1, logged
    assert_names(logged[0], f'backbone from {checkpoint}',
                 "dict(type='PretrainedWeightsCheckHook'")


def test_test_tool_refuses_a_pretraining_checkpoint(pretraining_checkpoints,
                                                    demo_root, tmp_path):
    """Testing a pre-training checkpoint in a fine-tuning config evaluated
    a random head (chance accuracy, exit status 0); now it is an error
    naming what the checkpoint lacks."""
    out = tmp_path / 'metrics.json'
    result = run('tools/test.py', BEIT_FINETUNE_CFG,
                 pretraining_checkpoints['ropim_beit'], '--work-dir',
                 str(tmp_path / 'work'), '--out', str(out), '--cfg-options',
                 *data_options(demo_root))
    assert result.returncode != 0, result.stdout[-2000:]
    assert_names(result.stderr, 'CheckpointMismatchError', 'ImageClassifier',
                 "'head.fc.weight'")
    assert not out.exists()


def test_whole_model_checkpoint_check(tmp_path):
    classifier = built_model(PRMIM_FINETUNE_CFG, init_cfg=None)
    path = save_model(classifier, tmp_path / 'classifier.pth')
    assert check_checkpoint_fits_model(classifier, path) == dict(
        unexpected=[], meta={})
    wider = built_model(PRMIM_FINETUNE_CFG, init_cfg=None)
    wider.head.fc = torch.nn.Linear(96, 20)
    with raises_naming(CheckpointMismatchError, 'head.fc.weight',
                       '(14, 96)', '(20, 96)'):
        check_checkpoint_fits_model(wider, path)


def test_whole_model_check_lets_the_model_adapt_what_it_adapts(tmp_path):
    """A checkpoint fine-tuned at 64 px tested at 96 px: MMPretrain's load
    hook resizes pos_embed to the model's grid, so its shape is no
    mismatch; a shape no hook adapts still is. The check copies nothing
    into the model."""
    path = save_model(built_model(PRMIM_FINETUNE_CFG, init_cfg=None),
                      tmp_path / 'at64.pth')
    larger = built_model(PRMIM_FINETUNE_CFG, init_cfg=None, img_size=96)
    before = {k: v.clone() for k, v in larger.state_dict().items()}
    assert check_checkpoint_fits_model(larger, path)['unexpected'] == []
    for key, value in larger.state_dict().items():
        torch.testing.assert_close(value, before[key])
    larger.head.fc = torch.nn.Linear(96, 20)
    with raises_naming(CheckpointMismatchError, 'head.fc.weight',
                       '(14, 96)', '(20, 96)') as error:
        check_checkpoint_fits_model(larger, path)
    assert 'pos_embed' not in str(error.value)


def hollow(state_dict, how, keys=('head.fc.weight', 'head.fc.bias')):
    """``state_dict`` with the values of ``keys`` (every key for 'meta')
    replaced by ones without data the model can take, same names (and
    shapes, where they have one)."""
    hollowed = {
        'meta': lambda v: torch.empty(v.shape, dtype=v.dtype,
                                      device='meta'),
        'none': lambda v: None,
        'number': lambda v: 0.5,
        'complex': lambda v: v.to(torch.complex64),
        'sparse': lambda v: v.to_sparse(),
    }[how]
    if how == 'meta':
        keys = list(state_dict)
    return {key: hollowed(value) if key in keys else value
            for key, value in state_dict.items()}


HOLLOW = ['meta', 'none', 'number', 'complex', 'sparse']


def hollow_names(how):
    """What the refusal names: the first weights (all of them are meta)
    or the head's, and what the checkpoint holds instead."""
    if how == 'meta':
        return ("'backbone.cls_token'", "'backbone.pos_embed'",
                'a meta tensor (no data)')
    return ("'head.fc.weight'", "'head.fc.bias'", {
        'none': 'a NoneType, not a tensor',
        'number': 'a float, not a tensor',
        'complex': 'torch.complex64',
        'sparse': 'torch.sparse_coo'}[how])


@pytest.mark.parametrize('how', HOLLOW)
def test_whole_model_check_refuses_weights_without_data(tmp_path, how):
    """A checkpoint of the model's names and shapes whose tensors are on
    the meta device (no data), or whose head is None, a number, a complex
    or a sparse tensor: MMEngine loads with strict=False and only warns
    that it cannot copy them, so tools/test.py evaluated random weights
    with exit status 0. Each is named, as a missing weight is."""
    classifier = built_model(PRMIM_FINETUNE_CFG, init_cfg=None)
    path = str(tmp_path / f'hollow_{how}.pth')
    torch.save(dict(state_dict=hollow(classifier.state_dict(), how),
                    meta=dict()), path)
    with raises_naming(CheckpointMismatchError, path, 'ImageClassifier',
                       *hollow_names(how)):
        check_checkpoint_fits_model(classifier, path)


def test_whole_model_check_takes_other_float_precisions(tmp_path):
    """Half-precision weights are data the model's float32 tensors take
    (copy_ converts them)."""
    classifier = built_model(PRMIM_FINETUNE_CFG, init_cfg=None)
    path = str(tmp_path / 'half.pth')
    torch.save(dict(state_dict={
        key: value.half() if value.is_floating_point() else value
        for key, value in classifier.state_dict().items()}), path)
    assert check_checkpoint_fits_model(classifier, path)['unexpected'] == []


@pytest.mark.parametrize('how', HOLLOW)
def test_load_from_and_resume_refuse_weights_without_data(tmp_path, how):
    """load_from (checked by PretrainedWeightsCheckHook, or by the
    checkpoint hook in a config without it) and --resume: weights without
    data were only a warning of MMEngine's strict=False load, and training
    went on from random weights."""
    classifier = built_model(PRMIM_FINETUNE_CFG, init_cfg=None)
    full = classifier.state_dict()
    path = str(tmp_path / 'epoch_1.pth')
    names = (CheckpointMismatchError, path, *hollow_names(how))
    with raises_naming(*names):
        runner = SimpleNamespace(cfg=Config(dict(load_from=path)),
                                 model=classifier)
        hook = PretrainedWeightsCheckHook()
        hook.after_load_checkpoint(
            runner, dict(state_dict=hollow(full, how), meta={}))
        hook.before_train(runner)
    for resume in (True, False):
        cfg = Config(dict(load_from=path, resume=resume))
        runner = fake_runner(tmp_path / 'work', f'hollow_{resume}',
                             cfg=cfg, model=classifier)
        hook = SafeCheckpointHook(interval=1)
        hook.after_load_checkpoint(
            runner, dict(state_dict=hollow(full, how),
                         meta=dict(epoch=1, iter=2)))
        with raises_naming(*names):
            hook.before_train(runner)
        assert not (tmp_path / 'work').exists()  # nothing written


def test_whole_model_check_names_non_tensors_the_model_hooks_read(
        tmp_path):
    """BEiT's load hook reads the relative position tables' size: numbers
    in their place failed there with an AttributeError naming no weight;
    they are named as the others are."""
    classifier = built_model(BEIT_FINETUNE_CFG, init_cfg=None)
    path = str(tmp_path / 'numbers.pth')
    torch.save(dict(state_dict={key: 0 for key in classifier.state_dict()}),
               path)
    with raises_naming(CheckpointMismatchError, path, 'ImageClassifier',
                       'relative_position_bias_table', 'not a tensor'):
        check_checkpoint_fits_model(classifier, path)
