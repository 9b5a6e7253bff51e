"""Metrics registered into mmagic's ``METRICS``: ``KernelInceptionDistance``, ``GeneratorSWD``,
``PerClassMetric``; :func:`class_swd`, the SWD of each class of a conditional model."""
from .class_swd import class_swd
from .metrics import GeneratorSWD, KernelInceptionDistance, PerClassMetric

__all__ = ['GeneratorSWD', 'KernelInceptionDistance', 'PerClassMetric', 'class_swd']
