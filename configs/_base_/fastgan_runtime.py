# Runtime shared by every FastGAN config: scope, schedule, optimizers, evaluation,
# checkpoints, images. The official FastGAN hyperparameters are the defaults.
default_scope = 'mmagic'
custom_imports = dict(imports=['fastgan_plugin'], allow_failed_imports=False)

randomness = dict(seed=0, deterministic=False)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
# Set sync_bn = 'torch' to use SyncBatchNorm across GPUs (the official code keeps
# per-GPU statistics).
log_level = 'INFO'
log_processor = dict(type='LogProcessor', by_epoch=False, window_size=50)
load_from = None
resume = False

# Official: Adam 2e-4, betas (0.5, 0.999) for both networks, 50k iterations.
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminator=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
train_cfg = dict(by_epoch=False, max_iters=50000, val_begin=1, val_interval=5000)

# Each network is wrapped on its own; broadcast_buffers=False keeps BN statistics per
# process unless sync_bn is set.
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

# Evaluation: FID against the whole training set (real_nums=-1) with the EMA generator.
# 5000 fakes, as in the paper's few-shot evaluation. KID is reported too because FID is
# biased for a few hundred real images. The StyleGAN Inception is downloaded on first use;
# offline, set inception_path to a local TorchScript file.
num_fake_samples = 5000
metrics = [
    dict(
        type='FrechetInceptionDistance',
        prefix='FID-Full',
        fake_nums=num_fake_samples,
        real_nums=-1,
        inception_style='StyleGAN',
        sample_model='ema'),
    dict(
        type='KernelInceptionDistance',
        prefix='KID-Full',
        fake_nums=num_fake_samples,
        real_nums=-1,
        inception_style='StyleGAN',
        sample_model='ema'),
]
val_cfg = dict(type='MultiValLoop')
val_evaluator = dict(type='Evaluator', metrics=metrics)
test_cfg = dict(type='MultiTestLoop')
test_evaluator = dict(type='Evaluator', metrics=metrics)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100, log_metric_by_epoch=False),
    # Official: a checkpoint every 5000 iterations. The best one by FID is kept too;
    # rule='less' must be explicit under mmagic's runtime.
    checkpoint=dict(
        type='AtomicCheckpointHook',
        interval=5000,
        by_epoch=False,
        max_keep_ckpts=5,
        save_optimizer=True,
        save_best='FID-Full/fid',
        rule='less'))

# Images: a grid from fixed noise with the EMA generator, and the discriminator's
# reconstructions (real | decoded big | decoded small | decoded part), every 1000 iters.
# Add dict(type='TensorboardVisBackend') to vis_backends to see them in TensorBoard.
vis_backends = [dict(type='VisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
custom_hooks = [
    dict(
        type='VisualizationHook',
        interval=1000,
        fixed_input=True,
        n_samples=8,
        vis_kwargs_list=dict(type='GAN', name='fake_img', sample_model='ema')),
    dict(type='ReconstructionGridHook', interval=1000, n_samples=8),
]
