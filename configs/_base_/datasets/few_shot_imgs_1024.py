_base_ = './few_shot_imgs.py'

# The steps of few_shot_imgs.py in order, at 1024 x 1024 (few_shot_imgs_256.py: the
# same at 256). _base_.<name> reads a value of the base file.
im_size = 1024
resize = dict(_base_.resize, size=im_size)
train_pipeline = [_base_.load_image, resize, _base_.flip, _base_.pack]
val_pipeline = [_base_.load_image, resize, _base_.pack]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
