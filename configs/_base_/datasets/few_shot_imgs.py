# One folder of images for unconditional few-shot training, at any resolution: the
# dataloaders and their pipelines. An experiment config sets data_root; the resolution is
# the model's (model.generator.im_size), given to the ResizeToSquare steps by
# fastgan_plugin's load_config like data_root below.
#
# data_root is set once, at the top level of a config or with tools/train.py and
# tools/test.py --data-root DIR. The dataloaders below name no folder: fastgan_plugin's
# load_config (used by the tools and init_model) gives each of them the config's data_root.
# (MMEngine substitutes a variable where a file uses it, so a data_root set in a child
# config would never reach dicts written here.) A dataloader that names its own
# dataset.data_root keeps it. Every image is checked when the dataset is built, so a bad
# folder fails before training.
dataset_type = 'FewShotImageDataset'
data_root = None  # set by the experiment config

# Pipeline steps: the image reaches the model in data_samples.gt_img as RGB uint8.
# Loading: alpha composited on white, 16-bit grey scaled, EXIF orientation applied.
load_image = dict(type='LoadRGBImage', key='gt', background=(255, 255, 255))
# Square without stretching (centre crop; mode='pad' keeps whole images), bicubic; no
# size: load_config sets it to model.generator.im_size (a step with a size keeps it).
resize = dict(type='ResizeToSquare', key='gt', mode='crop', interpolation='bicubic')
flip = dict(type='Flip', keys=['gt'], direction='horizontal')  # p = 0.5, as official
pack = dict(type='PackInputs')
train_pipeline = [load_image, resize, flip, pack]
val_pipeline = [load_image, resize, pack]

# Official: batch 8, horizontal flip, RGB images.
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, pipeline=train_pipeline))

# Real images for FID / KID: the whole training set, no flip.
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, pipeline=val_pipeline))
test_dataloader = val_dataloader
