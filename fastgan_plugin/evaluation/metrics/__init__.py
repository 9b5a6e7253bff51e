from .fid import CompositeFID, metric_rgb
from .kid import KernelInceptionDistance, kernel_inception_distance, polynomial_mmd2_unbiased
from .per_class import PerClassMetric
from .swd import GeneratorSWD

__all__ = ['CompositeFID', 'GeneratorSWD', 'KernelInceptionDistance', 'PerClassMetric',
           'kernel_inception_distance', 'metric_rgb', 'polynomial_mmd2_unbiased']
