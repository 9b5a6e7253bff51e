"""Peak memory of one training update with and without gradient accumulation.

    python tools/analysis_tools/accumulation_memory.py --batch-size 8 --accumulate 2

Builds the config's model as a benchmark does (``tools/tool_utils/benchmarking.py``: the
resolution, widths, LPIPS with a random VGG, evaluation off), with
``optim_wrapper.<net>.accumulative_counts = ACCUMULATE`` and micro-batches of
``BATCH_SIZE / ACCUMULATE`` images, then runs ``ACCUMULATE`` iterations (one update of
each network) in a plain loop. Prints one Markdown row: the memory before the update
(model, optimizer states, batches) and the peak during it (GPU: allocated; CPU: peak
resident set size). Run each setting in a fresh process: a CPU peak cannot go down.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from mmengine import MessageHub

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/, for tool_utils
from tool_utils.benchmarking import (  # noqa: E402
    BenchmarkSetting,
    PeakMemory,
    benchmark_config,
    build_model,
    in_memory_batches,
)
from tool_utils.cli import positive_int, run  # noqa: E402
from tool_utils.demo_data import make_demo_images  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=os.path.join(REPO, 'configs',
                                                         'fastgan_1024_pokemon.py'))
    parser.add_argument('--im-size', type=positive_int, default=1024)
    parser.add_argument('--batch-size', type=positive_int, default=8,
                        help='images per update (default: 8, official)')
    parser.add_argument('--accumulate', type=positive_int, default=1,
                        help='micro-batches per update, for both networks (default: 1)')
    parser.add_argument('--ngf', type=positive_int, default=64)
    parser.add_argument('--ndf', type=positive_int, default=64)
    parser.add_argument('--threads', type=positive_int)
    args = parser.parse_args(argv)
    if args.batch_size % args.accumulate:
        parser.error('--batch-size must be a multiple of --accumulate')
    if args.threads:
        torch.set_num_threads(args.threads)
    micro = args.batch_size // args.accumulate

    with tempfile.TemporaryDirectory() as tmp:
        make_demo_images(os.path.join(tmp, 'data'), args.batch_size, size=args.im_size)
        setting = BenchmarkSetting(args.im_size, micro, ngf=args.ngf, ndf=args.ndf,
                                   rec_loss='lpips')
        cfg = benchmark_config(args.config, setting, data_root=os.path.join(tmp, 'data'),
                               work_dir=os.path.join(tmp, 'work'))
        for net in ('generator', 'discriminator'):
            cfg.optim_wrapper[net].accumulative_counts = args.accumulate
        model, optim_wrapper = build_model(cfg)
        batches = in_memory_batches(cfg, model, args.accumulate)
        memory = PeakMemory()
        memory.reset()
        before = memory.peak_mib()
        hub = MessageHub.get_current_instance()
        start = time.perf_counter()
        for iteration, batch in enumerate(batches):
            hub.update_info('iter', iteration)
            logs = model.train_step(batch, optim_wrapper)
        seconds = time.perf_counter() - start
        assert 'loss_gen' in logs, 'no generator update: check the accumulation settings'
        peak = memory.peak_mib()
    print(f'| {args.im_size} | {args.batch_size} = {micro} x {args.accumulate} | '
          f'{before / 1024:.2f} GiB | {peak / 1024:.2f} GiB | {(peak - before) / 1024:.2f} '
          f'GiB | {seconds:.0f} s | {memory.kind} |')


if __name__ == '__main__':
    run(main)
