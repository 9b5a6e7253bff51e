# The README's demo: FastGAN on a small image set drawn by code (tools/demo.py writes it
# to data_root), trained offline on 2 CPU cores in a few minutes. Same bases, model,
# runner and hooks as fastgan_256_*.py / fastgan_1024_*.py, only smaller: narrow networks,
# few iterations, L1 reconstruction (LPIPS needs VGG weights from the internet), and no
# FID (it needs Inception weights).
_base_ = [
    './_base_/models/fastgan_256.py',
    './_base_/datasets/few_shot_imgs_256.py',
    './_base_/fastgan_runtime.py',
]

data_root = 'work_dirs/fastgan_demo_cpu/data'
batch_size = 4
max_iters = 300

model = dict(
    generator=dict(ngf=16, nz=64),
    discriminator=dict(ndf=16),
    rec_loss=dict(distance='l1', reduction='mean', loss_weight=1.0))

train_dataloader = dict(
    batch_size=batch_size, num_workers=1, dataset=dict(data_root=data_root))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, save_best=None, rule=None, max_keep_ckpts=1))
custom_hooks = [
    dict(
        type='VisualizationHook',
        interval=100,
        fixed_input=True,
        n_samples=16,
        vis_kwargs_list=dict(type='GAN', name='fake_img', sample_model='ema')),
    dict(type='ReconstructionGridHook', interval=100, n_samples=8),
]
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
