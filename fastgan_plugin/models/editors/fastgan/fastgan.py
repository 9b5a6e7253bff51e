"""FastGAN: the training model (mmagic ``BaseGAN`` subclass)."""
import math
from logging import WARNING
from typing import Dict, Optional, Union

import torch
from mmagic.models.base_models import BaseGAN
from mmagic.models.utils import set_requires_grad
from mmagic.registry import MODELS
from mmengine import MessageHub
from mmengine.dist import all_reduce
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from ....utils.model import unwrap_model
from ....utils.validation import check_bool, check_choice
from .modules import crop_quadrant, resize_images

QUADRANT_MODES = ('sample', 'batch')
NONFINITE_MODES = ('stop', 'skip')
RECONSTRUCTION_SIZE = 128


@MODELS.register_module()
class FastGAN(BaseGAN):
    """FastGAN (Liu et al., ICLR 2021) trained as the official code does.

    One training iteration (``discriminator_steps=1``, the official schedule):

    1. ``fake = G(z)`` gives the image at ``im_size`` and at 128 px; each is augmented
       separately with DiffAugment, and so is the real batch.
    2. Discriminator step: hinge loss on the augmented real batch plus the three
       reconstruction losses of its decoders (targets: the augmented real batch and a
       quadrant of it, resized to 128 px), hinge loss on the *detached* augmented fakes;
       one optimizer step.
    3. Generator step on the *same* augmented fakes: ``-mean(D(fake))``; one step.
    4. EMA update of the generator.

    Logged terms: ``loss_disc_real``, ``loss_disc_fake``, ``loss_rec_big``,
    ``loss_rec_small``, ``loss_rec_part`` (their sum is ``loss``), and ``loss_gen``.

    Args:
        generator (dict | nn.Module): ``SLEGenerator`` config or module.
        discriminator (dict | nn.Module): ``SSDiscriminator`` config or module, same
            ``im_size`` as the generator.
        data_preprocessor (dict, optional): mmagic ``DataPreprocessor`` config. Real
            images are read from ``data_samples.gt_img`` (``PackInputs()``, as mmagic's
            GANs do) and must arrive as RGB in [-1, 1].
        augment (dict, optional): ``DiffAugment`` config applied to every real and fake
            image before the discriminator. None disables augmentation.
        gan_loss (dict): ``HingeLoss`` config. Defaults to the official random-margin hinge.
        rec_loss (dict): ``ReconstructionLoss`` config for the three decoders.
        quadrant (str): ``'sample'`` draws the decoded quadrant per image (default: every
            image gives the part decoder a signal about a different region); ``'batch'``
            draws one quadrant for the whole batch, as the official code does.
        ema_config (dict, optional): EMA of the generator, e.g.
            ``dict(type='FastGANEMA', momentum=0.001)``. None disables EMA.
        discriminator_steps (int): Discriminator updates per generator update.
        generator_steps (int): Generator updates per discriminator cycle.
        nonfinite (str): What a NaN or Inf loss term does, checked before each update
            (all processes agree): ``'stop'`` (default) raises ``FloatingPointError``
            naming the term and the iteration, before that update is applied;
            ``'skip'`` leaves that step's update out, logs a warning and drops the
            non-finite terms from the logs.
        channels_last (bool): Keep every 4-D weight (generator, discriminator, their EMA,
            the LPIPS network) and the images the discriminator sees in the channels-last
            memory format, which the convolution kernels of tensor-core GPUs (and oneDNN on
            CPUs) prefer. Same results as the default layout up to float rounding.
            Defaults to False.
    """

    def __init__(self,
                 generator: Union[dict, nn.Module],
                 discriminator: Union[dict, nn.Module],
                 data_preprocessor: Optional[dict] = None,
                 *,
                 augment: Optional[dict] = None,
                 gan_loss: Optional[dict] = None,
                 rec_loss: Optional[dict] = None,
                 quadrant: str = 'sample',
                 ema_config: Optional[dict] = None,
                 discriminator_steps: int = 1,
                 generator_steps: int = 1,
                 nonfinite: str = 'stop',
                 channels_last: bool = False) -> None:
        check_choice(quadrant, 'quadrant', QUADRANT_MODES)
        check_choice(nonfinite, 'nonfinite', NONFINITE_MODES)
        check_bool(channels_last, 'channels_last')
        super().__init__(
            generator=generator,
            discriminator=discriminator,
            data_preprocessor=data_preprocessor,
            generator_steps=generator_steps,
            discriminator_steps=discriminator_steps,
            ema_config=ema_config)
        g_size = unwrap_model(self.generator).im_size
        d_size = unwrap_model(self.discriminator).im_size
        if g_size != d_size:
            raise ValueError(f'generator.im_size ({g_size}) and discriminator.im_size '
                             f'({d_size}) must be equal')
        self.augment = MODELS.build(augment) if augment is not None else nn.Identity()
        self.gan_loss = MODELS.build(gan_loss or dict(type='HingeLoss'))
        self.rec_loss = MODELS.build(rec_loss or dict(type='ReconstructionLoss'))
        self.quadrant = quadrant
        self.nonfinite = nonfinite
        # Whether G or D has BatchNorm that is not synchronised, found at the first step
        # (the runner converts to SyncBatchNorm after construction).
        self._plain_batch_norm: Optional[bool] = None
        # Augmented fakes (with G's graph) from the latest discriminator step, which the
        # generator step reuses as the official loop does.
        self._fakes: Optional[Dict[str, Tensor]] = None
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:
            self.to(memory_format=self.memory_format)

    def init_weights(self) -> None:
        """Initialise the networks (``init_cfg``, e.g. a pretrained generator), then start
        the EMA generator from the generator's weights."""
        super().init_weights()
        if self.with_ema_gen:
            self.generator_ema.sync_parameters(unwrap_model(self.generator))

    def forward(self, inputs, data_samples: Optional[list] = None,
                mode: Optional[str] = None) -> list:
        """Sample as :meth:`BaseGAN.forward`, returning BGR images in [0, 255].

        The generator works in RGB (as the official weights do), but mmagic's metrics and
        visualizers take generated images as BGR, the order mmagic's own GANs learn from
        OpenCV-loaded data; so ``fake_img`` (also under ``ema`` / ``orig``) is converted.
        """
        samples = super().forward(inputs, data_samples, mode)
        for sample in samples:
            for holder in (sample, sample.get('ema'), sample.get('orig')):
                if holder is not None and 'fake_img' in holder:
                    holder.fake_img = holder.fake_img.flip(-3)
        return samples

    def generate_fakes(self, num_batches: int) -> Dict[str, Tensor]:
        """Sample ``num_batches`` images and augment each resolution separately.

        Returns:
            dict: ``img`` (N, 3, R, R) and ``img_small`` (N, 3, 128, 128), augmented,
            attached to the generator's graph.
        """
        noise = self.noise_fn(num_batches=num_batches)
        out = self.generator(noise, return_small=True)
        return dict(img=self.augment_for_discriminator(out['fake_img']),
                    img_small=self.augment_for_discriminator(out['fake_img_128']))

    def augment_for_discriminator(self, img: Tensor) -> Tensor:
        """DiffAugment ``img`` (N, 3, H, W) and lay it out in :attr:`memory_format`."""
        return self.augment(img).contiguous(memory_format=self.memory_format)

    def draw_quadrants(self, num_batches: int) -> Tensor:
        """Quadrant index (0..3) per image for the part decoder, shape (N,)."""
        if self.quadrant == 'batch':
            return torch.randint(0, 4, (1, ), device=self.device).expand(num_batches)
        return torch.randint(0, 4, (num_batches, ), device=self.device)

    def reconstruction_targets(self, real: Tensor, part: Tensor) -> Dict[str, Tensor]:
        """What the decoders must reproduce, as in the official loop.

        Args:
            real (Tensor): Augmented real batch (N, 3, R, R) in [-1, 1].
            part (Tensor): Quadrant per image, (N,).

        Returns:
            dict: ``rec_big``, ``rec_small`` (both the whole image: one tensor) and
            ``rec_part`` (the quadrant), each (N, 3, 128, 128), resized with the
            discriminator's resize mode.
        """
        mode = unwrap_model(self.discriminator).resize_mode
        whole = resize_images(real, RECONSTRUCTION_SIZE, mode)
        quadrant = resize_images(crop_quadrant(real, part), RECONSTRUCTION_SIZE, mode)
        return dict(rec_big=whole, rec_small=whole, rec_part=quadrant)

    def train_discriminator(self, inputs: dict, data_samples: list,
                            optimizer_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """Discriminator step; also samples the fakes the generator step reuses."""
        real = self.augment_for_discriminator(data_samples.gt_img)
        num_batches = real.shape[0]
        self._fakes = self.generate_fakes(num_batches)

        part = self.draw_quadrants(num_batches)
        pred_real, recs = self.discriminator(real, part=part)
        # rec_big and rec_small share one target: its LPIPS features are computed once.
        targets = self.rec_loss.prepare_targets(self.reconstruction_targets(real, part))
        losses = dict(loss_disc_real=self.gan_loss(pred_real, 'real'))
        # With accumulation, a sum over the batch (reduction='sum', official) stands for the
        # sum over the accumulated batch, so that k micro-batches of B / k weigh as one batch
        # of B (the optimizer wrapper divides every term by k).
        rec_scale = (optimizer_wrapper._accumulative_counts
                     if self.rec_loss.reduction == 'sum' else 1)
        for name in ('rec_big', 'rec_small', 'rec_part'):
            losses[f'loss_{name}'] = rec_scale * self.rec_loss(recs[name], targets[name])

        pred_fake = self.discriminator(self._fakes['img'].detach(),
                                       self._fakes['img_small'].detach())
        losses['loss_disc_fake'] = self.gan_loss(pred_fake, 'fake')

        loss, log_vars = self.parse_losses(losses)
        self.apply_update(loss, log_vars, 'discriminator', optimizer_wrapper)
        return log_vars

    def train_generator(self, inputs: dict, data_samples: list,
                        optimizer_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """Generator step (one micro-batch of it with accumulation) on the augmented fakes
        of the last discriminator step; later steps of the same iteration draw new fakes."""
        fakes = self._fakes
        if fakes is None or not fakes['img'].requires_grad:
            fakes = self.generate_fakes(data_samples.gt_img.shape[0])
        self._fakes = None
        pred = self.discriminator(fakes['img'], fakes['img_small'])
        loss, log_vars = self.parse_losses(dict(loss_gen=self.gan_loss(pred, 'generator')))
        self.apply_update(loss, log_vars, 'generator', optimizer_wrapper)
        return log_vars

    def apply_update(self, loss: Tensor, log_vars: Dict[str, Tensor], step: str,
                     optimizer_wrapper: OptimWrapper) -> None:
        """Backward ``loss`` and update as ``optimizer_wrapper`` accumulates, if every term
        is finite (:meth:`check_finite`).

        A skipped micro-batch (``nonfinite='skip'``) still counts towards the wrapper's
        ``accumulative_counts``, so the schedule stays aligned, but adds no gradient. If it
        is the one that would apply the update, the cycle's update is dropped (its
        gradients were never all-reduced: DDP synchronises on that backward).
        """
        if self.check_finite(log_vars, step):
            optimizer_wrapper.update_params(loss)
            return
        optimizer_wrapper._inner_count += 1
        if optimizer_wrapper.should_update():
            optimizer_wrapper.zero_grad()

    def check_finite(self, log_vars: Dict[str, Tensor], step: str) -> bool:
        """Whether every loss term is finite on every process; if not, stop or skip.

        Args:
            log_vars (dict[str, Tensor]): The terms from :meth:`parse_losses`.
            step (str): ``'discriminator'`` or ``'generator'``, for the message.

        Returns:
            bool: True to apply the update. False (``nonfinite='skip'``) after removing
            the non-finite terms from ``log_vars`` and logging a warning.

        Raises:
            FloatingPointError: With ``nonfinite='stop'``, naming the terms and iteration.
        """
        names = list(log_vars)
        flags = torch.stack([(~torch.isfinite(log_vars[name].detach())).any().float()
                             for name in names])
        all_reduce(flags, op='max')  # every process stops or skips together
        bad = [name for name, flag in zip(names, flags.tolist()) if flag]
        if not bad:
            return True
        terms = [name for name in bad if name != 'loss'] or bad
        values = ', '.join(
            f'{name}={log_vars[name].item():g}' if not math.isfinite(log_vars[name].item())
            else f'{name} (non-finite on another process)' for name in terms)
        iteration = MessageHub.get_current_instance().get_info('iter', 0) + 1
        if self.nonfinite == 'stop':
            raise FloatingPointError(
                f'FastGAN: non-finite loss at iteration {iteration} ({step} step): '
                f'{values}. Training stopped before this update was applied; no '
                'checkpoint was written after it. Resume from the last checkpoint '
                '(--resume) with lower learning rates or after checking the data, or set '
                "model.nonfinite='skip' to skip such updates.")
        print_log(f'FastGAN: skipped the {step} update of iteration {iteration}: {values} '
                  "(nonfinite='skip')", logger='current', level=WARNING)
        for name in bad:
            log_vars.pop(name)
        return False

    def check_real_batch(self, real: Tensor) -> None:
        """Refuse a real batch the model cannot train on, before any update.

        Args:
            real (Tensor): The preprocessed real batch (N, 3, H, W).

        Raises:
            ValueError: Images that are not ``im_size`` x ``im_size``; or a batch of 1
                with (non-synchronised) BatchNorm, which would normalise each image by
                its own statistics (training degenerates).
        """
        im_size = unwrap_model(self.generator).im_size
        if tuple(real.shape[-2:]) != (im_size, im_size):
            raise ValueError(
                f'FastGAN: real images arrive as {real.shape[-2]}x{real.shape[-1]} but '
                f'im_size is {im_size}; set the ResizeToSquare size of '
                f'train_pipeline to {im_size}, or generator.im_size and '
                'discriminator.im_size to the image size')
        if self._plain_batch_norm is None:
            self._plain_batch_norm = any(
                isinstance(m, _BatchNorm) and not isinstance(m, nn.SyncBatchNorm)
                for net in (self.generator, self.discriminator) for m in net.modules())
        if self._plain_batch_norm and real.shape[0] < 2:
            raise ValueError(
                f'FastGAN: a batch of {real.shape[0]} image per process: the BatchNorm layers '
                'of the generator and discriminator would normalise each image by its own '
                'statistics and training degenerates. Set train_dataloader.batch_size to 2 '
                "or more (official: 8), or with several GPUs also set sync_bn='torch'; with "
                'a sampler that ends epochs with a partial batch, set drop_last=True.')

    def train_step(self, data: dict, optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One iteration on mmagic's schedule (``BaseGAN.train_step``), with gradient
        accumulation (``optim_wrapper.<net>.accumulative_counts``) for both networks.

        Every iteration is one discriminator micro-batch; the discriminator updates every
        ``disc_accu`` iterations. After ``discriminator_steps`` such updates come
        ``generator_steps * gen_accu`` generator micro-batches (``generator_steps``
        updates), then the EMA update (from iteration ``ema_start * discriminator_steps *
        disc_accu``). The first generator micro-batch reuses the augmented fakes of this
        iteration's discriminator micro-batch, as the official loop does; the others draw
        new fakes from the same generator (see docs/design.md, "The training step").
        """
        message_hub = MessageHub.get_current_instance()
        curr_iter = message_hub.get_info('iter')
        data = self.data_preprocessor(data, True)
        self.check_real_batch(data['data_samples'].gt_img)
        disc_wrapper = optim_wrapper['discriminator']
        disc_accu_iters = disc_wrapper._accumulative_counts
        max_iters = message_hub.get_info('max_iters')
        if max_iters is not None and disc_wrapper._max_counts != max_iters:
            # MMEngine initialises a single optimizer wrapper but not those of an
            # OptimWrapperDict: count D's micro-batches from this run's first iteration
            # (a resumed run continues its accumulation cycles; the last one may be short).
            disc_wrapper.initialize_count_status(self.discriminator, curr_iter, max_iters)
        with disc_wrapper.optim_context(self.discriminator):
            log_vars = self.train_discriminator(**data, optimizer_wrapper=disc_wrapper)

        if (curr_iter + 1) % (self.discriminator_steps * disc_accu_iters):
            self._fakes = None  # free G's graph: no generator step this iteration
            return log_vars

        gen_wrapper = optim_wrapper['generator']
        gen_micro_batches = self.generator_steps * gen_wrapper._accumulative_counts
        gen_wrapper.initialize_count_status(self.generator, 0, gen_micro_batches)
        set_requires_grad(self.discriminator, False)
        gen_logs = []
        for _ in range(gen_micro_batches):
            with gen_wrapper.optim_context(self.generator):
                gen_logs.append(self.train_generator(**data, optimizer_wrapper=gen_wrapper))
        set_requires_grad(self.discriminator, True)
        gen_log_vars = self.gather_log_vars(gen_logs)
        gen_log_vars.pop('loss', None)
        log_vars.update(gen_log_vars)

        if self.with_ema_gen:
            generator = unwrap_model(self.generator)
            if curr_iter + 1 >= self.ema_start * self.discriminator_steps * disc_accu_iters:
                self.generator_ema.update_parameters(generator)
            else:
                self.generator_ema.sync_parameters(generator)
        return log_vars
