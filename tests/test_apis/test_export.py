"""ONNX and TorchScript export of the generator: the exported file computes what PyTorch does,
for any batch size."""
import numpy as np
import onnxruntime
import pytest
import torch

from fastgan_plugin.apis import init_model, select_generator
from fastgan_plugin.apis.export import example_inputs, export_onnx, export_torchscript, input_names
from fastgan_plugin.models.editors.fastgan import SLEGenerator


@pytest.fixture(scope='module', params=[128, 256])
def tiny_generator(request, tiny_config, trained_like):
    """The EMA generator of a tiny FastGAN (ngf 8, nz 16) at 128 and at 256 px."""
    size = request.param
    model = init_model(tiny_config[0], cfg_options={
        **tiny_config[1], 'model.generator.im_size': size, 'model.discriminator.im_size': size})
    trained_like(model)
    return select_generator(model)


def expected_images(generator, inputs):
    with torch.no_grad():
        return generator(inputs[0], injection_noise=list(inputs[1:])).numpy()


def test_onnx_matches_pytorch_for_any_batch(tiny_generator, tmp_path):
    path = str(tmp_path / 'generator.onnx')
    export_onnx(tiny_generator, path)
    session = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    assert [i.name for i in session.get_inputs()] == input_names(tiny_generator)
    assert [o.name for o in session.get_outputs()] == ['image']
    for batch in (1, 3):
        inputs = example_inputs(tiny_generator, batch)
        (images, ) = session.run(None, {name: tensor.numpy() for name, tensor in
                                        zip(input_names(tiny_generator), inputs)})
        size = tiny_generator.im_size
        assert images.shape == (batch, 3, size, size)
        np.testing.assert_allclose(images, expected_images(tiny_generator, inputs), atol=1e-4,
                                   rtol=0)


def test_torchscript_matches_pytorch_for_any_batch(tiny_generator, tmp_path):
    path = str(tmp_path / 'generator.pt')
    export_torchscript(tiny_generator, path)
    scripted = torch.jit.load(path)
    for batch in (1, 3):
        inputs = example_inputs(tiny_generator, batch)
        with torch.no_grad():
            images = scripted(*inputs).numpy()
        np.testing.assert_allclose(images, expected_images(tiny_generator, inputs), atol=1e-4,
                                   rtol=0)


def test_export_leaves_the_generator_as_it_was(tiny_generator, tmp_path):
    tiny_generator.train()
    export_torchscript(tiny_generator, str(tmp_path / 'generator.pt'))
    assert tiny_generator.training
    tiny_generator.eval()


def test_conditional_generator_is_refused(tmp_path):
    generator = SLEGenerator(im_size=128, ngf=8, nz=16, num_classes=2)
    for export in (export_onnx, export_torchscript):
        with pytest.raises(ValueError, match='class-conditional generator is not supported'):
            export(generator, str(tmp_path / 'g.onnx'))
