"""Registries of the ``fastgan_plugin`` scope.

fastgan_plugin's components register directly into mmagic's registries, so configs
with ``default_scope='mmagic'`` find them by plain names. A config inherited with
``_base_ = 'fastgan_plugin::<config>.py'`` gets ``_scope_='fastgan_plugin'`` on every
dict that has a ``type`` (MMEngine does that for external bases); these child
registries give that scope a home and resolve every name through their mmagic parent.
"""
from mmagic import registry as mmagic_registry
from mmengine.registry import Registry


def _child(parent: Registry) -> Registry:
    # locations: what MMEngine imports before building from this scope; the parent's own
    # (mmagic's modules) too, since a lookup that falls through to the parent does not
    # trigger the parent's lazy import.
    return Registry(parent.name, parent=parent, scope='fastgan_plugin',
                    locations=['fastgan_plugin', *parent._locations])


RUNNERS = _child(mmagic_registry.RUNNERS)
RUNNER_CONSTRUCTORS = _child(mmagic_registry.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmagic_registry.LOOPS)
HOOKS = _child(mmagic_registry.HOOKS)
LOG_PROCESSORS = _child(mmagic_registry.LOG_PROCESSORS)
OPTIMIZERS = _child(mmagic_registry.OPTIMIZERS)
OPTIM_WRAPPERS = _child(mmagic_registry.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmagic_registry.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(mmagic_registry.PARAM_SCHEDULERS)
DATASETS = _child(mmagic_registry.DATASETS)
DATA_SAMPLERS = _child(mmagic_registry.DATA_SAMPLERS)
TRANSFORMS = _child(mmagic_registry.TRANSFORMS)
MODELS = _child(mmagic_registry.MODELS)
MODEL_WRAPPERS = _child(mmagic_registry.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(mmagic_registry.WEIGHT_INITIALIZERS)
TASK_UTILS = _child(mmagic_registry.TASK_UTILS)
METRICS = _child(mmagic_registry.METRICS)
EVALUATORS = _child(mmagic_registry.EVALUATORS)
VISUALIZERS = _child(mmagic_registry.VISUALIZERS)
VISBACKENDS = _child(mmagic_registry.VISBACKENDS)
