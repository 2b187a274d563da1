"""Tests of tools/misc/collect_clean_photos.py (offline: no apt, no network).

scikit-image's photos are real (it is installed); Debian packages are faked:
``download_deb`` is replaced by one that builds a small ``.deb`` with
``dpkg-deb --build`` (those tests skip where dpkg-deb is absent).
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import REPO_ROOT

sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'misc'))
import collect_clean_photos as ccp  # noqa: E402

TOOL = osp.join(REPO_ROOT, 'tools', 'misc', 'collect_clean_photos.py')
FAKE_PKG = 'fake-wallpapers'
FAKE_COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2020 Somebody
License: GPL-2+

Files: 2020/lake_by_Someone.jpg
Copyright: 2020 Someone
License: CC-BY-SA-4.0
"""
needs_dpkg = pytest.mark.skipif(
    shutil.which('dpkg-deb') is None, reason='dpkg-deb not available')


def _fake_download(built):
    """A ``download_deb`` that builds a fake .deb with two photos and a logo
    (only the two photos are allowlisted)."""

    def download(package, cache_dir):
        assert package == FAKE_PKG
        deb = osp.join(cache_dir, f'{package}_1.2-3_all.deb')
        if osp.isfile(deb):  # as the real one: the cache is used first
            return deb
        root = osp.join(cache_dir, 'build')
        share = osp.join(root, 'usr', 'share')
        os.makedirs(osp.join(root, 'DEBIAN'))
        os.makedirs(osp.join(share, 'backgrounds'))
        os.makedirs(osp.join(share, 'doc', package))
        with open(osp.join(root, 'DEBIAN', 'control'), 'w') as f:
            f.write(f'Package: {package}\nVersion: 1.2-3\nArchitecture: all\n'
                    'Maintainer: nobody <nobody@example.org>\n'
                    'Description: fake\n')
        with open(osp.join(share, 'doc', package, 'copyright'), 'w') as f:
            f.write(FAKE_COPYRIGHT)
        rng = np.random.default_rng(0)
        for name, shape in (('lake_by_Someone.jpg', (600, 2000, 3)),
                            ('field.png', (300, 200, 3)),
                            ('logo.png', (64, 64, 3))):
            img = rng.integers(0, 256, shape, dtype=np.uint8)
            cv2.imwrite(osp.join(share, 'backgrounds', name), img)
        subprocess.run(['dpkg-deb', '--build', root, deb], check=True,
                       capture_output=True)
        shutil.rmtree(root)
        built.append(deb)
        return deb

    return download


@pytest.fixture
def fake_deb(monkeypatch):
    built = []
    monkeypatch.setitem(ccp.DEB_PHOTOS, FAKE_PKG, (
        ('lake', 'usr/share/backgrounds/lake_by_Someone.jpg'),
        ('field', 'usr/share/backgrounds/field.png'),
    ))
    monkeypatch.setattr(ccp, 'SOURCES', ccp.SOURCES + (FAKE_PKG, ))
    monkeypatch.setattr(ccp, 'download_deb', _fake_download(built))
    return built


def _manifest(out):
    with open(osp.join(out, 'manifest.json')) as f:
        return {r['file']: r for r in json.load(f)}


def test_skimage_photos_are_written_resized_with_a_manifest(tmp_path):
    out = str(tmp_path / 'photos')
    rows, skipped = ccp.collect(out, ['skimage'], max_side=300,
                                progress=False)
    assert skipped == {}
    manifest = _manifest(out)
    # the allowlist: colour photos only (no camera, text, ihc, ...)
    assert sorted(manifest) == [
        'skimage__astronaut.png', 'skimage__chelsea.png',
        'skimage__coffee.png', 'skimage__motorcycle_left.png',
        'skimage__rocket.png'
    ]
    assert sorted(f for f in os.listdir(out)
                  if f.endswith('.png')) == sorted(manifest)
    for name, row in manifest.items():
        img = cv2.imread(osp.join(out, name), cv2.IMREAD_UNCHANGED)
        assert img.dtype == np.uint8 and img.shape[2] == 3
        assert (row['width'], row['height']) == (img.shape[1], img.shape[0])
        assert max(img.shape[:2]) == 300
        assert row['source'] == 'skimage' and row['package_version']
        assert row['licence'] and row['original_path'].startswith('skimage/')
    # astronaut is 512x512 and chelsea 451x300 (WxH): aspect is kept
    assert (manifest['skimage__astronaut.png']['width'],
            manifest['skimage__astronaut.png']['height']) == (300, 300)
    assert (manifest['skimage__chelsea.png']['width'],
            manifest['skimage__chelsea.png']['height']) == (300, 200)


def test_resize_long_side_keeps_aspect_and_never_upscales():
    img = np.zeros((600, 2000, 3), np.uint8)
    assert ccp.resize_long_side(img, 1000).shape == (300, 1000, 3)
    assert ccp.resize_long_side(img, 4000) is img
    tall = np.zeros((2000, 7, 3), np.uint8)
    assert ccp.resize_long_side(tall, 100).shape == (100, 1, 3)


@needs_dpkg
def test_fake_deb_allowlist_version_and_licence(tmp_path, fake_deb):
    out = str(tmp_path / 'photos')
    rows, skipped = ccp.collect(out, [FAKE_PKG], max_side=1024,
                                progress=False)
    assert skipped == {}
    manifest = _manifest(out)
    # logo.png is in the package but not in the allowlist
    assert sorted(manifest) == [f'{FAKE_PKG}__field.png',
                                f'{FAKE_PKG}__lake.png']
    lake = manifest[f'{FAKE_PKG}__lake.png']
    assert lake == dict(
        file=f'{FAKE_PKG}__lake.png', source=FAKE_PKG,
        package_version='1.2-3', licence='CC-BY-SA-4.0',
        original_path='/usr/share/backgrounds/lake_by_Someone.jpg',
        width=1024, height=307)
    field = manifest[f'{FAKE_PKG}__field.png']
    assert field['licence'] == 'GPL-2+'
    assert (field['width'], field['height']) == (200, 300)  # not upscaled


@needs_dpkg
def test_second_run_is_a_no_op_and_interrupted_outputs_are_redone(
        tmp_path, fake_deb):
    out = str(tmp_path / 'photos')
    ccp.collect(out, ['skimage', FAKE_PKG], progress=False)
    assert len(fake_deb) == 1
    first = _manifest(out)
    stamps = {f: os.stat(osp.join(out, f)).st_mtime_ns for f in first}
    ccp.collect(out, ['skimage', FAKE_PKG], progress=False)
    assert len(fake_deb) == 1  # complete package: not fetched again
    assert _manifest(out) == first
    assert {f: os.stat(osp.join(out, f)).st_mtime_ns
            for f in first} == stamps
    # An interrupted run: one output missing, a stale temporary file, no
    # manifest. The rerun redoes only what is missing, from the cache.
    os.remove(osp.join(out, f'{FAKE_PKG}__lake.png'))
    os.remove(osp.join(out, 'manifest.json'))
    stale = osp.join(out, f'.{FAKE_PKG}__lake.png.x.tmp')
    open(stale, 'wb').close()
    ccp.collect(out, ['skimage', FAKE_PKG], progress=False)
    assert len(fake_deb) == 1  # the cached .deb was reused
    assert _manifest(out) == first
    assert os.stat(osp.join(out, 'skimage__chelsea.png')).st_mtime_ns == \
        stamps['skimage__chelsea.png']


def test_without_apt_debian_sources_are_skipped_with_a_reason(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ccp.shutil, 'which', lambda name: None)
    out = str(tmp_path / 'photos')
    assert ccp.main([out, '--sources', 'skimage', 'mate-backgrounds',
                     '--no-progress']) == 0
    text = capsys.readouterr()
    assert 'mate-backgrounds' in text.err and 'apt-get' in text.err
    assert 'skipped' in text.out
    assert sorted(_manifest(out)) and all(
        f.startswith('skimage__') for f in _manifest(out))
    # nothing at all: non-zero exit
    empty = str(tmp_path / 'empty')
    assert ccp.main([empty, '--sources', 'mate-backgrounds',
                     '--no-progress']) == 1
    assert 'no photo' in capsys.readouterr().err


def test_licence_rules():
    text = FAKE_COPYRIGHT + (
        '\nFiles: data/*\nCopyright: x\nLicense: BSD-3-Clause\n')
    assert ccp.licence_for(text, '/usr/share/backgrounds/other.jpg') == \
        'GPL-2+'
    # a single-file pattern matches by base name (source paths differ)
    assert ccp.licence_for(text, 'usr/share/x/lake_by_Someone.jpg') == \
        'CC-BY-SA-4.0'
    # a source-tree glob does not claim an installed path
    assert ccp.licence_for(text, 'usr/share/doc/p/examples/data/a.jpg') == \
        'GPL-2+'
    free_form = ('This package is free software; you can redistribute it '
                 'under the terms of the GNU General Public License as '
                 'published by the Free Software Foundation; either\n'
                 '    version 2 of the License, or (at your option) any '
                 'later version.')
    assert ccp.licence_for(free_form, 'a.jpg') == 'GPL-2+'
    assert ccp.licence_for('Public domain.', 'a.jpg').startswith('unknown')


def test_unknown_source_raises(tmp_path):
    with pytest.raises(ValueError, match='nope'):
        ccp.collect(str(tmp_path), ['nope'])


def test_tool_imports_neither_torch_nor_mmagic(tmp_path):
    code = ('import runpy, sys, json\n'
            f'sys.argv = [{TOOL!r}, {str(tmp_path)!r}, "--sources", '
            '"skimage", "--no-progress", "--max-side", "64"]\n'
            'try:\n'
            f'    runpy.run_path({TOOL!r}, run_name="__main__")\n'
            'except SystemExit as e:\n'
            '    assert e.code == 0, e.code\n'
            'heavy = ("torch", "mmagic", "mmcv", "mmengine", "skimage")\n'
            'print(json.dumps([m for m in heavy if m in sys.modules]))\n')
    proc = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
    assert len(_manifest(str(tmp_path))) == 5
