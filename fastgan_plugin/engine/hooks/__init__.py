from .atomic_checkpoint_hook import AtomicCheckpointHook
from .reconstruction_grid_hook import ReconstructionGridHook

__all__ = ['AtomicCheckpointHook', 'ReconstructionGridHook']
