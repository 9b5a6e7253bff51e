# FastGAN at 1024x1024 with the official architecture (ngf = ndf = 64, nz = 256).
# Where the official code has a known fault, the fixed behaviour is the default and the
# official one is one option away (docs/design.md explains each choice).
model = dict(
    type='FastGAN',
    # Real images arrive as RGB uint8 and leave as RGB in [-1, 1].
    data_preprocessor=dict(
        type='DataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3, output_channel_order='RGB'),
    generator=dict(
        type='SLEGenerator',
        im_size=1024,
        ngf=64,
        nz=256,
        out_act='tanh'),  # official: tanh only at 1024; None = raw output at 256/512
    discriminator=dict(
        type='SSDiscriminator',
        im_size=1024,
        ndf=64,
        resize_mode='nearest'),  # how a real batch is resized to im_size and 128 (official)
    augment=dict(type='DiffAugment', policy='color,translation'),
    gan_loss=dict(type='HingeLoss', margin_jitter=0.2),  # official random-margin hinge
    # LPIPS-VGG averaged over the batch, x8: equal to the official sum at the official
    # batch size 8, and independent of the batch size (official: reduction='sum', 1.0).
    rec_loss=dict(
        type='ReconstructionLoss', distance='lpips', reduction='mean', loss_weight=8.0),
    quadrant='sample',  # part decoder quadrant per image (official: 'batch')
    # EMA decay 0.999 as official, after a ramp-up (half-life 5% of the updates so far) and
    # with BN statistics averaged too (official: rampup=None, bn_stats='raw').
    ema_config=dict(type='FastGANEMA', momentum=0.001, rampup=0.05, bn_stats='average'))
