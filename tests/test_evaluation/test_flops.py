"""The FLOP-counting corrections of mmropim.evaluation.count_flops."""
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from mmropim.evaluation import count_flops


def test_depthwise_conv_backward_costs_twice_its_forward():
    conv = torch.nn.Conv2d(512, 512, 7, padding=3, groups=512)
    x = torch.randn(1, 512, 14, 14, requires_grad=True)
    forward = 2 * 512 * 14 * 14 * 7 * 7  # multiply-adds x 2
    with FlopCounterMode(display=False) as plain:
        conv(x)
    assert plain.get_total_flops() == forward
    total = count_flops(lambda: conv(x).sum().backward())
    assert total == 3 * forward
    # a dense convolution is still counted as torch counts it
    dense = torch.nn.Conv2d(8, 8, 3, padding=1)
    y = torch.randn(1, 8, 6, 6, requires_grad=True)
    with FlopCounterMode(display=False) as reference:
        dense(y).sum().backward()
    assert count_flops(
        lambda: dense(y).sum().backward()) == reference.get_total_flops()


def test_attention_on_cpu_is_counted():
    q = torch.randn(2, 4, 10, 8, requires_grad=True)
    total = count_flops(
        lambda: F.scaled_dot_product_attention(q, q, q).sum().backward())
    forward = 2 * (2 * 2 * 4 * 10 * 10 * 8)  # QK^T and AV
    # torch's backward formula: recompute QK^T, then 4 gradient matmuls
    assert total == forward + forward // 2 * 5
