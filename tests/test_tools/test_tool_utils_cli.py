"""tools/tool_utils/cli.py: the arguments shared by the runner tools and the sampling tools."""
import argparse
import os
import sys

import pytest
from PIL import Image

from tool_utils.cli import (
    add_model_arguments,
    add_runner_arguments,
    add_seed_arguments,
    config_from_runner_args,
    positive_int,
    run,
    seeds_from_args,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama.py')


def test_runner_arguments_reach_the_config(tmp_path, monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')  # so that monkeypatch restores it afterwards
    monkeypatch.delenv('LOCAL_RANK')
    Image.new('RGB', (8, 8)).save(tmp_path / 'image.png')  # --data-root wants an image
    parser = argparse.ArgumentParser()
    add_runner_arguments(parser, work_dir_help='logs')
    args = parser.parse_args([CONFIG, '--work-dir', str(tmp_path / 'work'), '--data-root',
                              str(tmp_path), '--cfg-options', 'train_cfg.max_iters=3',
                              '--local_rank', '1'])
    cfg = config_from_runner_args(args)
    assert cfg.work_dir == str(tmp_path / 'work') and cfg.train_cfg.max_iters == 3
    assert cfg.train_dataloader.dataset.data_root == str(tmp_path)
    assert cfg.launcher == 'none' and os.environ['LOCAL_RANK'] == '1'


def test_model_and_seed_arguments():
    parser = argparse.ArgumentParser()
    add_model_arguments(parser, 'grid.png', 'grid image to write')
    add_seed_arguments(parser, 'images')
    args = parser.parse_args(['config.py', 'model.pth', '--num', '3', '--seed', '5'])
    assert (args.out, args.sample_model, args.batch_size) == ('grid.png', 'ema', 8)
    assert list(seeds_from_args(args)) == [5, 6, 7]
    assert 'grid image to write (default: grid.png)' in parser.format_help()


def test_positive_int_refuses_zero():
    assert positive_int('2') == 2
    with pytest.raises(argparse.ArgumentTypeError, match='positive'):
        positive_int('0')


@pytest.mark.parametrize('value, reason', [
    ('foo', 'not KEY=VALUE'),
    ('a=[1,2', 'brackets do not match'),
    ('a=(1,[2)]', 'brackets do not match'),
])
def test_a_bad_cfg_option_is_a_usage_error_naming_it(capsys, value, reason):
    parser = argparse.ArgumentParser(prog='train.py')
    add_runner_arguments(parser, work_dir_help='logs')
    with pytest.raises(SystemExit) as exit_status:
        parser.parse_args([CONFIG, '--cfg-options', 'a.b=1', value])
    assert exit_status.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f'train.py: error: argument --cfg-options: {value!r}: {reason}')


def test_cfg_options_still_parse_as_mmengine_parses_them():
    parser = argparse.ArgumentParser()
    add_runner_arguments(parser, work_dir_help='logs')
    args = parser.parse_args([CONFIG, '--cfg-options', 'a=1', 'b=[1,(2,3)]', 'c=x,y', 'd=None'])
    assert args.cfg_options == {'a': 1, 'b': [1, (2, 3)], 'c': ['x', 'y'], 'd': None}


def test_a_config_mistake_stops_config_from_runner_args(tmp_path):
    parser = argparse.ArgumentParser()
    add_runner_arguments(parser, work_dir_help='logs')
    args = parser.parse_args([CONFIG, '--cfg-options', 'trian_cfg.max_iters=3'])
    with pytest.raises(ValueError, match="unknown key 'trian_cfg': did you mean 'train_cfg'"):
        config_from_runner_args(args)


def test_a_config_syntax_error_ends_in_one_line_naming_file_and_line(tmp_path, monkeypatch,
                                                                      capsys):
    base = tmp_path / 'base.py'
    base.write_text('a = 1\nb = [1,\n')
    (tmp_path / 'child.py').write_text("_base_ = './base.py'\n")
    parser = argparse.ArgumentParser()
    add_runner_arguments(parser, work_dir_help='logs')
    monkeypatch.setattr(sys, 'argv', ['train.py', str(tmp_path / 'child.py')])
    with pytest.raises(SystemExit) as exit_status:
        run(lambda: config_from_runner_args(parser.parse_args()))
    assert str(exit_status.value) == (
        f"train.py: error: config file {base}, line 2 (b = [1,): '[' was never closed "
        '(--debug shows the traceback)')
