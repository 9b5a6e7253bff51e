"""Training curves: every logged loss term and metric against iterations, as one PNG.

MMEngine's ``LoggerHook`` writes the logged scalars through the visualizer's
``VisBackend`` to ``<work_dir>/<timestamp>/vis_data/scalars.json``, one JSON object per
line (``{"loss_gen": 1.2, ..., "iter": 100, "step": 100}``); validation metrics arrive
the same way (``{"FID-Full/fid": 80.1, "step": 5000}``). Every run in a work dir has its
own timestamp folder, and a resumed run starts a new one: :func:`read_scalars` joins them
in time order, a later run replacing the points of earlier ones from its first step on
(a resumed run repeats the iterations after its checkpoint; a fresh run in the same work
dir replaces the whole earlier curve).

:func:`plot_curves` draws one subplot per group of related terms (:data:`GROUPS`); the
``TrainingCurvesHook``, ``tools/analysis_tools/plot_curves.py`` and ``tools/report.py``
all draw with it. It uses matplotlib's object API with the Agg canvas, so it needs no
display and leaves pyplot's backend and figures alone.
"""
import glob
import io
import json
import math
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

from fastgan_plugin.utils.atomic_io import write_bytes_atomic

SCALARS_FILE = 'scalars.json'
CURVES_FILE = 'training_curves.png'
# Keys of scalars.json that are positions, not values.
POSITION_KEYS = ('step', 'iter', 'epoch')

# (title, y-axis label, pattern of the scalar names it holds), in plotting order. A name
# goes to the first group whose pattern matches it in full.
GROUPS: Tuple[Tuple[str, str, str], ...] = (
    ('Discriminator: hinge terms', 'loss', r'loss_disc_.*|loss'),
    ('Discriminator: reconstruction terms', 'loss', r'loss_rec_.*'),
    ('Generator: adversarial loss', 'loss', r'loss_gen.*'),
    ('FID (lower is better)', 'FID', r'.*FID.*|.*fid.*'),
    ('KID (lower is better)', 'KID', r'.*KID.*|.*kid.*'),
    ('Sliced Wasserstein distance (lower is better)', 'SWD', r'.*SWD.*|.*swd.*'),
    ('MS-SSIM between samples (lower is more diverse)', 'MS-SSIM', r'.*(MS-SSIM|ms_ssim).*'),
    ('Learning rate', 'learning rate', r'(.*\.)?lr'),
    ('Time per iteration', 'seconds', r'time|data_time'),
    ('Memory', 'MB', r'memory'),
    ('Other logged values', 'value', r'.*'),
)

# What the terms mean, for the legends.
LABELS = {
    'loss': 'loss: D total (hinge + reconstruction)',
    'loss_disc_real': 'loss_disc_real: hinge on real images',
    'loss_disc_fake': 'loss_disc_fake: hinge on generated images',
    'loss_rec_big': 'loss_rec_big: whole image from the 8x8 features',
    'loss_rec_small': 'loss_rec_small: whole image from the small branch',
    'loss_rec_part': 'loss_rec_part: one quadrant from the 16x16 features',
    'loss_gen': 'loss_gen: -D(G(z))',
    'time': 'time: whole iteration',
    'data_time': 'data_time: waiting for data',
}
# Series with at most this many points are drawn with markers (e.g. metrics).
MARKER_POINTS = 30

Scalars = Dict[str, List[Tuple[int, float]]]


def scalar_files(work_dir: str) -> List[str]:
    """``<work_dir>/<timestamp>/vis_data/scalars.json`` of every run, oldest first."""
    pattern = osp.join(glob.escape(work_dir), '*', 'vis_data', SCALARS_FILE)
    return sorted(glob.glob(pattern))


def _read_run(path: str) -> Scalars:
    """The numeric scalars of one scalars.json, by name, in file order."""
    series: Scalars = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a killed run
            if not isinstance(record, dict):
                continue
            step = record.get('step', record.get('iter'))
            if not isinstance(step, (int, float)):
                continue
            for name, value in record.items():
                if name in POSITION_KEYS or isinstance(value, bool):
                    continue
                if isinstance(value, (int, float)):
                    series.setdefault(name, []).append((int(step), float(value)))
    return series


def read_scalars(work_dir: str) -> Scalars:
    """Every logged scalar of the runs in ``work_dir``, joined (see the module docstring).

    Args:
        work_dir (str): An MMEngine work dir.

    Returns:
        dict[str, list[tuple[int, float]]]: ``(iteration, value)`` pairs by name, sorted by
        iteration; empty if nothing was logged yet.
    """
    joined: Scalars = {}
    for path in scalar_files(work_dir):
        run = _read_run(path)
        if not run:
            continue
        first = min(step for points in run.values() for step, _ in points)
        joined = {name: [p for p in points if p[0] < first] for name, points in joined.items()}
        for name, points in run.items():
            joined.setdefault(name, []).extend(points)
    return {name: sorted(points, key=lambda p: p[0]) for name, points in joined.items() if points}


def group_scalars(names: Sequence[str]) -> List[Tuple[str, str, List[str]]]:
    """Sort scalar names into :data:`GROUPS`.

    Returns:
        list[tuple[str, str, list[str]]]: ``(title, y label, names)`` of every group that
        holds a name, in :data:`GROUPS` order; names sorted within a group, the totals
        (``loss``) last.
    """
    members: Dict[int, List[str]] = {}
    for name in names:
        index = next(i for i, (_, _, pattern) in enumerate(GROUPS) if re.fullmatch(pattern, name))
        members.setdefault(index, []).append(name)
    return [(GROUPS[i][0], GROUPS[i][1], sorted(members[i], key=lambda n: (n == 'loss', n)))
            for i in sorted(members)]


def plot_curves(scalars: Scalars, out_file: str, title: Optional[str] = None,
                columns: int = 2) -> List[Tuple[str, str, List[str]]]:
    """Draw every scalar against iterations, one subplot per group, into a PNG.

    Args:
        scalars (dict[str, list[tuple[int, float]]]): As :func:`read_scalars` returns.
        out_file (str): The PNG to write (atomically; its folder is created).
        title (str, optional): Title above the subplots, e.g. the run's name.
        columns (int): Subplots per row. Defaults to 2.

    Returns:
        list[tuple[str, str, list[str]]]: The groups drawn, as :func:`group_scalars`.

    Raises:
        ValueError: If ``scalars`` is empty.
    """
    from matplotlib.figure import Figure

    if not scalars:
        raise ValueError(f'no scalars to plot into {out_file}')
    groups = group_scalars(list(scalars))
    columns = min(columns, len(groups))
    rows = math.ceil(len(groups) / columns)
    figure = Figure(figsize=(6.4 * columns, 3.6 * rows + (0.5 if title else 0)), dpi=100,
                    layout='constrained')
    if title:
        figure.suptitle(title, fontsize=14)
    axes = figure.subplots(rows, columns, squeeze=False).flatten()
    for ax, (group_title, ylabel, names) in zip(axes, groups):
        for name in names:
            steps, values = zip(*scalars[name])
            ax.plot(steps, values, label=LABELS.get(name, name), linewidth=1.5,
                    marker='o' if len(steps) <= MARKER_POINTS else None, markersize=3)
        ax.set_title(group_title)
        ax.set_xlabel('iteration')
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc='best')
        if ylabel == 'learning rate':
            ax.ticklabel_format(axis='y', style='sci', scilimits=(0, 0))
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png')
    write_bytes_atomic(out_file, buffer.getvalue())
    return groups


def plot_training_curves(work_dir: str, out_file: Optional[str] = None,
                         title: Optional[str] = None) -> str:
    """Read the scalars of ``work_dir`` (:func:`read_scalars`) and plot them.

    Args:
        work_dir (str): An MMEngine work dir.
        out_file (str, optional): The PNG. Defaults to ``<work_dir>/training_curves.png``.
        title (str, optional): Defaults to the work dir's name.

    Returns:
        str: The path written.

    Raises:
        FileNotFoundError: If ``work_dir`` holds no logged scalars.
    """
    scalars = read_scalars(work_dir)
    if not scalars:
        raise FileNotFoundError(
            f'no logged scalars in {work_dir!r}: expected <work_dir>/<timestamp>/vis_data/'
            f'{SCALARS_FILE}, which MMEngine writes with vis_backends=[dict(type='
            "'VisBackend')] once the LoggerHook has logged (every logger interval)")
    out_file = out_file or osp.join(work_dir, CURVES_FILE)
    plot_curves(scalars, out_file, title or osp.basename(osp.abspath(work_dir)))
    return out_file


__all__ = [
    'CURVES_FILE', 'GROUPS', 'group_scalars', 'plot_curves', 'plot_training_curves',
    'read_scalars', 'scalar_files'
]
