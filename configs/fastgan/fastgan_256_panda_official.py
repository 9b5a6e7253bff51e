# 100-shot panda at 256x256, trained as the official FastGAN-pytorch code trains it:
# fastgan_256_panda.py with every default that differs from the official code reverted
# (docs/design.md, "Defaults that differ from the official code").
_base_ = '../_base_/official_recipe_256.py'

data_root = 'data/100-shot-panda'  # as in fastgan_256_panda.py
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
