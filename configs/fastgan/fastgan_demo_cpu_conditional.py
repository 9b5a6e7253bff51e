# The class-conditional demo (bash tools/demo.sh --conditional): fastgan_demo_cpu.py on three
# kinds of OpenMoji emoji that look different, one subfolder per class (tools/demo.py renders
# data_root/{animals,faces,plants}/, about 36 images each). One model for all three, sampled
# by class; docs/conditional.md.
_base_ = ['./fastgan_demo_cpu.py']

data_root = 'work_dirs/fastgan_demo_cpu_conditional/data'
num_classes = 3  # the subfolders of data_root; the dataset checks it
# 800 iterations: the measured runs of docs/conditional.md (0.45 s per iteration on one core).
max_iters = 800

# DiffAugment: the demo's brightness and translation. On three seeds every class but one
# (plants, seed 0: -1.1) was closest to its own images, against one class well on the wrong
# side with translation alone (docs/conditional.md).
model = dict(
    generator=dict(num_classes=num_classes), discriminator=dict(num_classes=num_classes))
# class_folders=True: labels from the subfolders (classes in sorted order).
train_dataloader = dict(
    dataset=dict(data_root=data_root, class_folders=True, num_classes=num_classes))
# The SWD reals carry their labels, so each is compared with a sample of its own class.
val_dataloader = dict(
    dataset=dict(data_root=data_root, class_folders=True, num_classes=num_classes))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
