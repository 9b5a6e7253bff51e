"""tools/benchmark.py: options reach the benchmark, the table is printed and the JSON
written (sampling only, so that no training runs here; test_tool_utils_benchmarking.py
times every part)."""
import json

import pytest
import torch


@pytest.fixture
def keep_torch_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_sampling_benchmark_writes_table_and_json(load_tool, tmp_path, capsys,
                                                  keep_torch_threads):
    out = tmp_path / 'results.json'
    load_tool('benchmark').main([
        '--sizes', '256', '--batch-sizes', '2', '--variants', 'fp32', 'bf16', '--ngf', '8',
        '--ndf', '8', '--rec-loss', 'l1', '--windows', '1', '--window-iters', '1',
        '--parts', 'sample', '--threads', '1', '--out', str(out), '--tmp-dir', str(tmp_path)])
    report = json.loads(out.read_text())
    assert report['machine']['torch_threads'] == 1
    assert [r['variant'] for r in report['results']] == ['fp32', 'bf16']
    for result in report['results']:
        assert (result['im_size'], result['batch_size'], result['ngf']) == (256, 2, 8)
        assert result['sample']['images_per_s'] > 0 and 'runner' not in result
    printed = capsys.readouterr().out
    assert '| 256 | 2 | 8/8 | l1 | bf16 |' in printed and str(out) in printed


@pytest.mark.skipif(torch.cuda.is_available(), reason='float16 is refused on the CPU only')
def test_a_variant_the_device_cannot_run_is_refused_first(load_tool):
    with pytest.raises(ValueError, match='float16 autocast is refused on the CPU'):
        load_tool('benchmark').main(['--variants', 'fp32', 'fp16', '--parts', 'sample'])
