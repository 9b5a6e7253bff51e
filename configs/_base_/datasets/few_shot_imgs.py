# One folder of images for unconditional few-shot training. A resolution file
# (few_shot_imgs_1024.py, few_shot_imgs_256.py) sets the pipelines; an experiment config
# sets data_root. Every image is checked when the dataset is built, so a bad folder fails
# before training.
dataset_type = 'FewShotImageDataset'
data_root = None  # set by the experiment config

# Official: batch 8, horizontal flip, RGB images.
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=None))

# Real images for FID / KID: the whole training set, no flip.
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=None))
test_dataloader = val_dataloader
