from .reconstruction_grid_hook import ReconstructionGridHook

__all__ = ['ReconstructionGridHook']
