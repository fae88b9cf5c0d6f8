from typing import Optional

import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop training with a clear error when the loss becomes NaN or inf, or
    stays exactly zero.

    The checks stay on the loss's device (no synchronization): the first bad
    iteration is recorded there, and every ``interval`` iterations (and at
    the last one) the record is read once, the earliest over all ranks under
    distributed training, so that every rank stops. A NaN / inf loss stops
    training with a ``FloatingPointError`` naming its first iteration. A
    loss that is exactly 0 for ``max_zero_loss_iters`` consecutive iterations
    (a dead loss: e.g. a loss denominator that overflowed in fp16 gives 0,
    and every gradient is then 0) stops it with a ``RuntimeError`` naming
    them. The checkpoints written before are kept.

    :class:`~mmropim.engine.SafeCheckpointHook` reads the record too
    (:meth:`raise_if_bad`) before it writes a checkpoint, so that a
    checkpoint is never written after a bad loss that the next read would
    have found.

    Args:
        interval (int): Iterations between reads of the record.
            Defaults to 10.
        max_zero_loss_iters (int, optional): Consecutive exactly-zero losses
            that stop training; None disables the check. Defaults to None.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 interval: int = 10,
                 max_zero_loss_iters: Optional[int] = None) -> None:
        if isinstance(interval, bool) or not isinstance(interval, int):
            raise TypeError(f'interval must be an integer, got {interval!r}')
        if max_zero_loss_iters is not None and (
                isinstance(max_zero_loss_iters, bool)
                or not isinstance(max_zero_loss_iters, int)):
            raise TypeError('max_zero_loss_iters must be None (no check) or '
                            f'an integer, got {max_zero_loss_iters!r}')
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        if max_zero_loss_iters is not None and max_zero_loss_iters < 1:
            raise ValueError('max_zero_loss_iters must be None (no check) or '
                             f'>= 1, got {max_zero_loss_iters}')
        self.interval = interval
        self.max_zero_loss_iters = max_zero_loss_iters
        # on the loss's device: first NaN/inf iteration, current run of
        # zero losses, first iteration of the first run that got too long,
        # epoch (1-based) of the first NaN/inf iteration
        self._state: Optional[torch.Tensor] = None

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
        if self._state is None:
            self._state = torch.tensor([-1, 0, -1, -1], device=loss.device)
        elif self._state.device != loss.device:
            self._state = self._state.to(loss.device)
        first_bad, zero_run, first_dead, first_bad_epoch = \
            self._state.unbind()
        new_bad = ~torch.isfinite(loss).all() & (first_bad < 0)
        first_bad = torch.where(new_bad, iteration, first_bad)
        first_bad_epoch = torch.where(new_bad, runner.epoch + 1,
                                      first_bad_epoch)
        zero_run = torch.where((loss == 0).all(), zero_run + 1, 0)
        if self.max_zero_loss_iters is not None:
            too_long = (zero_run == self.max_zero_loss_iters) & \
                (first_dead < 0)
            first_dead = torch.where(
                too_long, iteration - self.max_zero_loss_iters + 1,
                first_dead)
        self._state = torch.stack(
            [first_bad, zero_run, first_dead, first_bad_epoch])
        if self.every_n_train_iters(runner, self.interval) or \
                self.is_last_train_iter(runner):
            self.raise_if_bad(runner, iteration)

    def _read_record(self) -> tuple:
        """(first NaN/inf iteration, first dead-loss iteration, epoch of
        the first NaN/inf iteration), -1 for none, the earliest over all
        ranks: every rank reads at the same iterations, so under DDP all of
        them stop together (a rank that went on would wait in the next
        all-reduce until the timeout)."""
        if self._state is None:  # no loss seen yet
            return -1, -1, -1
        record = self._state[[0, 2, 3]]
        if dist.is_available() and dist.is_initialized() \
                and dist.get_world_size() > 1:
            none = torch.iinfo(record.dtype).max
            record = torch.where(record < 0, none, record)
            dist.all_reduce(record, op=dist.ReduceOp.MIN)
            record = torch.where(record == none, -1, record)
        first_bad, first_dead, first_bad_epoch = record.tolist()
        return first_bad, first_dead, first_bad_epoch

    def raise_if_bad(self,
                     runner,
                     iteration: int,
                     advice: Optional[str] = None) -> None:
        """Read the record now and raise if a loss was bad.

        Called on every rank at the same point (under distributed training
        the record is reduced over the ranks).

        Args:
            runner (Runner): The runner.
            iteration (int): The iteration (1-based) training stopped at.
            advice (str, optional): What the error says about the
                checkpoints; by default that the ones written before are
                in the work dir.

        Raises:
            FloatingPointError: A loss was NaN or inf; names its first
                iteration and epoch.
            RuntimeError: The loss was exactly 0 for ``max_zero_loss_iters``
                consecutive iterations.
        """
        first_bad, first_dead, first_bad_epoch = self._read_record()
        if advice is None:
            advice = (f'The checkpoints written before are in '
                      f'{runner.work_dir}.')
        advice = f'training stopped at iteration {iteration}. {advice}'
        if first_bad >= 0:
            raise FloatingPointError(
                f'the loss became NaN or inf at iteration {first_bad} '
                f'(epoch {first_bad_epoch}); {advice} Lower the learning '
                f'rate, check the data, or resume from the last checkpoint.')
        if first_dead >= 0:
            last = first_dead + self.max_zero_loss_iters - 1
            raise RuntimeError(
                f'the loss was exactly 0 for {self.max_zero_loss_iters} '
                f'consecutive iterations (iterations {first_dead} to {last}),'
                f' so every gradient is 0 and nothing learns; {advice} Look '
                f'for a loss denominator that overflows in fp16 (a mask or '
                f'count summed in half precision) or a loss that supervises '
                f'no element.')
