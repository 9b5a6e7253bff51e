"""fastgan_plugin/utils/config_check.py: config mistakes refused before anything is built,
each naming the key (tools/train.py and tools/test.py run the check)."""
import glob
import os

import pytest
from mmengine.config import Config
from mmengine.hooks import CheckpointHook

import fastgan_plugin  # noqa: F401  (registers the components the check looks up)
from fastgan_plugin.apis.config import load_config
from fastgan_plugin.utils.config_check import (
    accepted_arguments,
    check_config,
    config_file,
    find_syntax_error,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OBAMA = os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama.py')


@pytest.mark.parametrize('path', sorted(glob.glob(os.path.join(REPO, 'configs', 'fastgan',
                                                               '*.py'))), ids=os.path.basename)
def test_every_shipped_config_passes(path):
    check_config(Config.fromfile(path))


@pytest.mark.parametrize('option, message', [
    ({'trian_cfg.max_iters': 3}, "unknown key 'trian_cfg': did you mean 'train_cfg'?"),
    ({'defualt_hooks.logger.interval': 5},
     "unknown key 'defualt_hooks': did you mean 'default_hooks'?"),
    ({'default_hooks.checkpoint.intervall': 1}, "unknown key "
     "'default_hooks.checkpoint.intervall': did you mean 'default_hooks.checkpoint.interval'?"),
    ({'model.generator.ngff': 8},
     "unknown key 'model.generator.ngff': did you mean 'model.generator.ngf'?"),
    ({'model.quadrnt': 'batch'}, "unknown key 'model.quadrnt': did you mean 'model.quadrant'?"),
    ({'custom_hooks.1.n_sample': 4},
     "unknown key 'custom_hooks.1.n_sample': did you mean 'custom_hooks.1.n_samples'?"),
    ({'train_dataloader.dataset.recursiv': True}, "unknown key "
     "'train_dataloader.dataset.recursiv': did you mean 'train_dataloader.dataset.recursive'?"),
    ({'val_evaluator.metrics.1.num_subset': 4}, "unknown key 'val_evaluator.metrics.1."
     "num_subset': did you mean 'val_evaluator.metrics.1.num_subsets'?"),
    ({'model.foo': 1}, "unknown key 'model.foo': FastGAN takes augment, channels_last, "),
    ({'model.generator.type': 'SLEGenerater'}, "model.generator.type: no model is "
     "registered as 'SLEGenerater': did you mean 'SLEGenerator'?"),
    ({'train_cfg.max_iters': 0}, 'train_cfg.max_iters must be a positive int, got 0'),
    ({'train_cfg.val_interval': -5}, 'train_cfg.val_interval must be a positive int, got -5'),
    ({'default_hooks.logger.interval': 0},
     'default_hooks.logger.interval must be a positive int, got 0'),
    ({'custom_hooks.0.interval': 0}, 'custom_hooks.0.interval must be a positive int, got 0'),
    ({'optim_wrapper.generator.optimizer.lr': -0.1},
     'optim_wrapper.generator.optimizer.lr must be a number >= 0, got -0.1'),
    ({'optim_wrapper.discriminator.optimizer.lr': 'abc'},
     "optim_wrapper.discriminator.optimizer.lr must be a number >= 0, got 'abc'"),
    ({'train_dataloader.batch_size': 0}, 'train_dataloader.batch_size must be a positive int'),
    ({'val_dataloader.num_workers': -1}, 'val_dataloader.num_workers must be an int >= 0'),
    ({'model.generator.im_size': 512, 'model.discriminator.im_size': 512},
     'train_dataloader.dataset.pipeline.1.size is 256 but model.generator.im_size is 512: '
     "the images must have the generator's resolution; inherit "
     'configs/_base_/datasets/few_shot_imgs_512.py, or set both'),
])
def test_a_mistake_is_refused_naming_the_key(option, message):
    cfg = load_config(OBAMA, option)
    with pytest.raises(ValueError) as error:
        check_config(cfg)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize('option', [
    {'resize': 1, 'data_roots': 'x', 'my_variable': 2},  # config variables, not runner keys
    {'default_hooks.checkpoint.interval': -1},  # MMEngine's "never" for checkpoints
    {'optim_wrapper.generator.optimizer.lr': 0},
    {'train_dataloader.num_workers': 0},
])
def test_what_is_allowed(option):
    check_config(load_config(OBAMA, option))


def test_accepted_arguments_follow_kwargs_along_the_class_hierarchy():
    class Base:
        def __init__(self, a, *, b=1):
            pass

    class Child(Base):
        def __init__(self, c, **kwargs):
            super().__init__(**kwargs)

    assert accepted_arguments(Child) == {'a', 'b', 'c'}
    # CheckpointHook passes **kwargs to Runner.save_checkpoint, which takes no other key.
    assert 'interval' in accepted_arguments(CheckpointHook)
    assert 'intervall' not in accepted_arguments(CheckpointHook)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_a_syntax_error_in_a_base_names_its_file_and_line(tmp_path):
    base = write(tmp_path / 'bases' / 'base.py', 'a = 1\nb = dict(x=1 y=2)\n')
    child = write(tmp_path / 'child.py', "_base_ = ['./bases/base.py']\nc = 3\n")
    with pytest.raises(SyntaxError):  # MMEngine's: "(<unknown>, line 2)", no file
        Config.fromfile(child)
    error = find_syntax_error(child)
    assert str(error) == (f'config file {base}, line 2 (b = dict(x=1 y=2)): invalid syntax. '
                          'Perhaps you forgot a comma?')
    with pytest.raises(SyntaxError, match=f'config file {base}, line 2'):
        load_config(child)


def test_a_syntax_error_in_the_config_itself_and_none_at_all(tmp_path):
    bad = write(tmp_path / 'bad.py', "_base_ = '" + OBAMA + "'\nmodel = dict(\n")
    assert str(find_syntax_error(bad)).startswith(f'config file {bad}, line 2 (model = dict(): ')
    assert find_syntax_error(OBAMA) is None


def test_package_paths_name_the_file_in_the_package():
    assert config_file('fastgan_plugin::fastgan/fastgan_256_obama.py') == os.path.join(
        REPO, 'fastgan_plugin', '.mim', 'configs', 'fastgan', 'fastgan_256_obama.py')
    with pytest.raises(ValueError, match='resolves package:: paths only for .*import mypkg'):
        config_file('mypkg::a/b.py')
