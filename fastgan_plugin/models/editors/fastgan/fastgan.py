"""FastGAN: the training model (mmagic ``BaseGAN`` subclass)."""
import math
import weakref
from logging import WARNING
from typing import Dict, Optional, Union

import torch
from mmagic.models.base_models import BaseGAN
from mmagic.models.utils import get_valid_num_batches
from mmagic.registry import MODELS
from mmengine import MessageHub
from mmengine.dist import all_reduce
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import Tensor, nn

from ....utils.channels import swap_red_blue
from ....utils.model import unwrap_model
from ....utils.validation import check_bool, check_choice
from .modules import crop_quadrant, resize_images

QUADRANT_MODES = ('sample', 'batch')
NONFINITE_MODES = ('stop', 'skip')
RECONSTRUCTION_SIZE = 128
PLAIN_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@MODELS.register_module()
class FastGAN(BaseGAN):
    """FastGAN (Liu et al., ICLR 2021) trained as the official code does.

    ``BaseGAN.train_step`` runs the schedule (a D micro-batch per iteration, G steps after
    ``discriminator_steps`` D updates, accumulation, EMA). D step: ``G(z)`` at ``im_size`` and
    128 px, each DiffAugmented; hinge on the augmented real batch plus the reconstruction
    terms of D's decoders (targets: the real batch and a quadrant of it at 128 px), hinge on
    the detached augmented fakes. G step on the *same* augmented fakes (official; later G
    micro-batches draw new ones): ``-mean(D(fake))``. Class-conditional (G's and D's
    ``num_classes`` set): the real batch's labels (``data_samples.gt_label``) go to D and are
    the fakes' labels too. Logged: ``loss_disc_real``,
    ``loss_disc_fake``, ``loss_rec_big``, ``loss_rec_small``, ``loss_rec_part`` (their sum
    is ``loss``), ``loss_gen``.

    Args:
        generator (dict | nn.Module): ``SLEGenerator``.
        discriminator (dict | nn.Module): ``SSDiscriminator`` with the generator's ``im_size``.
        data_preprocessor (dict, optional): Gives ``data_samples.gt_img``, RGB in [-1, 1].
        augment (dict, optional): ``DiffAugment`` for every image D sees; None: none.
        gan_loss (dict): ``HingeLoss`` config. Defaults to the official random-margin hinge.
        rec_loss (dict): ``ReconstructionLoss`` config. Defaults to LPIPS, summed.
        quadrant (str): Part decoder: a quadrant per image (``'sample'``) or per batch
            (``'batch'``, official).
        ema_config (dict, optional): e.g. ``dict(type='FastGANEMA', momentum=0.001)``.
        discriminator_steps (int): D updates per G phase.
        generator_steps (int): G updates per G phase.
        nonfinite (str): What a NaN or Inf loss term does, checked on every process (they
            agree) before each update. ``'stop'``: raise ``FloatingPointError`` naming the
            terms and the iteration, before the update. ``'skip'``: log a warning, drop the
            non-finite terms from the logs and leave the micro-batch's gradient out. A skipped
            micro-batch still counts for accumulation: the wrapper backpropagates an exactly
            zero loss built from its parameters (zero gradients; DDP synchronises as usual),
            so cycles stay aligned with the iterations. If the skipped micro-batch is the one
            that would apply the update, the whole cycle's update is dropped (``zero_grad``);
            an earlier one adds nothing to the cycle's step (the others keep weight 1/k).
        channels_last (bool): Keep 4-D weights (G, D, EMA, LPIPS) and D's inputs channels-last,
            the layout tensor-core GPUs and oneDNN prefer; same results up to rounding.
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
        super().__init__(generator=generator, discriminator=discriminator,
                         data_preprocessor=data_preprocessor, generator_steps=generator_steps,
                         discriminator_steps=discriminator_steps, ema_config=ema_config)
        g_size = unwrap_model(self.generator).im_size
        d_size = unwrap_model(self.discriminator).im_size
        if g_size != d_size:
            raise ValueError(f'generator.im_size ({g_size}) and discriminator.im_size '
                             f'({d_size}) must be equal')
        self.check_img_channels()
        self.num_classes = unwrap_model(self.generator).num_classes
        d_classes = unwrap_model(self.discriminator).num_classes
        if self.num_classes != d_classes:
            raise ValueError(f'generator.num_classes ({self.num_classes}) and '
                             f'discriminator.num_classes ({d_classes}) must be equal')
        self.augment = MODELS.build(augment) if augment is not None else nn.Identity()
        self.gan_loss = MODELS.build(gan_loss or dict(type='HingeLoss'))
        self.rec_loss = MODELS.build(rec_loss or dict(type='ReconstructionLoss'))
        self.quadrant = quadrant
        self.nonfinite = nonfinite
        # Set at the first step: the runner converts to SyncBatchNorm after construction.
        self._plain_batch_norm: Optional[bool] = None
        self._fakes: Optional[Dict[str, Tensor]] = None  # from the D step, for the G step
        self._counted_wrapper: Optional[weakref.ref] = None  # D wrapper whose count is set
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:
            self.to(memory_format=self.memory_format)

    def init_weights(self) -> None:
        """Initialise the networks (``init_cfg``), then copy G into the EMA generator."""
        super().init_weights()
        if self.with_ema_gen:
            self.generator_ema.sync_parameters(unwrap_model(self.generator))

    def forward(self, inputs, data_samples: Optional[list] = None,
                mode: Optional[str] = None) -> list:
        """:meth:`BaseGAN.forward` with ``fake_img`` (also under ``ema`` / ``orig``) as BGR in
        [0, 255] (BGRA, alpha last; grey as is): G works in RGB (as the official weights),
        mmagic's metrics and visualizers take BGR (the order its GANs learn from
        OpenCV-loaded data). A conditional model samples the classes
        ``inputs['sample_kwargs']['labels']``, else those of ``data_samples.gt_label``, else
        :meth:`label_fn`'s, and sets each sample's ``gt_label``."""
        if self.num_classes is not None:
            inputs = self._with_labels(inputs, data_samples)
        samples = super().forward(inputs, data_samples, mode)
        if self.num_classes is not None:
            for sample, label in zip(samples, inputs['sample_kwargs']['labels']):
                sample.set_gt_label(label)
        for sample in samples:
            for holder in (sample, sample.get('ema'), sample.get('orig')):
                if holder is not None and 'fake_img' in holder:
                    holder.fake_img = swap_red_blue(holder.fake_img)
        return samples

    def _with_labels(self, inputs, data_samples) -> dict:
        """``inputs`` as a dict with the noise drawn and ``sample_kwargs['labels']`` (N,) set
        (see :meth:`forward`)."""
        inputs = dict(noise=inputs) if isinstance(inputs, Tensor) else dict(inputs or {})
        num_batches = get_valid_num_batches(inputs, data_samples)
        inputs['noise'] = self.noise_fn(inputs.get('noise'), num_batches=num_batches)
        kwargs = dict(inputs.get('sample_kwargs') or {})
        if kwargs.get('labels') is None:
            labels = self.real_labels(data_samples)
            kwargs['labels'] = self.label_fn(num_batches) if labels is None else labels
        inputs['sample_kwargs'] = kwargs
        return inputs

    def label_fn(self, num_batches: int) -> Tensor:
        """Classes 0, 1, ..., num_classes - 1, 0, 1, ... (N,) for samples without labels:
        balanced, and the same for the same noise (a fixed-noise grid keeps its classes)."""
        return torch.arange(num_batches, device=self.device) % self.num_classes

    def real_labels(self, data_samples) -> Optional[Tensor]:
        """The class indices (N,) of ``data_samples.gt_label`` (the dataset's labels) for a
        conditional model, else None."""
        if self.num_classes is None or not data_samples or 'gt_label' not in data_samples:
            return None
        return data_samples.gt_label.label.view(-1).to(self.device)

    def generate_fakes(self, num_batches: int,
                       labels: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """G's ``img`` (N, 3, R, R) and ``img_small`` (N, 3, 128, 128), augmented separately,
        and their ``labels`` (N,) (None: unconditional)."""
        out = self.generator(self.noise_fn(num_batches=num_batches), return_small=True,
                             labels=labels)
        return dict(img=self.augment_for_discriminator(out['fake_img']),
                    img_small=self.augment_for_discriminator(out['fake_img_128']),
                    labels=labels)

    def augment_for_discriminator(self, img: Tensor) -> Tensor:
        """DiffAugment ``img`` (N, C, H, W), laid out in :attr:`memory_format`."""
        return self.augment(img).contiguous(memory_format=self.memory_format)

    def draw_quadrants(self, num_batches: int) -> Tensor:
        """Quadrant index (0..3) per image for the part decoder, shape (N,)."""
        if self.quadrant == 'batch':
            return torch.randint(0, 4, (1, ), device=self.device).expand(num_batches)
        return torch.randint(0, 4, (num_batches, ), device=self.device)

    def reconstruction_targets(self, real: Tensor, part: Tensor) -> Dict[str, Tensor]:
        """What the decoders must reproduce from the augmented real batch (N, C, R, R) and the
        quadrants ``part`` (N,): ``rec_big`` and ``rec_small`` (one tensor: the whole image)
        and ``rec_part`` (the quadrant), each (N, C, 128, 128), resized with D's mode."""
        mode = unwrap_model(self.discriminator).resize_mode
        whole = resize_images(real, RECONSTRUCTION_SIZE, mode)
        quadrant = resize_images(crop_quadrant(real, part), RECONSTRUCTION_SIZE, mode)
        return dict(rec_big=whole, rec_small=whole, rec_part=quadrant)

    def train_step(self, data: dict, optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """``BaseGAN.train_step``, after counting D's micro-batches from this run's first
        iteration (once per D wrapper). MMEngine initialises a lone optimizer wrapper but not
        those of an ``OptimWrapperDict``; the count must be right before BaseGAN enters D's
        ``optim_context``, where DDP's ``no_sync`` is decided (a resumed run continues its
        accumulation cycles; the last one may be short)."""
        disc_wrapper = optim_wrapper['discriminator']
        hub = MessageHub.get_current_instance()
        max_iters = hub.get_info('max_iters')
        counted = self._counted_wrapper() if self._counted_wrapper else None
        if max_iters is not None and counted is not disc_wrapper:
            disc_wrapper.initialize_count_status(self.discriminator, hub.get_info('iter'),
                                                 max_iters)
            self._counted_wrapper = weakref.ref(disc_wrapper)
        return super().train_step(data, optim_wrapper)

    def train_discriminator(self, inputs: dict, data_samples: list,
                            optimizer_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """D micro-batch; also draws the fakes the G step of this iteration reuses (without
        G's graph where ``BaseGAN.train_step`` runs no G step after it)."""
        self.check_real_batch(data_samples.gt_img)
        real = self.augment_for_discriminator(data_samples.gt_img)
        num_batches = real.shape[0]
        labels = self.real_labels(data_samples)
        accumulation = optimizer_wrapper._accumulative_counts
        iteration = MessageHub.get_current_instance().get_info('iter', 0)
        generator_step_follows = (iteration + 1) % (self.discriminator_steps * accumulation) == 0
        with torch.set_grad_enabled(generator_step_follows):
            fakes = self.generate_fakes(num_batches, labels)
        self._fakes = fakes if generator_step_follows else None

        part = self.draw_quadrants(num_batches)
        pred_real, recs = self.discriminator(real, part=part, labels=labels)
        # rec_big and rec_small share one target: its LPIPS features are computed once.
        targets = self.rec_loss.prepare_targets(self.reconstruction_targets(real, part))
        losses = dict(loss_disc_real=self.gan_loss(pred_real, 'real'))
        # A sum over the batch (official) stands for the sum over the accumulated batch: the
        # wrapper divides every term by the accumulation count.
        rec_scale = accumulation if self.rec_loss.reduction == 'sum' else 1
        for name in ('rec_big', 'rec_small', 'rec_part'):
            losses[f'loss_{name}'] = rec_scale * self.rec_loss(recs[name], targets[name])
        pred_fake = self.discriminator(fakes['img'].detach(), fakes['img_small'].detach(),
                                       labels=labels)
        losses['loss_disc_fake'] = self.gan_loss(pred_fake, 'fake')

        loss, log_vars = self.parse_losses(losses)
        self.apply_update(loss, log_vars, 'discriminator', optimizer_wrapper)
        return log_vars

    def train_generator(self, inputs: dict, data_samples: list,
                        optimizer_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """G micro-batch on the D step's augmented fakes (the first), or on new ones."""
        fakes, self._fakes = self._fakes, None
        if fakes is None:
            labels, num_batches = self.real_labels(data_samples), data_samples.gt_img.shape[0]
            fakes = (self.generate_fakes(num_batches) if labels is None
                     else self.generate_fakes(num_batches, labels))
        pred = self.discriminator(fakes['img'], fakes['img_small'], labels=fakes.get('labels'))
        loss, log_vars = self.parse_losses(dict(loss_gen=self.gan_loss(pred, 'generator')))
        self.apply_update(loss, log_vars, 'generator', optimizer_wrapper)
        return log_vars

    def apply_update(self, loss: Tensor, log_vars: Dict[str, Tensor], step: str,
                     optimizer_wrapper: OptimWrapper) -> None:
        """``optimizer_wrapper.update_params(loss)`` if every term is finite; else (``'skip'``)
        the zero-gradient micro-batch described under ``nonfinite``."""
        if self.check_finite(log_vars, step):
            optimizer_wrapper.update_params(loss)
            return
        # d(0 * sum(p))/dp is exactly 0 even where p or the loss is not finite.
        optimizer_wrapper.backward(sum(p.sum() for group in optimizer_wrapper.optimizer.param_groups
                                       for p in group['params'] if p.requires_grad) * 0)
        if optimizer_wrapper.should_update():
            optimizer_wrapper.zero_grad()

    def check_finite(self, log_vars: Dict[str, Tensor], step: str) -> bool:
        """True if every term of ``log_vars`` (from :meth:`parse_losses`) is finite on every
        process. Else ``FloatingPointError`` (``'stop'``) or, after a warning and with the
        non-finite terms removed from ``log_vars``, False (``'skip'``); ``step`` is
        ``'discriminator'`` or ``'generator'``, for the messages."""
        names = list(log_vars)
        flags = torch.stack([(~torch.isfinite(log_vars[name].detach())).any().float()
                             for name in names])
        all_reduce(flags, op='max')  # every process stops or skips together
        bad = [name for name, flag in zip(names, flags.tolist()) if flag]
        if not bad:
            return True
        values = ', '.join(
            f'{name}={log_vars[name].item():g}' if not math.isfinite(log_vars[name].item())
            else f'{name} (non-finite on another process)'
            for name in [name for name in bad if name != 'loss'] or bad)
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

    def check_img_channels(self) -> None:
        """``ValueError`` unless G, D and the data preprocessor's mean and std (one value, or
        one per channel) agree on the image channels."""
        channels = unwrap_model(self.generator).img_channels
        if unwrap_model(self.discriminator).img_channels != channels:
            raise ValueError(f'generator.img_channels ({channels}) and discriminator.img_channels '
                             f'({unwrap_model(self.discriminator).img_channels}) must be equal')
        for name in ('mean', 'std'):
            values = getattr(self.data_preprocessor, name, None)
            if values is not None and values.numel() not in (1, channels):
                raise ValueError(
                    f'data_preprocessor.{name} has {values.numel()} values but img_channels is '
                    f'{channels}: set {name}=127.5 (one value for every channel; MMEngine takes 1 '
                    'or 3), and LoadRGBImage(img_channels=...) in the pipelines '
                    '(docs/channels.md)')

    def check_real_batch(self, real: Tensor) -> None:
        """``ValueError`` for a preprocessed real batch (N, C, H, W) not ``im_size`` square or
        without ``img_channels`` channels, or of 1 image with non-synchronised BatchNorm (each
        image normalised by itself)."""
        im_size = unwrap_model(self.generator).im_size
        channels = unwrap_model(self.generator).img_channels
        if real.shape[1] != channels:
            raise ValueError(
                f'FastGAN: real images arrive with {real.shape[1]} channels but img_channels is '
                f'{channels}; set LoadRGBImage(img_channels={channels}) in train_pipeline, or '
                'generator.img_channels and discriminator.img_channels to those of the data '
                '(1 grey, 3 RGB, 4 RGBA; docs/channels.md)')
        if tuple(real.shape[-2:]) != (im_size, im_size):
            raise ValueError(
                f'FastGAN: real images arrive as {real.shape[-2]}x{real.shape[-1]} but im_size '
                f'is {im_size}; set the ResizeToSquare size of train_pipeline to {im_size}, or '
                'generator.im_size and discriminator.im_size to the image size')
        if self._plain_batch_norm is None:
            self._plain_batch_norm = any(isinstance(m, PLAIN_BATCH_NORMS)
                                         for net in (self.generator, self.discriminator)
                                         for m in net.modules())
        if self._plain_batch_norm and real.shape[0] < 2:
            raise ValueError(
                f'FastGAN: a batch of {real.shape[0]} image per process: the BatchNorm layers '
                'of the generator and discriminator would normalise each image by its own '
                'statistics and training degenerates. Set train_dataloader.batch_size to 2 '
                "or more (official: 8), or with several GPUs also set sync_bn='torch'; with "
                'a sampler that ends epochs with a partial batch, set drop_last=True.')
