"""The image folder: each experiment config sets ``data_root`` and gives it to its train,
val and test dataloaders the MMEngine way (plain ``Config.fromfile`` sees it), and
``--data-root DIR`` of our tools sets those keys after checking that DIR holds images."""
import glob
import os
import re
import subprocess
import sys

import pytest
from mmengine.config import Config
from PIL import Image

from fastgan_plugin.apis.config import DATALOADERS, load_config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = sorted(glob.glob(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_*.py')))
OBAMA = os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama.py')
THREE_KEYS = ''.join(f'{key} = dict(dataset=dict(data_root=data_root))\n'
                     for key in DATALOADERS)


def _folders(cfg):
    return [cfg[key].dataset.get('data_root') for key in DATALOADERS if cfg.get(key)]


def _images(folder, count=2):
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        Image.new('RGB', (8, 8), (i, 0, 0)).save(os.path.join(folder, f'{i}.png'))
    return str(folder)


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_every_config_gives_its_folder_to_its_dataloaders(path):
    text = open(path).read()
    assert len(re.findall(r"^data_root = '[^']+'", text, re.M)) == 1
    cfg = Config.fromfile(path)
    folders = _folders(cfg)
    assert folders == [cfg.data_root] * (2 if 'demo' in path else 3)


@pytest.mark.parametrize('size', [128, 256, 512, 1024])
def test_the_dataset_bases_leave_the_folder_to_the_experiment(size):
    cfg = Config.fromfile(os.path.join(REPO, 'configs', '_base_', 'datasets',
                                       f'few_shot_imgs_{size}.py'))
    assert _folders(cfg) == [None] * 3
    assert 'persistent_workers' not in cfg.train_dataloader  # num_workers=0 must work


def test_a_child_config_sets_the_folder_the_mmengine_way(tmp_path):
    child = tmp_path / 'my_fastgan.py'
    child.write_text(f"_base_ = '{OBAMA}'\ndata_root = '/data/my_set'\n" + THREE_KEYS)
    assert _folders(Config.fromfile(str(child))) == ['/data/my_set'] * 3
    # data_root alone is a variable of the child: MMEngine does not pass it into the bases.
    child.write_text(f"_base_ = '{OBAMA}'\ndata_root = '/data/my_set'\n")
    assert _folders(Config.fromfile(str(child))) == ['data/100-shot-obama'] * 3


def test_dataloaders_reading_different_folders_warn():
    with pytest.warns(UserWarning, match=r"dataloaders read different folders: "
                      r"train_dataloader.dataset.data_root='/my/images', "
                      r"val_dataloader.dataset.data_root='data/pokemon'"):
        load_config(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_1024_pokemon.py'),
                    {'train_dataloader.dataset.data_root': '/my/images'})


def test_data_root_argument_sets_every_dataloader(tmp_path):
    folder = _images(tmp_path / 'my images')
    cfg = load_config(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_1024_pokemon_official.py'),
                      {'val_dataloader.dataset.data_root': '/elsewhere'}, data_root=folder)
    assert cfg.data_root == folder and _folders(cfg) == [folder] * 3


@pytest.mark.parametrize('make, error, match', [
    (lambda root: root / 'missing', FileNotFoundError, 'does not exist'),
    (lambda root: (root / 'empty').mkdir() or root / 'empty', ValueError, 'found 0 images'),
    (lambda root: _images(root / 'deep' / 'sub') and root / 'deep', ValueError,
     'in its subfolders'),
])
def test_data_root_argument_fails_early_naming_the_folder(tmp_path, make, error, match):
    folder = str(make(tmp_path))
    with pytest.raises(error, match=match) as err:
        load_config(OBAMA, data_root=folder)
    assert folder in str(err.value)


def test_official_configs_check_the_official_file_names(tmp_path):
    folder = tmp_path / 'upper'
    folder.mkdir()
    Image.new('RGB', (8, 8)).save(folder / 'A.JPG')  # the official code skips it
    with pytest.raises(ValueError, match=r'found 0 images .*\.jpeg \(exactly\)'):
        load_config(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama_official.py'),
                    data_root=str(folder))


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_tools_refuse_a_missing_data_root_in_one_line_before_building_anything(tmp_path, tool):
    missing = str(tmp_path / 'no such folder')
    args = [os.path.join(REPO, 'tools', f'{tool}.py'), OBAMA]
    args += ['none.pth'] if tool == 'test' else []
    result = subprocess.run([sys.executable, *args, '--data-root', missing,
                             '--work-dir', str(tmp_path / 'work')],
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore'))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{tool}.py: error: FewShotImageDataset: data_root '{missing}'")
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'work').exists()  # nothing was built
