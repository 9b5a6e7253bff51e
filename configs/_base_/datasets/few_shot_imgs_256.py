# few_shot_imgs.py at 256 x 256.
_base_ = './few_shot_imgs.py'

resize = dict(_base_.resize, size=256)
train_pipeline = [_base_.load_image, resize, _base_.flip, _base_.pack]
val_pipeline = [_base_.load_image, resize, _base_.pack]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=val_pipeline))
