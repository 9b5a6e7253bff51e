"""Evaluation: Kernel Inception Distance and an offline stand-in for the Inception network.

Importing this package registers ``KernelInceptionDistance`` (also as ``'KID'`` and
``'KID-Full'``) and ``GeneratorSWD`` into mmagic's ``METRICS``.
"""
from .feature_extractor import build_torchscript_feature_extractor
from .metrics import GeneratorSWD, KernelInceptionDistance

__all__ = ['GeneratorSWD', 'KernelInceptionDistance', 'build_torchscript_feature_extractor']
