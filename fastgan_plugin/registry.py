"""Registries of the ``fastgan_plugin`` scope.

Our components register into mmagic's registries. MMEngine gives every dict of a config
inherited through ``fastgan_plugin::`` the key ``_scope_='fastgan_plugin'`` and then builds
it, and everything that dict builds in turn, from that scope's registry, falling back with a
'Failed to search registry' warning where the scope has none: these children of mmagic's
registries, one per kind our configs build, resolve every name through mmagic.
"""
from mmagic import registry as mmagic_registry
from mmengine.registry import Registry

# What MMEngine imports before a build from this scope: our package, and mmagic's modules
# that register what our configs build (a lookup that falls through to a parent registry
# does not import the parent's modules).
LOCATIONS = ['fastgan_plugin', 'mmagic.datasets', 'mmagic.engine', 'mmagic.models']


def _child(parent: Registry) -> Registry:
    return Registry(parent.name, parent=parent, scope='fastgan_plugin', locations=LOCATIONS)


MODELS = _child(mmagic_registry.MODELS)
DATASETS = _child(mmagic_registry.DATASETS)
DATA_SAMPLERS = _child(mmagic_registry.DATA_SAMPLERS)
TRANSFORMS = _child(mmagic_registry.TRANSFORMS)
OPTIMIZERS = _child(mmagic_registry.OPTIMIZERS)
HOOKS = _child(mmagic_registry.HOOKS)
