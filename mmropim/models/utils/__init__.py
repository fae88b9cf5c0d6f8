from .count_sketch import (HASH_LAYOUTS, CountSketch, check_hash_layout,
                           check_sketch_ratio, sketch_size_from_ratio)
from .patches import patch_targets, patchify
from .spatial_aggregator import (SpatialAggregator, build_aggregator,
                                 complete_grid)
from .token_grid import (TokenSplit, gather_tokens, mask_and_restore_ids,
                         scatter_to_grid, split_tokens)

__all__ = [
    'HASH_LAYOUTS', 'CountSketch', 'check_hash_layout', 'check_sketch_ratio',
    'sketch_size_from_ratio',
    'patch_targets', 'patchify', 'SpatialAggregator', 'build_aggregator',
    'complete_grid', 'TokenSplit', 'gather_tokens', 'mask_and_restore_ids',
    'scatter_to_grid',
    'split_tokens'
]
