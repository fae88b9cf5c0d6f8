"""Imported by a run under test (``custom_imports``) to end it as a kill
would (``os._exit``: no clean-up): ``CrashDuringSaveHook(epoch=N)`` when the
epoch-N checkpoint has been written to its temporary file, before it is
renamed into place; ``StopAfterEpochHook(epoch=N)`` after epoch N and its
checkpoint."""
import os

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
