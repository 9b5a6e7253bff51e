"""tools/deployment/pytorch2onnx.py: ONNX and TorchScript files of the checkpoint's generator."""
import re
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from PIL import Image

from fastgan_plugin.apis import init_model, select_generator
from fastgan_plugin.apis.export import example_inputs, input_names

TOOL = 'deployment/pytorch2onnx'
README = Path(__file__).resolve().parents[2] / 'README.md'


def readme_onnxruntime_example() -> str:
    """The python block of the README section on the exported generator."""
    section = README.read_text().split('## Using the exported generator without mmagic\n')[1]
    return re.search(r'```python\n(.*?)```', section.split('\n## ')[0], re.S).group(1)


def pytorch_images(config, checkpoint, sample_model, inputs):
    """The images of ``inputs`` (z, noise_0, ...) by the checkpoint's generator in PyTorch."""
    generator = select_generator(init_model(config, checkpoint), sample_model)
    with torch.no_grad():
        return generator(inputs[0], injection_noise=list(inputs[1:])).numpy()


def test_onnx_file_computes_the_ema_generator(tiny_files, run_tool, tmp_path, monkeypatch):
    config, checkpoint = tiny_files
    out = tmp_path / 'models' / 'tiny.onnx'
    result = run_tool(TOOL, config, checkpoint, out)
    assert result.returncode == 0, result.stderr
    assert 'z (N, 16)' in result.stdout and 'image (N, 3, 256, 256)' in result.stdout
    generator = select_generator(init_model(config, checkpoint))
    inputs = example_inputs(generator, 3)
    expected = pytorch_images(config, checkpoint, 'ema', inputs)
    session = onnxruntime.InferenceSession(str(out), providers=['CPUExecutionProvider'])
    (images, ) = session.run(None, {name: tensor.numpy() for name, tensor in
                                    zip(input_names(generator), inputs)})
    np.testing.assert_allclose(images, expected, atol=1e-4, rtol=0)
    # the README's example runs on the file and writes an RGB sample
    monkeypatch.chdir(out.parent)
    exec(readme_onnxruntime_example().replace("'fastgan.onnx'", repr(str(out))), {})
    assert Image.open(out.parent / 'sample.png').size == (256, 256)


def test_torchscript_of_the_raw_generator(tiny_files, load_tool, tmp_path):
    config, checkpoint = tiny_files
    out = str(tmp_path / 'tiny.pt')
    load_tool(TOOL).main([config, checkpoint, out, '--format', 'torchscript',
                          '--sample-model', 'orig'])
    inputs = example_inputs(select_generator(init_model(config, checkpoint)), 1)
    expected = pytorch_images(config, checkpoint, 'orig', inputs)
    ema = pytorch_images(config, checkpoint, 'ema', inputs)
    with torch.no_grad():
        images = torch.jit.load(out)(*inputs).numpy()
    np.testing.assert_allclose(images, expected, atol=1e-4, rtol=0)
    assert np.abs(images - ema).max() > 1e-3  # the raw weights, not the EMA ones


def test_missing_checkpoint_is_one_line_error(tiny_files, run_tool, tmp_path):
    result = run_tool(TOOL, tiny_files[0], tmp_path / 'missing.pth', tmp_path / 'g.onnx')
    assert result.returncode == 1
    assert 'pytorch2onnx.py: error:' in result.stderr and 'missing.pth' in result.stderr
    assert not (tmp_path / 'g.onnx').exists()
