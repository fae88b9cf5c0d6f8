"""Pictures of what ROPIM and PR-MIM do: panel drawing (numpy + torch),
the reconstructions of a model, and the training-time hook."""
from .mim_visualization_hook import MIMVisualizationHook
from .panels import hstack, sketch_panels, token_state_panel, unpatchify
from .reconstructions import denormalize, prmim_panels, ropim_panels

__all__ = [
    'MIMVisualizationHook', 'hstack', 'sketch_panels', 'token_state_panel',
    'unpatchify', 'denormalize', 'prmim_panels', 'ropim_panels'
]
