"""Metrics registered into mmagic's ``METRICS``."""
from .kid import KernelInceptionDistance, kernel_inception_distance, polynomial_mmd2_unbiased

__all__ = ['KernelInceptionDistance', 'kernel_inception_distance', 'polynomial_mmd2_unbiased']
