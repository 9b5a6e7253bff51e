"""Config mistakes found before the runner builds anything, each error naming the key;
syntax errors named by file and line, which MMEngine 0.10 omits for a base."""
import ast
import difflib
import inspect
import os.path as osp
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.hooks import CheckpointHook, Hook
from mmengine.registry import Registry
from mmengine.runner import Runner
from mmengine.utils import get_installed_path

from .validation import check_int, check_number, format_names

# Top-level keys that the runner reads without being Runner.__init__ arguments
# (Runner.wrap_model, Runner.train) or that Config.fromfile reads (custom_imports).
RUNNER_CFG_KEYS = ('model_wrapper_cfg', 'sync_bn', 'find_unused_parameters', 'compile',
                   'activation_checkpointing', 'efficient_conv_bn_eval', 'custom_imports')
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# A top-level name closer than this (difflib's ratio) to a runner key is taken as its
# misspelling; config variables such as 'resize' (0.67 to 'resume') stay allowed.
CUTOFF = 0.8


def check_config(cfg: Config) -> None:
    """Refuse the mistakes MMEngine reports late or without the key: misspelt top-level
    keys, unknown types and arguments of components, counts, intervals, learning rates and
    batch sizes out of range, images resized to another size than the generator's.

    Raises:
        ValueError: Naming the first mistaken key, with a close match where there is one.
    """
    runner_keys = (set(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg'}
                   | set(RUNNER_CFG_KEYS))
    for key in cfg.keys():
        suggestion = _did_you_mean(key, runner_keys, cutoff=CUTOFF)
        if key not in runner_keys and suggestion:  # others are the config's own variables
            raise ValueError(f"unknown key '{key}'{suggestion}")
    _check_values(cfg)
    im_size = ((cfg.get('model') or {}).get('generator') or {}).get('im_size')
    for key, registry, component in _components(cfg):
        _check_component(key, registry, component)
        if (str(component['type']).endswith('ResizeToSquare') and im_size is not None
                and component.get('size') != im_size):  # else refused at the first batch
            raise ValueError(
                f"{key}.size is {component.get('size')!r} but model.generator.im_size is "
                f"{im_size}: the images must have the generator's resolution; inherit "
                f'configs/_base_/datasets/few_shot_imgs_{im_size}.py, or set both')


def _check_values(cfg: Config) -> None:
    train_cfg = cfg.get('train_cfg') or {}
    for name in ('max_iters', 'max_epochs', 'val_interval'):
        if name in train_cfg:
            check_int(train_cfg[name], f'train_cfg.{name}', minimum=1)
    wrappers = cfg.get('optim_wrapper') or {}
    per_network = {f'optim_wrapper.{name}': wrapper for name, wrapper in wrappers.items()
                   if isinstance(wrapper, dict) and 'optimizer' in wrapper}
    for key, wrapper in (per_network or {'optim_wrapper': wrappers}).items():
        optimizer = wrapper.get('optimizer') or {}
        if 'lr' in optimizer:
            check_number(optimizer['lr'], f'{key}.optimizer.lr', minimum=0)
    for key in DATALOADERS:
        loader = cfg.get(key) or {}
        for name, minimum in (('batch_size', 1), ('num_workers', 0)):
            if name in loader:
                check_int(loader[name], f'{key}.{name}', minimum=minimum)


def _is_component(value) -> bool:
    return isinstance(value, dict) and 'type' in value


def _components(cfg: Config) -> List[Tuple[str, Registry, dict]]:
    """``(key, registry, config dict)`` of every component checked against its class."""
    from mmagic.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS

    model = cfg.get('model')
    found = [('model', MODELS, model)]
    if _is_component(model):
        found += [(f'model.{name}', MODELS, part) for name, part in model.items()]
    found += [(f'default_hooks.{name}', HOOKS, hook)
              for name, hook in (cfg.get('default_hooks') or {}).items()]
    found += [(f'custom_hooks.{i}', HOOKS, hook)
              for i, hook in enumerate(cfg.get('custom_hooks') or [])]
    for loader in DATALOADERS:
        dataset = (cfg.get(loader) or {}).get('dataset')
        found.append((f'{loader}.dataset', DATASETS, dataset))
        if _is_component(dataset):
            found += [(f'{loader}.dataset.pipeline.{i}', TRANSFORMS, step)
                      for i, step in enumerate(dataset.get('pipeline') or [])]
    for evaluator in ('val_evaluator', 'test_evaluator'):
        metrics = cfg.get(evaluator) or []
        if isinstance(metrics, dict):
            metrics = metrics.get('metrics') or []
            evaluator += '.metrics'
        metrics = [metrics] if isinstance(metrics, dict) else metrics
        found += [(f'{evaluator}.{i}', METRICS, metric) for i, metric in enumerate(metrics)]
    return [(key, registry, value) for key, registry, value in found if _is_component(value)]


def _check_component(key: str, registry: Registry, component: dict) -> None:
    kind = component['type']
    cls = registry.get(kind) if isinstance(kind, str) else kind
    if cls is None:
        names, node = set(), registry
        while node is not None:
            names |= set(node.module_dict)
            node = node.parent
        raise ValueError(f'{key}.type: no {registry.name} is registered as {kind!r}'
                         + _did_you_mean(kind, names))
    if not inspect.isclass(cls):  # a registered function
        return
    accepted = accepted_arguments(cls)
    unknown = [] if accepted is None else sorted(set(component) - accepted - {'type', '_scope_'})
    if unknown:
        raise ValueError(f"unknown key '{key}.{unknown[0]}'" + (
            _did_you_mean(unknown[0], accepted, f"'{key}.{{}}'") or
            f': {cls.__name__} takes {format_names(sorted(accepted), limit=20)}'))
    interval = component.get('interval')
    if interval is not None and issubclass(cls, Hook):
        if not (issubclass(cls, CheckpointHook) and interval == -1):  # -1: never (MMEngine)
            check_int(interval, f'{key}.interval', minimum=1)


def _did_you_mean(name: str, known, template: str = "'{}'", cutoff: float = 0.6) -> str:
    """``": did you mean 'x'?"`` for the closest of ``known`` to ``name``, or ``''``."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=cutoff)
    return f': did you mean {template.format(close[0])}?' if close else ''


def accepted_arguments(cls: type) -> Optional[set]:
    """The keyword arguments ``cls(...)`` accepts, or None where that cannot be read: the
    named parameters of each ``__init__`` along the MRO while it passes ``**kwargs`` on;
    ``**kwargs`` reaching ``object`` or ``torch.nn.Module`` accept nothing more.
    """
    names = set()
    for klass in cls.__mro__:
        if klass in (object, torch.nn.Module):
            return names
        if '__init__' not in vars(klass):
            continue
        try:
            parameters = inspect.signature(klass.__init__).parameters.values()
        except (TypeError, ValueError):  # a built-in __init__
            return None
        names |= {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                            p.KEYWORD_ONLY)} - {'self'}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            return names


def config_file(path: str) -> str:
    """The file of ``path``: itself, or for ``package::dir/file.py`` the file in the
    package's ``.mim/configs`` folder (MMEngine's place).

    Raises:
        ValueError: If the package is not one MMEngine resolves (``MODULE2PACKAGE``).
    """
    package, sep, relative = path.partition('::')
    if not sep:
        return path
    if package not in MODULE2PACKAGE:
        raise ValueError(f'{path}: MMEngine resolves package:: paths only for '
                         f'{format_names(sorted(MODULE2PACKAGE), limit=30)}; import '
                         f'{package} first (it registers itself) or give the file path')
    return osp.join(get_installed_path(MODULE2PACKAGE[package]), '.mim', 'configs', relative)


def find_syntax_error(path: str) -> Optional[SyntaxError]:
    """The first syntax error in config ``path`` or its bases (``_base_``), as a
    ``SyntaxError`` whose message names the file and line; None if there is none."""
    pending, seen = [config_file(path)], set()
    while pending:
        path = pending.pop()
        if path in seen or not osp.isfile(path):
            continue
        seen.add(path)
        with open(path, encoding='utf-8') as file:
            try:
                tree = ast.parse(file.read(), filename=path)
            except SyntaxError as error:
                text = (error.text or '').strip()
                return SyntaxError(f'config file {path}, line {error.lineno}'
                                   + (f' ({text})' if text else '') + f': {error.msg}')
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == '_base_'):
                bases = ast.literal_eval(node.value)
                for base in [bases] if isinstance(bases, str) else bases:
                    pending.append(config_file(base) if '::' in base else
                                   osp.normpath(osp.join(osp.dirname(path), base)))
    return None
