"""Every checkpoint load MMEngine does for us is ``weights_only=True``, even with
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``; files that are not whole checkpoints are refused naming
the file; ``find_resume_checkpoint`` finds a work dir's own newest complete checkpoint."""
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.runner import load_checkpoint

from fastgan_plugin.utils.checkpoint import find_resume_checkpoint

REPO_ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1, which makes every
# torch.load without an explicit weights_only a full unpickler.
ATTEMPTS = r"""
import json, pathlib, sys
import torch
sys.path[:0] = [sys.argv[3], sys.argv[3] + '/tests', sys.argv[3] + '/tools']
import fastgan_plugin
from fastgan_plugin.apis import init_model
from mmengine.hooks import CheckpointHook
from mmengine.model import BaseModule
from helpers.toy_runner import toy_runner

evil, work = sys.argv[1], pathlib.Path(sys.argv[2])
attempts = {
    'load_from': lambda: toy_runner(work / 'a', CheckpointHook(), load_from=evil).train(),
    'resume': lambda: toy_runner(work / 'b', CheckpointHook(), load_from=evil,
                                 resume=True).train(),
    'init_model': lambda: init_model(sys.argv[3] + '/configs/fastgan/fastgan_demo_cpu.py',
                                     evil),
    'pretrained': lambda: BaseModule(
        init_cfg=dict(type='Pretrained', checkpoint=evil)).init_weights(),
    'plain torch.load (control)': lambda: torch.load(evil),
}
results = {}
for name, attempt in attempts.items():
    try:
        attempt()
        results[name] = 'loaded'
    except Exception as error:
        results[name] = f'{type(error).__name__}: {error}'
print(json.dumps(results))
"""


class _RunsCode:
    """Unpickling it creates ``marker``: a checkpoint that runs code when loaded."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker), ))


def test_no_load_runs_code_even_when_torch_is_told_to(tmp_path):
    marker = tmp_path / 'code_ran'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': {}, 'payload': _RunsCode(marker)}, evil)
    env = dict(__import__('os').environ, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1',
               OMP_NUM_THREADS='1')
    out = subprocess.run([sys.executable, '-c', ATTEMPTS, str(evil), str(tmp_path),
                          str(REPO_ROOT)], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(out.stdout.strip().splitlines()[-1])
    control = results.pop('plain torch.load (control)')
    assert control == 'loaded'  # the environment variable works: that load ran the payload
    assert marker.exists()
    marker.unlink()
    for name in ('load_from', 'resume', 'pretrained'):
        assert results[name].startswith(f'UnpicklingError: {evil} was refused by torch.load('
                                        'weights_only=True) (Unsupported global: GLOBAL '
                                        'getattr)'), (name, results[name])
        assert 'nothing in it was run' in results[name]
    assert 'refused by torch.load(weights_only=True)' in results['init_model']
    # Each attempt ran in this process after the control: had one run the payload, the
    # marker would exist again.
    assert not marker.exists()


def test_files_that_are_not_whole_checkpoints_are_named(tmp_path):
    model = torch.nn.Linear(2, 1)
    whole = tmp_path / 'whole.pth'
    torch.save({'state_dict': model.state_dict()}, whole)
    torn = tmp_path / 'torn.pth'
    torn.write_bytes(whole.read_bytes()[:-100])
    with pytest.raises(ValueError, match=rf"checkpoint '{torn}' is truncated or corrupt"):
        load_checkpoint(model, str(torn))
    text = tmp_path / 'notes.pth'
    text.write_text('not a checkpoint')
    with pytest.raises(pickle.UnpicklingError, match=rf'{text} was refused by torch.load\('
                       r'weights_only=True\) \(Unsupported operand \d+\): it is not a torch '
                       'checkpoint'):
        load_checkpoint(model, str(text))
    other = tmp_path / 'other.pth'
    other.write_bytes(b'hello, not a pickle either')
    with pytest.raises(ValueError, match=rf'{other} is not a torch checkpoint \(KeyError'):
        load_checkpoint(model, str(other))
    with pytest.raises(FileNotFoundError, match='missing.pth.* does not exist'):
        load_checkpoint(model, str(tmp_path / 'missing.pth'))


def _checkpoint(path: Path, whole: bool = True) -> Path:
    torch.save({'state_dict': {'w': torch.zeros(64)}}, path)
    if not whole:
        path.write_bytes(path.read_bytes()[:200])
    return path


def test_find_resume_checkpoint(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    assert find_resume_checkpoint(str(work)) is None
    for step in (2, 4, 10):
        _checkpoint(work / f'iter_{step}.pth')
    _checkpoint(work / 'best_fid_iter_12.pth')
    assert find_resume_checkpoint(str(work)) == str(work / 'iter_10.pth')  # by number
    # The file named in last_checkpoint, looked up here whatever folder it names.
    (work / 'last_checkpoint').write_text('/elsewhere/work/iter_4.pth')
    assert find_resume_checkpoint(str(work)) == str(work / 'iter_4.pth')
    # Named but torn: the newest complete one.
    (work / 'last_checkpoint').write_text(str(work / 'iter_10.pth'))
    _checkpoint(work / 'iter_10.pth', whole=False)
    assert find_resume_checkpoint(str(work)) == str(work / 'iter_4.pth')
    (work / 'last_checkpoint').write_text('')  # a torn record
    assert find_resume_checkpoint(str(work)) == str(work / 'iter_4.pth')
