"""tools/report.py on the work dir of a real tiny training run, checked in headless Chromium.

The run goes through MMEngine's Runner with configs/fastgan/fastgan_256_obama.py made tiny (the
architecture of the ``tiny_files`` checkpoint), validated with FID and KID on a small
TorchScript network standing in for Inception (no download), so that the work dir holds
what a real one does: scalars.json with losses and metrics, sample and reconstruction
grids, a best checkpoint, the dumped config, and the curves of the TrainingCurvesHook.
"""
import base64
import glob
import html.parser
import importlib.util
import io
import os
import types
from pathlib import Path

import numpy as np
import pytest
from mmengine.runner import Runner
from PIL import Image

from fastgan_plugin.apis import generate_to_folder, init_model
from fastgan_plugin.apis.config import load_config
from helpers.feature_extractor import offline_fid_kid_metrics
from tool_utils.demo_data import make_demo_images

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / 'configs' / 'fastgan' / 'fastgan_256_obama.py')
DEMO_CONFIG = str(REPO / 'configs' / 'fastgan' / 'fastgan_demo_cpu.py')
ITERS = 6
VIS_INTERVAL = 2
REQUIRE_BROWSER_ENV = 'FASTGAN_REQUIRE_BROWSER'
HTML_NAME = 'copies <img src=x onerror=alert(1)>'  # must show as text, not as an image

pytestmark = pytest.mark.slow  # real training runs


def train_tiny_run(root) -> str:
    """Train 6 iterations at tiny widths into ``root/work``; returns the work dir."""
    data = str(root / 'data')
    make_demo_images(data, 8, size=256)
    metrics = offline_fid_kid_metrics(str(root), num_subsets=2)
    loader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                  dataset=dict(data_root=data))
    options = {
        'model.generator.ngf': 8, 'model.generator.nz': 16, 'model.discriminator.ndf': 8,
        'model.rec_loss': dict(type='ReconstructionLoss', distance='l1'),
        'train_dataloader': loader, 'val_dataloader': loader,
        'train_cfg.max_iters': ITERS, 'train_cfg.val_interval': 3,
        'val_evaluator.metrics': metrics, 'test_dataloader': None, 'test_cfg': None,
        'test_evaluator': None,
        'default_hooks.checkpoint.interval': 3, 'default_hooks.logger.interval': 1,
        'custom_hooks': [
            dict(type='VisualizationHook', interval=VIS_INTERVAL, fixed_input=True,
                 n_samples=4, vis_kwargs_list=dict(type='GAN', name='fake_img',
                                                   sample_model='ema')),
            dict(type='ReconstructionGridHook', interval=VIS_INTERVAL, n_samples=2),
            dict(type='TrainingCurvesHook'),
        ],
    }
    work_dir = str(root / 'work')
    Runner.from_cfg(load_config(CONFIG, options, work_dir)).train()
    return work_dir


class PageParser(html.parser.HTMLParser):
    """The tags of a page: images, videos, scripts, links, and its text."""

    def __init__(self):
        super().__init__()
        self.images, self.videos, self.scripts, self.links, self.text = [], [], 0, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'img':
            self.images.append(attrs)
        elif tag == 'video':
            self.videos.append(attrs)
        elif tag == 'script':
            self.scripts += 1
        elif tag in ('a', 'link') and 'href' in attrs:
            self.links.append(attrs['href'])

    def handle_data(self, data):
        self.text.append(data)


def parse(path) -> PageParser:
    parser = PageParser()
    parser.feed(open(path, encoding='utf-8').read())
    parser.text = ' '.join(' '.join(parser.text).split())
    return parser


def decode(uri: str) -> Image.Image:
    assert uri.startswith('data:image/')
    return Image.open(io.BytesIO(base64.b64decode(uri.split(',', 1)[1])))


@pytest.fixture(scope='module')
def reports(tmp_path_factory, tiny_files, load_tool, run_tool):
    """Two reports of one run: ``default`` (best checkpoint, the training images; MP4 when
    imageio-ffmpeg is installed) and ``copies`` (the trained-like ``tiny_files`` checkpoint,
    compared with a 'training set' of its own samples, the video as GIF, in a folder whose
    name is HTML)."""
    root = tmp_path_factory.mktemp('report_run')
    work_dir = train_tiny_run(root)
    result = run_tool('report', work_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    default = os.path.join(work_dir, 'report.html')
    assert f'training report: {default}' in result.stdout
    assert 'report: 100%' in result.stderr  # the progress bar

    checkpoint = tiny_files[1]
    copies_data = str(root / HTML_NAME)
    generate_to_folder(init_model(tiny_files[0], checkpoint), copies_data, range(16))
    copies = str(root / 'copies.html')
    real_find_spec = importlib.util.find_spec
    with pytest.MonkeyPatch.context() as patch:  # as without imageio-ffmpeg
        patch.setattr(importlib.util, 'find_spec', lambda name, *args: None
                      if name == 'imageio_ffmpeg' else real_find_spec(name, *args))
        load_tool('report').main([work_dir, '--checkpoint', checkpoint, '--data', copies_data,
                                  '--out', copies])
    return dict(work_dir=work_dir, default=default, copies=copies)


def test_page_is_self_contained(reports):
    for name in ('default', 'copies'):
        page = parse(reports[name])
        assert page.scripts == 0
        sources = [image['src'] for image in page.images] + [v['src'] for v in page.videos]
        assert sources and all(src.startswith('data:') for src in sources)
        assert all(link.startswith('#') for link in page.links)


def test_default_report_shows_the_run(reports):
    work_dir = reports['work_dir']
    page = parse(reports['default'])
    text = page.text
    assert 'resolution 256 x 256 px' in text
    assert 'generator ngf=8, nz=16; discriminator ndf=8' in text
    best = glob.glob(os.path.join(work_dir, 'best_FID-Full_fid_iter_*.pth'))
    assert len(best) == 1 and f'{best[0]} (the best checkpoint)' in text
    trained = int(best[0].rsplit('_', 1)[1][:-len('.pth')])
    assert f'{trained} trained of {ITERS} configured' in text
    assert '(8 images)' in text
    # curves: one plot, also written into the work dir by the hook and the report
    plots = [image for image in page.images if image.get('class') == 'plot']
    assert len(plots) == 1
    assert decode(plots[0]['src']).size == Image.open(
        os.path.join(work_dir, 'training_curves.png')).size
    for term in ('loss_disc_real', 'loss_rec_big', 'loss_gen', 'FID-Full/fid',
                 'KID-Full/kid_x1e3'):
        assert term in text  # the table of last logged values
    # a strip per logged iteration (4 samples each) and every reconstruction grid
    strips = [image for image in page.images if image['alt'].startswith('EMA samples at')]
    logged = list(range(VIS_INTERVAL, ITERS + 1, VIS_INTERVAL))
    assert [image['alt'] for image in strips] == [f'EMA samples at {i}' for i in logged]
    assert decode(strips[0]['src']).size == (4 * 98 + 2, 100)
    recs = [image for image in page.images if image['alt'].startswith('reconstructions at')]
    assert len(recs) == len(logged)
    fresh = next(image for image in page.images if image['alt'] == 'fresh samples')
    assert decode(fresh['src']).size == (4 * 130 + 2, 4 * 130 + 2)  # 16 samples at 128 px
    assert any(image['alt'] == 'style mixing grid' for image in page.images)

    assert any(image['alt'] == 'nearest training images' for image in page.images)
    assert 'memorisation' in text.lower() and 'threshold 0.20' in text


def test_truncation_grid(reports):
    # a strip of 8 seeds per psi, less diverse as psi falls (the trained-like checkpoint: the
    # 6-iteration run's samples are all alike)
    page = parse(reports['copies'])
    truncated = {image['alt']: decode(image['src']) for image in page.images
                 if image['alt'].startswith('truncation psi')}
    assert list(truncated) == [f'truncation psi {psi}' for psi in ('1.0', '0.8', '0.6', '0.4',
                                                                   '0.2')]
    assert all(strip.size == (8 * 98 + 2, 100) for strip in truncated.values())
    spread = [np.stack([np.asarray(strip.convert('RGB'), np.float32)[2:98, 2 + i * 98:96 + i * 98]
                        for i in range(8)]).std(axis=0).mean() for strip in truncated.values()]
    assert all(high > low for high, low in zip(spread, spread[1:])) and spread[-1] > 0, spread
    assert 'Truncation' in page.text


def test_projections_of_training_images(reports):
    # per training image a strip: the image, then the reconstruction at steps 0, 10, 20, 30;
    # the 'training images' of the copies report are samples of seeds 0..15, the candidates
    # projection starts from: step 0 is the image itself
    page = parse(reports['copies'])
    strips = [image for image in page.images if image['alt'].startswith('projection of ')]
    assert [image['alt'] for image in strips] == [f'projection of seed_{i:06d}.png'
                                                  for i in range(3)]
    for image in strips:
        cells = np.asarray(decode(image['src']).convert('RGB'), np.float32)
        assert cells.shape == (100, 5 * 98 + 2, 3)
        target, start = cells[2:98, 2:98], cells[2:98, 100:196]
        assert np.abs(target - start).max() <= 2  # resampled to 96 px twice
    assert 'objective: multi-scale pixel MSE' in page.text
    assert sum(image['alt'].startswith('projection of ') for image in
               parse(reports['default']).images) == 3


def test_verdict_of_samples_that_copy_the_training_set(reports):
    # every sample was saved as a 'training image': all of them are near-copies
    text = parse(reports['copies']).text
    assert 'Likely memorisation' in text
    assert '16 of 16 samples (score 1.00)' in text
    assert 'given with --checkpoint' in text
    assert f'{HTML_NAME} (16 images)' in text  # escaped: the page has only data: images


def test_verdict_of_samples_that_do_not_copy(reports):
    text = parse(reports['default']).text
    assert 'No sign of memorisation' in text


def test_interpolation_video(reports):
    gif = [image for image in parse(reports['copies']).images
           if image['alt'] == 'interpolation video']
    assert len(gif) == 1 and decode(gif[0]['src']).n_frames == 4 * 11
    videos = parse(reports['default']).videos
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        assert not videos
    else:
        assert len(videos) == 1 and videos[0]['src'].startswith('data:video/mp4;base64,')


def test_train_writes_the_report(tmp_path, run_tool):
    data, work = tmp_path / 'data', tmp_path / 'work'
    make_demo_images(str(data), 4, size=256)
    config = tmp_path / 'tiny.py'
    config.write_text(f"""_base_ = '{DEMO_CONFIG}'
model = dict(generator=dict(ngf=8, nz=16), discriminator=dict(ndf=8))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root='{data}'))
val_dataloader = dict(num_workers=0, dataset=dict(data_root='{data}'))
train_cfg = dict(max_iters=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
""")
    result = run_tool('train', config, '--work-dir', work)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f'Training report: {work / "report.html"}' in result.stdout
    assert 'No sign of memorisation' in parse(work / 'report.html').text
    assert (work / 'training_curves.png').is_file()


def test_train_warns_when_the_report_fails(tmp_path, load_tool, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / 'tools'))  # as when train.py runs as a script
    messages = []
    logger = types.SimpleNamespace(warning=messages.append, info=messages.append)
    load_tool('train').write_report(str(tmp_path / 'gone'), logger)  # no exception
    assert len(messages) == 1
    assert messages[0].startswith('the training report could not be written '
                                  '(FileNotFoundError: work dir')
    assert f'python tools/report.py {tmp_path / "gone"}' in messages[0]


def test_missing_work_dir_is_refused(tmp_path, run_tool):
    result = run_tool('report', tmp_path / 'nothing')
    assert result.returncode == 1
    assert 'does not exist' in result.stderr


def load_check_report():
    spec = importlib.util.spec_from_file_location(
        'tool_check_report', REPO / 'tools' / 'analysis_tools' / 'check_report.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_in_headless_chromium(reports):
    check = load_check_report()
    missing = check.browser_missing()
    if missing:
        if os.environ.get(REQUIRE_BROWSER_ENV, '0') not in ('', '0'):
            pytest.fail(f'{REQUIRE_BROWSER_ENV} is set and the browser test cannot run: '
                        f'{missing}')
        pytest.skip(f'NOT RUN: the report was not opened in a browser: {missing}')
    for name in ('default', 'copies'):
        result = check.inspect_report(reports[name])
        assert result['problems'] == [], name
        assert result['images'] and all(i['width'] > 0 for i in result['images'])
        assert sum(i['className'] == 'plot' for i in result['images']) == 1
        assert 'memorisation' in (result['verdict'] or '')
    assert 'Likely memorisation' in check.inspect_report(reports['copies'])['verdict']


def test_conditional_model_has_a_sample_grid_per_class(tiny_conditional_files, tmp_path,
                                                       load_tool):
    config, checkpoint = tiny_conditional_files
    work_dir = tmp_path / 'work'  # no training logs: only the checkpoint's sections matter
    work_dir.mkdir()
    (work_dir / 'tiny_conditional.py').write_text(Path(config).read_text())
    model = init_model(config, checkpoint)
    for name in ('cat', 'dog'):
        generate_to_folder(model, str(tmp_path / 'data'), range(2), classes=name)
    out = tmp_path / 'report.html'
    load_tool('report').main([str(work_dir), '--checkpoint', checkpoint, '--data',
                              str(tmp_path / 'data'), '--num-samples', '4', '--classes', 'dog',
                              'cat', '--out', str(out), '--quiet'])
    page = parse(out)
    grids = {image['alt']: decode(image['src']) for image in page.images
             if image['alt'].startswith('fresh samples')}
    assert list(grids) == ['fresh samples dog', 'fresh samples cat']
    assert grids['fresh samples dog'].size == (2 * 130 + 2, 2 * 130 + 2)
    assert grids['fresh samples dog'].tobytes() != grids['fresh samples cat'].tobytes()
    assert 'class dog' in page.text and 'class cat' in page.text
    assert 'the other sections of class dog' in page.text
    assert '2 of 4 samples (score 0.50)' in page.text  # dog seeds 0 and 1 are in the data
