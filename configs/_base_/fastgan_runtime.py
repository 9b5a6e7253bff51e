# Runtime shared by every FastGAN config: scope, schedule, optimizers, evaluation,
# checkpoints, images. The official FastGAN hyperparameters are the defaults.
#
# mmagic's GAN runtime supplies the rest (scope, env, DDP wrapper, visualizer, loops);
# its randomness.diff_rank_seed=True gives each process its own latents and augmentations.
_base_ = ['mmagic::_base_/gen_default_runtime.py']
custom_imports = dict(imports=['fastgan_plugin'], allow_failed_imports=False)

randomness = dict(seed=0)  # process r seeds with 0 + r
log_processor = dict(window_size=50)

# Official: Adam 2e-4, betas (0.5, 0.999) for both networks, 50k iterations.
optim_wrapper = dict(
    generator=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminator=dict(optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
train_cfg = dict(max_iters=50000, val_interval=5000)

# Evaluation: FID against the whole training set (real_nums=-1) with the EMA generator.
# CompositeFID is mmagic's FID; RGBA images are composited on white and grey ones repeated
# to RGB first (docs/channels.md), as KID and SWD do.
# 5000 fakes, as in the paper's few-shot evaluation. KID is reported too because FID is
# biased for a few hundred real images. The StyleGAN Inception is downloaded on first use;
# offline, set inception_path to a local TorchScript file.
num_fake_samples = 5000
metrics = [
    dict(
        type='CompositeFID',
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
val_evaluator = dict(metrics=metrics)
test_evaluator = dict(metrics=metrics)

default_hooks = dict(
    # Official: a checkpoint every 5000 iterations. The best one by FID is kept too;
    # rule='less' must be explicit under mmagic's runtime. MMEngine's CheckpointHook with
    # our atomic file backend: a kill never leaves a torn checkpoint (docs/reliability.md).
    checkpoint=dict(
        type='CheckpointHook',
        interval=5000,
        by_epoch=False,
        max_keep_ckpts=5,  # >= 2: MMEngine deletes the oldest before writing the next
        save_optimizer=True,
        save_best='FID-Full/fid',
        rule='less',
        backend_args=dict(backend='fastgan_atomic_local')),
    # Weights under the keys MMEngine loads, no NaN / Inf weights, weights_only-loadable data.
    checkpoint_content=dict(type='CheckpointContentHook', check_finite=True),
    # Checkpoints hold every process's RNG states, restored on resume (exact resume).
    rng_state=dict(type='RNGStateHook'),
    # load_from / --resume: a torn file, another architecture's weights or changed training
    # images (unless allow_data_change=True) are refused.
    checkpoint_check=dict(type='CheckpointLoadCheckHook', allow_data_change=False),
    # SIGTERM / SIGUSR1: checkpoint after the current iteration, exit with status 75.
    preemption=dict(type='PreemptionHook', exit_code=75),
    # A run stopped during its final validation validates when resumed.
    final_validation=dict(type='FinalValidationHook'))

# Images: a grid from fixed noise with the EMA generator, and the discriminator's
# reconstructions (real | decoded big | decoded small | decoded part), every 1000 iters.
# To see them in TensorBoard, set
# visualizer = dict(vis_backends=[dict(type='VisBackend'), dict(type='TensorboardVisBackend')]).
# mmagic's visualizer, with RGBA samples shown over a checkerboard (docs/channels.md).
visualizer = dict(type='CheckerboardVisualizer')
custom_hooks = [
    dict(
        type='VisualizationHook',
        interval=1000,
        fixed_input=True,
        n_samples=8,
        vis_kwargs_list=dict(type='GAN', name='fake_img', sample_model='ema')),
    dict(type='ReconstructionGridHook', interval=1000, n_samples=8),
    # <work_dir>/training_curves.png: every logged loss and metric, at each checkpoint.
    dict(type='TrainingCurvesHook'),
]
