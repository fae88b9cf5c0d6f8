"""Fine-tuning and testing refuse checkpoints that do not fill the model,
instead of MMEngine's ``strict=False`` loading, which trains from random
weights or tests an untrained head with exit status 0."""
import os.path as osp
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmropim  # noqa: F401
from mmropim.engine import PretrainedWeightsCheckHook
from mmropim.utils.model_checkpoint import (CheckpointMismatchError,
                                            check_checkpoint_fits_model)
from helpers import PRMIM_TINY_CFG, REPO_ROOT, ROPIM_TINY_CFG

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
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=900)


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
    assert 'MissingWeightsError' in result.stderr
    assert f'{pretraining_checkpoints["ropim_beit"]} lacks' in result.stderr
    assert "Missing, by name: ['layers.*.attn.qkv.bias', 'pos_embed']" \
        in result.stderr
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
    log = result.stdout + result.stderr
    assert 'initialized by the transfer recipe, not in the checkpoint: ' \
        "['ln2.bias', 'ln2.weight']" in log
    assert "unused checkpoint keys: ['ln1.bias', 'ln1.weight']" in log


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
    with pytest.raises(KeyError, match=r"lacks 2 of .* \['ln2.bias', "
                       r"'ln2.weight'\]"):
        strict.before_train(SimpleNamespace(cfg=Config(), model=classifier))


def test_check_hook_skips_resumed_runs_and_checks_its_argument():
    classifier = built_model(
        PRMIM_FINETUNE_CFG,
        init_cfg=dict(type='Pretrained', checkpoint='no/such.pth'))
    hook = PretrainedWeightsCheckHook()
    for cfg in (Config(dict(resume=True)), Config(dict(load_from='a.pth'))):
        hook.before_train(SimpleNamespace(cfg=cfg, model=classifier))
    with pytest.raises(FileNotFoundError, match='no/such.pth'):
        hook.before_train(SimpleNamespace(cfg=Config(), model=classifier))
    with pytest.raises(TypeError, match='fresh_parameters must be a '
                       'sequence of full parameter names'):
        PretrainedWeightsCheckHook(fresh_parameters='backbone.ln2.weight')


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
    assert 'CheckpointMismatchError' in result.stderr
    assert 'weights of ImageClassifier (in backbone, head)' in result.stderr
    assert "'head.fc.weight'" in result.stderr
    assert not out.exists()


def test_whole_model_checkpoint_check(tmp_path):
    classifier = built_model(PRMIM_FINETUNE_CFG, init_cfg=None)
    path = save_model(classifier, tmp_path / 'classifier.pth')
    assert check_checkpoint_fits_model(classifier, path) == dict(
        unexpected=[])
    wider = built_model(PRMIM_FINETUNE_CFG, init_cfg=None)
    wider.head.fc = torch.nn.Linear(96, 20)
    with pytest.raises(CheckpointMismatchError,
                       match=r"head.fc.weight: \(14, 96\) in the "
                       r'checkpoint, \(20, 96\) in the model'):
        check_checkpoint_fits_model(wider, path)
