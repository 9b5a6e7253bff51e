"""Config mistakes found before the runner builds anything, each error naming the key.

:func:`check_config` is what ``tools/train.py`` and ``tools/test.py`` run before
``Runner.from_cfg``; :func:`find_syntax_error` names the file and line of a syntax error,
which MMEngine 0.10 reports without either for a base.
"""
import ast
import difflib
import inspect
import os.path as osp
from typing import Iterator, Optional, Tuple

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
    """Refuse, before anything is built, the config mistakes that MMEngine would report
    late or without the key: misspelt top-level keys, unknown arguments and types of the
    components (model and its parts, hooks, datasets and their pipelines, metrics),
    iteration counts, intervals, learning rates and batch sizes out of range, and images
    resized to another size than the generator's.

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
        if 'batch_size' in loader:
            check_int(loader['batch_size'], f'{key}.batch_size', minimum=1)
        if 'num_workers' in loader:
            check_int(loader['num_workers'], f'{key}.num_workers', minimum=0)


def _components(cfg: Config) -> Iterator[Tuple[str, Registry, dict]]:
    """``(key, registry, config dict)`` of every component checked against its class."""
    from mmagic.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS

    def typed(key, value):
        return [(key, value)] if isinstance(value, dict) and 'type' in value else []

    model = cfg.get('model')
    for key, value in typed('model', model):
        yield key, MODELS, value
        for name, part in value.items():
            for key, value in typed(f'model.{name}', part):
                yield key, MODELS, value
    hooks = list((cfg.get('default_hooks') or {}).items())
    hooks += [(i, hook) for i, hook in enumerate(cfg.get('custom_hooks') or [])]
    for name, hook in hooks:
        prefix = 'default_hooks' if isinstance(name, str) else 'custom_hooks'
        for key, value in typed(f'{prefix}.{name}', hook):
            yield key, HOOKS, value
    for loader in DATALOADERS:
        dataset = (cfg.get(loader) or {}).get('dataset')
        for key, value in typed(f'{loader}.dataset', dataset):
            yield key, DATASETS, value
            for i, step in enumerate(value.get('pipeline') or []):
                yield from ((k, TRANSFORMS, v) for k, v in typed(f'{key}.pipeline.{i}', step))
    for evaluator in ('val_evaluator', 'test_evaluator'):
        metrics = cfg.get(evaluator) or []
        if isinstance(metrics, dict):
            metrics = metrics.get('metrics') or []
            evaluator += '.metrics'
        for i, metric in enumerate([metrics] if isinstance(metrics, dict) else metrics):
            yield from ((k, METRICS, v) for k, v in typed(f'{evaluator}.{i}', metric))


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
    """The keyword arguments ``cls(...)`` accepts, or None where that cannot be read.

    Each ``__init__`` along the MRO adds its named parameters, while it takes
    ``**kwargs`` and so passes the rest on; ``**kwargs`` that reach ``object`` or
    ``torch.nn.Module`` accept nothing more. (``CheckpointHook`` passes its ``**kwargs``
    to ``Runner.save_checkpoint``, which takes none beyond those the hook already
    passes: there too an unknown key fails, though only at the first save.)
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
    return names


def config_file(path: str) -> str:
    """The file of ``path``: itself, or for ``package::dir/file.py`` the file in the
    package's ``.mim/configs`` folder, where MMEngine looks for it.

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
