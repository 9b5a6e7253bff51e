"""tools/analysis_tools/plot_curves.py and the curves it draws (fastgan_plugin.visualization).

The work dirs are written as MMEngine writes them: one JSON object per line in
``<timestamp>/vis_data/scalars.json``, a new timestamp folder per run.
"""
import json

import pytest
from PIL import Image

from fastgan_plugin.visualization import group_scalars, plot_curves, read_scalars

LOSSES = ('loss', 'loss_disc_real', 'loss_disc_fake', 'loss_rec_big', 'loss_rec_small',
          'loss_rec_part', 'loss_gen')


def write_run(work_dir, timestamp, steps, offset=0.0, metrics=None, cut_last_line=False):
    folder = work_dir / timestamp / 'vis_data'
    folder.mkdir(parents=True)
    lines = []
    for step in steps:
        record = {name: 1.0 / step + offset for name in LOSSES}
        record.update({'generator.lr': 2e-4, 'discriminator.lr': 2e-4, 'time': 0.5,
                       'data_time': 0.01, 'iter': step, 'step': step})
        lines.append(json.dumps(record))
        if metrics and step in metrics:
            lines.append(json.dumps({**metrics[step], 'step': step}))
    text = '\n'.join(lines) + '\n'
    if cut_last_line:  # a run killed while writing
        text += '{"loss": 0.5, "st'
    (folder / 'scalars.json').write_text(text)


def test_runs_are_joined_as_a_resumed_run_continues(tmp_path):
    # run 1 logged 1..10 and was killed; run 2 resumed from its checkpoint at 6
    write_run(tmp_path, '20260101_000000', range(1, 11), metrics={5: {'FID-Full/fid': 90.0}},
              cut_last_line=True)
    write_run(tmp_path, '20260101_010000', range(7, 13), offset=10.0,
              metrics={10: {'FID-Full/fid': 70.0, 'SWD/avg': 3.0}})
    scalars = read_scalars(str(tmp_path))
    assert [step for step, _ in scalars['loss_gen']] == list(range(1, 13))
    assert [value for _, value in scalars['loss_gen']][5:7] == [1 / 6, 1 / 7 + 10.0]
    assert scalars['FID-Full/fid'] == [(5, 90.0), (10, 70.0)]
    assert scalars['SWD/avg'] == [(10, 3.0)]


def test_a_fresh_run_replaces_an_earlier_one(tmp_path):
    write_run(tmp_path, '20260101_000000', range(1, 21))
    write_run(tmp_path, '20260102_000000', range(1, 4), offset=5.0)
    scalars = read_scalars(str(tmp_path))
    assert [step for step, _ in scalars['loss']] == [1, 2, 3]


def test_groups():
    groups = group_scalars(list(LOSSES) + ['generator.lr', 'time', 'data_time',
                                           'FID-Full/fid', 'KID-Full/kid_x1e3', 'SWD/avg',
                                           'memory', 'my_value'])
    assert [(title.split(':')[0].split(' (')[0], names) for title, _, names in groups] == [
        ('Discriminator', ['loss_disc_fake', 'loss_disc_real', 'loss']),
        ('Discriminator', ['loss_rec_big', 'loss_rec_part', 'loss_rec_small']),
        ('Generator', ['loss_gen']),
        ('FID', ['FID-Full/fid']),
        ('KID', ['KID-Full/kid_x1e3']),
        ('Sliced Wasserstein distance', ['SWD/avg']),
        ('Learning rate', ['generator.lr']),
        ('Time per iteration', ['data_time', 'time']),
        ('Memory', ['memory']),
        ('Other logged values', ['my_value']),
    ]


def test_plot_has_a_subplot_per_group(tmp_path):
    write_run(tmp_path, '20260101_000000', range(1, 51), metrics={25: {'FID-Full/fid': 9.0}})
    scalars = read_scalars(str(tmp_path))
    groups = plot_curves(scalars, str(tmp_path / 'curves.png'), 'my run')
    assert len(groups) == 6  # D hinge, D rec, G, FID, lr, time
    with Image.open(tmp_path / 'curves.png') as image:
        assert image.size == (1280, 3 * 360 + 50)  # 2 columns x 3 rows, and the title


def test_tool(tmp_path, run_tool):
    write_run(tmp_path, '20260101_000000', range(1, 6))
    result = run_tool('analysis_tools/plot_curves', tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f'wrote {tmp_path / "training_curves.png"}'
    assert (tmp_path / 'training_curves.png').is_file()


def test_tool_options_and_missing_scalars(tmp_path, load_tool):
    tool = load_tool('analysis_tools/plot_curves')
    with pytest.raises(FileNotFoundError, match='no logged scalars in .*scalars.json'):
        tool.main([str(tmp_path)])
    write_run(tmp_path, '20260101_000000', range(1, 6))
    out = tmp_path / 'elsewhere' / 'curves.png'
    tool.main([str(tmp_path), '--out', str(out), '--title', 'x'])
    assert out.is_file()
