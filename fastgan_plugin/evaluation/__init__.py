"""Metrics registered into mmagic's ``METRICS``: ``KernelInceptionDistance``, ``GeneratorSWD``."""
from .metrics import GeneratorSWD, KernelInceptionDistance

__all__ = ['GeneratorSWD', 'KernelInceptionDistance']
