_base_ = [
    '../_base_/models/fastgan_256.py',
    '../_base_/datasets/few_shot_imgs_256.py',
    '../_base_/fastgan_runtime.py',
]

# AnimalFace cat at 256x256: the paper's set has about 160 images.
# Put them (any of jpg, jpeg, png, webp, bmp, tif, tiff) directly in data_root, the
# folder of training and of FID / KID (tools/train.py --data-root DIR overrides it).
data_root = 'data/AnimalFace-cat'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
