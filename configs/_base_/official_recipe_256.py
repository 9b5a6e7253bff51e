# official_recipe.py at 256 x 256: the official generator returns raw values there (no
# tanh).
_base_ = './official_recipe.py'

model = dict(generator=dict(im_size=256, out_act=None), discriminator=dict(im_size=256))
resize = dict(_base_.resize, size=256)
train_pipeline = [_base_.load_image, resize, _base_.flip, _base_.pack]
val_pipeline = [_base_.load_image, resize, _base_.pack]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=val_pipeline))
