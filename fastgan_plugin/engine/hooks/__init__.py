from .checkpoint_content_hook import CheckpointContentHook
from .checkpoint_load_check_hook import CheckpointLoadCheckHook
from .final_validation_hook import FinalValidationHook
from .preemption_hook import PreemptionHook
from .reconstruction_grid_hook import ReconstructionGridHook
from .rng_state_hook import RNGStateHook
from .training_curves_hook import TrainingCurvesHook

__all__ = [
    'CheckpointContentHook', 'CheckpointLoadCheckHook', 'FinalValidationHook', 'PreemptionHook',
    'ReconstructionGridHook', 'RNGStateHook', 'TrainingCurvesHook'
]
