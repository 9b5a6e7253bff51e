"""Install fastgan_plugin (``pip install -e .`` for development).

The configs ship inside the package the OpenMMLab way, under ``fastgan_plugin/.mim/configs``,
so that ``_base_ = 'fastgan_plugin::fastgan/fastgan_1024_pokemon.py'`` resolves after installation.
An editable install links that folder to ``configs/``; a regular install copies it.
"""
import os
import shutil
import sys

from setuptools import find_packages, setup

ROOT = os.path.dirname(os.path.abspath(__file__))
MIM_DIR = os.path.join(ROOT, 'fastgan_plugin', '.mim')
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def version():
    scope = {}
    with open(os.path.join(ROOT, 'fastgan_plugin', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def add_mim_extension():
    """Link (editable install) or copy (wheel, sdist) configs and tools into .mim."""
    editable = any(arg in sys.argv for arg in ('develop', 'editable_wheel'))
    os.makedirs(MIM_DIR, exist_ok=True)
    for name in MIM_FILES:
        src = os.path.join(ROOT, name)
        dst = os.path.join(MIM_DIR, name)
        if not os.path.exists(src):
            continue
        if os.path.islink(dst) or os.path.isfile(dst):
            os.remove(dst)
        elif os.path.isdir(dst):
            shutil.rmtree(dst)
        if editable:
            os.symlink(os.path.relpath(src, MIM_DIR), dst)
        elif os.path.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='fastgan_plugin',
        version=version(),
        description='FastGAN (Liu et al., ICLR 2021) as a plugin for OpenMMLab mmagic',
        long_description=open(os.path.join(ROOT, 'README.md')).read(),
        long_description_content_type='text/markdown',
        license='Apache-2.0',
        python_requires='>=3.9',
        packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
        include_package_data=True,
        package_data={'fastgan_plugin': ['.mim/**/*', '.mim/*']},
        zip_safe=False,
        # mmengine: the range whose private code fastgan_plugin patches
        # (fastgan_plugin/utils/version_check.py; checked again on import).
        install_requires=[
            'torch>=2.0', 'mmengine>=0.10.0,<0.11.0', 'mmcv>=2.0.0,<2.2.0',
            'mmagic==1.2.0', 'lpips', 'numpy<2', 'packaging', 'pillow', 'tqdm'
        ],
    )
