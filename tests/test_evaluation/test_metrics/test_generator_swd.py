"""GeneratorSWD: real images and samples reach the metric in the same channel order, and
``sample_model`` chooses the generator that is evaluated."""
from pathlib import Path

import pytest
import torch
from mmagic.registry import DATASETS, METRICS
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from PIL import Image, ImageDraw
from torch import nn
from torch.utils.data import DataLoader

import fastgan_plugin  # noqa: F401
from fastgan_plugin.apis import init_model
from fastgan_plugin.apis.config import load_config

REPO = Path(__file__).resolve().parents[3]
YELLOW = (250, 200, 30)  # RGB: every channel different, so any swap shows


def face(size=128):
    """A yellow disc with a dark mouth on white, RGB."""
    image = Image.new('RGB', (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse([16, 16, size - 16, size - 16], fill=YELLOW)
    draw.rectangle([44, 80, size - 44, 90], fill=(60, 30, 10))
    return image


class FixedImage(nn.Module):
    """A generator whose every sample is one (3, R, R) RGB image in [-1, 1]."""

    def __init__(self, image):
        super().__init__()
        self.register_buffer('image', image[None].clone())

    def forward(self, noise, return_noise=False):
        return self.image.expand(noise.shape[0], -1, -1, -1)


def as_tensor(image):
    return torch.from_numpy(__import__('numpy').array(image)).permute(2, 0, 1).float() / 127.5 - 1


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    init_default_scope('mmagic')
    folder = tmp_path_factory.mktemp('yellow')
    for index in range(4):
        face().save(folder / f'{index}.png')
    cfg = load_config(str(REPO / 'configs' / 'fastgan' / 'fastgan_demo_cpu.py'),
                      {'model.generator.ngf': 8, 'model.discriminator.ndf': 8})
    cfg.val_dataloader.dataset.data_root = str(folder)
    model = init_model(cfg).eval()
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    return model, DataLoader(dataset, batch_size=4, collate_fn=pseudo_collate)


def swd(model, loader, sample_model):
    metric = METRICS.build(dict(type='GeneratorSWD', fake_nums=-1, image_shape=(3, 128, 128),
                                sample_model=sample_model))
    torch.manual_seed(0)
    for data in metric.get_metric_sampler(model, loader, [metric]):
        metric.process(data, [s.to_dict() for s in model.val_step(data)])
    return metric.evaluate()['avg']


def test_samples_and_real_images_arrive_in_the_same_channel_order(setup):
    model, loader = setup
    model.generator_ema.module = FixedImage(as_tensor(face()))
    samples = model.val_step(dict(next(iter(loader)), inputs=dict(sample_model='ema')))
    for sample in samples:
        torch.testing.assert_close(sample.fake_img.float(), sample.gt_img.float(), atol=1.0,
                                   rtol=0)
        centre = sample.gt_img[:, 40, 64].float()  # BGR, as mmagic's metrics expect
        torch.testing.assert_close(centre, torch.tensor(YELLOW[::-1], dtype=torch.float))


def test_sample_model_chooses_the_generator(setup):
    model, loader = setup
    model.generator_ema.module = FixedImage(as_tensor(face()))  # the real images
    model.generator = FixedImage(torch.rand(3, 128, 128) * 2 - 1)  # noise
    same, noise = swd(model, loader, 'ema'), swd(model, loader, 'orig')
    assert same < 0.5 * noise, (same, noise)  # 4 images: sampling noise of the patches
