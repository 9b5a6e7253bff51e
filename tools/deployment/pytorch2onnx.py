"""Export a FastGAN generator to ONNX (default) or TorchScript, to run without mmagic.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT OUT [--format onnx|torchscript]
                                            [--sample-model ema|orig] [--cfg-options ...]

Examples:
    python tools/deployment/pytorch2onnx.py configs/fastgan/fastgan_256_obama.py obama.pth \\
        fastgan_obama.onnx
    python tools/deployment/pytorch2onnx.py art.py art.pth art.pt --format torchscript

Exports the EMA generator (``--sample-model orig``: the raw one) in eval mode, on the CPU,
float32. Inputs: ``z`` (N, nz) and the injection noise ``noise_0`` ... (N, 1, H, W), one per
noise layer; output ``image`` (N, 3, R, R), RGB in [-1, 1]; N is dynamic. ONNX opset 18
(``fastgan_plugin.apis.export.ONNX_OPSET``). The README section "Using the exported generator
without mmagic" shows how to run the file with onnxruntime.
"""
import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/, for tool_utils

from fastgan_plugin.apis import init_model, select_generator  # noqa: E402
from fastgan_plugin.apis.export import export_onnx, export_torchscript, input_names  # noqa: E402
from fastgan_plugin.apis.inference import SAMPLE_MODELS  # noqa: E402
from tool_utils.cli import CONFIG_HELP, CfgOptionsAction, run  # noqa: E402

EXPORTERS = dict(onnx=export_onnx, torchscript=export_torchscript)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Export a FastGAN generator to ONNX or '
                                     'TorchScript')
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument('checkpoint', help='checkpoint file or http(s) URL')
    parser.add_argument('out', help='file to write, e.g. fastgan.onnx or fastgan.pt')
    parser.add_argument('--format', choices=sorted(EXPORTERS), default='onnx',
                        help='onnx (opset 18) or torchscript (torch.jit.load) (default: onnx)')
    parser.add_argument('--sample-model', choices=SAMPLE_MODELS, default='ema',
                        help='generator to export: the EMA average or the raw weights '
                        '(default: ema)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config entries, e.g. model.generator.out_act=None')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    generator = select_generator(init_model(args.config, args.checkpoint, 'cpu',
                                            args.cfg_options), args.sample_model)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    EXPORTERS[args.format](generator, args.out)
    shapes = [f'z (N, {generator.nz})'] + [
        f'{name} (N, {", ".join(map(str, shape))})'
        for name, shape in zip(input_names(generator)[1:], generator.injection_noise_shapes)]
    value_range = '[-1, 1]' if generator.out_act == 'tanh' else 'unbounded (out_act=None)'
    print(f'wrote {args.out} ({args.format}); inputs: {", ".join(shapes)}; output: image '
          f'(N, 3, {generator.im_size}, {generator.im_size}), RGB, {value_range}')


if __name__ == '__main__':
    run(main)
