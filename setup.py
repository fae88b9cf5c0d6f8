import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))
#: What an OpenMMLab package carries in ``<package>/.mim`` for ``mim`` and
#: MMEngine's ``mmropim::`` config names (as MMPretrain's setup.py does).
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_version():
    namespace = {}
    with open(osp.join(ROOT, 'mmropim', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def add_mim_extension():
    """Copy the configs, tools and model index into ``mmropim/.mim`` when a
    wheel or an sdist is built, so that the installed package serves
    ``_base_ = 'mmropim::...'``, ``mim search mmropim`` and ``mim train
    mmropim CONFIG``. An editable install (a clone) names configs by path
    and gets no copy."""
    mim_dir = osp.join(ROOT, 'mmropim', '.mim')
    if any(command in sys.argv for command in ('develop', 'editable_wheel')):
        # an editable install serves the clone's own files; a copy left by
        # an earlier build would be served instead, frozen
        shutil.rmtree(mim_dir, ignore_errors=True)
        return
    if not any(command in sys.argv
               for command in ('bdist_wheel', 'sdist', 'build', 'install')):
        return
    if not all(osp.exists(osp.join(ROOT, name)) for name in MIM_FILES):
        return  # an unpacked sdist: its mmropim/.mim is all there is
    shutil.rmtree(mim_dir, ignore_errors=True)
    os.makedirs(mim_dir)
    for name in MIM_FILES:
        source = osp.join(ROOT, name)
        if osp.isdir(source):
            shutil.copytree(
                source,
                osp.join(mim_dir, name),
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copy(source, osp.join(mim_dir, name))


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmropim',
        version=read_version(),
        description='ROPIM and PR-MIM self-supervised pre-training for '
        'MMPretrain, with transfer to MMSegmentation and MMDetection',
        long_description=open(osp.join(ROOT, 'README.md')).read()
        if osp.exists(osp.join(ROOT, 'README.md')) else '',
        long_description_content_type='text/markdown',
        packages=find_packages(include=['mmropim', 'mmropim.*']),
        package_data={
            'mmropim': [
                '.mim/model-index.yml', '.mim/configs/**/*',
                '.mim/tools/**/*'
            ]
        },
        python_requires='>=3.9',
        install_requires=['mmengine>=0.10.7', 'mmpretrain>=1.2.0'],
        license='Apache License 2.0',
    )
