"""Measure FastGAN training and sampling speed: MMEngine runner vs a bare loop.

    python tools/benchmark.py [--sizes 256 512 1024] [--batch-sizes 8]
                              [--variants fp32 bf16 ...] [--ngf 64 --ndf 64]
                              [--rec-loss lpips|l1] [--out results.json]

Examples:
    python tools/benchmark.py --sizes 1024 --batch-sizes 8 --out gpu_1024.json      # GPU
    python tools/benchmark.py --sizes 256 --batch-sizes 8 --ngf 16 --ndf 16 --rec-loss l1 \\
        --variants fp32 bf16 channels_last --threads 2 --out cpu_256.json           # CPU

For every size, batch size and variant: training iterations/s and images/s through the
runner (config's hooks, logging and dataloader reading image files; evaluation off) and
in a bare loop calling the model's own ``train_step`` on batches already on the device,
their ratio, the share of the runner's time spent waiting for data, peak memory, and
sampling images/s with the EMA generator. Variants: ``fp32`` or fast paths joined by '+'
(``bf16``, ``fp16``, ``channels_last``, ``cudnn_benchmark``). See
``docs/benchmarks.md`` and ``tools/tool_utils/benchmarking.py``.
"""
import argparse
import json
import os
import platform
import sys
import time

import torch
from mmengine.device import get_device

from fastgan_plugin.engine.optimizers.mixed_precision_optim_wrapper import cpu_has_native_bf16
from tool_utils.benchmarking import (
    PARTS,
    REC_LOSSES,
    BenchmarkSetting,
    benchmark,
    check_variant_device,
    cpu_flags,
    cpu_model,
    default_variants,
    format_table,
)
from tool_utils.cli import positive_int, run

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(REPO, 'configs', 'fastgan', 'fastgan_1024_pokemon.py')
#: The timing options, positive ints passed on to ``benchmark``: (name, default, meaning).
TIMING_OPTIONS = (
    ('warmup', 2, 'untimed iterations first'),
    ('windows', 3, 'timed windows; the median is reported'),
    ('window_iters', 3, 'iterations (generator calls when sampling) per window'),
    ('rounds', 1, 'runner and bare loop alternate this many times, their windows pooled: '
     'use 2 or more on a shared machine'),
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark FastGAN training and sampling')
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='training config (default: configs/fastgan/fastgan_1024_pokemon.py; '
                        'resolution, batch, widths and fast paths are set by the options)')
    parser.add_argument('--sizes', type=int, nargs='+', default=[256, 512, 1024],
                        choices=[128, 256, 512, 1024, 2048], help='resolutions')
    parser.add_argument('--batch-sizes', type=positive_int, nargs='+', default=[8],
                        help='images per iteration, each measured at every size (default: 8)')
    parser.add_argument('--variants', nargs='+',
                        help='fp32, or fast paths joined by + (bf16, fp16, channels_last, '
                        'cudnn_benchmark); default: each fast path the device supports, '
                        'alone and combined (on a CPU bf16 only where it is native: '
                        'AVX512-BF16 or AMX)')
    parser.add_argument('--ngf', type=positive_int, help="generator width (default: the "
                        "config's, 64 as official)")
    parser.add_argument('--ndf', type=positive_int, help="discriminator width (default: the "
                        "config's, 64 as official)")
    parser.add_argument('--rec-loss', choices=REC_LOSSES, default='lpips',
                        help='reconstruction distance; lpips uses a randomly initialised VGG '
                        '(no download; same cost as the pretrained one) (default: lpips)')
    for name, default, meaning in TIMING_OPTIONS:
        parser.add_argument('--' + name.replace('_', '-'), type=positive_int, default=default,
                            help=f'{meaning} (default: {default})')
    parser.add_argument('--num-workers', type=int,
                        help="dataloader workers of the runner (default: the config's)")
    parser.add_argument('--parts', nargs='+', choices=PARTS, default=list(PARTS),
                        help='what to measure (default: all)')
    parser.add_argument('--threads', type=positive_int,
                        help="torch CPU threads (default: torch's, the number of cores)")
    parser.add_argument('--out', help='write the results (and the machine) as JSON here')
    parser.add_argument('--tmp-dir', help='where the temporary images and work dir go')
    return parser.parse_args(argv)


def machine() -> dict:
    """What the numbers were measured on."""
    return dict(cpu=cpu_model(), cpu_flags=cpu_flags(), cpu_native_bf16=cpu_has_native_bf16(),
                cpu_count=os.cpu_count(), torch_threads=torch.get_num_threads(),
                device=get_device(),
                gpu=torch.cuda.get_device_name() if torch.cuda.is_available() else None,
                python=platform.python_version(), torch=torch.__version__,
                started=time.strftime('%Y-%m-%d %H:%M:%S'), command=sys.argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device()
    variants = args.variants or default_variants(device)
    for variant in variants:
        check_variant_device(variant, device)
    timing = {name: getattr(args, name) for name, _, _ in TIMING_OPTIONS}
    report = dict(machine=machine(), results=[])
    for im_size in args.sizes:
        for batch_size in args.batch_sizes:
            for variant in variants:
                print(f'[benchmark] {im_size} px, batch {batch_size}, {variant}', flush=True)
                setting = BenchmarkSetting(im_size, batch_size, variant, ngf=args.ngf,
                                           ndf=args.ndf, rec_loss=args.rec_loss)
                report['results'].append(benchmark(
                    args.config, setting, **timing, num_workers=args.num_workers,
                    parts=args.parts, tmp_dir=args.tmp_dir))
                print(format_table(report['results'][-1:]), flush=True)
                if args.out:
                    with open(args.out, 'w') as out:
                        json.dump(report, out, indent=1)
    print(format_table(report['results']))
    if args.out:
        print(f'results in {args.out}')


if __name__ == '__main__':
    run(main)
