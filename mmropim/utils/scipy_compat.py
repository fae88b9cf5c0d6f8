"""MMPretrain 1.2.0 resizes relative position tables with
``scipy.interpolate.interp2d``, which SciPy 1.14 removed: BEiT-style weights
then fail to load at any other resolution (``NotImplementedError``). This is
the one place that replaces that function, with the same geometric sampling
of the source table and a cubic ``RectBivariateSpline`` (SciPy's documented
replacement for ``interp2d`` on a regular grid).

Importing :mod:`mmropim` changes nothing in MMPretrain: our BEiT-style
backbones resize their tables through ``RelativeTableResizeMixin``
(:mod:`mmropim.models.backbones.relative_position_tables`), which calls
MMPretrain's function where SciPy still has ``interp2d`` (the reference) and
the replacement only where it does not. For MMPretrain's own
``BEiTViT`` / ``SwinTransformer`` at a new resolution on such a SciPy,
:func:`install_interp2d_replacement` is an explicit opt-in.
"""
import functools

import numpy as np
import torch


def resize_relative_position_bias_table(src_shape: int, dst_shape: int,
                                        table: torch.Tensor,
                                        num_head: int) -> torch.Tensor:
    """Resize a relative position bias table, BEiT's way.

    Args:
        src_shape (int): Side 2S-1 of the source table.
        dst_shape (int): Side 2D-1 of the resized table.
        table (torch.Tensor): (src_shape ** 2, num_head) table.
        num_head (int): Attention heads.

    Returns:
        torch.Tensor: (dst_shape ** 2, num_head) table.
    """
    from scipy.interpolate import RectBivariateSpline

    def geometric_progression(a, r, n):
        return a * (1.0 - r**n) / (1.0 - r)

    # the source offsets spread geometrically so that the largest one lands
    # on the destination's border, as BEiT does
    left, right = 1.01, 1.5
    while right - left > 1e-6:
        q = (left + right) / 2.0
        if geometric_progression(1, q, src_shape // 2) > dst_shape // 2:
            right = q
        else:
            left = q
    distances, current = [], 1.0
    for i in range(src_shape // 2):
        distances.append(current)
        current += q**(i + 1)
    source = np.array([-d for d in reversed(distances)] + [0.] + distances)
    half = dst_shape // 2
    target = np.arange(-half, half + 0.1, 1.0)

    columns = []
    for head in range(num_head):
        values = table[:, head].view(src_shape, src_shape).float().cpu()
        spline = RectBivariateSpline(source, source, values.numpy())
        resized = torch.from_numpy(spline(target, target)).float()
        columns.append(resized.reshape(-1, 1).to(table.device))
    return torch.cat(columns, dim=-1)


@functools.lru_cache(maxsize=None)
def scipy_has_interp2d() -> bool:
    """Whether ``scipy.interpolate.interp2d`` still works (SciPy < 1.14)."""
    try:
        from scipy.interpolate import interp2d
        grid = np.arange(4.)
        interp2d(grid, grid, np.zeros((4, 4)), kind='linear')
    except (ImportError, NotImplementedError):
        return False
    return True


def relative_table_resizer():
    """MMPretrain's ``resize_relative_position_bias_table`` where SciPy has
    ``interp2d``, :func:`resize_relative_position_bias_table` otherwise."""
    if scipy_has_interp2d():
        from mmpretrain.models.utils import \
            resize_relative_position_bias_table as reference
        return reference
    return resize_relative_position_bias_table


def install_interp2d_replacement() -> bool:
    """Opt-in: point MMPretrain's BEiT and Swin backbones to
    :func:`resize_relative_position_bias_table` when SciPy lacks
    ``interp2d``; nothing changes when it has it.

    Returns:
        bool: Whether MMPretrain's modules were changed.
    """
    if scipy_has_interp2d():
        return False
    from mmpretrain.models import utils as mmpretrain_utils
    from mmpretrain.models.backbones import beit, swin_transformer
    from mmpretrain.models.utils import embed
    for module in (embed, mmpretrain_utils, beit, swin_transformer):
        module.resize_relative_position_bias_table = \
            resize_relative_position_bias_table
    return True
