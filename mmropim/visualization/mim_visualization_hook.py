from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from ..models.selfsup import PRMIM, ROPIM, collect_masks
from ..utils import check_positive_int
from .panels import hstack
from .reconstructions import (PRMIM_PANEL_TITLES, prmim_panels,
                              ropim_panel_titles, ropim_panels)


@HOOKS.register_module()
class MIMVisualizationHook(Hook):
    """Every ``interval`` training iterations, draw what the model makes of
    the current batch and hand it to the runner's visualizer, so it lands
    in the work dir (``vis_data/vis_image``) and in TensorBoard / W&B when
    those backends are configured.

    ROPIM: Pi x | Pi x + (I - Pi) x_hat | x. PR-MIM: visible tokens | token
    states (blue retained, red thrown) | reconstruction | x. One row of
    titled panels per image, the first ``max_images`` images of the batch,
    named ``reconstruction_<i>``.

    Drawing runs the model once more on the batch without gradients, in
    eval mode, with the random state saved and restored: training follows
    the same course with the hook on or off. Off by default in every
    config (``enable=False``); ``tools/train.py --vis-interval N`` finds it
    by type and switches it on.

    Args:
        enable (bool): Draw at all. Defaults to False.
        interval (int): Iterations between drawings. Defaults to 1000.
        max_images (int): Images of the batch drawn. Defaults to 2.
        scale (int): Enlarge the panels (nearest neighbour). Defaults to
            1.
    """
    priority = 'LOW'

    def __init__(self,
                 enable: bool = False,
                 interval: int = 1000,
                 max_images: int = 2,
                 scale: int = 1) -> None:
        check_positive_int(interval, 'interval')
        check_positive_int(max_images, 'max_images')
        check_positive_int(scale, 'scale')
        self.scale = scale
        self.enable = enable
        self.interval = interval
        self.max_images = max_images

    def before_train(self, runner) -> None:
        model = self._model(runner)
        if self.enable and not isinstance(model, (ROPIM, PRMIM)):
            raise TypeError(
                'MIMVisualizationHook draws ROPIM and PRMIM models, got '
                f'{type(model).__name__}: remove the hook or set enable=False')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not self.enable or data_batch is None or not is_main_process() \
                or not self.every_n_train_iters(runner, self.interval):
            return  # only the main process writes; RNG forked, no drift
        model = self._model(runner)
        titles = ropim_panel_titles(model) if isinstance(model, ROPIM) \
            else PRMIM_PANEL_TITLES
        for index, row in enumerate(self.draw(model, data_batch)):
            runner.visualizer.add_image(
                f'reconstruction_{index}',
                hstack(row, titles=titles, scale=self.scale),
                step=runner.iter + 1)

    def draw(self, model, data_batch: dict) -> Sequence[Sequence[np.ndarray]]:
        """The panel rows of the first ``max_images`` images of a batch."""
        batch = {
            key: value[:self.max_images]
            for key, value in data_batch.items()
        }
        devices = [torch.cuda.current_device()] \
            if torch.cuda.is_available() else []
        was_training = model.training
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            model.eval()
            try:
                data = model.data_preprocessor(batch, True)
                inputs, samples = data['inputs'], data['data_samples']
                if isinstance(model, ROPIM):
                    return ropim_panels(
                        model, inputs,
                        model.data_preprocessor.draw_sketch(inputs))
                mask, throw_mask = collect_masks(samples, inputs.device)
                return prmim_panels(model, inputs, mask, throw_mask)
            finally:
                model.train(was_training)

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model
