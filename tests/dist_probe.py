"""A hook for the multi-process tests, loaded by the training processes with
``custom_imports=dict(imports=['mmropim', 'dist_probe'])``: every rank writes
``probe_rank<R>.json`` into the work dir with its losses, a digest of each
batch's images and random draws (sketches, masks), and a digest of its
parameters after training."""
import hashlib
import json
import os.path as osp

import torch
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

RANDOM_FIELDS = ('mask', 'throw_mask')


def digest(tensors) -> str:
    sha = hashlib.sha256()
    for tensor in tensors:
        tensor = torch.as_tensor(tensor).detach().cpu().contiguous()
        sha.update(tensor.numpy().tobytes())
    return sha.hexdigest()[:16]


@HOOKS.register_module()
class DistProbeHook(Hook):
    priority = 'LOWEST'

    def __init__(self) -> None:
        self.record = dict(losses=[], inputs=[], draws=[])

    def before_train(self, runner) -> None:
        model = getattr(runner.model, 'module', runner.model)
        preprocessor = model.data_preprocessor
        preprocessor.register_forward_hook(self._on_batch)
        if hasattr(preprocessor, 'draw_sketch'):  # ROPIM draws in its loss
            draw_sketch = preprocessor.draw_sketch

            def recorded(inputs):
                sketch = draw_sketch(inputs)
                self.record['draws'][-1] = digest([sketch.hashes,
                                                   sketch.signs])
                return sketch
            preprocessor.draw_sketch = recorded

    def _on_batch(self, module, args, output) -> None:
        if not module.training:
            return
        inputs = output['inputs']
        self.record['inputs'].append(digest(
            inputs if isinstance(inputs, (list, tuple)) else [inputs]))
        draws = [
            sample.get(field) for sample in output['data_samples'] or []
            for field in RANDOM_FIELDS if field in sample
        ]
        self.record['draws'].append(digest(draws) if draws else None)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.record['losses'].append(float(outputs['loss']))

    def after_train(self, runner) -> None:
        rank, world_size = get_dist_info()
        model = getattr(runner.model, 'module', runner.model)
        self.record.update(
            rank=rank,
            world_size=world_size,
            model_wrapper=type(runner.model).__name__,
            parameters=digest(p for _, p in model.named_parameters()),
            num_parameters=sum(1 for _ in model.parameters()))
        with open(osp.join(runner.work_dir, f'probe_rank{rank}.json'),
                  'w') as f:
            json.dump(self.record, f)
