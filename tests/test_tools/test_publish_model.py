"""tools/publish_model.py: weights and minimal meta, sha256 prefix in the name."""
import hashlib

import pytest
import torch
from mmengine.logging import MessageHub

from fastgan_plugin.apis import init_model


def test_publish(tiny_files, tmp_path, load_tool, capsys):
    config, checkpoint = tiny_files
    runner_like = torch.load(checkpoint, map_location='cpu', weights_only=True)
    runner_like.update(
        optimizer=dict(generator=dict(state={}, param_groups=[dict(lr=2e-4)])),
        message_hub=MessageHub.get_instance('publish_test').state_dict(),
        param_schedulers=[])
    runner_like['meta'].update(cfg='data_root = "/home/me/private"', seed=0, time='today')
    source = tmp_path / 'iter_7.pth'
    torch.save(runner_like, source)

    load_tool('publish_model').main([str(source), str(tmp_path / 'out' / 'depth.pth')])
    published = capsys.readouterr().out.strip()
    digest = hashlib.sha256(open(published, 'rb').read()).hexdigest()
    assert published == str(tmp_path / 'out' / f'depth-{digest[:8]}.pth')

    loaded = torch.load(published, map_location='cpu', weights_only=True)
    assert set(loaded) == {'state_dict', 'meta'}
    assert loaded['meta'] == dict(iter=7)
    model = init_model(config, published)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, runner_like['state_dict'][key], rtol=0, atol=0)


def test_refuses_a_file_without_state_dict(tmp_path, load_tool):
    source = tmp_path / 'weights.pth'
    torch.save(dict(weight=torch.zeros(1)), source)
    with pytest.raises(ValueError, match="is not an MMEngine checkpoint: expected a dict with "
                       "'state_dict', got \\['weight'\\]"):
        load_tool('publish_model').main([str(source), str(tmp_path / 'out.pth')])
    assert list(tmp_path.iterdir()) == [source]


def test_refuses_a_checkpoint_that_runs_code_in_one_line(tmp_path, code_checkpoint, run_tool):
    evil = code_checkpoint('evil.pth', state_dict={})
    result = run_tool('publish_model', evil, tmp_path / 'out.pth',
                      env=dict(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1'))
    assert result.returncode == 1
    assert result.stderr.startswith(f'publish_model.py: error: {evil} was refused by '
                                    'torch.load(weights_only=True)')
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ['evil.pth']
