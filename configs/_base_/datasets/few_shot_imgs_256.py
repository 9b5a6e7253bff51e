_base_ = './few_shot_imgs.py'

# RGB loading (alpha on white), resize without stretching (centre crop), as the model
# expects: data_samples.gt_img, RGB uint8. 'pad' instead of 'crop' keeps whole images.
train_pipeline = [
    dict(type='LoadRGBImage', key='gt', background=(255, 255, 255)),
    dict(type='ResizeToSquare', key='gt', size=256, mode='crop'),
    dict(type='Flip', keys=['gt'], direction='horizontal'),
    dict(type='PackInputs'),
]
val_pipeline = [
    dict(type='LoadRGBImage', key='gt', background=(255, 255, 255)),
    dict(type='ResizeToSquare', key='gt', size=256, mode='crop'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
