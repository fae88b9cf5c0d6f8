from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop training with a clear error when the loss becomes NaN or inf.

    The check stays on the loss's device (no synchronization) and records
    the first bad iteration; every ``interval`` iterations (and at the last
    one) it is read once and training stops with a ``FloatingPointError``
    that names that iteration. The checkpoints written before it are kept.

    Args:
        interval (int): Iterations between reads of the flag. Defaults to 10.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, interval: int = 10) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.interval = interval
        self._first_bad: Optional[torch.Tensor] = None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs or 'loss' not in outputs:
            return
        loss = outputs['loss']
        iteration = runner.iter + 1
        if not isinstance(loss, torch.Tensor):
            loss = torch.tensor(float(loss))
        loss = loss.detach()
        if self._first_bad is None or \
                self._first_bad.device != loss.device:
            self._first_bad = torch.full((), -1, device=loss.device)
        bad = ~torch.isfinite(loss).all() & (self._first_bad < 0)
        self._first_bad = torch.where(
            bad, torch.full_like(self._first_bad, iteration),
            self._first_bad)
        if self.every_n_train_iters(runner, self.interval) or \
                self.is_last_train_iter(runner):
            first = int(self._first_bad.item())
            if first >= 0:
                raise FloatingPointError(
                    f'the loss became NaN or inf at iteration {first} '
                    f'(epoch {runner.epoch + 1}); training stopped at '
                    f'iteration {iteration}. Lower the learning rate, check '
                    f'the data, or resume from the last checkpoint in '
                    f'{runner.work_dir}.')


