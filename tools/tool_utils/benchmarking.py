"""Training and sampling speed of FastGAN, through MMEngine's runner and in a bare loop.

The measurements behind ``tools/benchmark.py`` (and the model building of
``tools/analysis_tools/accumulation_memory.py``). For one :class:`BenchmarkSetting`
(resolution, batch size, widths, fast paths) :func:`benchmark` measures:

- ``runner``: training through ``Runner.from_cfg`` of a config of ours, exactly as
  ``tools/train.py`` builds it (hooks, logging, the ``FewShotImageDataset`` pipeline reading
  image files through the config's dataloader workers), with evaluation off;
- ``bare``: the same model (built from the same config) trained by calling its own
  ``train_step`` with the optimizer wrappers the config builds, in a plain Python loop, on
  batches prepared beforehand and already on the device: no runner, no hooks, no data
  loading;
- ``sample``: generation with the EMA generator in eval mode (:func:`sample_images`);
- ``data``: the config's train pipeline alone, item by item in this process: the images per
  second one dataloader worker can deliver (the runner's ceiling is about ``num_workers``
  times that, when the workers have cores of their own).

Each is warmed up, then timed over several windows; the median window is reported, with
every window kept in the result. Peak memory is ``torch.cuda.max_memory_allocated`` on a
GPU and the peak resident set size of this process on a CPU (dataloader worker processes
not included), both reset at the end of the warm-up. The share of time the runner waits
for data is MMEngine's ``data_time`` (``IterTimerHook``: from the end of one iteration's
timer to the start of the next, so it also holds the lower-priority hooks' after-iteration
work) summed over a window and divided by the window's length.

Fast paths are named in a variant, ``'fp32'`` (none) or several joined by ``'+'``
(``'bf16+channels_last'``), see :data:`FAST_PATHS`.
"""
import copy
import dataclasses
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from typing import List, Optional, Sequence, Tuple

import torch
from mmagic.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.device import get_device
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from fastgan_plugin.apis.config import enable_amp, load_config
from fastgan_plugin.apis.inference import sample_images
from fastgan_plugin.engine.optimizers.mixed_precision_optim_wrapper import cpu_has_native_bf16
from fastgan_plugin.utils.validation import check_int

from .demo_data import make_demo_images

#: Fast paths a variant may combine: autocast dtype (``bf16`` / ``fp16``, through
#: :func:`~fastgan_plugin.apis.config.enable_amp`), ``channels_last`` (FastGAN's option)
#: and ``cudnn_benchmark`` (``env_cfg.cudnn_benchmark``; GPU only). ``torch.compile`` is
#: not one: see docs/benchmarks.md.
FAST_PATHS = ('bf16', 'fp16', 'channels_last', 'cudnn_benchmark')
AMP_PATHS = {'bf16': 'bfloat16', 'fp16': 'float16'}
BASELINE = 'fp32'
REC_LOSSES = ('l1', 'lpips')
#: CPU flags that decide the fast paths (bfloat16 is native with avx512_bf16 or amx_bf16).
CPU_FLAGS = ('avx2', 'avx512f', 'avx512_bf16', 'amx_bf16')
PARTS = ('runner', 'bare', 'sample', 'data')
MIB = 2**20


def parse_variant(variant: str) -> Tuple[str, ...]:
    """Split a variant name into its fast paths.

    Args:
        variant (str): ``'fp32'`` or fast paths of :data:`FAST_PATHS` joined by ``'+'``.

    Returns:
        tuple[str, ...]: The fast paths, empty for ``'fp32'``.

    Raises:
        ValueError: Unknown or repeated names, or both ``bf16`` and ``fp16``.
    """
    if variant == BASELINE:
        return ()
    paths = tuple(variant.split('+'))
    unknown = [p for p in paths if p not in FAST_PATHS]
    if unknown or len(set(paths)) != len(paths) or not paths:
        raise ValueError(f'variant must be {BASELINE!r} or fast paths of {FAST_PATHS} joined '
                         f"by '+' (each once), got {variant!r}")
    if all(p in paths for p in AMP_PATHS):
        raise ValueError(f'variant {variant!r} names both bf16 and fp16')
    return paths


def check_variant_device(variant: str, device: str) -> None:
    """Refuse a variant the device cannot run, before anything is built.

    Raises:
        ValueError: ``fp16`` or ``cudnn_benchmark`` on a CPU.
    """
    paths = parse_variant(variant)
    if device == 'cpu' and 'fp16' in paths:
        raise ValueError(f'variant {variant!r}: float16 autocast is refused on the CPU '
                         '(MixedPrecisionOptimWrapper); use bf16')
    if device == 'cpu' and 'cudnn_benchmark' in paths:
        raise ValueError(f'variant {variant!r}: cudnn_benchmark needs a CUDA device')


def default_variants(device: str) -> List[str]:
    """The variants measured when none are named: the fast paths alone and together; on a
    CPU bf16 only where it is native (:func:`cpu_has_native_bf16`), since emulated it is
    slower than fp32 (name it to measure it anyway)."""
    if device == 'cpu':
        bf16 = ['bf16', 'bf16+channels_last'] if cpu_has_native_bf16() else []
        return ['fp32', 'channels_last'] + bf16
    return ['fp32', 'cudnn_benchmark', 'channels_last+cudnn_benchmark',
            'bf16+cudnn_benchmark', 'fp16+cudnn_benchmark',
            'bf16+channels_last+cudnn_benchmark', 'fp16+channels_last+cudnn_benchmark']


@dataclasses.dataclass(frozen=True)
class BenchmarkSetting:
    """One configuration to measure: what :func:`benchmark_config` changes in a config.

    Args:
        im_size (int): Resolution: generator, discriminator and ``ResizeToSquare``.
        batch_size (int): Images per iteration (and per generator call when sampling).
        variant (str): Fast paths, see :func:`parse_variant`.
        ngf (int, optional): Generator width; None keeps the config's.
        ndf (int, optional): Discriminator width; None keeps the config's.
        rec_loss (str, optional): ``'l1'`` or ``'lpips'`` (with a randomly initialised VGG,
            ``pretrained=False``: no download, same cost); None keeps the config's.
    """

    im_size: int
    batch_size: int
    variant: str = BASELINE
    ngf: Optional[int] = None
    ndf: Optional[int] = None
    rec_loss: Optional[str] = None


def benchmark_config(config: str,
                     setting: BenchmarkSetting,
                     *,
                     data_root: str,
                     work_dir: str,
                     num_workers: Optional[int] = None) -> Config:
    """Read a training config and set it up for a benchmark run.

    Everything not listed here stays as the config has it (schedule, optimizers, EMA,
    augmentation, hooks and their intervals, dataloader workers).

    Args:
        config (str): A FastGAN config, e.g. ``configs/fastgan/fastgan_1024_pokemon.py``.
        setting (BenchmarkSetting): Resolution, batch size, fast paths, widths and
            reconstruction distance.
        data_root (str): Folder of training images.
        work_dir (str): Where the runner writes logs.
        num_workers (int, optional): Dataloader workers; None keeps the config's.

    Returns:
        Config: The config, evaluation and checkpoint saving off (the periodic checkpoint
        interval is kept), ``log_level='WARNING'``, ``env_cfg.cudnn_benchmark`` on only
        with the ``cudnn_benchmark`` fast path.
    """
    paths = parse_variant(setting.variant)
    rec_loss = setting.rec_loss
    if rec_loss is not None and rec_loss not in REC_LOSSES:
        raise ValueError(f'rec_loss must be one of {REC_LOSSES}, got {rec_loss!r}')
    cfg = load_config(config, work_dir=work_dir)
    model = cfg.model
    model.generator.im_size = setting.im_size
    model.discriminator.im_size = setting.im_size
    if setting.ngf is not None:
        model.generator.ngf = setting.ngf
    if setting.ndf is not None:
        model.discriminator.ndf = setting.ndf
    if rec_loss is not None:
        model.rec_loss.distance = rec_loss
        if rec_loss == 'lpips':
            model.rec_loss.pretrained = False
    model.channels_last = 'channels_last' in paths

    loader = cfg.train_dataloader
    loader.batch_size = setting.batch_size
    loader.dataset.data_root = data_root
    if num_workers is not None:
        loader.num_workers = num_workers
        loader.persistent_workers = num_workers > 0
    resizes = [t for t in loader.dataset.pipeline if t.type == 'ResizeToSquare']
    if not resizes:
        raise ValueError(f'{config}: the train pipeline has no ResizeToSquare to set to '
                         f'{setting.im_size}')
    for transform in resizes:
        transform.size = setting.im_size

    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg',
                'test_evaluator'):
        cfg[key] = None
    cfg.default_hooks.checkpoint.update(save_best=None, rule=None, save_last=False)
    cfg.log_level = 'WARNING'
    cfg.env_cfg.cudnn_benchmark = 'cudnn_benchmark' in paths
    amp = [AMP_PATHS[p] for p in paths if p in AMP_PATHS]
    if amp:
        enable_amp(cfg, amp[0])
    return cfg


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform``)."""
    try:
        with open('/proc/cpuinfo') as info:
            return next(line.split(':', 1)[1].strip() for line in info
                        if line.startswith('model name'))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def cpu_flags() -> List[str]:
    """Which of :data:`CPU_FLAGS` the CPU has (``/proc/cpuinfo``; empty where unreadable)."""
    try:
        with open('/proc/cpuinfo') as info:
            flags = set(next(line for line in info if line.startswith('flags')).split())
    except (OSError, StopIteration):
        return []
    return [flag for flag in CPU_FLAGS if flag in flags]


def describe_hardware(device: str) -> str:
    """What a measurement ran on, in one line: GPU name and compute capability, or CPU
    model, its fast-path flags, cores and torch threads; and the torch version."""
    if device == 'cuda':
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
        return f'{props.name} (sm {props.major}.{props.minor}), torch {torch.__version__}'
    return (f"{cpu_model()} [{' '.join(cpu_flags()) or 'flags unknown'}], "
            f'{os.cpu_count()} cores, {torch.get_num_threads()} threads, '
            f'torch {torch.__version__}')


def synchronize() -> None:
    """Wait for the GPU's queued work (nothing on a CPU), so a clock reads finished work."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class PeakMemory:
    """Peak memory since the last :meth:`reset`: GPU allocations, or this process's RSS.

    On a CPU the peak resident set size (``VmHWM``) is reset through
    ``/proc/self/clear_refs`` (Linux); where that is not possible the peak is the whole
    process's (``getrusage``) and :attr:`kind` says so.
    """

    def __init__(self) -> None:
        self.cuda = torch.cuda.is_available()
        self.kind = 'cuda_max_allocated' if self.cuda else 'rss_peak'

    def reset(self) -> None:
        """Start a new peak."""
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
            return
        try:
            with open('/proc/self/clear_refs', 'w') as clear_refs:
                clear_refs.write('5')  # 5: reset the peak RSS (Linux >= 4.0)
        except OSError:
            self.kind = 'rss_peak_since_process_start'

    def peak_mib(self) -> float:
        """The peak in MiB."""
        if self.cuda:
            return torch.cuda.max_memory_allocated() / MIB
        try:
            with open('/proc/self/status') as status:
                line = next(row for row in status if row.startswith('VmHWM:'))
            return int(line.split()[1]) / 1024
        except (OSError, StopIteration):
            scale = 1 if sys.platform == 'darwin' else 1024  # bytes on macOS, KiB on Linux
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MIB


class WindowClock(Hook):
    """Runner hook: time stamps at the ends of the warm-up and of every timed window.

    Registered with the lowest priority, so each stamp follows every other hook's
    ``after_train_iter``. Peak memory is reset at the first stamp and read at the last.

    Args:
        warmup (int): Iterations before the first window.
        window_iters (int): Iterations per window.
        windows (int): Number of windows.
    """

    def __init__(self, warmup: int, window_iters: int, windows: int) -> None:
        self.boundaries = [warmup + k * window_iters for k in range(windows + 1)]
        self.stamps: List[float] = []
        self.memory = PeakMemory()
        self.peak_mib: Optional[float] = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 not in self.boundaries:
            return
        synchronize()
        self.stamps.append(time.perf_counter())
        if len(self.stamps) == 1:
            self.memory.reset()
        elif len(self.stamps) == len(self.boundaries):
            self.peak_mib = self.memory.peak_mib()


def summarise(runs: Sequence[dict], window_iters: int, batch_size: int) -> dict:
    """Pool the windows of several :func:`time_runner` or :func:`time_bare_loop` runs.

    Args:
        runs (Sequence[dict]): Their results.
        window_iters (int): Iterations per window.
        batch_size (int): Images per iteration.

    Returns:
        dict: ``iters_per_s`` and ``images_per_s`` of the median window,
        ``windows_iters_per_s`` (every window, run after run), ``peak_mem_mib`` (the
        largest) and ``peak_mem_kind``; for runner runs also ``data_wait_share``, the
        median over windows of data time / window time, with ``windows_data_wait_share``.
    """
    seconds = [s for run in runs for s in run['window_seconds']]
    rates = [window_iters / s for s in seconds]
    median = statistics.median(rates)
    summary = dict(iters_per_s=median, images_per_s=median * batch_size,
                   windows_iters_per_s=rates,
                   peak_mem_mib=max(run['peak_mem_mib'] for run in runs),
                   peak_mem_kind=runs[0]['peak_mem_kind'])
    if 'window_data_seconds' in runs[0]:
        data = [d for run in runs for d in run['window_data_seconds']]
        shares = [d / s for d, s in zip(data, seconds)]
        summary.update(data_wait_share=statistics.median(shares),
                       windows_data_wait_share=shares)
    return summary


def time_runner(cfg: Config, *, warmup: int, windows: int, window_iters: int) -> dict:
    """Train through ``Runner.from_cfg(cfg)`` and time it.

    Args:
        cfg (Config): From :func:`benchmark_config`; its ``train_cfg.max_iters`` is set
            to ``warmup + windows * window_iters``.
        warmup (int): Untimed iterations first (>= 1).
        windows (int): Timed windows (>= 1).
        window_iters (int): Iterations per window (>= 1).

    Returns:
        dict: ``window_seconds`` (each window's length), ``window_data_seconds`` (each
        window's data time), ``peak_mem_mib`` and ``peak_mem_kind`` (:class:`PeakMemory`);
        see :func:`summarise`.
    """
    cfg = copy.deepcopy(cfg)
    cfg.train_cfg.max_iters = warmup + windows * window_iters
    # A name of its own: runners started in the same second would share a message hub.
    cfg.experiment_name = f'fastgan_benchmark_{time.monotonic_ns()}'
    runner = Runner.from_cfg(cfg)
    clock = WindowClock(warmup, window_iters, windows)
    runner.register_hook(clock, priority='LOWEST')
    runner.train()
    data_time = runner.message_hub.get_scalar('train/data_time').data[0]
    firsts = [warmup + k * window_iters for k in range(windows)]
    return dict(window_seconds=_durations(clock.stamps),
                window_data_seconds=[float(sum(data_time[i:i + window_iters])) for i in firsts],
                peak_mem_mib=clock.peak_mib, peak_mem_kind=clock.memory.kind)


def _durations(stamps: Sequence[float]) -> List[float]:
    return [b - a for a, b in zip(stamps[:-1], stamps[1:])]


def build_model(cfg: Config) -> Tuple[torch.nn.Module, object]:
    """Build the config's model on MMEngine's device, with its optimizer wrappers.

    Returns:
        tuple: ``(model, optim_wrapper)`` as the runner would build them (in training mode,
        weights initialised), without the runner.
    """
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    model = model.to(get_device()).train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def build_dataset(cfg: Config):
    """The config's train dataset (its pipeline included)."""
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    return DATASETS.build(cfg.train_dataloader.dataset)


def in_memory_batches(cfg: Config, model: torch.nn.Module, num_batches: int) -> List[dict]:
    """``num_batches`` batches from the config's train dataset, collated as the runner's
    dataloader collates them and already on the model's device."""
    dataset = build_dataset(cfg)
    batch_size = cfg.train_dataloader.batch_size
    if len(dataset) < batch_size * num_batches:
        raise ValueError(f'{len(dataset)} images cannot fill {num_batches} batches of '
                         f'{batch_size}')
    return [
        model.data_preprocessor.cast_data(
            pseudo_collate([dataset[i] for i in range(b * batch_size, (b + 1) * batch_size)]))
        for b in range(num_batches)
    ]


def time_bare_loop(cfg: Config, *, warmup: int, windows: int, window_iters: int,
                   num_batches: int = 2) -> Tuple[dict, torch.nn.Module]:
    """Train the config's model by calling its ``train_step`` in a plain loop, and time it.

    The model, its optimizer wrappers (``build_optim_wrapper``, as the runner) and the
    batches (:func:`in_memory_batches`, cycled) are built before the clock starts. Each
    iteration sets the message hub's ``iter`` (which ``FastGAN.train_step`` reads) and calls
    ``model.train_step`` with shallow copies of the batch's data samples (the data
    preprocessor writes the normalised image into them).

    Returns:
        tuple: ``(stats, model)``; ``stats`` as :func:`time_runner` without
        ``window_data_seconds``.
    """
    model, optim_wrapper = build_model(cfg)
    batches = in_memory_batches(cfg, model, num_batches)
    torch.backends.cudnn.benchmark = bool(cfg.env_cfg.get('cudnn_benchmark', False))
    hub = MessageHub.get_instance(f'fastgan_benchmark_{time.monotonic_ns()}')
    boundaries = {warmup + k * window_iters for k in range(windows + 1)}
    memory = PeakMemory()
    stamps = []
    for i in range(max(boundaries)):
        hub.update_info('iter', i)
        batch = batches[i % num_batches]
        model.train_step(dict(batch, data_samples=[s.new() for s in batch['data_samples']]),
                         optim_wrapper)
        if i + 1 in boundaries:
            synchronize()
            stamps.append(time.perf_counter())
            if len(stamps) == 1:
                memory.reset()
    return dict(window_seconds=_durations(stamps), peak_mem_mib=memory.peak_mib(),
                peak_mem_kind=memory.kind), model


def time_data_pipeline(cfg: Config, *, windows: int, window_items: int) -> dict:
    """Time the config's train pipeline (load, resize, flip, pack) in this process.

    Args:
        cfg (Config): From :func:`benchmark_config`.
        windows (int): Timed windows, after one untimed item.
        window_items (int): Items per window, cycling over the dataset.

    Returns:
        dict: ``images_per_s`` (median window) and ``windows_images_per_s``.
    """
    dataset = build_dataset(cfg)
    dataset[0]  # warm-up
    rates = []
    for k in range(windows):
        start = time.perf_counter()
        for i in range(window_items):
            dataset[(k * window_items + i) % len(dataset)]
        rates.append(window_items / (time.perf_counter() - start))
    return dict(images_per_s=statistics.median(rates), windows_images_per_s=rates)


@torch.no_grad()
def time_sampling(model: torch.nn.Module, *, batch_size: int, windows: int,
                  window_batches: int = 1, amp_dtype: Optional[str] = None) -> dict:
    """Time generation with the EMA generator in eval mode.

    Args:
        model (nn.Module): A FastGAN model with an EMA generator.
        batch_size (int): Images per generator call.
        windows (int): Timed windows, after one untimed call.
        window_batches (int): Generator calls per window.
        amp_dtype (str, optional): Autocast dtype (``'bfloat16'``, ``'float16'``), or None.

    Returns:
        dict: ``images_per_s`` (median window) and ``windows_images_per_s``.
    """
    model.eval()
    device = next(model.parameters()).device.type
    seeds = range(batch_size * window_batches)
    rates = []
    with torch.autocast(device, dtype=getattr(torch, amp_dtype or 'bfloat16'),
                        enabled=amp_dtype is not None):
        sample_images(model, seeds[:batch_size], batch_size)  # warm-up
        for _ in range(windows):
            synchronize()
            start = time.perf_counter()
            sample_images(model, seeds, batch_size)
            synchronize()
            rates.append(len(seeds) / (time.perf_counter() - start))
    model.train()
    return dict(images_per_s=statistics.median(rates), windows_images_per_s=rates)


def benchmark(config: str,
              setting: BenchmarkSetting,
              *,
              warmup: int = 2,
              windows: int = 3,
              window_iters: int = 3,
              rounds: int = 1,
              num_workers: Optional[int] = None,
              num_images: Optional[int] = None,
              parts: Sequence[str] = PARTS,
              tmp_dir: Optional[str] = None) -> dict:
    """Measure one setting: runner, bare loop, sampling and data pipeline (see the module
    doc).

    Training images are drawn by :func:`make_demo_images` at the setting's resolution into
    a temporary folder and read back by the config's pipeline. The runner and the bare
    loop alternate ``rounds`` times (each round a fresh runner or model, with its own
    warm-up), so that a change of load on a shared machine falls on both; their windows
    are pooled (see :func:`summarise`). The model of the last bare loop is then timed
    sampling (without ``bare``, a freshly built model is), then the data pipeline
    (``window_iters`` batches per window).

    Args:
        config (str): FastGAN config (see :func:`benchmark_config`).
        setting (BenchmarkSetting): What to measure.
        warmup (int): Untimed iterations before the windows.
        windows (int): Timed windows per part (per round for runner and bare loop).
        window_iters (int): Iterations (generator calls when sampling) per window.
        rounds (int): Runner and bare-loop measurements, alternating.
        num_workers (int, optional): Dataloader workers; None keeps the config's.
        num_images (int, optional): Images written; defaults to two batches, at least 16.
        parts (Sequence[str]): Which of :data:`PARTS` to measure.
        tmp_dir (str, optional): Parent of the temporary folder (images, work dir).

    Returns:
        dict: The config and the setting's fields, the machine (device, torch threads,
        load average before and after), ``runner`` / ``bare`` / ``sample`` / ``data``
        results, and when both runner and bare loop were timed ``runner_vs_bare`` (runner
        iterations/s divided by the bare loop's) and ``runner_overhead`` (the runner's extra
        time per iteration, as a share of the bare loop's).
    """
    for value, name in ((warmup, 'warmup'), (windows, 'windows'),
                        (window_iters, 'window_iters'), (rounds, 'rounds')):
        check_int(value, name, minimum=1)
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise ValueError(f'parts must be a non-empty selection of {PARTS}, got {parts!r}')
    device = get_device()
    check_variant_device(setting.variant, device)
    amp = [AMP_PATHS[p] for p in parse_variant(setting.variant) if p in AMP_PATHS]
    batch_size = setting.batch_size
    result = dict(config=config, **dataclasses.asdict(setting), device=device,
                  device_name=(torch.cuda.get_device_name() if device == 'cuda' else 'cpu'),
                  hardware=describe_hardware(device),
                  torch=torch.__version__, torch_threads=torch.get_num_threads(),
                  warmup=warmup, windows=windows, window_iters=window_iters, rounds=rounds,
                  load_avg_before=os.getloadavg())
    with tempfile.TemporaryDirectory(prefix='fastgan_benchmark_', dir=tmp_dir) as tmp:
        data_root = os.path.join(tmp, 'images')
        make_demo_images(data_root, num_images or max(16, 2 * batch_size),
                         size=setting.im_size)
        cfg = benchmark_config(config, setting, data_root=data_root,
                               work_dir=os.path.join(tmp, 'work'), num_workers=num_workers)
        result['num_workers'] = cfg.train_dataloader.num_workers
        timing = dict(warmup=warmup, windows=windows, window_iters=window_iters)
        runs = {part: [] for part in ('runner', 'bare') if part in parts}
        model = None
        for _ in range(rounds):
            if 'runner' in runs:
                runs['runner'].append(time_runner(cfg, **timing))
            if 'bare' in runs:
                stats, model = time_bare_loop(cfg, **timing)
                runs['bare'].append(stats)
        for part, part_runs in runs.items():
            result[part] = summarise(part_runs, window_iters, batch_size)
        if 'sample' in parts:
            model = model if model is not None else build_model(cfg)[0]
            result['sample'] = time_sampling(model, batch_size=batch_size, windows=windows,
                                             window_batches=window_iters,
                                             amp_dtype=amp[0] if amp else None)
        if 'data' in parts:
            result['data'] = time_data_pipeline(cfg, windows=windows,
                                                window_items=window_iters * batch_size)
    if 'runner' in result and 'bare' in result:
        ratio = result['runner']['iters_per_s'] / result['bare']['iters_per_s']
        result.update(runner_vs_bare=ratio, runner_overhead=1 / ratio - 1)
    result['load_avg_after'] = os.getloadavg()
    return result


def format_table(results: Sequence[dict]) -> str:
    """A Markdown table of :func:`benchmark` results, one row each."""
    header = ('size', 'batch', 'ngf/ndf', 'rec', 'variant', 'runner it/s', 'bare it/s',
              'runner/bare', 'overhead', 'data wait', 'runner img/s', 'sample img/s',
              'pipeline img/s', 'peak MiB runner / bare', 'load 1 min', 'hardware')

    def number(part: Optional[dict], key: str, fmt: str = '{:.3g}') -> str:
        return fmt.format(part[key]) if part and part.get(key) is not None else '-'

    rows = []
    for r in results:
        runner, bare = r.get('runner'), r.get('bare')
        rows.append((
            str(r['im_size']), str(r['batch_size']), f"{r['ngf'] or '-'}/{r['ndf'] or '-'}",
            r['rec_loss'] or '-', r['variant'], number(runner, 'iters_per_s'),
            number(bare, 'iters_per_s'), number(r, 'runner_vs_bare', '{:.3f}'),
            number(r, 'runner_overhead', '{:+.1%}'), number(runner, 'data_wait_share', '{:.1%}'),
            number(runner, 'images_per_s'), number(r.get('sample'), 'images_per_s'),
            number(r.get('data'), 'images_per_s'),
            ' / '.join(number(part, 'peak_mem_mib', '{:.0f}') for part in (runner, bare)),
            f"{r['load_avg_before'][0]:.1f} -> {r['load_avg_after'][0]:.1f}",
            r.get('hardware', '-')))
    lines = ['| ' + ' | '.join(header) + ' |', '|' + ' --- |' * len(header)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return '\n'.join(lines)
