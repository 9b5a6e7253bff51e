"""Optimizer wrappers, registered into mmagic's ``OPTIM_WRAPPERS`` registry."""
from .mixed_precision_optim_wrapper import MixedPrecisionOptimWrapper

__all__ = ['MixedPrecisionOptimWrapper']
