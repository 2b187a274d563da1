"""Installs the ``unirain_mm`` package.

Dependencies are pinned in ``requirements/lock.txt`` and installed with
``pip install --no-deps -r requirements/lock.txt`` (mmagic 1.2.0's declared
dependencies are broken on current torch); see the README.
"""
import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    scope: dict = {}
    with open(osp.join('unirain_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='unirain_mm',
    version=read_version(),
    description='UniRain unified image deraining for MMagic/OpenMMLab',
    packages=find_packages(include=['unirain_mm', 'unirain_mm.*']),
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.0', 'mmengine>=0.10,<1.0', 'mmagic==1.2.0',
        'mmcv-lite>=2.0,<2.2', 'numpy<2', 'opencv-python', 'scikit-image'
    ],
    license='Apache-2.0',
)
