"""FLOP counting that is right for our models.

torch's ``FlopCounterMode`` counts a depth-wise convolution's backward as if
the convolution were dense (it ignores ``groups``) and does not count
attention on the CPU (``_scaled_dot_product_flash_attention_for_cpu``).
:func:`count_flops` fixes both; FLOPs are 2 x multiply-adds, as torch counts.
"""
import math
from typing import Callable

import torch
from torch.utils.flop_counter import (FlopCounterMode,
                                      sdpa_backward_flop_count,
                                      sdpa_flop_count)

from ..compat import cpu_flash_attention_ops

aten = torch.ops.aten


def conv_backward_flop(grad_out_shape, x_shape, w_shape, _bias, _stride,
                       _padding, _dilation, transposed, _output_padding,
                       _groups, output_mask, out_shape=None, **kwargs):
    """Backward FLOPs of a (grouped) convolution: each of grad-input and
    grad-weight costs what the forward does, 2 * |out| * |w| / C_out."""
    if transposed:
        raise NotImplementedError('transposed convolutions are not counted')
    forward = 2 * math.prod(grad_out_shape) * math.prod(w_shape[1:])
    return forward * (int(output_mask[0]) + int(output_mask[1]))


def cpu_sdpa_flop(query_shape, key_shape, value_shape, *args, out_shape=None,
                  **kwargs):
    """Forward FLOPs of attention on the CPU, as torch counts it on CUDA."""
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def cpu_sdpa_backward_flop(grad_out_shape, query_shape, key_shape,
                           value_shape, *args, out_shape=None, **kwargs):
    """Backward FLOPs of attention on the CPU, as torch counts it on
    CUDA."""
    return sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape,
                                    value_shape)


CPU_SDPA, CPU_SDPA_BACKWARD = cpu_flash_attention_ops()
FLOP_FIXES = {
    aten.convolution_backward: conv_backward_flop,
    CPU_SDPA: cpu_sdpa_flop,
    CPU_SDPA_BACKWARD: cpu_sdpa_backward_flop,
}


def count_flops(fn: Callable[[], object]) -> int:
    """Forward + backward FLOPs of ``fn`` (e.g. a training step).

    Args:
        fn (callable): Called once, without arguments, under the counter.

    Returns:
        int: The FLOPs counted, with :data:`FLOP_FIXES` applied.
    """
    counter = FlopCounterMode(display=False, custom_mapping=FLOP_FIXES)
    with counter:
        fn()
    return counter.get_total_flops()
