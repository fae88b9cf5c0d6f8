from .arg_checks import check_positive_int, config_type_name
from .backbone_checkpoint import (extract_backbone_weights,
                                  load_backbone_weights)
from .checkpoint_compat import (CheckpointReadError, UntrustedCheckpointError,
                                install_safe_checkpoint_loader,
                                load_local_checkpoint, trust_checkpoint_files)
from .scipy_compat import (install_interp2d_replacement,
                           resize_relative_position_bias_table)

__all__ = [
    'check_positive_int', 'config_type_name', 'extract_backbone_weights',
    'load_backbone_weights',
    'CheckpointReadError', 'UntrustedCheckpointError',
    'install_safe_checkpoint_loader', 'load_local_checkpoint',
    'trust_checkpoint_files',
    'install_interp2d_replacement', 'resize_relative_position_bias_table'
]
