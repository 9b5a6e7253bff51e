"""tools/tool_utils/cli.py: the arguments shared by the runner tools and the sampling tools."""
import argparse
import os

import pytest
from PIL import Image

from tool_utils.cli import (
    add_model_arguments,
    add_runner_arguments,
    add_seed_arguments,
    config_from_runner_args,
    positive_int,
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
