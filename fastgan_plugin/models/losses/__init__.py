from .hinge_loss import HingeLoss
from .reconstruction_loss import ReconstructionLoss

__all__ = ['HingeLoss', 'ReconstructionLoss']
