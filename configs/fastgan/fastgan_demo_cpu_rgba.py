# The demo on transparent emoji (`bash tools/demo.sh --transparent`): the OpenMoji faces
# rendered on a transparent background, trained and sampled as RGBA (alpha kept, not
# composited; docs/channels.md). Everything else is the RGB demo's.
_base_ = './fastgan_demo_cpu.py'

data_root = 'work_dirs/fastgan_demo_cpu_rgba/data'
img_channels = 4  # RGBA, alpha last

model = dict(
    # One value for every channel: MMEngine takes 1 or 3 values, mmagic needs 1 or C. RGB
    # order as loaded, alpha last (mmagic's BGR conversion for metrics keeps alpha last).
    data_preprocessor=dict(mean=127.5, std=127.5),
    generator=dict(img_channels=img_channels),
    discriminator=dict(img_channels=img_channels))

load_image = dict(_base_.load_image, img_channels=img_channels)  # alpha kept, opaque if none
train_pipeline = [load_image, _base_.resize, _base_.flip, _base_.pack]
val_pipeline = [load_image, _base_.resize, _base_.pack]
train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=val_pipeline))
