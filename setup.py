"""Install fastgan_plugin: ``pip install .``

The configs ship inside the package the OpenMMLab way, under ``fastgan_plugin/.mim/configs``,
so that ``_base_ = 'fastgan_plugin::fastgan/fastgan_1024_pokemon.py'`` resolves after
installation: a regular install copies them there. For development, tools/env/setup.sh puts
the checkout on the environment's path (a .pth file) and links them with
:func:`add_mim_extension` instead of ``pip install -e .``: MMEngine looks for an installed
distribution's configs in site-packages, where an editable install has no package folder.
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


def add_mim_extension(link: bool) -> None:
    """Put configs, tools and model-index.yml into fastgan_plugin/.mim: links to the
    checkout's (``link=True``, development) or copies (wheel, sdist)."""
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
        if link:
            os.symlink(os.path.relpath(src, MIM_DIR), dst)
        elif os.path.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension(link=any(arg in sys.argv for arg in ('develop', 'editable_wheel')))
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
        # mmengine: mmagic 1.2.0's range from 0.10 on; 0.10.x verified (a warning outside
        # it on import, fastgan_plugin/utils/version_check.py).
        install_requires=[
            'torch>=2.0', 'mmengine>=0.10.0,<1.0.0', 'mmcv>=2.0.0,<2.2.0',
            'mmagic==1.2.0', 'lpips', 'numpy<2', 'packaging', 'pillow', 'tqdm'
        ],
    )
