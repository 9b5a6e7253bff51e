# official_recipe.py at 256 x 256: the official generator returns raw values there (no
# tanh); the images follow the model's im_size.
_base_ = './official_recipe.py'

model = dict(generator=dict(im_size=256, out_act=None), discriminator=dict(im_size=256))
