"""init_model, seeded sampling, and the ways to load a checkpoint (path, URL, load_from,
init_cfg), all with ``weights_only=True``."""
import pathlib
import pickle
import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch
from mmengine.runner import Runner, save_checkpoint

from fastgan_plugin.apis import (
    generate,
    generate_to_folder,
    init_model,
    sample_images,
    seeded_injection_noise,
    seeded_noise,
    select_generator,
)
from fastgan_plugin.apis.config import load_config
from fastgan_plugin.models.editors.fastgan import SLEGenerator


def _assert_same_state(module, expected):
    expected = expected.state_dict() if isinstance(expected, torch.nn.Module) else expected
    state = module.state_dict()
    assert state.keys() == expected.keys()
    for key, value in state.items():
        torch.testing.assert_close(value, expected[key], rtol=0, atol=0, msg=key)


@pytest.fixture(scope='module')
def tiny_checkpoint(tiny_model, tmp_path_factory):
    path = tmp_path_factory.mktemp('checkpoint') / 'tiny.pth'
    save_checkpoint(dict(state_dict=tiny_model.state_dict(), meta=dict(iter=7)), str(path))
    return path


@pytest.fixture
def http_server(tmp_path, monkeypatch):
    """(folder, base URL) of an HTTP server on 127.0.0.1 serving ``folder``.

    MMEngine caches downloads under the torch hub dir, so TORCH_HOME points into tmp_path.
    """
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    folder = tmp_path / 'served'
    folder.mkdir()

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(('127.0.0.1', 0), partial(QuietHandler, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f'http://127.0.0.1:{server.server_port}'
    server.shutdown()
    server.server_close()
    thread.join()


class _RunsCode:
    """Unpickling this creates ``marker``: a checkpoint that runs code when loaded."""

    marker = None

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker), ))


def _evil_checkpoint(folder: pathlib.Path) -> pathlib.Path:
    _RunsCode.marker = str(folder / 'code_ran')
    path = folder / 'evil.pth'
    torch.save(dict(state_dict={}, payload=_RunsCode()), path)
    return path


# Sampling -----------------------------------------------------------------------------------


def test_inference_model_needs_no_lpips_weights(tiny_model):
    # The config asks for LPIPS with ImageNet VGG weights (not available offline).
    assert tiny_model.cfg.model.rec_loss.distance == 'lpips'
    assert tiny_model.rec_loss.distance == 'l1'
    assert not tiny_model.training


def test_same_seed_same_image_whatever_the_batch(tiny_model):
    together = sample_images(tiny_model, [3, 4, 5], batch_size=3)
    alone = sample_images(tiny_model, [5], batch_size=1)
    assert together.shape == (3, 3, 256, 256)
    torch.testing.assert_close(together[2], alone[0], rtol=0, atol=1e-5)
    torch.testing.assert_close(sample_images(tiny_model, [5]), alone, rtol=0, atol=0)


def test_injection_noise_comes_from_the_noise_seed(tiny_model):
    latent = seeded_noise([1, 1], tiny_model.noise_size)
    images = generate(tiny_model, latent, noise_seeds=[1, 2])
    assert (images[0] - images[1]).abs().max() > 1e-3  # the injection weights are non-zero
    torch.testing.assert_close(images[0], sample_images(tiny_model, [1])[0], rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match='2 latents but 1 noise seeds'):
        generate(tiny_model, latent, noise_seeds=[1])


def test_seeded_injection_noise_continues_each_seed_stream(tiny_model):
    generator = select_generator(tiny_model)
    noise = seeded_injection_noise(generator, [7, 8])
    assert [tuple(n.shape) for n in noise] == [(2, ) + s for s in generator.injection_noise_shapes]
    stream = torch.Generator().manual_seed(8)
    torch.randn(generator.nz, generator=stream)  # the latent comes first
    for layer, shape in zip(noise, generator.injection_noise_shapes):
        torch.testing.assert_close(layer[1], torch.randn(shape, generator=stream), rtol=0, atol=0)
    torch.testing.assert_close(seeded_injection_noise(generator, [8])[0][0], noise[0][1])


def test_sampling_leaves_the_global_random_state_alone(tiny_model):
    state = torch.get_rng_state()
    sample_images(tiny_model, [1, 2])
    assert torch.equal(torch.get_rng_state(), state)


def test_select_generator_returns_the_network(tiny_model):
    assert select_generator(tiny_model, 'ema') is tiny_model.generator_ema.module
    assert select_generator(tiny_model, 'orig') is tiny_model.generator


def test_sample_models_differ(tiny_model):
    ema = sample_images(tiny_model, [0], sample_model='ema')
    orig = sample_images(tiny_model, [0], sample_model='orig')
    assert (ema - orig).abs().max() > 1e-4
    with pytest.raises(ValueError, match="sample_model must be one of \\('ema', 'orig'\\)"):
        sample_images(tiny_model, [0], sample_model='raw')


def test_generate_to_folder(tiny_model, tmp_path):
    paths = generate_to_folder(tiny_model, str(tmp_path), [0, 12], batch_size=1)
    assert [pathlib.Path(p).name for p in paths] == ['seed_000000.png', 'seed_000012.png']


# Loading ------------------------------------------------------------------------------------


def test_init_model_from_a_path(tiny_config, tiny_checkpoint, tiny_model):
    model = init_model(tiny_config[0], str(tiny_checkpoint), cfg_options=tiny_config[1])
    _assert_same_state(model, tiny_model)
    assert model.checkpoint_meta == dict(iter=7)
    assert tiny_model.checkpoint_meta == {}  # built without a checkpoint


def test_init_model_from_a_url(tiny_config, tiny_checkpoint, tiny_model, http_server, tmp_path):
    folder, url = http_server
    (folder / 'tiny.pth').write_bytes(tiny_checkpoint.read_bytes())
    model = init_model(tiny_config[0], f'{url}/tiny.pth', cfg_options=tiny_config[1])
    _assert_same_state(model, tiny_model)
    assert (tmp_path / 'torch_home' / 'hub' / 'checkpoints' / 'tiny.pth').is_file()


def test_init_model_refuses_a_checkpoint_that_runs_code(tiny_config, tmp_path):
    evil = _evil_checkpoint(tmp_path)
    with pytest.raises(pickle.UnpicklingError,
                       match=re.escape(f'{evil} was refused by torch.load(weights_only=True)')):
        init_model(tiny_config[0], str(evil), cfg_options=tiny_config[1])
    assert not (tmp_path / 'code_ran').exists()


def test_init_model_refuses_a_downloaded_checkpoint_that_runs_code(tiny_config, http_server,
                                                                    tmp_path):
    """MMEngine downloads with ``torch.hub.load_state_dict_from_url(weights_only=False)``
    unless fastgan_plugin replaces its http(s) loader."""
    folder, url = http_server
    _evil_checkpoint(folder)
    with pytest.raises(pickle.UnpicklingError,
                       match='evil.pth was refused by torch.load\\(weights_only=True\\)'):
        init_model(tiny_config[0], f'{url}/evil.pth', cfg_options=tiny_config[1])
    assert not (folder / 'code_ran').exists()


@pytest.mark.parametrize('where', ['path', 'url'])
def test_runner_load_from(where, tiny_config, tiny_checkpoint, tiny_model, http_server,
                          tmp_path):
    folder, url = http_server
    (folder / 'tiny.pth').write_bytes(tiny_checkpoint.read_bytes())
    options = dict(tiny_config[1], **{'model.rec_loss.distance': 'l1'})  # no VGG download
    cfg = load_config(tiny_config[0], options, work_dir=str(tmp_path / 'work'))
    cfg.load_from = str(tiny_checkpoint) if where == 'path' else f'{url}/tiny.pth'
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    _assert_same_state(runner.model, tiny_model)


@pytest.mark.parametrize('prefix,source', [('generator.', 'generator'),
                                           ('generator_ema.module.', 'generator_ema')])
def test_pretrained_init_cfg_loads_one_generator(prefix, source, tiny_checkpoint, tiny_model):
    init_cfg = dict(type='Pretrained', checkpoint=str(tiny_checkpoint), prefix=prefix)
    generator = SLEGenerator(im_size=256, ngf=8, nz=16, init_cfg=init_cfg)
    generator.init_weights()
    expected = getattr(tiny_model, source)
    _assert_same_state(generator, expected.module if source == 'generator_ema' else expected)


def test_to_pil_writes_rgb_rgba_and_grey():
    from PIL import Image

    from fastgan_plugin.apis import to_pil
    images = torch.full((2, 4, 3, 5), -1.0)
    images[:, 0] = 1  # red, transparent
    rgba = to_pil(images)
    assert [im.mode for im in rgba] == ['RGBA'] * 2 and rgba[0].size == (5, 3)
    assert rgba[0].getpixel((0, 0)) == (255, 0, 0, 0)
    assert to_pil(images[:, :3])[0].mode == 'RGB'
    grey = to_pil(images[:, :1])[0]
    assert grey.mode == 'L' and grey.getpixel((4, 2)) == 255
    assert isinstance(grey, Image.Image)


def test_to_grid_shows_rgba_over_a_checkerboard():
    from fastgan_plugin.apis import to_grid
    images = torch.full((2, 4, 16, 16), -1.0)
    images[:, 3, :, 8:] = 1  # black, transparent on the left, opaque on the right
    grid = to_grid(images, num_columns=2, padding=2)
    assert grid.mode == 'RGB' and grid.size == (38, 20)
    assert grid.getpixel((2, 2)) == (204,) * 3 and grid.getpixel((2, 10)) == (153,) * 3
    assert grid.getpixel((12, 2)) == (0, 0, 0) and grid.getpixel((0, 0)) == (255,) * 3
    assert to_grid(images[:, :1], num_columns=2).mode == 'RGB'
