# One folder of images for unconditional few-shot training: the pipeline steps and the
# dataloaders, without a resolution. Inherit few_shot_imgs_<size>.py (128, 256, 512, 1024),
# which puts the steps together at that size. The experiment config sets the folder, as
# mmagic's configs do:
#     data_root = 'data/pokemon'
#     train_dataloader = dict(dataset=dict(data_root=data_root))
#     (the same line for val_dataloader and test_dataloader)
# Every image is checked when the dataset is built, so a bad folder fails before training.
dataset_type = 'FewShotImageDataset'

# Pipeline steps: the image reaches the model in data_samples.gt_img as RGB uint8.
# Loading: alpha composited on white, 16-bit grey scaled, EXIF orientation applied.
load_image = dict(type='LoadRGBImage', key='gt', background=(255, 255, 255))
# Square without stretching (centre crop; mode='pad' keeps whole images), bicubic; the
# size is added by few_shot_imgs_<size>.py.
resize = dict(type='ResizeToSquare', key='gt', mode='crop', interpolation='bicubic')
flip = dict(type='Flip', keys=['gt'], direction='horizontal')  # p = 0.5, as official
pack = dict(type='PackInputs')

# Official: batch 8, horizontal flip, RGB images.
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=None))  # set by the experiment config

# Real images for FID / KID: the whole training set, no flip.
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=None))  # set by the experiment config
test_dataloader = val_dataloader
