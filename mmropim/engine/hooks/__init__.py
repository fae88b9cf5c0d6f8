from .finite_loss_hook import FiniteLossHook
from .plain_checkpoint_hook import PlainCheckpointHook

__all__ = ['FiniteLossHook', 'PlainCheckpointHook']
