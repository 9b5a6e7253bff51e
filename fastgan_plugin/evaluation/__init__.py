"""Evaluation: Kernel Inception Distance and the sliced Wasserstein distance of samples.

Importing this package registers ``KernelInceptionDistance`` (also as ``'KID'`` and
``'KID-Full'``) and ``GeneratorSWD`` into mmagic's ``METRICS``.
"""
from .metrics import GeneratorSWD, KernelInceptionDistance

__all__ = ['GeneratorSWD', 'KernelInceptionDistance']
