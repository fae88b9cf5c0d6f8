"""Pictures of what ROPIM and PR-MIM do: panel drawing (numpy + torch),
the reconstructions of a model, and the training-time hook."""
from .mim_visualization_hook import MIMVisualizationHook
from .panels import (SKETCH_PANEL_TITLES, hstack, sketch_panels,
                     token_state_panel, unpatchify)
from .reconstructions import (PRMIM_PANEL_TITLES, ROPIM_PANEL_TITLES,
                              ROPIM_SWAPPED_PANEL_TITLES, denormalize,
                              prmim_panels, ropim_panel_titles, ropim_panels)

__all__ = [
    'MIMVisualizationHook', 'hstack', 'sketch_panels', 'token_state_panel',
    'unpatchify', 'denormalize', 'prmim_panels', 'ropim_panels',
    'SKETCH_PANEL_TITLES', 'ROPIM_PANEL_TITLES', 'PRMIM_PANEL_TITLES',
    'ROPIM_SWAPPED_PANEL_TITLES', 'ropim_panel_titles'
]
