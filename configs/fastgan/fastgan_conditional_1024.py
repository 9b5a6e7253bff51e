_base_ = [
    '../_base_/models/fastgan_1024.py',
    '../_base_/datasets/few_shot_imgs_1024.py',
    '../_base_/fastgan_runtime.py',
]

# Class-conditional FastGAN at 1024x1024: one model for several small sets, sampled by
# class (docs/conditional.md). Put each class's images in its own subfolder of data_root
# (data_root/<class name>/*.png, classes in sorted order, 2 images or more each) and set
# num_classes to the number of subfolders; the dataset checks both before training.
data_root = 'data/my_classes'
num_classes = 3

model = dict(
    generator=dict(num_classes=num_classes), discriminator=dict(num_classes=num_classes))
# class_folders=True turns the labels on (alternatively ann_file='<image> <class>' lines).
# FID / KID: fakes cycle through the classes (0, 1, 2, 0, ...) against all training images.
train_dataloader = dict(
    dataset=dict(data_root=data_root, class_folders=True, num_classes=num_classes))
val_dataloader = dict(
    dataset=dict(data_root=data_root, class_folders=True, num_classes=num_classes))
test_dataloader = dict(
    dataset=dict(data_root=data_root, class_folders=True, num_classes=num_classes))
