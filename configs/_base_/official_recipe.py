# The official FastGAN-pytorch behaviour at 1024 x 1024 (official_recipe_256.py: at 256):
# our defaults with every deviation from the official code reverted. docs/design.md,
# "Defaults that differ from the official code", gives each deviation and its reason.
# A *_official.py config inherits this file (or official_recipe_256.py) and sets the
# dataloaders' data_root.
# Kept: the seed (it fixes which random numbers are drawn, not how they are used), and
# checks that only act on bad input (unreadable images skipped, non-finite losses stop).
_base_ = [
    './models/fastgan_1024.py',
    './datasets/few_shot_imgs_1024.py',
    './fastgan_runtime.py',
]

model = dict(
    generator=dict(out_act='tanh'),  # tanh at 1024 only; raw output at 256 and 512
    discriminator=dict(resize_mode='nearest'),  # real batch to im_size and 128 px
    rec_loss=dict(reduction='sum', loss_weight=1.0),  # LPIPS summed over the batch
    quadrant='batch',  # one part-decoder quadrant for the whole batch
    # decay 0.999 from the first step; the raw generator's BatchNorm statistics
    ema_config=dict(type='FastGANEMA', momentum=0.001, rampup=None, bn_stats='raw'))

# Images as the official ImageFolder reads them: Image.open(path).convert('RGB') (EXIF
# orientation ignored, transparency dropped), then torchvision's Resize((im_size, im_size))
# (bilinear, non-square images stretched), from lower-case .jpg / .png / .jpeg files only.
load_image = dict(_base_.load_image, exif_orientation=False, pil_convert=True)
resize = dict(_base_.resize, mode='stretch', interpolation='bilinear', reducing_gap=None)
official_files = dict(extensions=['.jpg', '.png', '.jpeg'], case_sensitive=True)
train_pipeline = [load_image, resize, _base_.flip, _base_.pack]
val_pipeline = [load_image, resize, _base_.pack]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline, **official_files))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline, **official_files))
test_dataloader = val_dataloader
