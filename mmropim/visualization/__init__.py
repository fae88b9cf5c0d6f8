from .panels import hstack, sketch_panels, token_state_panel, unpatchify

__all__ = ['hstack', 'sketch_panels', 'token_state_panel', 'unpatchify']
