"""The image folder is set once (the config's ``data_root`` or ``--data-root``) and reaches
the train, val and test dataloaders, whatever config level sets it."""
import glob
import os
import re
import subprocess
import sys

import pytest
from mmengine.config import Config
from PIL import Image

import fastgan_plugin  # noqa: F401  (fastgan_plugin:: config paths)
from fastgan_plugin.apis.config import DATALOADERS, load_config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXPERIMENTS = sorted(p for p in glob.glob(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_*_*.py'))
                     if 'demo' not in p)


def _folders(cfg):
    return [cfg[key].dataset.get('data_root') for key in DATALOADERS]


def _images(folder, count=2):
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        Image.new('RGB', (8, 8), (i, 0, 0)).save(os.path.join(folder, f'{i}.png'))
    return str(folder)


@pytest.mark.parametrize('path', EXPERIMENTS, ids=os.path.basename)
def test_every_config_names_its_folder_once_and_all_dataloaders_use_it(path):
    text = open(path).read()
    assert len(re.findall(r'^data_root = ', text, re.M)) == 1
    assert 'dataset=dict(data_root' not in text
    cfg = load_config(path)
    assert _folders(cfg) == [cfg.data_root] * 3


def test_a_child_config_sets_data_root_in_one_place(tmp_path):
    child = tmp_path / 'my_fastgan.py'
    child.write_text("_base_ = 'fastgan_plugin::fastgan/fastgan_1024_pokemon.py'\n"
                     "data_root = '/data/my_set'\n")
    assert _folders(load_config(str(child))) == ['/data/my_set'] * 3
    # Why load_config does it: MMEngine substitutes a variable where a file uses it, so
    # dicts of the bases never see the child's data_root. Read alone, the config leaves
    # the folder to the dataset's error (tested in tests/test_datasets).
    assert _folders(Config.fromfile(str(child))) == [None] * 3


def test_a_dataloader_that_names_its_own_folder_keeps_it(tmp_path):
    with pytest.warns(UserWarning, match='unless that is intended'):
        cfg = load_config(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama.py'),
                          {'val_dataloader.dataset.data_root': '/held/out'})
    assert _folders(cfg) == ['data/100-shot-obama', '/held/out', 'data/100-shot-obama']


def test_train_folder_alone_warns_that_fid_would_use_other_images():
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
        load_config(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama.py'), data_root=folder)
    assert folder in str(err.value)


def test_official_configs_check_the_official_file_names(tmp_path):
    folder = tmp_path / 'upper'
    folder.mkdir()
    Image.new('RGB', (8, 8)).save(folder / 'A.JPG')  # the official code skips it
    with pytest.raises(ValueError, match=r'found 0 images .*\.jpeg \(exactly\)'):
        load_config(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama_official.py'),
                    data_root=str(folder))


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_tools_refuse_a_missing_data_root_before_building_anything(tmp_path, tool):
    missing = str(tmp_path / 'no such folder')
    args = [os.path.join(REPO, 'tools', f'{tool}.py'),
            os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama.py')]
    args += ['none.pth'] if tool == 'test' else []
    result = subprocess.run([sys.executable, *args, '--data-root', missing,
                             '--work-dir', str(tmp_path / 'work')],
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode != 0
    assert f"FileNotFoundError: FewShotImageDataset: data_root '{missing}'" in result.stderr
    assert not (tmp_path / 'work').exists()  # nothing was built
