from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint_load_check_hook import CheckpointLoadCheckHook
from .reconstruction_grid_hook import ReconstructionGridHook
from .rng_state_hook import RNGStateHook
from .training_curves_hook import TrainingCurvesHook

__all__ = [
    'AtomicCheckpointHook', 'CheckpointLoadCheckHook', 'ReconstructionGridHook', 'RNGStateHook',
    'TrainingCurvesHook'
]
