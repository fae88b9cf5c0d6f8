from .finite_loss_hook import FiniteLossHook
from .gradient_audit_hook import GradientAuditHook
from .image_read_error_hook import ImageReadErrorHook, NamedImageLoading
from .pretrained_weights_check_hook import PretrainedWeightsCheckHook
from .safe_checkpoint_hook import AtomicLocalBackend, SafeCheckpointHook

__all__ = [
    'AtomicLocalBackend', 'FiniteLossHook', 'GradientAuditHook',
    'ImageReadErrorHook', 'NamedImageLoading', 'PretrainedWeightsCheckHook',
    'SafeCheckpointHook'
]
