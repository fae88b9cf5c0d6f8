"""Config keys that nothing reads, refused when a run is built.

MMEngine reads the top-level keys it knows and ignores the rest, so a
misspelt one (``trian_cfg``) or one of MMCV 1.x (``lr_config``,
``optimizer``, ``resume_from``) is silently dropped; so is a misspelt key
of ``optim_wrapper.paramwise_cfg``, ``auto_scale_lr`` or ``env_cfg``, which
are read with ``dict.get``; and MMEngine's ``CheckpointHook`` hands
arguments it does not know to ``runner.save_checkpoint``, so a misspelt one
(``default_hooks.checkpoint.max_keep_ckpt``) fails at the first save, maybe
hours into a run. All are refused here before anything is built, with the
key and the names it is close to or what replaced it.

Configs hold more top-level names than the runner reads (``_base_``,
``custom_imports``, variables such as ``train_pipeline``, ``data_root`` or
``bgr_mean``), so a top-level key is refused only when it is not a key the
runner reads but is, ignoring case, one typo away from one (a letter
added, dropped, changed, or two swapped), or two typos away from a runner
key of nine letters or more (``defualt_hook``). Shorter keys allow only one:
among the top-level names of MMPretrain's, MMSeg's and MMDet's shipped
configs, ``conv_cfg`` is two from ``env_cfg`` and a variable, not a typo.

An MMCV 1.x key (:data:`MMCV1_KEYS`) is refused unless it is None or only
repeats what the MMEngine keys say (a few shipped configs still carry a
leftover such as ``data = dict(samples_per_gpu=64)`` next to
``train_dataloader = dict(batch_size=64)``); a top-level ``optimizer`` also
passes where the config files use it as a variable (MMSeg's and MMDet's
schedules name their optimizer, then write ``optim_wrapper = dict(
optimizer=optimizer)``; a config replacing that optim_wrapper leaves the
variable behind). The MMCV 1.x keys that only set up the environment
(``cudnn_benchmark``: MMDet's SSD configs) are warned about, not refused.

A top-level key that ``--cfg-options`` adds to a config lacking it is
refused unless the runner reads it (:func:`check_option_keys`): a config
variable is read only while the config file loads, so ``max_epochs=1``
or ``data_root=/x`` would change nothing. Nested keys that would stop the
run late, once the runner has written to the work dir, are refused too: an
argument the train, val or test loop or a hook does not take
(``train_cfg.val_intervel``, ``default_hooks.logger.intervel``) and a
``default_hooks`` entry that replaces none of MMEngine's default hooks and
cannot be built (``default_hooks.chekpoint.interval=1``), and so is an
argument that the optimizer, optim wrapper, ``clip_grad``, a parameter
scheduler, the log processor, the visualizer, a metric or a data loader
does not take (:func:`check_built_arguments`). A misspelt setting of a
``paramwise_cfg.custom_keys`` entry (``decay_mul``) is refused
(:func:`check_custom_key_settings`), as are a run length, validation
interval or checkpoint interval that would stop the run late or make it
do nothing (:func:`check_run_values`). A key of
``paramwise_cfg.custom_keys`` that is in no parameter's name is refused
once the model is built (:func:`check_custom_keys`).
"""
from typing import Mapping

from .base import (TWO_TYPOS_MIN_LENGTH, ConfigKeyError, ConfigValueError,
                   check_arguments, close_matches, did_you_mean, edit_distance,
                   init_arguments, one_typo_apart, refuse_unknown_arguments,
                   typo_of)
from .built import (DATALOADER_KEYS_READ_BY_RUNNER, MODEL_PARTS,
                    check_built_arguments, check_model_keys, check_type_names,
                    dataloader_keys)
from .hooks import (CHECKPOINT_HOOKS, DEFAULT_HOOK_NAMES,
                    SAVE_ARGUMENTS_SET_BY_HOOK, check_checkpoint_filename_tmpl,
                    check_hook_arguments, check_hook_config,
                    checkpoint_hook_arguments)
from .keys import (AUTO_SCALE_LR_KEYS, CONVENTIONAL_KEYS, ENV_CFG_KEYS,
                   EXTRA_RUNNER_KEYS, LOOP_ARGUMENTS_SET_BY_RUNNER,
                   MMCV1_ENVIRONMENT_KEYS, MMCV1_KEYS, READ_BY_TOOLS,
                   check_loop_keys, check_nested_keys, check_option_keys,
                   check_top_level_keys, check_unread_keys, config_files,
                   runner_keys)
from .optim import (DEFAULT_CUSTOM_KEY_SETTINGS, DEFAULT_PARAMWISE_KEYS,
                    LAYER_DECAY_CUSTOM_KEY_SETTINGS,
                    LAYER_DECAY_IGNORED_SETTINGS, LAYER_DECAY_PARAMWISE_KEYS,
                    STOCK_CUSTOM_KEYS, check_custom_key_settings,
                    check_custom_keys, check_optim_wrapper_arguments,
                    paramwise_keys_read)
from .values import check_late_failing_values, check_run_values


def check_config_keys(cfg: Mapping) -> None:
    """What ``tools/train.py`` and ``tools/test.py`` check before
    ``Runner.from_cfg``: :func:`check_top_level_keys`,
    :func:`check_nested_keys`, :func:`check_loop_keys`,
    :func:`check_hook_config`, :func:`check_model_keys`,
    :func:`check_built_arguments`, :func:`check_run_values` and
    :func:`check_late_failing_values`."""
    check_top_level_keys(cfg)
    check_nested_keys(cfg)
    check_loop_keys(cfg)
    check_type_names(cfg)
    check_hook_config(cfg)
    check_model_keys(cfg)
    check_built_arguments(cfg)
    check_run_values(cfg)
    check_late_failing_values(cfg)


__all__ = [
    'ConfigKeyError',
    'ConfigValueError',
    'TWO_TYPOS_MIN_LENGTH',
    'one_typo_apart',
    'edit_distance',
    'typo_of',
    'did_you_mean',
    'close_matches',
    'init_arguments',
    'check_arguments',
    'refuse_unknown_arguments',
    'EXTRA_RUNNER_KEYS',
    'READ_BY_TOOLS',
    'CONVENTIONAL_KEYS',
    'MMCV1_KEYS',
    'MMCV1_ENVIRONMENT_KEYS',
    'LOOP_ARGUMENTS_SET_BY_RUNNER',
    'AUTO_SCALE_LR_KEYS',
    'ENV_CFG_KEYS',
    'runner_keys',
    'config_files',
    'check_top_level_keys',
    'check_unread_keys',
    'check_nested_keys',
    'check_option_keys',
    'check_loop_keys',
    'DEFAULT_PARAMWISE_KEYS',
    'LAYER_DECAY_PARAMWISE_KEYS',
    'DEFAULT_CUSTOM_KEY_SETTINGS',
    'LAYER_DECAY_CUSTOM_KEY_SETTINGS',
    'LAYER_DECAY_IGNORED_SETTINGS',
    'STOCK_CUSTOM_KEYS',
    'paramwise_keys_read',
    'check_custom_key_settings',
    'check_custom_keys',
    'check_optim_wrapper_arguments',
    'SAVE_ARGUMENTS_SET_BY_HOOK',
    'CHECKPOINT_HOOKS',
    'DEFAULT_HOOK_NAMES',
    'checkpoint_hook_arguments',
    'check_hook_arguments',
    'check_hook_config',
    'check_checkpoint_filename_tmpl',
    'MODEL_PARTS',
    'check_model_keys',
    'DATALOADER_KEYS_READ_BY_RUNNER',
    'dataloader_keys',
    'check_built_arguments',
    'check_type_names',
    'check_run_values',
    'check_late_failing_values',
    'check_config_keys',
]
