"""Pairing rules, mapping files, writing modes and resuming."""
import os
import os.path as osp
import subprocess
import sys
import time

import pytest
from mmengine.registry import Registry

from unirain_mm.datasets.converters import (CONVERTERS, convert,
                                            converter_options)
from unirain_mm.datasets.converters.core import (materialize, name_rule,
                                                 pair_folders, read_mapping)
from unirain_mm.datasets.pairs import PairRecord

from converter_trees import check_output_fixture, tree  # noqa: F401 (fixtures)


@pytest.mark.parametrize('pattern, stem, pair_id', [
    ('{}', 'a.b_1', 'a.b_1'),
    ('{}_rain', '3_rain', '3'),
    ('{}_rain', '3_clean', None),
    ('rain-{}', 'norain-3', None),
    ('{}_*', '0001_07', '0001'),
    ('{}gt', '012gt', '012'),
])
def test_name_rule(pattern, stem, pair_id):
    assert name_rule(pattern)(stem) == pair_id


def test_name_rule_needs_one_id():
    with pytest.raises(ValueError, match='exactly one'):
        name_rule('rain')


def test_pair_folders_in_one_folder_ignores_other_files(tree):
    # PReNet's RainTrainH: rain-<n>, norain-<n> and masks in one folder.
    tree.pair('RainTrainH/norain-1.png', 'RainTrainH/rain-1.png')
    tree.image('RainTrainH/rainstreak-1.png', 0)
    folder = osp.join(tree.src, 'RainTrainH')
    assert pair_folders(folder, folder, 'rain-{}', 'norain-{}') == [
        (osp.join(folder, 'rain-1.png'), osp.join(folder, 'norain-1.png'))
    ]


def test_pair_folders_rejects_two_clean_images_with_one_id(tree):
    tree.pair('gt/1_a.png', 'rainy/1.png')
    tree.image('gt/1_b.png', 0)
    with pytest.raises(ValueError, match='same id'):
        pair_folders(osp.join(tree.src, 'rainy'), osp.join(tree.src, 'gt'),
                     '{}', '{}_*')


def test_read_mapping(tree):
    tree.pair('gt/a.png', 'rain/a.png')
    tree.pair('gt/b c.png', 'rain/b c.png')
    tree.pair('gt/d.png', 'rain/d.png')
    path = tree.text('pairs.txt', '# rainy, clean\n\n'
                     '/rain/a.png /gt/a.png\n'
                     'rain/b c.png\tgt/b c.png\n'
                     'rain/d.png,gt/d.png\n'
                     'rain/gone.png gt/d.png\n')
    with pytest.warns(UserWarning, match='skipped 1 rainy'):
        pairs = read_mapping(path, tree.src)
    assert [osp.relpath(p, tree.src) for p, _ in pairs] == [
        'rain/a.png', 'rain/b c.png', 'rain/d.png'
    ]
    bad = tree.text('bad.txt', 'rain/a.png\n')
    with pytest.raises(ValueError, match='bad.txt:1: expected two paths'):
        read_mapping(bad, tree.src)


@pytest.mark.parametrize('mode', ['symlink', 'hardlink', 'copy'])
def test_materialize(mode, tree):
    src = tree.image('a.png', 1)
    dst = osp.join(tree.out, 'x', 'a.png')
    assert materialize(src, dst, mode)
    assert osp.islink(dst) == (mode == 'symlink')
    assert osp.samefile(src, dst) == (mode != 'copy')
    with open(src, 'rb') as f, open(dst, 'rb') as g:
        assert f.read() == g.read()
    assert not materialize(src, dst, mode)  # already current
    assert os.listdir(osp.dirname(dst)) == ['a.png']  # no temporary left


def test_materialize_replaces_what_is_wrong(tree):
    src = tree.image('a.png', 1)
    other = tree.image('b.png', 2)
    dst = osp.join(tree.out, 'a.png')
    materialize(other, dst, 'symlink')
    assert materialize(src, dst, 'symlink')  # link to the wrong file
    assert os.readlink(dst) == osp.abspath(src)
    assert materialize(src, dst, 'copy')  # a link where a copy should be
    assert not osp.islink(dst)
    later = time.time() + 10
    os.utime(src, (later, later))  # the source changed after the copy
    assert materialize(src, dst, 'copy')
    assert materialize(src, dst, 'hardlink')
    assert osp.samefile(src, dst)


def test_resume_redoes_only_missing_or_wrong_files(tree, check_output):
    tree.pair('train/gt/0_clean.png', 'train/data/0_rain.png')
    tree.pair('train/gt/1_clean.png', 'train/data/1_rain.png')
    tree.pair('train/gt/2_clean.png', 'train/data/2_rain.png')
    first = convert('raindrop', tree.src, tree.out, progress=False)
    assert (first.written, first.current) == (6, 0)
    inputs = osp.join(tree.out, 'train', 'DRD', 'input')
    targets = osp.join(tree.out, 'train', 'DRD', 'target')
    names = sorted(os.listdir(inputs))
    # An interrupted run: one output missing, one link pointing elsewhere.
    os.unlink(osp.join(inputs, names[0]))
    os.unlink(osp.join(targets, names[1]))
    os.symlink(osp.join(tree.src, 'train/gt/0_clean.png'),
               osp.join(targets, names[1]))
    again = convert('raindrop', tree.src, tree.out, progress=False)
    assert (again.written, again.current) == (2, 4)
    check_output(tree.out, 'raindrop', {'train': {'DRD': 3}})


def test_copy_mode_and_many_rainy_images_per_clean_image(tree, check_output):
    tree.pair('train/gt/0000.png', 'train/rainy/0000_00.png',
              'train/rainy/0000_01.png')
    summary = convert('gtav-nightrain', tree.src, tree.out, mode='copy',
                      progress=False)
    assert summary.counts == {'train': {'NRS': 2}}
    check_output(tree.out, 'gtav-nightrain', {'train': {'NRS': 2}})
    for root, _, files in os.walk(osp.join(tree.out, 'train')):
        assert not any(osp.islink(osp.join(root, f)) for f in files)


def test_source_overrides_keys_and_list_names(tree, check_output):
    tree.pair('train/gt/0000.png', 'train/rainy/0000_00.png')
    convert('gtav-nightrain', tree.src, tree.out, source='gtav-set2',
            progress=False)
    check_output(tree.out, 'gtav-set2', {'train': {'NRS': 1}})


def test_unknown_dataset_mode_duplicate_keys_and_no_pairs(tree, monkeypatch):
    with pytest.raises(KeyError, match='unknown dataset'):
        convert('rain99', tree.src, tree.out)
    with pytest.raises(ValueError, match='unknown mode'):
        convert('rain13k', tree.src, tree.out, mode='move')
    path = tree.image('a.png', 1)
    record = PairRecord('dup_a', path, path, 'DRS', 'dup', 'train')
    monkeypatch.setitem(CONVERTERS.module_dict, 'dup',
                        lambda src, source: [record] * 2)
    with pytest.raises(ValueError, match="two pairs have the key 'dup_a'"):
        convert('dup', tree.src, tree.out, progress=False)
    monkeypatch.setitem(CONVERTERS.module_dict, 'none',
                        lambda src, source: [])
    with pytest.raises(FileNotFoundError, match='none: no pairs found'):
        convert('none', tree.src, tree.out, progress=False)


def test_registry_is_mmengine_and_refuses_a_second_name():
    assert isinstance(CONVERTERS, Registry)
    assert CONVERTERS.get('rainrag').__name__ == 'rainrag'
    with pytest.raises(KeyError, match='rainrag is already registered'):
        CONVERTERS.register_module('rainrag', module=lambda src, source: [])


def test_options_come_from_the_signature():
    assert converter_options('rain13k') == []
    assert converter_options('rainrag') == ['split']
    assert converter_options('generic')[:2] == ['rain_type', 'split']


def test_converters_import_neither_torch_nor_mmagic():
    code = ('import sys, unirain_mm.datasets.converters; '
            "print(sorted({'torch', 'mmagic'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, '-c', code], check=True,
                         capture_output=True, text=True,
                         cwd=osp.dirname(osp.dirname(osp.dirname(
                             osp.dirname(osp.abspath(__file__)))))).stdout
    assert out.strip() == '[]'
