"""configs/fastgan/metafile.yml and model-index.yml: the model index that mim and MMEngine read from
fastgan_plugin/.mim/."""
from pathlib import Path

import yaml
from mmengine.config import Config

import fastgan_plugin

REPO = Path(__file__).resolve().parents[2]
MIM = Path(fastgan_plugin.__file__).parent / '.mim'
PAPER_FID = {
    'fastgan_256_obama': 41.05,
    'fastgan_256_grumpy_cat': 26.65,
    'fastgan_256_panda': 10.03,
    'fastgan_256_animalface_dog': 50.66,
    'fastgan_256_animalface_cat': 35.1,
}


def _models():
    return yaml.safe_load((REPO / 'configs' / 'fastgan' / 'metafile.yml').read_text())['Models']


def test_model_index_imports_the_metafile_and_ships_in_mim():
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    assert index == {'Import': ['configs/fastgan/metafile.yml']}
    installed = MIM / 'model-index.yml'
    assert installed.is_file(), (f'{installed} is missing: run bash tools/env/setup.sh '
                                 "(setup.py's add_mim_extension links it into .mim)")
    for path in index['Import']:
        assert (MIM / path).is_file()


def test_every_experiment_config_is_listed_and_resolves_inside_mim():
    models = _models()
    experiments = sorted(p.stem for p in (REPO / 'configs' / 'fastgan').glob('fastgan_*.py')
                         if not p.stem.startswith('fastgan_demo_cpu'))
    assert sorted(model['Name'] for model in models) == experiments
    for model in models:
        assert model['Config'] == f'configs/fastgan/{model["Name"]}.py'
        assert model['In Collection'] == 'FastGAN'
        assert (REPO / model['Config']).is_file() and (MIM / model['Config']).is_file()
        assert 'Weights' not in model  # none published yet


def test_results_are_the_papers_fid_and_say_so():
    with_results = {model['Name']: model for model in _models() if 'Results' in model}
    assert set(with_results) == set(PAPER_FID)
    for name, model in with_results.items():
        assert model['Results'][0]['Metrics'] == {'FID': PAPER_FID[name]}
        assert model['Metadata']['FID source'] == 'paper (not reproduced here)'


def test_package_config_inherited_from_another_folder(tmp_path):
    """Plain Config.fromfile after ``import fastgan_plugin`` (which registers the package
    with MMEngine), the folder set the MMEngine way."""
    config = tmp_path / 'my_fastgan.py'
    config.write_text("_base_ = 'fastgan_plugin::fastgan/fastgan_1024_pokemon.py'\n"
                      "model = dict(generator=dict(ngf=32))\n"
                      "data_root = '/data/my_set'\n"
                      "train_dataloader = dict(dataset=dict(data_root=data_root))\n")
    cfg = Config.fromfile(str(config))
    assert cfg.model.generator.im_size == 1024 and cfg.model.generator.ngf == 32
    assert cfg.train_dataloader.dataset.data_root == '/data/my_set'
    assert cfg.val_dataloader.dataset.data_root == 'data/pokemon'  # not set by the child
    assert cfg.model._scope_ == 'fastgan_plugin'  # MMEngine's scope for package bases
