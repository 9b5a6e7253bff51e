"""One HTML page about a training run: curves, samples over time, and what the model learned.

    python tools/report.py WORK_DIR [--checkpoint CKPT] [--data DIR] [--out FILE]
                           [--num-samples N] [--memorisation-threshold T] [--max-strips N]
                           [--device D] [--sample-model ema|orig] [--batch-size B]
                           [--classes CLASS ...] [--num-projections N]

Examples:
    python tools/report.py work_dirs/fastgan_1024_pokemon
    python tools/report.py work_dirs/art --checkpoint work_dirs/art/iter_20000.pth --out art.html

The page (default ``WORK_DIR/report.html``) is one self-contained file: every image and
the interpolation video are embedded as data URIs, there is no script and nothing is
fetched. It shows

- the run: resolution, network widths, batch, iterations, data set folder and image count;
- every logged loss term and metric against iterations (``training_curves.png``, also
  written into the work dir; fastgan_plugin.visualization.curves);
- the EMA sample grids the ``VisualizationHook`` logged, one strip per iteration (fixed
  noise: a column is the same latent over time), and the discriminator's reconstruction
  grids (``ReconstructionGridHook``);
- for the checkpoint (default: the best one, else the latest): fresh samples, a grid over
  the truncation psi (rows 1.0 to 0.2, 8 seeds), an interpolation strip and video (MP4
  when ``imageio-ffmpeg`` is installed, else GIF), a style-mixing grid, and each sample's
  nearest training images with the memorisation score and a verdict, and projections of
  the first ``--num-projections`` training images (30 steps; unconditional models) (all
  from ``fastgan_plugin.apis``, the model loaded once).

For a class-conditional model, the fresh samples are one grid per class of ``--classes``
(names or indices; default: every class), the other checkpoint sections show the first.

``tools/train.py`` and ``tools/demo.py`` write it at the end of training.
"""
import argparse
import base64
import datetime
import glob
import html
import io
import math
import os
import os.path as osp
import re
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

import torch
from PIL import Image
from tqdm import tqdm

from fastgan_plugin.apis import (
    ImageDistance,
    init_model,
    interpolate,
    nearest_neighbors_grid,
    nearest_training_images,
    project,
    sample_images,
    select_generator,
    style_mix_grid,
    to_grid,
    to_pil,
)
from fastgan_plugin.apis.inference import SAMPLE_MODELS
from fastgan_plugin.apis.projection import load_image
from fastgan_plugin.datasets.few_shot_image_dataset import find_image_files
from fastgan_plugin.models.editors.fastgan.modules import resize_images
from fastgan_plugin.utils.checkpoint import find_resume_checkpoint
from fastgan_plugin.visualization.curves import CURVES_FILE, plot_curves, read_scalars
from tool_utils.cli import add_classes_argument, classes_from_args, positive_int, run
from tool_utils.video import write_video

REPORT_FILE = 'report.html'
# A generator that makes new images scores about the quantile (0.05) of the nearest-
# neighbour tool: with 16 samples it exceeds 0.2 (4 or more of 16) with probability 0.7 %
# (binomial), so a score above 0.2 is taken as memorisation.
MEMORISATION_THRESHOLD = 0.2
NN_QUANTILE = 0.05
NN_METRIC = 'pixel'
CELL = 96  # pixels per image in the strips
GRID_CELL = 128  # pixels per image in the sample and style-mixing grids
NN_CELL = 80  # pixels per image in the nearest-neighbour rows
MAX_SIDE = 1280  # longest side of an embedded grid
INTERPOLATION_SEEDS = (0, 1, 2, 3)
INTERPOLATION_STEPS = 12  # frames per pair of seeds (a loop of 48 frames)
INTERPOLATION_FPS = 12
STYLE_CONTENT_SEEDS = (0, 1, 2, 3)
STYLE_STYLE_SEEDS = (4, 5, 6, 7)
TRUNCATION_PSIS = (1.0, 0.8, 0.6, 0.4, 0.2)  # rows of the truncation grid
TRUNCATION_SEEDS = tuple(range(8))  # its columns
PROJECTION_STEPS = 30  # few: a glimpse at how well the generator reproduces its data
GRID_PADDING = 2  # torchvision's make_grid default, used by mmagic's visualizer


# --------------------------------------------------------------------------- the run
def run_folders(work_dir: str) -> List[str]:
    """``<work_dir>/<timestamp>`` folders that hold ``vis_data``, oldest first."""
    return sorted(osp.dirname(p) for p in glob.glob(osp.join(glob.escape(work_dir), '*',
                                                              'vis_data')))


def find_config(work_dir: str) -> str:
    """The config the run dumped: the newest ``<timestamp>/vis_data/config.py`` of a
    training run (one with logged scalars), else any, else ``<work_dir>/*.py``."""
    runs = run_folders(work_dir)
    trained = [r for r in runs if osp.isfile(osp.join(r, 'vis_data', 'scalars.json'))]
    for run_dir in reversed(trained + runs):
        path = osp.join(run_dir, 'vis_data', 'config.py')
        if osp.isfile(path):
            return path
    dumped = sorted(glob.glob(osp.join(glob.escape(work_dir), '*.py')), key=osp.getmtime)
    if dumped:
        return dumped[-1]
    raise FileNotFoundError(f'{work_dir!r} holds no config dumped by MMEngine (expected '
                            '<timestamp>/vis_data/config.py or <name>.py): is it a work dir '
                            'of tools/train.py?')


def find_checkpoint(work_dir: str) -> Tuple[str, str]:
    """(path, why): the newest ``best_*.pth``, else the checkpoint ``--resume`` would take."""
    best = sorted(glob.glob(osp.join(glob.escape(work_dir), 'best_*.pth')), key=osp.getmtime)
    if best:
        return best[-1], 'the best checkpoint'
    latest = find_resume_checkpoint(work_dir)
    if latest is None:
        raise FileNotFoundError(f'{work_dir!r} holds no checkpoint (best_*.pth, last_checkpoint '
                                'or iter_*.pth): pass --checkpoint CKPT')
    return latest, 'the latest checkpoint'


def logged_images(work_dir: str, name: str) -> Dict[int, str]:
    """``vis_image/<name>_<iteration>.png`` of the work dir's runs, by iteration.

    Runs are joined as the curves are: a later run replaces the images of earlier ones
    from its first image on (a resumed run repeats the iterations after its checkpoint).
    """
    joined: Dict[int, str] = {}
    pattern = re.compile(re.escape(name) + r'_(\d+)\.png')
    for run_dir in run_folders(work_dir):
        found = {}
        for path in glob.glob(osp.join(glob.escape(run_dir), 'vis_data', 'vis_image', '*.png')):
            match = pattern.fullmatch(osp.basename(path))
            if match:
                found[int(match.group(1))] = path
        if found:
            joined = {step: p for step, p in joined.items() if step < min(found)}
            joined.update(found)
    return dict(sorted(joined.items()))


def spread(items: list, count: int) -> list:
    """At most ``count`` items, evenly spaced, the first and last included."""
    if len(items) <= count:
        return list(items)
    if count == 1:
        return items[-1:]
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


# -------------------------------------------------------------------------- images
def data_uri(data: bytes, mime: str) -> str:
    return f'data:{mime};base64,{base64.b64encode(data).decode("ascii")}'


def png_uri(image: Image.Image, max_side: int = MAX_SIDE) -> str:
    image = image.convert('RGB')
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format='PNG', optimize=True)
    return data_uri(buffer.getvalue(), 'image/png')


def strip(cells: List[Image.Image], cell: int = CELL) -> Image.Image:
    """Images side by side at ``cell`` pixels, white between them."""
    out = Image.new('RGB', (len(cells) * (cell + GRID_PADDING) + GRID_PADDING,
                            cell + 2 * GRID_PADDING), 'white')
    for index, image in enumerate(cells):
        image = image.convert('RGB').resize((cell, cell), Image.Resampling.LANCZOS)
        out.paste(image, (GRID_PADDING + index * (cell + GRID_PADDING), GRID_PADDING))
    return out


def grid_cells(grid: Image.Image, size: int) -> List[Image.Image]:
    """The ``size``-pixel images of a make_grid grid (padding 2), row by row, without the
    black cells that pad a grid whose count is not a multiple of its rows; the whole grid
    when its size does not fit."""
    width, height = grid.size
    step = size + GRID_PADDING
    if (width - GRID_PADDING) % step or (height - GRID_PADDING) % step:
        return [grid]
    cells = [
        grid.crop((GRID_PADDING + c * step, GRID_PADDING + r * step,
                   GRID_PADDING + c * step + size, GRID_PADDING + r * step + size))
        for r in range((height - GRID_PADDING) // step)
        for c in range((width - GRID_PADDING) // step)
    ]
    while len(cells) > 1 and cells[-1].convert('L').getextrema() == (0, 0):
        cells.pop()
    return cells


# ---------------------------------------------------------------------------- HTML
STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1400px;
       padding: 0 16px; color: #222; }
h1 { margin-bottom: 4px; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px;
     margin-top: 36px; }
.muted { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; margin: 8px 0; }
td, th { border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
img, video { max-width: 100%; height: auto; }
video { width: 320px; }
.row { display: flex; align-items: center; gap: 12px; margin: 4px 0; }
.row .label { width: 110px; flex: none; text-align: right; font-variant-numeric: tabular-nums; }
.row img { min-width: 0; }  /* long strips shrink to the page's width */
.tiles { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.tiles figure { margin: 0; } .tiles figcaption { text-align: center; font-size: 0.9em; }
.verdict { padding: 12px 16px; border-radius: 6px; margin: 12px 0; font-size: 1.05em; }
.ok { background: #e6f4ea; border: 1px solid #34a853; }
.bad { background: #fce8e6; border: 1px solid #ea4335; }
.warn { background: #fef7e0; border: 1px solid #f9ab00; padding: 8px 12px; }
"""


def esc(value) -> str:
    return html.escape(str(value))


def img_tag(uri: str, alt: str, css_class: str = '') -> str:
    klass = f' class="{css_class}"' if css_class else ''
    return f'<img{klass} src="{uri}" alt="{esc(alt)}">'


def table(rows: List[Tuple[str, str]]) -> str:
    """A two-column table; keys and values are escaped."""
    body = ''.join(f'<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in rows)
    return f'<table>{body}</table>'


def warning(text: str) -> str:
    return f'<p class="warn">{esc(text)}</p>'


# -------------------------------------------------------------------------- sections
def summary_section(model, work_dir: str, checkpoint: str, why: str, data: Optional[str],
                    count: Optional[int]) -> str:
    cfg, trained = model.cfg, model.checkpoint_meta.get('iter')
    generator, discriminator = cfg.model.generator, cfg.model.discriminator
    loader = cfg.get('train_dataloader') or {}
    metrics = [m.get('prefix') or m.get('type') for m in
               ((cfg.get('val_evaluator') or {}).get('metrics') or [])]
    optim = cfg.get('optim_wrapper') or {}

    def lr(name):
        return ((optim.get(name) or {}).get('optimizer') or {}).get('lr', '?')

    rows = [
        ('resolution', f'{generator.im_size} x {generator.im_size} px'),
        ('widths', f'generator ngf={generator.get("ngf")}, nz={generator.get("nz")}; '
                   f'discriminator ndf={discriminator.get("ndf")}'),
        ('batch', f'{loader.get("batch_size")} images per process'),
        ('iterations', f'{trained if trained is not None else "?"} trained of '
                       f'{(cfg.get("train_cfg") or {}).get("max_iters")} configured'),
        ('data set', f'{data or "not set"} '
                     + (f'({count} images)' if count is not None else '(not found)')),
        ('learning rates', f'generator {lr("generator")}, discriminator {lr("discriminator")}'),
        ('reconstruction loss', (cfg.model.get('rec_loss') or {}).get('distance', '?')),
        ('EMA', cfg.model.get('ema_config') or 'none'),
        ('validation metrics', ', '.join(map(str, metrics)) or 'none'),
        ('seed', (cfg.get('randomness') or {}).get('seed')),
        ('checkpoint', f'{checkpoint} ({why})'),
        ('work dir', osp.abspath(work_dir)),
    ]
    return '<h2 id="run">The run</h2>' + table(rows)


def curves_section(work_dir: str) -> str:
    scalars = read_scalars(work_dir)
    head = '<h2 id="curves">Loss terms and metrics</h2>'
    if not scalars:
        return head + warning(f'nothing was logged in {work_dir} (no vis_data/scalars.json)')
    path = osp.join(work_dir, CURVES_FILE)
    groups = plot_curves(scalars, path, osp.basename(osp.abspath(work_dir)))
    with open(path, 'rb') as f:
        curves = img_tag(data_uri(f.read(), 'image/png'), 'training curves', 'plot')
    last = [(name, f'{points[-1][1]:.4g} at iteration {points[-1][0]}')
            for _, _, names in groups for name in names
            for points in [scalars[name]]]
    return (head + '<p class="muted">Each subplot is one group of logged values against '
            'iterations (loss values are LogProcessor averages over its window). The '
            'discriminator minimises the hinge and reconstruction terms, the generator '
            f'minimises loss_gen; a PNG copy is {esc(path)}.</p>' + curves +
            '<details><summary>Last logged values</summary>' + table(last) + '</details>')


def samples_over_time_section(work_dir: str, im_size: int, max_strips: int) -> str:
    head = ('<h2 id="samples-over-time">EMA samples over time</h2><p class="muted">The grids '
            'the VisualizationHook logged, one strip per iteration; with fixed_input a column '
            'is the same latent vector throughout.</p>')
    grids = logged_images(work_dir, 'fake_img')
    if not grids:
        return head + warning('no sample grids were logged (vis_image/fake_img_*.png)')
    shown = spread(list(grids), max_strips)
    rows = []
    for step in shown:
        with Image.open(grids[step]) as grid:
            cells = grid_cells(grid.convert('RGB'), im_size)
        rows.append(f'<div class="row"><span class="label">iteration {step}</span>'
                    f'{img_tag(png_uri(strip(cells), 4096), f"EMA samples at {step}")}</div>')
    note = (f'<p class="muted">{len(shown)} of {len(grids)} logged iterations.</p>'
            if len(shown) < len(grids) else '')
    return head + note + ''.join(rows)


def reconstructions_section(work_dir: str, max_strips: int) -> str:
    head = ('<h2 id="reconstructions">Discriminator reconstructions</h2><p class="muted">'
            'Per row: real image | decoded from the 8x8 features | decoded from the small '
            'branch | the quadrant it should decode | decoded quadrant (all at 128 px). '
            'Sharper decodings mean the discriminator still learns image features.</p>')
    grids = logged_images(work_dir, 'reconstruction')
    if not grids:
        return head + warning('no reconstruction grids were logged '
                              '(vis_image/reconstruction_*.png)')
    tiles = []
    for step in spread(list(grids), max_strips):
        with Image.open(grids[step]) as grid:
            uri = png_uri(grid, 400)
        tiles.append(f'<figure>{img_tag(uri, f"reconstructions at {step}")}'
                     f'<figcaption>iteration {step}</figcaption></figure>')
    return head + '<div class="tiles">' + ''.join(tiles) + '</div>'


def video_tag(path: str) -> str:
    with open(path, 'rb') as f:
        data = f.read()
    if path.endswith('.mp4'):
        return (f'<video controls loop muted preload="auto" '
                f'src="{data_uri(data, "video/mp4")}"></video>')
    return img_tag(data_uri(data, 'image/gif'), 'interpolation video')


def memorisation_verdict(result: dict, threshold: float) -> Tuple[bool, str]:
    """(memorises, sentence) for a result of ``fastgan_plugin.apis.nearest_training_images``."""
    score = result['score']
    facts = (f'{int(result["memorised"].sum())} of {len(result["seeds"])} samples (score '
             f'{score:.2f}) are closer to a training image ({NN_METRIC} distance below '
             f'{result["threshold"]:.4f}) than {1 - NN_QUANTILE:.0%} of the training images '
             f'are to their nearest other training image. New images score about '
             f'{NN_QUANTILE:.2f}; copies score 1.')
    if score > threshold:
        return True, (f'Likely memorisation: the score is above the threshold {threshold:.2f} '
                      f'of this report. {facts} Compare the rows below: near-copies of '
                      'training images mean the generator reproduces its data set.')
    return False, (f'No sign of memorisation: the score is at most the threshold '
                   f'{threshold:.2f} of this report. {facts} A low score says nothing about '
                   'quality: poor samples are far from every training image too.')


def nearest_section(result: dict, data: str, cell: int, threshold: float) -> str:
    memorises, sentence = memorisation_verdict(result, threshold)
    rows = [(f'seed {seed}', f'{distances[0]:.4f} to '
             f'{osp.relpath(result["train_paths"][indices[0]], data)}'
             + (' (closer than the threshold)' if memorised else ''))
            for seed, memorised, indices, distances in zip(
                result['seeds'], result['memorised'].tolist(), result['nn_indices'].tolist(),
                result['nn_distances'].tolist())]
    uri = png_uri(nearest_neighbors_grid(result, cell), 2400)
    return ('<h3 id="memorisation">Nearest training images and memorisation</h3>'
            f'<div class="verdict {"bad" if memorises else "ok"}">{esc(sentence)}</div>'
            '<div class="tiles"><figure>' + img_tag(uri, 'nearest training images') +
            '<figcaption>per row: sample, then its nearest training images, nearest first'
            '</figcaption></figure><div><p>Distance of each sample to its nearest training '
            'image:</p>' + table(rows) + '</div></div>')


def projection_section(model, data: str, args) -> str:
    """Projections (fastgan_plugin.apis.project, few steps) of the first training images."""
    generator = select_generator(model, args.sample_model)
    rows, objective = [], ''
    for name in find_image_files(data)[0][:args.num_projections]:
        target = load_image(osp.join(data, name), generator.im_size,
                            img_channels=generator.img_channels)
        result = project(model, target, PROJECTION_STEPS, frame_every=PROJECTION_STEPS // 3,
                         sample_model=args.sample_model, batch_size=args.batch_size)
        objective = result.distance
        uri = png_uri(strip(to_pil(torch.cat([target, result.frames]))), 4096)
        rows.append(f'<div class="row"><span class="label">{esc(name)}</span>'
                    f'{img_tag(uri, f"projection of {name}")}</div>')
    return ('<h3 id="projection">Projections of training images</h3><p class="muted">Per row: '
            'a training image, then the latent found by tools/project.py after 0 (the best of '
            f'16 seeds), {PROJECTION_STEPS // 3}, {2 * PROJECTION_STEPS // 3} and '
            f'{PROJECTION_STEPS} steps (objective: {esc(objective)}). A generator that covers '
            'its data comes close; tools/project.py --steps 200 comes closer.</p>'
            + ''.join(rows))


def checkpoint_section(model, args, checkpoint: str, data: Optional[str], progress: tqdm,
                       scratch: str) -> Tuple[str, Optional[int]]:
    """The checkpoint's part of the page, and the number of training images (None: not
    found)."""
    im_size = model.generator.im_size
    seeds = list(range(args.num_samples))
    classes = classes_from_args(model, args)  # [(None, None)]: an unconditional model
    # A conditional model: a sample grid per class, the other sections of the first class.
    options = dict(batch_size=args.batch_size, sample_model=args.sample_model,
                   classes=classes[0][0])
    parts = [f'<h2 id="checkpoint">What {esc(osp.basename(checkpoint))} generates</h2>']
    if classes[0][1] is not None:
        parts.append(f'<p>A class-conditional model: fresh samples of each class (--classes), '
                     f'the other sections of class {esc(classes[0][1])}.</p>')

    progress.set_postfix_str('fresh samples')
    columns = math.ceil(math.sqrt(len(seeds)))
    parts.append(f'<h3>Fresh samples</h3><p class="muted">{args.sample_model} generator, seeds '
                 f'0 to {len(seeds) - 1} (tools/generate.py --seed 0 makes the same images).</p>')
    for label, name in classes:
        samples = sample_images(model, seeds, progress=not args.quiet,
                                **dict(options, classes=label))
        samples = resize_images(samples.clamp(-1, 1), min(im_size, GRID_CELL), 'area')
        grid = img_tag(png_uri(to_grid(samples, columns)), f'fresh samples {name or ""}'.strip())
        parts.append(grid if name is None else f'<h4>class {esc(name)}</h4>{grid}')
    progress.update()

    progress.set_postfix_str('truncation')
    rows = [f'<div class="row"><span class="label">psi {psi:.1f}</span>' + img_tag(png_uri(
        strip(sample_images(model, TRUNCATION_SEEDS, truncation=psi, as_pil=True, **options)),
        4096), f'truncation psi {psi:.1f}') + '</div>' for psi in TRUNCATION_PSIS]
    parts.append('<h3 id="truncation">Truncation</h3><p class="muted">Seeds '
                 f'{TRUNCATION_SEEDS[0]} to {TRUNCATION_SEEDS[-1]} (columns) with their latent '
                 'and injection noise scaled by psi toward the mean (tools/generate.py '
                 '--truncation PSI): lower psi, more typical and less diverse images; psi 1 is '
                 'the plain sample.</p>' + ''.join(rows))
    progress.update()

    progress.set_postfix_str('interpolation')
    frames = to_pil(interpolate(model, INTERPOLATION_SEEDS, INTERPOLATION_STEPS, loop=True,
                                progress=not args.quiet, **options))
    video = write_video(frames, scratch, INTERPOLATION_FPS, 'auto')
    shown = frames[::INTERPOLATION_STEPS // 4] + frames[:1]
    parts.append('<h3>Interpolation</h3><p class="muted">Spherical interpolation through seeds '
                 f'{", ".join(map(str, INTERPOLATION_SEEDS))} and back (one frame '
                 f'in {INTERPOLATION_STEPS // 4}; the video has all {len(frames)}, '
                 f'{INTERPOLATION_FPS} per second). Smooth '
                 'changes mean a continuous latent space.</p>'
                 + img_tag(png_uri(strip(shown), 4096), 'interpolation strip', 'strip')
                 + f'<p>{video_tag(video)}</p>')
    progress.update()

    progress.set_postfix_str('style mixing')
    mix = style_mix_grid(model, STYLE_CONTENT_SEEDS, STYLE_STYLE_SEEDS,
                         progress=not args.quiet, **options)
    mix_side = (len(STYLE_STYLE_SEEDS) + 1) * (GRID_CELL + GRID_PADDING)
    parts.append('<h3>Style mixing</h3><p class="muted">Top row: style images; left column: '
                 'content images; each cell is the content generated with the SLE gates '
                 'computed from the style (tools/style_mix.py).</p>'
                 + img_tag(png_uri(mix, mix_side), 'style mixing grid'))
    progress.update()

    progress.set_postfix_str('nearest neighbours')
    count = None
    if data and osp.isdir(data):
        cell = min(NN_CELL, im_size)
        result = nearest_training_images(model, data, seeds, ImageDistance(NN_METRIC),
                                         quantile=NN_QUANTILE, image_size=cell,
                                         progress=not args.quiet, **options)
        count = len(result['train_paths'])
        parts.append(nearest_section(result, data, cell, args.memorisation_threshold))
    else:
        parts.append('<h3 id="memorisation">Nearest training images and memorisation</h3>'
                     + warning(f'the training images were not found at {data!r}: no '
                               'memorisation verdict. Pass --data DIR.'))
        print(f'warning: no training images at {data!r}: the report has no memorisation '
              'verdict (pass --data DIR)', file=sys.stderr)
    if args.num_projections and count and classes[0][1] is None:
        progress.set_postfix_str('projections')
        parts.append(projection_section(model, data, args))
    progress.update()
    return ''.join(parts), count


def build_report(args: argparse.Namespace) -> str:
    """Write the page for ``args`` (see :func:`parse_args`); returns its path."""
    work_dir = args.work_dir
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'work dir {work_dir!r} does not exist')
    if args.checkpoint:
        if not osp.isfile(args.checkpoint):
            raise FileNotFoundError(f'--checkpoint {args.checkpoint!r} does not exist')
        checkpoint, why = args.checkpoint, 'given with --checkpoint'
    else:
        checkpoint, why = find_checkpoint(work_dir)
    if args.data and not osp.isdir(args.data):
        raise FileNotFoundError(f'--data {args.data!r} is not a folder of training images')
    config = find_config(work_dir)
    out = args.out or osp.join(work_dir, REPORT_FILE)

    steps = tqdm(total=8, desc='report', unit='part', disable=args.quiet)
    model = init_model(config, checkpoint, args.device)
    if args.sample_model == 'ema' and not model.with_ema_gen:
        args.sample_model = 'orig'  # a config without EMA: its only generator
    data = args.data or ((model.cfg.get('train_dataloader') or {}).get('dataset') or {}).get(
        'data_root')
    name = osp.basename(osp.abspath(work_dir))
    steps.set_postfix_str('curves')
    body = [curves_section(work_dir)]
    steps.update()
    body.append(samples_over_time_section(work_dir, model.generator.im_size, args.max_strips))
    body.append(reconstructions_section(work_dir, args.max_strips))
    steps.update()
    with tempfile.TemporaryDirectory() as scratch:
        section, count = checkpoint_section(model, args, checkpoint, data, steps, scratch)
    body += [section]
    body.insert(0, summary_section(model, work_dir, checkpoint, why, data, count))
    steps.update()
    steps.close()
    now = datetime.datetime.now().strftime('%Y-%m-%d %H:%M')
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>FastGAN report: {esc(name)}</title><style>{STYLE}</style></head><body>'
        f'<h1>FastGAN training report: {esc(name)}</h1>'
        f'<p class="muted">Written {now} by tools/report.py from {esc(osp.abspath(work_dir))}.'
        ' Sections: <a href="#run">run</a>, <a href="#curves">curves</a>, '
        '<a href="#samples-over-time">samples over time</a>, '
        '<a href="#reconstructions">reconstructions</a>, <a href="#checkpoint">checkpoint'
        '</a>, <a href="#memorisation">memorisation</a>.</p>'
        + ''.join(body) + '</body></html>\n')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w', encoding='utf-8') as f:
        f.write(page)
    return out


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='An HTML report of a FastGAN training run')
    parser.add_argument('work_dir', help='work dir of tools/train.py (or tools/demo.py)')
    parser.add_argument('--checkpoint', help='checkpoint to sample from (default: the best '
                        'one, else the latest)')
    parser.add_argument('--data', help='folder of the training images (default: the '
                        "config's train_dataloader.dataset.data_root)")
    parser.add_argument('--out', help=f'page to write (default: WORK_DIR/{REPORT_FILE})')
    parser.add_argument('--num-samples', type=positive_int, default=16,
                        help='fresh samples, also compared with the training images '
                        '(default: 16)')
    parser.add_argument('--memorisation-threshold', type=float,
                        default=MEMORISATION_THRESHOLD,
                        help='memorisation score above which the verdict is "likely '
                        f'memorisation" (default: {MEMORISATION_THRESHOLD})')
    parser.add_argument('--max-strips', type=positive_int, default=12,
                        help='logged iterations shown, evenly spaced (default: 12)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='device to sample on (default: cuda if available, else cpu)')
    parser.add_argument('--sample-model', choices=SAMPLE_MODELS, default='ema',
                        help='generator to sample with (default: ema)')
    parser.add_argument('--batch-size', type=positive_int, default=8,
                        help='images per generator call (default: 8)')
    parser.add_argument('--num-projections', type=int, default=3,
                        help=f'training images projected ({PROJECTION_STEPS} steps each; 0: '
                        'none) (default: 3)')
    parser.add_argument('--quiet', action='store_true', help='no progress bars')
    add_classes_argument(parser)
    args = parser.parse_args(argv)
    if not 0 <= args.memorisation_threshold <= 1:
        parser.error('--memorisation-threshold must be in [0, 1]')
    return args


def main(argv=None):
    out = build_report(parse_args(argv))
    print(f'training report: {osp.abspath(out)}')


if __name__ == '__main__':
    run(main)
