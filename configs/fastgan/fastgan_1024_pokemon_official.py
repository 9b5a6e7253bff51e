# Pokemon at 1024x1024, trained as the official FastGAN-pytorch code trains it:
# fastgan_1024_pokemon.py with every default that differs from the official code reverted
# (docs/design.md, "Defaults that differ from the official code").
_base_ = '../_base_/official_recipe.py'

data_root = 'data/pokemon'  # as in fastgan_1024_pokemon.py
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
