"""Every logged loss term and metric against iterations, as one PNG, from the
``<work_dir>/<timestamp>/vis_data/scalars.json`` files that MMEngine's ``VisBackend`` writes,
one per run. Drawn with matplotlib's object API: no display, pyplot left alone."""
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
POSITION_KEYS = ('step', 'iter', 'epoch')  # keys of scalars.json that are no values

# (title, y-axis label, pattern of the scalar names); a name goes to the first full match.
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
LABELS = {  # legend entries: what the terms mean
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
MARKER_POINTS = 30  # series with at most this many points (e.g. metrics) get markers

Scalars = Dict[str, List[Tuple[int, float]]]


def _read_run(path: str) -> Scalars:
    """The numeric scalars of one scalars.json, by name, in file order."""
    series: Scalars = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a killed run
            step = record.get('step', record.get('iter')) if isinstance(record, dict) else None
            if not isinstance(step, (int, float)):
                continue
            for name, value in record.items():
                if (name not in POSITION_KEYS and isinstance(value, (int, float))
                        and not isinstance(value, bool)):
                    series.setdefault(name, []).append((int(step), float(value)))
    return series


def read_scalars(work_dir: str) -> Scalars:
    """``(iteration, value)`` pairs by name, sorted, of every run in ``work_dir`` (empty if
    none logged yet). A later run replaces the points of earlier ones from its first step on
    (a resumed run repeats the iterations after its checkpoint; a fresh run all)."""
    joined: Scalars = {}
    pattern = osp.join(glob.escape(work_dir), '*', 'vis_data', SCALARS_FILE)
    runs = [_read_run(path) for path in sorted(glob.glob(pattern))]
    for run in filter(None, runs):  # runs that logged nothing yet are skipped
        first = min(step for points in run.values() for step, _ in points)
        joined = {name: [p for p in points if p[0] < first] for name, points in joined.items()}
        for name, points in run.items():
            joined.setdefault(name, []).extend(points)
    return {name: sorted(points, key=lambda p: p[0]) for name, points in joined.items() if points}


def group_scalars(names: Sequence[str]) -> List[Tuple[str, str, List[str]]]:
    """``(title, y label, names)`` of every :data:`GROUPS` entry holding a name, in that
    order; names sorted within a group, the total ``loss`` last."""
    members: Dict[int, List[str]] = {}
    for name in names:
        index = next(i for i, (_, _, pattern) in enumerate(GROUPS) if re.fullmatch(pattern, name))
        members.setdefault(index, []).append(name)
    return [(GROUPS[i][0], GROUPS[i][1], sorted(members[i], key=lambda n: (n == 'loss', n)))
            for i in sorted(members)]


def plot_curves(scalars: Scalars, out_file: str, title: Optional[str] = None,
                columns: int = 2) -> List[Tuple[str, str, List[str]]]:
    """Draw every scalar against iterations, one subplot per group, into a PNG written
    atomically; return the groups drawn (:func:`group_scalars`). ValueError if none."""
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
        ax.set(title=group_title, xlabel='iteration', ylabel=ylabel)
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
    """Plot the scalars of ``work_dir`` into ``out_file`` (default
    ``<work_dir>/training_curves.png``); return its path. FileNotFoundError if none."""
    scalars = read_scalars(work_dir)
    if not scalars:
        raise FileNotFoundError(
            f'no logged scalars in {work_dir!r}: expected <work_dir>/<timestamp>/vis_data/'
            f'{SCALARS_FILE}, which MMEngine writes with vis_backends=[dict(type='
            "'VisBackend')] once the LoggerHook has logged (every logger interval)")
    out_file = out_file or osp.join(work_dir, CURVES_FILE)
    plot_curves(scalars, out_file, title or osp.basename(osp.abspath(work_dir)))
    return out_file
