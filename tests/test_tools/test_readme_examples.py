"""The README's training commands, run as written.

The commands are read from the README's ``bash`` blocks under "Training on your images"
and "Reproducing the paper", so the test follows the README. Each runs as a real process
(``tools/train.py``, ``tools/test.py``, ``tools/dist_train.sh`` with two workers on gloo) in
a temporary project folder: ``configs`` and ``tools`` link to the repository, ``data/<set>``
holds drawn images, and ``/my/images`` stands for another folder with a different number
of images. What is appended or replaced, and why:

- ``--cfg-options`` with tiny networks (ngf = ndf = 8, nz 16) at 128 px, L1 reconstruction
  (LPIPS needs VGG weights from the internet), batch 2, 2 iterations (4 for ``--resume``,
  so that it continues), validation at iteration 2, 8 fakes for FID and KID, and the
  stand-in feature network of ``build_torchscript_feature_extractor`` as
  ``inception_path`` (the Inception weights need the internet); each command writes its
  real-image features to its own ``inception_pkl`` file, so that none reuses another's;
- ``python`` is this interpreter, and ``.venv`` in the project folder links to its
  environment, so that ``source .venv/bin/activate`` runs too (skipped where this
  interpreter is not in a virtual environment);
- the checkpoint of ``tools/test.py``, ``..._iter_50000.pth`` after 50k iterations, is the
  best checkpoint of these 2-iteration runs;
- the Slurm line is skipped: ``srun`` and a Slurm partition do not exist here.

FID and KID must be computed against the folder the command names: the KID features file
holds one feature per real image, and the log names that folder for every dataset built.
"""
import glob
import math
import os
import pickle
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.feature_extractor import build_torchscript_feature_extractor
from tool_utils.demo_data import make_demo_images

REPO = Path(__file__).resolve().parents[2]
SECTIONS = ('Training on your images', 'Reproducing the paper')
SKIPPED = {'GPUS=8 bash tools/slurm_train.sh': 'needs srun and a Slurm partition, not here'}
VENV = Path(sys.prefix)
OTHER_FOLDER = '/my/images'
# Images per folder: different counts, so the features file tells which folder was read.
FOLDERS = {'data/pokemon': 6, 'data/100-shot-obama': 4, OTHER_FOLDER: 5}


def readme_commands():
    """The command lines of the README's bash blocks in :data:`SECTIONS`, comments cut."""
    text = (REPO / 'README.md').read_text()
    commands = []
    for section in SECTIONS:
        body = text.split(f'## {section}\n', 1)[1].split('\n## ', 1)[0]
        for block in re.findall(r'```bash\n(.*?)```', body, re.S):
            for line in block.splitlines():
                line = re.sub(r'\s+#.*$', '', line).strip()
                if line and not line.startswith('#'):
                    commands.append(line)
    return commands


def tiny_options(features: Path, inception: Path, max_iters: int) -> list:
    """``--cfg-options`` values (``key=value``) that make a command a seconds-long run."""
    options = [
        'model.generator.ngf=8', 'model.generator.nz=16', 'model.discriminator.ndf=8',
        'model.generator.im_size=128', 'model.discriminator.im_size=128',
        'model.rec_loss.distance=l1', 'train_dataloader.batch_size=2',
        f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=2',
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [f'{loader}.num_workers=0', f'{loader}.dataset.pipeline.1.size=128']
    for evaluator in ('val_evaluator', 'test_evaluator'):
        for index, name in enumerate(('fid', 'kid')):
            metric = f'{evaluator}.metrics.{index}'
            options += [f'{metric}.fake_nums=8', f'{metric}.inception_path={inception}',
                        f'{metric}.inception_pkl={features}-{evaluator}-{name}.pkl']
        options.append(f'{evaluator}.metrics.1.num_subsets=4')
    return options


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp('readme_project')
    for name in ('configs', 'tools'):
        (root / name).symlink_to(REPO / name)
    if (VENV / 'bin' / 'activate').is_file():
        (root / '.venv').symlink_to(VENV)
    folders = {}
    for name, count in FOLDERS.items():
        folder = root / ('my images' if name == OTHER_FOLDER else name)
        make_demo_images(str(folder), count, size=64)
        folders[name] = folder
    inception = root / 'inception.pt'
    build_torchscript_feature_extractor(str(inception), feature_dim=8)
    return root, folders, inception


def test_the_readme_lists_the_commands_this_test_expects():
    commands = readme_commands()
    assert any('--data-root /my/images' in c for c in commands)
    assert any(c.startswith('bash tools/dist_train.sh') for c in commands)
    assert any(c.startswith('python tools/test.py') for c in commands)
    assert any('_official.py' in c for c in commands)
    assert not [c for c in commands if '--cfg-options' in c and 'data_root' in c]


@pytest.mark.slow
@pytest.mark.parametrize('number', range(len(readme_commands())))
def test_readme_command(project, number):
    root, folders, inception = project
    line = readme_commands()[number]
    for prefix, reason in SKIPPED.items():
        if line.startswith(prefix):
            pytest.skip(f'{line!r}: {reason}')
    if line.startswith('source '):
        if not (root / '.venv').exists():
            pytest.skip(f'{line!r}: {sys.executable} is not in a virtual environment')
        result = subprocess.run(['bash', '-c', f'{line} && command -v python'], cwd=root,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert Path(result.stdout.strip()) == VENV / 'bin' / 'python'  # this environment
        return

    args = shlex.split(line)
    config = next(a for a in args if a.startswith('configs/'))
    folder = next((folders[a] for a in args if a in FOLDERS), None)  # --data-root DIR
    if folder is None:
        folder = folders[re.search(r"^data_root = '(.*)'", (root / config).read_text(),
                                   re.M).group(1)]
    args = [str(folders[OTHER_FOLDER]) if a == OTHER_FOLDER else a for a in args]
    if args[0] == 'python':
        args[0] = sys.executable
    if 'tools/test.py' in args:
        work_dir = root / 'work_dirs' / Path(config).stem
        best = sorted(glob.glob(str(work_dir / 'best_FID-Full_fid_iter_*.pth')),
                      key=os.path.getmtime)
        assert best, f'no best checkpoint in {work_dir} from the training commands before'
        args = [re.sub(r'best_FID-Full_fid_iter_50000\.pth$', os.path.basename(best[-1]), a)
                for a in args]
    features = root / 'features' / f'command{number}'
    args += ['--cfg-options', *tiny_options(features, inception, 4 if '--resume' in args else 2)]

    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable, PORT=str(free_port()),
               PYTHONWARNINGS='ignore')
    result = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True,
                            timeout=900)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f'{line}\n{log[-6000:]}'

    # FID and KID were computed, from the folder the command names.
    stage = 'test' if 'tools/test.py' in args else 'val'
    scores = re.findall(r'FID-Full/fid: (\S+).*?KID-Full/kid_x1e3: (\S+)', log, re.S)
    assert scores and all(math.isfinite(float(v)) for v in scores[-1]), log[-3000:]
    with open(f'{features}-{stage}_evaluator-kid.pkl', 'rb') as file:
        assert len(pickle.load(file)['raw_feature']) == len(os.listdir(folder))
    built = set(re.findall(r"FewShotImageDataset: \d+ images in '([^']*)'", log))
    assert {os.path.realpath(root / p) for p in built} == {os.path.realpath(folder)}, built
    if '--resume' in args:
        assert 'resumed' in log.lower() and (root / 'work_dirs' / Path(config).stem /
                                             'iter_4.pth').is_file()
