"""AMP configs on a CPU, for ``check_configs.py`` and the GPU smoke
benchmark: :class:`CPUAmpOptimWrapper` (registered as an optimizer wrapper
when this module is imported) and mmcv's NMS / RoIAlign under CPU autocast.
"""
import copy
import importlib
from contextlib import contextmanager

import torch
from mmengine.config import ConfigDict
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

from mmropim.compat import AMP_FIXED_SCALE


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``AmpOptimWrapper`` on the CPU, to check AMP configs without a GPU.

    MMEngine's ``AmpOptimWrapper`` refuses to build without a GPU and its
    ``autocast`` accepts only bfloat16 on the CPU. This wrapper runs the
    forward under ``torch.autocast('cpu', dtype)`` (float16 unless the config
    says otherwise, as on a GPU) and scales the loss with
    ``torch.amp.GradScaler('cpu')`` exactly as ``AmpOptimWrapper`` does.

    Args:
        loss_scale (str | float | dict): As in ``AmpOptimWrapper``.
        dtype (str | torch.dtype, optional): Autocast dtype; float16 when
            None.
        **kwargs: Arguments of ``OptimWrapper``.
    """

    def __init__(self, loss_scale='dynamic', dtype=None, **kwargs) -> None:
        super().__init__(**kwargs)
        # what AmpOptimWrapper.step, which this class borrows, reads
        setattr(self, AMP_FIXED_SCALE, None)
        if loss_scale == 'dynamic':
            self.loss_scaler = torch.amp.GradScaler('cpu')
        elif isinstance(loss_scale, float):
            setattr(self, AMP_FIXED_SCALE, loss_scale)
            self.loss_scaler = torch.amp.GradScaler(
                'cpu', init_scale=loss_scale)
        elif isinstance(loss_scale, dict):
            self.loss_scaler = torch.amp.GradScaler('cpu', **loss_scale)
        else:
            raise TypeError('loss_scale must be "dynamic", a float or a dict, '
                            f'got {loss_scale!r}')
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype or torch.float16

    backward = AmpOptimWrapper.backward
    step = AmpOptimWrapper.step
    state_dict = AmpOptimWrapper.state_dict
    load_state_dict = AmpOptimWrapper.load_state_dict

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield


class _Float32OnCPU:
    """Stands in for mmcv's compiled-op module: CPU half tensors go to an op
    as float32 copies; copies the op changed are written back into their
    originals (ops such as ``roi_align_forward`` fill preallocated outputs),
    inputs are left untouched (autograd saved them)."""

    def __init__(self, ext_module) -> None:
        self._ext_module = ext_module

    def __getattr__(self, name):
        op = getattr(self._ext_module, name)

        def call(*args, **kwargs):
            halves = []

            def upcast(value):
                if isinstance(value, torch.Tensor) and \
                        value.device.type == 'cpu' and value.dtype in (
                            torch.float16, torch.bfloat16):
                    copy_ = value.float()
                    halves.append((value, copy_))
                    return copy_
                return value

            args = [upcast(a) for a in args]
            kwargs = {k: upcast(v) for k, v in kwargs.items()}
            out = op(*args, **kwargs)
            for original, copy_ in halves:  # only outputs the op filled in
                if not torch.equal(original.float(), copy_):
                    original.copy_(copy_)
            return out

        return call


@contextmanager
def mmcv_ops_in_float32_on_cpu(modules=('nms', 'roi_align')):
    """mmcv's CPU kernels of NMS and RoIAlign take float32 only (its CUDA
    kernels take half too), so detectors under CPU autocast need this; it
    changes nothing for CUDA tensors."""
    patched = []
    try:
        for name in modules:
            module = importlib.import_module(f'mmcv.ops.{name}')
            patched.append((module, module.ext_module))
            module.ext_module = _Float32OnCPU(module.ext_module)
        yield
    finally:
        for module, ext_module in patched:
            module.ext_module = ext_module


def map_amp_to_device(optim_wrapper_cfg: dict, device: str) -> ConfigDict:
    """``AmpOptimWrapper`` -> ``CPUAmpOptimWrapper`` on the CPU; unchanged
    on a GPU."""
    optim_wrapper_cfg = copy.deepcopy(ConfigDict(optim_wrapper_cfg))
    if device == 'cpu' and optim_wrapper_cfg.get('type') == 'AmpOptimWrapper':
        optim_wrapper_cfg.type = 'CPUAmpOptimWrapper'
    return optim_wrapper_cfg
