"""tools/test.py --per-class: the config's test metric also per class of a class-conditional
model, through MMEngine's runner in a real process."""
import re

from PIL import Image

CONFIG = """
_base_ = '{base}'
test_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                       dataset=dict(data_root='{data}'))
test_evaluator = dict(metrics=[dict(type='GeneratorSWD', prefix='SWD', fake_nums=-1,
                                    image_shape=(3, 128, 128))])
"""


def test_per_class_swd(tiny_conditional_files, tmp_path, run_tool):
    base, checkpoint = tiny_conditional_files
    for name, colour in (('cat', (250, 200, 30)), ('dog', (20, 60, 220))):
        (tmp_path / 'data' / name).mkdir(parents=True)
        for index in range(2):
            Image.new('RGB', (128, 128), colour).save(tmp_path / 'data' / name / f'{index}.png')
    config = tmp_path / 'config.py'
    config.write_text(CONFIG.format(base=base, data=tmp_path / 'data'))
    result = run_tool('test', config, checkpoint, '--work-dir', tmp_path / 'work',
                      '--per-class', 'dog')
    assert result.returncode == 0, result.stderr
    printed = dict(re.findall(r'^(SWD/\S+): ([\d.]+)$', result.stdout, re.MULTILINE))
    assert {'SWD/avg', 'SWD/dog/avg', 'SWD/mean/avg'} <= set(printed), result.stdout
    assert not any(key.startswith('SWD/cat/') for key in printed)  # only the class asked for
    assert printed['SWD/mean/avg'] == printed['SWD/dog/avg']


def test_per_class_needs_test_metrics(tiny_conditional_files, tmp_path, run_tool):
    result = run_tool('test', tiny_conditional_files[0], tiny_conditional_files[1],
                      '--work-dir', tmp_path, '--per-class', '--cfg-options',
                      'test_evaluator=None')
    assert result.returncode == 1
    assert 'the config has no test_evaluator metrics to compute per class' in result.stderr
