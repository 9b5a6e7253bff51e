"""The module behind a model wrapper."""
from mmengine.model import is_model_wrapper
from torch import nn


def unwrap_model(module: nn.Module) -> nn.Module:
    """Return ``module.module`` for an MMEngine model wrapper (DDP and its kin), else
    ``module``: the network whose attributes and state-dict keys a caller means."""
    return module.module if is_model_wrapper(module) else module
