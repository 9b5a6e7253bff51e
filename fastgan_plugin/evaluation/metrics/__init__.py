from .kid import KernelInceptionDistance, kernel_inception_distance, polynomial_mmd2_unbiased
from .swd import GeneratorSWD

__all__ = ['GeneratorSWD', 'KernelInceptionDistance', 'kernel_inception_distance',
           'polynomial_mmd2_unbiased']
