"""The process-wide patches of fastgan_plugin.compat: what each does, and that applying
them again (as a second ``compat.apply()`` would) changes nothing."""
import os
import os.path as osp

import torch
from mmengine.config import config as mmengine_config
from mmengine.config import utils as mmengine_config_utils
from mmengine.logging import HistoryBuffer
from mmengine.optim.optimizer import amp_optimizer_wrapper
from mmengine.runner import checkpoint as mmengine_checkpoint

from fastgan_plugin import compat

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _patched_state() -> dict:
    return dict(
        env=os.environ.get('NO_ALBUMENTATIONS_UPDATE'),
        packages=dict(mmengine_config_utils.MODULE2PACKAGE),
        resolve=mmengine_config._get_package_and_cfg_path,
        installed=mmengine_config.get_installed_path,
        safe_globals=set(map(id, torch.serialization.get_safe_globals())),
        getstate=HistoryBuffer.__getstate__,
        schemes=dict(mmengine_checkpoint.CheckpointLoader._schemes),
        load_from_http=mmengine_checkpoint.load_from_http,
    )


def test_applied_on_import():
    state = _patched_state()
    assert state['env'] == '1'
    assert state['packages']['fastgan_plugin'] == 'fastgan_plugin'
    assert state['resolve'] is compat.get_package_and_cfg_path
    assert state['installed'] is compat.get_installed_path
    assert state['getstate'] is compat.history_buffer_state
    assert state['schemes']['https://'] is state['load_from_http'] is \
        compat.load_from_http_weights_only


def test_apply_again_changes_nothing():
    before = _patched_state()
    compat.apply()
    compat.apply()
    assert _patched_state() == before


def test_config_paths_resolve_ours_and_leave_others_to_mmengine():
    """(tests/test_configs inherit ``fastgan_plugin::`` configs end to end.)"""
    assert compat.get_package_and_cfg_path('fastgan_plugin::fastgan/fastgan_256_obama.py') == (
        'fastgan_plugin', 'fastgan_256_obama.py')
    assert compat.get_package_and_cfg_path('mmagic::_base_/gen_default_runtime.py') == (
        'mmagic', '_base_/gen_default_runtime.py')
    assert compat.get_installed_path('fastgan_plugin') == osp.join(REPO_ROOT, 'fastgan_plugin')
    assert compat.get_installed_path('mmengine') == osp.dirname(
        osp.dirname(mmengine_config.__file__))


def test_history_buffer_pickles_without_function_references():
    buffer = HistoryBuffer()
    buffer.update(1.0)
    state = buffer.__getstate__()
    assert 'statistics_methods' not in state and 'statistics_methods' not in vars(buffer)


def test_amp_init_leaves_mmengine_module_unchanged():
    scaler_class = amp_optimizer_wrapper.GradScaler
    init = compat.amp_optim_wrapper_init('cpu')
    assert init is compat.amp_optim_wrapper_init('cpu')  # built once per device
    assert amp_optimizer_wrapper.GradScaler is scaler_class
    assert init.__code__ is amp_optimizer_wrapper.AmpOptimWrapper.__init__.__code__
