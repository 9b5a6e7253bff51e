"""Export a FastGAN generator for use without mmagic: ONNX (onnxruntime and other runtimes) or
TorchScript (``torch.jit.load``, libtorch). Inputs of the exported file, in order: ``z``
(N, nz) and ``noise_0`` ... ``noise_{K-1}``, the injection noise (N, 1, H, W) of each noise
layer (``generator.injection_noise_shapes``); output ``image`` (N, C, R, R), C the generator's
``img_channels``, in [-1, 1] with ``out_act='tanh'``. N is dynamic; all inputs float32,
N(0, I) for a random sample. Class-conditional generators are not exported (ValueError)."""
import copy
from typing import List, Tuple

import torch
from torch import Tensor, nn

from ..models.editors.fastgan.sle_generator import SLEGenerator

ONNX_OPSET = 18
# The batch of the example inputs traced; any N works in the exported file (2, not 1: the
# exporters specialise sizes 0 and 1).
EXAMPLE_BATCH = 2


class ExportableGenerator(nn.Module):
    """``generator`` with positional inputs: ``forward(z, *injection_noise)`` -> image."""

    def __init__(self, generator: SLEGenerator) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: Tensor, *injection_noise: Tensor) -> Tensor:
        return self.generator(z, injection_noise=list(injection_noise))


def input_names(generator: SLEGenerator) -> List[str]:
    """``['z', 'noise_0', ...]``, the inputs of the exported generator in order."""
    return ['z'] + [f'noise_{i}' for i in range(len(generator.injection_noise_shapes))]


def example_inputs(generator: SLEGenerator, batch: int = EXAMPLE_BATCH) -> Tuple[Tensor, ...]:
    """Random inputs (z, noise_0, ...) of ``batch`` samples for ``generator``, on the CPU."""
    return (torch.randn(batch, generator.nz),
            *(torch.randn(batch, *shape) for shape in generator.injection_noise_shapes))


def _exportable(generator: SLEGenerator) -> ExportableGenerator:
    """A float32 CPU copy in eval mode (``generator`` itself stays as it is)."""
    if generator.num_classes is not None:
        raise ValueError('exporting a class-conditional generator is not supported: the '
                         'exported file takes no labels')
    return ExportableGenerator(copy.deepcopy(generator)).cpu().float().eval()


def export_onnx(generator: SLEGenerator, path: str, opset: int = ONNX_OPSET) -> None:
    """Write ``generator`` (in eval mode, on the CPU, float32) to the ONNX file ``path`` with
    torch's ``torch.export``-based exporter (needs ``onnxscript``), batch dimension dynamic."""
    batch = torch.export.Dim('batch', min=1)
    inputs = example_inputs(generator)
    program = torch.onnx.export(
        _exportable(generator), inputs, input_names=input_names(generator),
        output_names=['image'], dynamic_shapes=({0: batch}, tuple({0: batch} for _ in inputs[1:])),
        opset_version=opset, dynamo=True, verbose=False)
    program.save(path)


def export_torchscript(generator: SLEGenerator, path: str) -> None:
    """Write ``generator`` (in eval mode, on the CPU, float32) to ``path``, traced to
    TorchScript (``torch.jit.trace``, which torch marks deprecated but still runs), for
    ``torch.jit.load``; any batch size."""
    with torch.no_grad():
        traced = torch.jit.trace(_exportable(generator), example_inputs(generator))
    traced.save(path)
