"""Imported by a run under test (``custom_imports``) to kill it in the
middle of a checkpoint save: ``CrashDuringSaveHook(epoch=N)`` makes the
process exit (``os._exit``, as a kill would: no clean-up) when the epoch-N
checkpoint has been written to its temporary file, before it is renamed
into place."""
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
