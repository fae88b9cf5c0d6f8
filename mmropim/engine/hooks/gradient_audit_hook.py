"""Which trainable parameters a short run reaches, for the checks of the
full-size configs (``tools/analysis/check_configs.py``)."""
from typing import Dict, List

from mmengine.hooks import Hook


class GradientAuditHook(Hook):
    """Record the loss of every iteration and which trainable parameters got
    a non-zero gradient (read during backward: the optimizer wrapper clears
    the gradients after its step). Under AMP the gradients are loss-scaled:
    an inf or NaN there is an overflow at the scaler's current scale (the
    scaler skips that step and lowers the scale), so it counts as a
    gradient."""

    def __init__(self) -> None:
        self.losses: List[float] = []
        self.gradients: Dict[str, List[bool]] = {}
        self._handles = []

    def before_train(self, runner) -> None:
        model = runner.model.module if hasattr(runner.model, 'module') \
            else runner.model
        for name, param in model.named_parameters():
            if not param.requires_grad:
                continue
            self.gradients[name] = []
            self._handles.append(
                param.register_hook(self._recorder(name)))

    def _recorder(self, name):

        def record(grad):
            # NaN != 0 too: inf * 0 in an overflowed, loss-scaled backward
            self.gradients[name].append(bool((grad != 0).any()))

        return record

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.losses.append(float(outputs['loss']))

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()

    def without_gradient(self) -> List[str]:
        """Trainable parameters that never got a non-zero gradient."""
        return [n for n, seen in self.gradients.items() if not any(seen)]
