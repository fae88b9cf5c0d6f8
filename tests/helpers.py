"""Helpers shared by the tests (import them from here, not from conftest):
paths, the tiny configs, running a tool as a user does, reading a run's
logged scalars."""
import contextlib
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import types

import pytest

from tool_processes import run_script

TESTS_DIR = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(TESTS_DIR)
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

ROPIM_TINY_CFG = osp.join(REPO_ROOT, 'configs', 'ropim',
                          'ropim_beit-mini-p8_1xb32-coslr-20e_demo-64px.py')
PRMIM_TINY_CFG = osp.join(REPO_ROOT, 'configs', 'prmim',
                          'prmim_vit-mini-p8_1xb32-coslr-20e_demo-64px.py')
ITERS_PER_EPOCH = 14  # 14 classes x 32 crops / batch 32


def run_tool_process(*args, env=None, cwd=REPO_ROOT, timeout=900):
    """Run ``python ARGS...`` (from the repository root by default) and
    return its ``subprocess.CompletedProcess``. A script (``tools/x.py``)
    runs in a process forked from one that has imported the OpenMMLab
    stack already (:mod:`tool_processes`); ``-m`` / ``-c`` runs get a fresh
    interpreter."""
    args = [str(a) for a in args]
    if args and args[0].endswith('.py'):
        return run_script(args, cwd, env, timeout)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def run_tool(*args, env=None):
    """Run ``python ARGS...`` from the repository root
    (:func:`run_tool_process`); assert it succeeds and return its
    output."""
    result = run_tool_process(*args, env=env)
    assert result.returncode == 0, \
        result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


OTHER_WEIGHTS = b'weights of another run'


def link_output(folder, name, link):
    """``folder/other.pth`` holding :data:`OTHER_WEIGHTS` and ``folder/name``
    a ``'hard'`` or ``'symbolic'`` link to it, or a ``'dangling'`` symbolic
    link; returns both paths."""
    other = folder / 'other.pth'
    other.write_bytes(OTHER_WEIGHTS)
    out = folder / name
    if link == 'hard':
        os.link(other, out)
    else:
        out.symlink_to(other if link == 'symbolic' else folder / 'gone')
    return other, out


def assert_names(text, *names):
    """Assert that ``text`` (an error message, a tool's output) names each
    of ``names``: the bad values, the allowed ones, the keys, options and
    files to fix, as literal substrings, whatever the wording around
    them."""
    missing = [name for name in names if name not in text]
    assert not missing, f'{missing} not named in: {text[-3000:]}'


@contextlib.contextmanager
def raises_naming(error_type, *names):
    """``pytest.raises(error_type)`` whose message must also name each of
    ``names`` (see ``assert_names``); yields the ``ExceptionInfo``."""
    with pytest.raises(error_type) as error:
        yield error
    assert_names(str(error.value), *names)


def assert_test_reproduces_validation(work_dir, metrics, keys):
    """``tools/test.py`` on a run's last checkpoint gives the metrics the
    run logged at its last validation (same weights, same images): a test
    that loaded other weights (a random head, a missing key) differs."""
    logged = [row for row in logged_scalars(work_dir)[-1]
              if keys[0] in row]
    assert logged, f'no validation with {keys[0]} logged in {work_dir}'
    for key in keys:
        assert abs(metrics[key] - logged[-1][key]) < 1e-6, (
            key, metrics[key], logged[-1][key])


def logged_scalars(work_dir):
    """The rows of every ``vis_data/scalars.json`` of a work dir, one list
    per run, oldest first."""
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            rows.append([json.loads(line) for line in f])
    return rows


def logged_iterations(work_dir):
    """The training iterations at which the latest run of a work dir logged
    a loss (a run that resumed starts after its checkpoint's)."""
    return [row['iter'] for row in logged_scalars(work_dir)[-1]
            if 'loss' in row]


# Weight decay as the references apply it (BEiT / ROPIM authors' and MAE's
# param groups, MMPretrain's MAE / BEiT configs): none on any 1-D parameter
# (norms, biases incl. q_bias / v_bias, layer scale) nor on the class /
# mask tokens and position embeddings; every other parameter, relative
# position tables included, is decayed.
NO_DECAY_NAMES = ('pos_embed', 'cls_token', 'mask_token')


def weight_decay_violations(model, optimizer, decayed=()):
    """Names of the parameters whose weight decay breaks the rule above;
    names containing an entry of ``decayed`` are decayed instead (a
    reference recipe that decays e.g. its mask token)."""
    decay = {
        id(param): group['weight_decay']
        for group in optimizer.param_groups for param in group['params']
    }
    base = optimizer.defaults['weight_decay']
    wrong = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        exempt = param.ndim == 1 or any(
            k in name for k in NO_DECAY_NAMES
            if not any(d in name for d in decayed))
        if decay[id(param)] != (0.0 if exempt else base):
            wrong.append(f'{name} {tuple(param.shape)}: {decay[id(param)]}')
    return wrong


def vitdet_weight_decay_violations(model, optimizer):
    """Names of the parameters of a detector whose weight decay breaks
    ViTDet's rule (detectron2's ``get_default_optimizer_params`` with
    ``weight_decay_norm=0`` and a ``pos_embed`` override; MMDet's port
    alike): only the norms inside the backbone's blocks and the backbone's
    position embedding are exempt; biases, LN2d of the pyramid and the heads,
    relative positions, layer scale and class token are decayed."""
    decay = {
        id(param): group['weight_decay']
        for group in optimizer.param_groups for param in group['params']
    }
    base = optimizer.defaults['weight_decay']
    block_norm = re.compile(r'^backbone\.layers\.\d+\.ln[12]\.')
    wrong = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        exempt = bool(block_norm.match(name)) or name == 'backbone.pos_embed'
        if decay[id(param)] != (0.0 if exempt else base):
            wrong.append(f'{name} {tuple(param.shape)}: {decay[id(param)]}')
    return wrong


def ffn_branches_dropping_twice(model):
    """Names of MMPretrain BEiT layers whose FFN has a drop path of its own
    besides the layer's (the FFN branch would be dropped twice)."""
    from mmpretrain.models.backbones.beit import BEiTTransformerEncoderLayer
    return [
        name for name, module in model.named_modules()
        if isinstance(module, BEiTTransformerEncoderLayer)
        and type(module.ffn.dropout_layer).__name__ != 'Identity'
    ]


def fp32_optim_wrapper_cfg(optim_wrapper_cfg):
    """A copy of an optimizer wrapper config that builds without CUDA
    (``AmpOptimWrapper`` -> ``OptimWrapper``)."""
    cfg = optim_wrapper_cfg.copy()
    if cfg.get('type') == 'AmpOptimWrapper':
        cfg.type = 'OptimWrapper'
        cfg.pop('loss_scale', None)
        cfg.pop('dtype', None)
    return cfg


__all__ = [
    'TESTS_DIR', 'REPO_ROOT', 'ROPIM_TINY_CFG', 'PRMIM_TINY_CFG',
    'ITERS_PER_EPOCH', 'run_tool', 'run_tool_process', 'assert_names',
    'raises_naming', 'logged_scalars', 'logged_iterations',
    'weight_decay_violations', 'fp32_optim_wrapper_cfg',
    'ffn_branches_dropping_twice'
]


def fake_runner(work_dir, name, epoch=0, iteration=0, **extra):
    """What the checkpoint hook reads of a runner; ``save_checkpoint``
    writes 1000 bytes through the atomic writer, as the real one would."""
    import torch
    from mmengine.logging import MessageHub, MMLogger

    from mmropim.engine.hooks.safe_checkpoint_hook import write_atomically

    def save_checkpoint(out_dir, filename, *args, **kwargs):
        write_atomically(b'w' * 1000, osp.join(out_dir, filename))

    runner = types.SimpleNamespace(
        work_dir=str(work_dir), epoch=epoch, iter=iteration, max_epochs=10,
        logger=MMLogger.get_instance(name),
        message_hub=MessageHub.get_instance(name),
        model=torch.nn.Linear(2, 2), hooks=[], cfg={}, val_loop=None,
        train_loop=types.SimpleNamespace(max_epochs=10, val_begin=1,
                                         val_interval=1),
        save_checkpoint=save_checkpoint)
    runner.__dict__.update(extra)
    return runner
