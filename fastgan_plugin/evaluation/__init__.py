"""Evaluation: Kernel Inception Distance and an offline stand-in for the Inception network.

Importing this package registers ``KernelInceptionDistance`` (also as ``'KID'`` and
``'KID-Full'``) into mmagic's ``METRICS``.
"""
from .feature_extractor import build_torchscript_feature_extractor
from .metrics import KernelInceptionDistance

__all__ = ['KernelInceptionDistance', 'build_torchscript_feature_extractor']
