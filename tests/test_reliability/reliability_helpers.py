"""Shared pieces of the reliability tests, and test-only components they register.

Importing this module registers into mmagic's registries (and MMEngine's file backends)
a few components that only tests use. The tests import it directly; the training
processes they start import it through the config's ``custom_imports`` (the tests put
this folder on ``PYTHONPATH``, see :func:`subprocess_env`).

- ``SlowAtomicLocalBackend``: the product's atomic backend, except that writing the file
  named by ``$FASTGAN_TEST_SLOW_WRITE`` stops half way, creates the marker file
  ``$FASTGAN_TEST_SLOW_WRITE_MARKER`` and sleeps, so that a test can kill the process
  during a checkpoint write. The environment variables are read here only.
- ``NaNAtIterationHingeLoss``: ``HingeLoss`` that returns NaN once, for one target.
- ``ParamChangeRecorderHook``, ``CorruptWeightHook``, ``DumpStateHook``: observe or
  damage the model at chosen iterations, or dump each rank's weights.
- ``DumpRandomnessHook``: write what each rank draws in its first training iteration.
- ``StallValidationHook``: in the first validation iteration, create the marker file
  ``$FASTGAN_TEST_STALL_MARKER`` and sleep, so that a test can kill the process during
  validation (the variable is read here only).
- ``PauseInIterationHook``: in training iteration ``$FASTGAN_TEST_PAUSE_ITER`` (after its
  batch is loaded), create the marker file ``$FASTGAN_TEST_PAUSE_MARKER`` and sleep 3 s,
  so that a test can signal the process in the middle of an iteration.
- ``RecordingFrechetInceptionDistance``: mmagic's FID, also writing the features of the
  fakes it received (gathered from every rank).
"""
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Optional

import torch
from mmagic.evaluation import FrechetInceptionDistance
from mmagic.registry import HOOKS, METRICS, MODELS
from mmengine import MessageHub
from mmengine.config import Config
from mmengine.dist import all_gather, get_rank
from mmengine.fileio.backends import register_backend
from mmengine.hooks import Hook

import fastgan_plugin  # noqa: F401
from fastgan_plugin.apis.config import load_config
from fastgan_plugin.models.losses import HingeLoss
from fastgan_plugin.utils.atomic_io import AtomicLocalBackend
from fastgan_plugin.utils.model import unwrap_model
from tool_utils.demo_data import make_demo_images

HELPERS_DIR = Path(__file__).resolve().parent
REPO_ROOT = HELPERS_DIR.parents[1]
DEMO_CONFIG = str(REPO_ROOT / 'configs' / 'fastgan' / 'fastgan_demo_cpu.py')
TRAIN_SCRIPT = str(REPO_ROOT / 'tools' / 'train.py')
_names = itertools.count()


# ------------------------------------------------------------------ test-only components
@register_backend('slow_atomic_local')
class SlowAtomicLocalBackend(AtomicLocalBackend):
    """Atomic local backend that stalls half way through one named file (see module)."""

    def _write(self, file, data: bytes) -> None:
        target = os.environ.get('FASTGAN_TEST_SLOW_WRITE')
        if not target or not os.path.basename(file.name).startswith(f'.{target}.partial-'):
            file.write(data)
            return
        file.write(data[:len(data) // 2])
        file.flush()
        os.fsync(file.fileno())
        Path(os.environ['FASTGAN_TEST_SLOW_WRITE_MARKER']).write_text(file.name)
        time.sleep(float(os.environ.get('FASTGAN_TEST_SLOW_WRITE_SECONDS', '300')))
        file.write(data[len(data) // 2:])


@MODELS.register_module()
class NaNAtIterationHingeLoss(HingeLoss):
    """``HingeLoss`` returning NaN at iteration ``nan_iteration`` (1-based) for
    ``nan_target`` ('real', 'fake' or 'generator')."""

    def __init__(self, nan_iteration: int, nan_target: str = 'real', **kwargs) -> None:
        super().__init__(**kwargs)
        self.nan_iteration = nan_iteration
        self.nan_target = nan_target

    def forward(self, pred, target):
        loss = super().forward(pred, target)
        iteration = MessageHub.get_current_instance().get_info('iter') + 1
        if iteration == self.nan_iteration and target == self.nan_target:
            loss = loss * float('nan')
        return loss


@HOOKS.register_module()
class ParamChangeRecorderHook(Hook):
    """Record, per iteration (1-based), which networks' parameters changed."""

    def __init__(self) -> None:
        self.changed: Dict[int, Dict[str, bool]] = {}
        self._before = None

    def _params(self, runner):
        model = unwrap_model(runner.model)
        return {name: [p.detach().clone() for p in unwrap_model(getattr(model, name)).parameters()]
                for name in ('generator', 'discriminator')}

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._before = self._params(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        after = self._params(runner)
        self.changed[runner.iter + 1] = {
            name: any(not torch.equal(a, b) for a, b in zip(self._before[name], after[name]))
            for name in after
        }


@HOOKS.register_module()
class CorruptWeightHook(Hook):
    """After iteration ``iteration``, set the first floating-point weight whose name
    starts with ``prefix`` to NaN; its name is kept in ``self.corrupted``."""

    priority = 'NORMAL'  # before the checkpoint hook (VERY_LOW) of the same iteration

    def __init__(self, iteration: int, prefix: str) -> None:
        self.iteration = iteration
        self.prefix = prefix
        self.corrupted: Optional[str] = None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 != self.iteration:
            return
        state = unwrap_model(runner.model).state_dict()
        self.corrupted = next(k for k, v in state.items()
                              if k.startswith(self.prefix) and v.is_floating_point())
        with torch.no_grad():
            state[self.corrupted].fill_(float('nan'))


@HOOKS.register_module()
class DumpStateHook(Hook):
    """After training, write this rank's parameters and buffers to
    ``<work_dir>/weights_rank<r>.pt``."""

    def after_train(self, runner) -> None:
        model = unwrap_model(runner.model)
        state = dict(params={k: v.detach().cpu() for k, v in model.named_parameters()},
                     buffers={k: v.detach().cpu() for k, v in model.named_buffers()})
        torch.save(state, Path(runner.work_dir, f'weights_rank{get_rank()}.pt'))


@HOOKS.register_module()
class DumpRandomnessHook(Hook):
    """Record what this rank draws in the first iteration of the run: the torch RNG state
    at its start, the latents, the augmented fakes the discriminator sees and the
    quadrants; write them to ``<work_dir>/randomness_rank<r>.pt``."""

    RECORDED = ('noise_fn', 'generate_fakes', 'draw_quadrants')

    def __init__(self) -> None:
        self.record: Optional[dict] = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self.record is not None:
            return
        model = unwrap_model(runner.model)
        self.record = dict(rng_state=torch.get_rng_state())
        for name in self.RECORDED:
            setattr(model, name, self._recording(name, getattr(model, name)))

    def _recording(self, name, method):
        def recorded(*args, **kwargs):
            out = method(*args, **kwargs)
            self.record.setdefault(name, out)  # the first call: the discriminator step's
            return out
        return recorded

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        model = unwrap_model(runner.model)
        if any(name not in vars(model) for name in self.RECORDED):
            return  # written already
        for name in self.RECORDED:
            delattr(model, name)  # the class's methods again
        record = self.record
        fakes = record.pop('generate_fakes')
        record.update(fake_img=fakes['img'], fake_img_small=fakes['img_small'],
                      latents=record.pop('noise_fn'), quadrants=record.pop('draw_quadrants'))
        torch.save({k: v.detach().cpu() for k, v in record.items()},
                   Path(runner.work_dir, f'randomness_rank{get_rank()}.pt'))


@HOOKS.register_module()
class StallValidationHook(Hook):
    """Stall in validation when ``$FASTGAN_TEST_STALL_MARKER`` is set (see the module)."""

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        marker = os.environ.get('FASTGAN_TEST_STALL_MARKER')
        if marker:
            Path(marker).write_text(str(runner.iter))
            time.sleep(300)


@HOOKS.register_module()
class PauseInIterationHook(Hook):
    """Pause in one training iteration when ``$FASTGAN_TEST_PAUSE_ITER`` is set (see the
    module); draws nothing, so the run's results are unchanged."""

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if os.environ.get('FASTGAN_TEST_PAUSE_ITER') == str(runner.iter + 1):
            Path(os.environ['FASTGAN_TEST_PAUSE_MARKER']).write_text(str(runner.iter + 1))
            time.sleep(3)


@METRICS.register_module()
class RecordingFrechetInceptionDistance(FrechetInceptionDistance):
    """mmagic's FID that also writes what it evaluated, gathered from every process as the
    metric gathers its features: ``{'images': (fake_nums, 3, H, W), 'features':
    (fake_nums, D)}`` to ``record_path``."""

    def __init__(self, record_path: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.record_path = record_path
        self._fake_images: list = []
        self._gathered_images: Optional[torch.Tensor] = None
        self._in_process = False  # forward_inception sees the real images too

    def process(self, data_batch: dict, data_samples) -> None:
        self._in_process = True
        super().process(data_batch, data_samples)
        self._in_process = False

    def forward_inception(self, image):
        if self._in_process:
            self._fake_images.append(image.detach().cpu())
        return super().forward_inception(image)

    def evaluate(self) -> dict:
        self._gathered_images = torch.cat(all_gather(torch.cat(self._fake_images)))
        self._fake_images = []
        return super().evaluate()

    def compute_metrics(self, fake_results: list) -> dict:
        torch.save(dict(images=self._gathered_images[:self.fake_nums],
                        features=torch.cat(fake_results).cpu()), self.record_path)
        return super().compute_metrics(fake_results)


# ------------------------------------------------------------------------ test utilities
def make_images(folder: Path, count: int = 4) -> Path:
    """Write ``count`` small drawn RGB images (256 px) into ``folder``."""
    make_demo_images(str(folder), count, size=256)
    return folder


def tiny_config(work_dir: Path, data_root: Optional[Path], **options) -> Config:
    """The demo config at test size: 256 px, ngf = ndf = 8, nz = 16, batch 2, 2 iterations,
    no evaluation.

    Args:
        work_dir (Path): The run's work dir.
        data_root (Path | None): The image folder.
        **options: More ``--cfg-options``-style overrides (dotted keys).

    Returns:
        Config: Also fit for :meth:`Config.dump` and ``tools/train.py``.
    """
    values = {
        # 256 px (the demo trains at 128): the size these tests' images and checks are made for
        'model.generator.im_size': 256,
        'model.discriminator.im_size': 256,
        'train_dataloader.dataset.pipeline.1.size': 256,
        'model.generator.ngf': 8,
        'model.generator.nz': 16,
        'model.discriminator.ndf': 8,
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': None if data_root is None else str(data_root),
        'train_cfg.max_iters': 2,
        # no evaluation (the demo's SWD reads its own folder); a test may add one
        'val_dataloader': None,
        'val_cfg': None,
        'val_evaluator': None,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': 2,
        'custom_imports.imports': ['fastgan_plugin', 'reliability_helpers'],
        'experiment_name': f'reliability_{os.getpid()}_{next(_names)}',
    }
    values.update(options)
    return load_config(DEMO_CONFIG, values, str(work_dir))


def subprocess_env(**extra: str) -> dict:
    """The environment for training processes: this folder on ``PYTHONPATH``, and one
    thread per process (see ``conftest.one_thread``)."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(HELPERS_DIR), env.get('PYTHONPATH', '')) if p)
    env.update(extra)
    return env


def start_training(config: Path, log: Path, *args: str, env: Optional[dict] = None,
                   **popen_args) -> subprocess.Popen:
    """Start ``tools/train.py CONFIG ARGS --no-report`` with stdout and stderr into ``log``
    (``popen_args``: more ``subprocess.Popen`` arguments, e.g. ``start_new_session``)."""
    with open(log, 'ab') as out:
        return subprocess.Popen([sys.executable, TRAIN_SCRIPT, str(config), *args,
                                 '--no-report'], cwd=REPO_ROOT, stdout=out,
                                stderr=subprocess.STDOUT, env=env or subprocess_env(),
                                **popen_args)


def wait_for(condition: Callable[[], bool], process: subprocess.Popen, log: Path,
             timeout: float, what: str) -> None:
    """Poll ``condition`` until true; fail with the log's tail on timeout or early exit."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f'the training process ended (exit {process.returncode}) '
                                 f'before {what}:\n{tail(log)}')
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f'timed out waiting for {what}:\n{tail(log)}')
        time.sleep(0.05)


def tail(log: Path, chars: int = 4000) -> str:
    """The end of a log file."""
    return log.read_text(errors='replace')[-chars:] if log.exists() else '(no log)'


def last_checkpoint(work_dir: Path) -> Optional[str]:
    """The checkpoint named by ``work_dir/last_checkpoint`` (basename), if any."""
    record = work_dir / 'last_checkpoint'
    return Path(record.read_text().strip()).name if record.exists() else None


def load_checkpoint(path: Path) -> dict:
    """``torch.load`` as MMEngine's resume does, with ``weights_only=True``."""
    return torch.load(path, map_location='cpu', weights_only=True)
