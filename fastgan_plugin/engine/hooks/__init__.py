from .atomic_checkpoint_hook import AtomicCheckpointHook
from .reconstruction_grid_hook import ReconstructionGridHook
from .training_curves_hook import TrainingCurvesHook

__all__ = ['AtomicCheckpointHook', 'ReconstructionGridHook', 'TrainingCurvesHook']
