_base_ = [
    '../_base_/models/fastgan_1024.py',
    '../_base_/datasets/few_shot_imgs_1024.py',
    '../_base_/fastgan_runtime.py',
]

# Shells at 1024x1024: the paper's set has about 64 images.
# Put them (any of jpg, jpeg, png, webp, bmp, tif, tiff) directly in data_root, the
# folder of training and of FID / KID (tools/train.py --data-root DIR overrides it).
data_root = 'data/shells'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
