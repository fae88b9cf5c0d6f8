from .finite_loss_hook import FiniteLossHook
from .safe_checkpoint_hook import AtomicLocalBackend, SafeCheckpointHook

__all__ = ['AtomicLocalBackend', 'FiniteLossHook', 'SafeCheckpointHook']
