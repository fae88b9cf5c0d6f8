import os.path as osp
from setuptools import find_packages, setup


def read_version():
    namespace = {}
    with open(osp.join(osp.dirname(__file__), 'mmropim', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='mmropim',
    version=read_version(),
    description='ROPIM and PR-MIM self-supervised pre-training for '
    'MMPretrain, '
    'with transfer to MMSegmentation and MMDetection',
    long_description=open('README.md').read()
    if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmropim', 'mmropim.*']),
    python_requires='>=3.9',
    install_requires=['mmengine>=0.10.7', 'mmpretrain>=1.2.0'],
    license='Apache License 2.0',
)
