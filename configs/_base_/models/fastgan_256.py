_base_ = './fastgan_1024.py'

model = dict(generator=dict(im_size=256), discriminator=dict(im_size=256))
