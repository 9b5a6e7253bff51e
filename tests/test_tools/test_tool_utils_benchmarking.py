"""tools/tool_utils/benchmarking.py: variants, the benchmark config, and one tiny measurement
of every part producing the table and JSON fields (timings are never asserted)."""
import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch

from tool_utils import benchmarking as benchmark_module
from tool_utils.benchmarking import (
    BenchmarkSetting,
    benchmark,
    benchmark_config,
    check_variant_device,
    cpu_flags,
    cpu_model,
    default_variants,
    describe_hardware,
    format_table,
    parse_variant,
    summarise,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(REPO, 'configs', 'fastgan', 'fastgan_1024_pokemon.py')
TOOLS = os.path.join(REPO, 'tools')  # the probe process imports tool_utils from there
TINY = BenchmarkSetting(im_size=256, batch_size=2, ngf=8, ndf=8, rec_loss='l1')


def test_parse_variant():
    assert parse_variant('fp32') == ()
    assert parse_variant('bf16+channels_last') == ('bf16', 'channels_last')
    for bad in ('fp64', 'bf16+fp16', 'bf16+bf16', '', 'fp32+bf16', 'compile'):
        with pytest.raises(ValueError, match='variant'):
            parse_variant(bad)


def test_variants_the_cpu_cannot_run_are_refused():
    check_variant_device('bf16+channels_last', 'cpu')
    for variant in ('fp16', 'cudnn_benchmark'):
        with pytest.raises(ValueError, match=variant):
            check_variant_device(variant, 'cpu')
    for device in ('cpu', 'cuda'):
        for variant in default_variants(device):
            check_variant_device(variant, device)


@pytest.mark.parametrize('native', [True, False])
def test_cpu_default_variants_have_bf16_only_where_native(monkeypatch, native):
    """The capability query is mocked (the only mock): this machine has one kind of CPU."""
    monkeypatch.setattr(benchmark_module, 'cpu_has_native_bf16', lambda: native)
    variants = default_variants('cpu')
    assert ('bf16' in variants) is native and ('bf16+channels_last' in variants) is native
    assert variants[:2] == ['fp32', 'channels_last']


def test_describe_hardware_names_cpu_flags_threads_and_torch():
    line = describe_hardware('cpu')
    assert cpu_model() in line and f'torch {torch.__version__}' in line
    assert f'{torch.get_num_threads()} threads' in line and f'{os.cpu_count()} cores' in line
    assert all(flag in line for flag in cpu_flags())


def test_benchmark_config(tmp_path):
    setting = BenchmarkSetting(im_size=512, batch_size=4, variant='bf16+channels_last', ngf=16,
                               ndf=8, rec_loss='lpips')
    cfg = benchmark_config(CONFIG, setting, data_root=str(tmp_path),
                           work_dir=str(tmp_path / 'work'), num_workers=0)
    assert cfg.model.generator.im_size == cfg.model.discriminator.im_size == 512
    assert (cfg.model.generator.ngf, cfg.model.discriminator.ndf) == (16, 8)
    assert cfg.model.rec_loss.distance == 'lpips' and cfg.model.rec_loss.pretrained is False
    assert cfg.model.channels_last is True
    loader = cfg.train_dataloader
    assert (loader.batch_size, loader.num_workers, loader.persistent_workers) == (4, 0, False)
    assert loader.dataset.data_root == str(tmp_path)
    assert [t.size for t in loader.dataset.pipeline if t.type == 'ResizeToSquare'] == [512]
    assert cfg.val_dataloader is None and cfg.val_evaluator is None and cfg.val_cfg is None
    assert cfg.default_hooks.checkpoint.save_last is False
    for name in ('generator', 'discriminator'):
        assert cfg.optim_wrapper[name].type == 'MixedPrecisionOptimWrapper'
        assert cfg.optim_wrapper[name].dtype == 'bfloat16'
    assert cfg.env_cfg.cudnn_benchmark is False

    fast = benchmark_config(CONFIG, BenchmarkSetting(256, 2, variant='cudnn_benchmark'),
                            data_root=str(tmp_path), work_dir=str(tmp_path / 'work'))
    assert fast.env_cfg.cudnn_benchmark is True and fast.model.channels_last is False
    assert fast.model.generator.ngf == 64 and fast.optim_wrapper.generator.get('type') is None
    with pytest.raises(ValueError, match='rec_loss'):
        benchmark_config(CONFIG, BenchmarkSetting(256, 2, rec_loss='vgg'),
                         data_root=str(tmp_path), work_dir=str(tmp_path))


def test_summarise_pools_the_windows_of_every_run():
    runs = [dict(window_seconds=[2.0, 4.0], window_data_seconds=[0.2, 0.0], peak_mem_mib=10.,
                 peak_mem_kind='rss_peak'),
            dict(window_seconds=[1.0], window_data_seconds=[0.5], peak_mem_mib=30.,
                 peak_mem_kind='rss_peak')]
    summary = summarise(runs, window_iters=2, batch_size=8)
    assert summary['windows_iters_per_s'] == [1.0, 0.5, 2.0]
    assert summary['iters_per_s'] == 1.0 and summary['images_per_s'] == 8.0
    assert summary['windows_data_wait_share'] == [0.1, 0.0, 0.5]
    assert summary['data_wait_share'] == 0.1
    assert summary['peak_mem_mib'] == 30. and summary['peak_mem_kind'] == 'rss_peak'
    bare = [{k: v for k, v in run.items() if k != 'window_data_seconds'} for run in runs]
    assert 'data_wait_share' not in summarise(bare, window_iters=2, batch_size=8)


PEAK_MEMORY_PROBE = """
import torch
from tool_utils.benchmarking import PeakMemory
memory = PeakMemory()
memory.reset()
before = memory.peak_mib()
block = torch.ones(64 * 2**20 // 4, device='cuda' if memory.cuda else 'cpu')  # 64 MiB
print(memory.peak_mib() - before)
"""


def test_peak_memory_sees_a_new_allocation():
    # A fresh process: in a long test session the allocator may hand out pages that are
    # already resident, which a peak-RSS reading rightly does not count.
    result = subprocess.run([sys.executable, '-c', PEAK_MEMORY_PROBE], capture_output=True,
                            text=True, timeout=300, cwd=TOOLS)
    assert result.returncode == 0, result.stderr[-2000:]
    assert float(result.stdout.split()[-1]) >= 60


@pytest.mark.slow
def test_benchmark_measures_every_part(tmp_path):
    result = benchmark(CONFIG, dataclasses.replace(TINY, variant='bf16+channels_last'),
                       warmup=1, windows=1, window_iters=1, rounds=2, num_workers=0,
                       tmp_dir=str(tmp_path))
    assert os.listdir(tmp_path) == []  # the temporary images and work dir are gone
    for part in ('runner', 'bare'):
        stats = result[part]
        assert stats['iters_per_s'] > 0 and len(stats['windows_iters_per_s']) == 2  # rounds
        assert stats['images_per_s'] == pytest.approx(2 * stats['iters_per_s'])
        assert stats['peak_mem_mib'] > 0
        assert stats['peak_mem_kind'] in ('cuda_max_allocated', 'rss_peak')
    assert 0 <= result['runner']['data_wait_share'] < 1
    assert len(result['runner']['windows_data_wait_share']) == 2
    assert result['sample']['images_per_s'] > 0 and result['data']['images_per_s'] > 0
    assert result['runner_vs_bare'] == pytest.approx(
        result['runner']['iters_per_s'] / result['bare']['iters_per_s'])
    assert result['runner_overhead'] == pytest.approx(1 / result['runner_vs_bare'] - 1)
    assert result['hardware'] == describe_hardware(result['device'])
    assert (result['variant'], result['device'], result['num_workers']) == (
        'bf16+channels_last', 'cpu' if not torch.cuda.is_available() else 'cuda', 0)
    json.dumps(result)

    table = format_table([result]).splitlines()
    assert len(table) == 3 and table[0].startswith('| size | batch |')
    assert table[2].startswith('| 256 | 2 | 8/8 | l1 | bf16+channels_last |')


def test_benchmark_checks_its_arguments(tmp_path):
    with pytest.raises(ValueError, match='windows'):
        benchmark(CONFIG, TINY, windows=0)
    with pytest.raises(ValueError, match='rounds'):
        benchmark(CONFIG, TINY, rounds=0)
    with pytest.raises(ValueError, match='parts'):
        benchmark(CONFIG, TINY, parts=('train', ))
