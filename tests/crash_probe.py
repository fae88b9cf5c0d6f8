"""Imported by a run under test (``custom_imports``) to end it as a kill
would (``os._exit``: no clean-up): ``CrashDuringSaveHook(epoch=N)`` when the
epoch-N checkpoint has been written to its temporary file, before it is
renamed into place; ``StopAfterEpochHook(epoch=N)`` after epoch N and its
checkpoint; ``CrashDuringValidationHook(epoch=N)`` in the middle of the
validation after epoch N. ``PoisonWeightsHook(iteration=N)`` makes the
weights NaN before iteration N; ``PauseAfterEpochHook(epoch=N, marker=F)``
writes the file F after epoch N and then sleeps (a run that is busy)."""
import math
import os
import time

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

CRASH_EXIT_CODE = 3


@HOOKS.register_module()
class CrashDuringSaveHook(Hook):

    priority = 'LOWEST'

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def before_save_checkpoint(self, runner, checkpoint) -> None:
        if checkpoint['meta']['epoch'] != self.epoch:
            return
        replace = os.replace

        def crash(source, target, *args, **kwargs):
            if str(target).endswith('.pth'):
                os._exit(CRASH_EXIT_CODE)
            return replace(source, target, *args, **kwargs)

        os.replace = crash


STOP_EXIT_CODE = 4


@HOOKS.register_module()
class StopAfterEpochHook(Hook):
    """Ends the process after epoch ``epoch`` and its checkpoint, as a
    preempted job ends (``os._exit``: no clean-up)."""

    priority = 'LOWEST'  # after the checkpoint hook

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def after_train_epoch(self, runner) -> None:
        if runner.epoch + 1 == self.epoch:
            os._exit(STOP_EXIT_CODE)


@HOOKS.register_module()
class CrashDuringValidationHook(Hook):
    """Ends the process during the validation after epoch ``epoch``, after
    its first batch."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def after_val_iter(self, runner, *args, **kwargs) -> None:
        if runner.epoch == self.epoch:  # the loop counted the epoch already
            os._exit(CRASH_EXIT_CODE)


@HOOKS.register_module()
class PoisonWeightsHook(Hook):
    """Sets a weight to NaN before iteration ``iteration`` (1-based): the
    losses from then on are NaN."""

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def before_train_iter(self, runner, *args, **kwargs) -> None:
        if runner.iter + 1 == self.iteration:
            with torch.no_grad():
                next(runner.model.parameters()).fill_(math.nan)


@HOOKS.register_module()
class PauseAfterEpochHook(Hook):
    """Writes ``marker`` after epoch ``epoch`` and its checkpoint, then
    sleeps ``seconds``."""

    priority = 'LOWEST'

    def __init__(self, epoch: int, marker: str, seconds: float = 120) -> None:
        self.epoch = epoch
        self.marker = marker
        self.seconds = seconds

    def after_train_epoch(self, runner) -> None:
        if runner.epoch + 1 == self.epoch:
            with open(self.marker, 'w') as f:
                f.write(str(os.getpid()))
            time.sleep(self.seconds)
