"""The rainrag converter: both RainRAG sets, type folders in any case, and
the errors of an incomplete tree."""
import os.path as osp

import pytest

from conftest import import_tool
from unirain_mm.datasets.converters import convert

from converter_trees import check_output_fixture, tree  # noqa: F401 (fixtures)

FOLDERS = ('Drs', 'drd', 'NRS', 'nRd')


def rainrag_set(t, root: str, n: int = 1) -> None:
    for folder in FOLDERS:
        for i in range(n):
            t.pair(f'{root}/{folder}/target/{i}.png',
                   f'{root}/{folder}/input/{i}.png')


def test_train_and_test_sets_into_one_out(tree, check_output):
    rainrag_set(tree, 'RainRAG_train', 2)
    rainrag_set(tree, 'RainRAG_test')
    convert('rainrag', osp.join(tree.src, 'RainRAG_train'), tree.out,
            progress=False)
    summary = convert('rainrag', osp.join(tree.src, 'RainRAG_test'),
                      tree.out, progress=False, split='test')
    assert summary.counts == {'test': {'DRD': 1, 'DRS': 1, 'NRD': 1,
                                       'NRS': 1}}
    check_output(tree.out, 'rainrag', {
        'train': {'DRD': 2, 'DRS': 2, 'NRD': 2, 'NRS': 2},
        'test': {'DRD': 1, 'DRS': 1, 'NRD': 1, 'NRS': 1},
    })
    assert osp.isfile(osp.join(tree.out, 'test', 'NRD', 'target',
                               'rainrag_test_nRd_input_0.png'))


def test_missing_type_folder_is_named(tree):
    for folder in ('drs', 'nrs'):
        tree.pair(f'{folder}/target/1.png', f'{folder}/input/1.png')
    with pytest.raises(FileNotFoundError,
                       match=r'^rainrag: expected the type folders drd, nrd'):
        convert('rainrag', tree.src, tree.out, progress=False)


def test_missing_target_folder_is_named(tree):
    tree.image('other/drd/input/1.png', 1)
    for folder in ('drs', 'nrs', 'nrd'):
        tree.pair(f'other/{folder}/target/1.png',
                  f'other/{folder}/input/1.png')
    with pytest.raises(FileNotFoundError,
                       match=r'rainrag: expected the folder .*other/drd/'
                       r'target'):
        convert('rainrag', osp.join(tree.src, 'other'), tree.out,
                progress=False)


def test_rainy_image_without_clean_image_is_skipped(tree, check_output):
    rainrag_set(tree, 'set')
    tree.image('set/NRS/input/7.png', 1)
    with pytest.warns(UserWarning, match=r'rainrag: skipped 1 .*7\.png'):
        convert('rainrag', osp.join(tree.src, 'set'), tree.out,
                progress=False)
    check_output(tree.out, 'rainrag',
                 {'train': {'DRD': 1, 'DRS': 1, 'NRD': 1, 'NRS': 1}})


def test_two_folders_of_one_type_or_a_bad_split(tree):
    rainrag_set(tree, 'set')
    tree.pair('set/DRD/target/1.png', 'set/DRD/input/1.png')
    with pytest.raises(ValueError, match=r'set/DRD and .*set/drd are both '
                       'type DRD'):
        convert('rainrag', osp.join(tree.src, 'set'), tree.out,
                progress=False)
    with pytest.raises(ValueError, match="split must be one of .*'val'"):
        convert('rainrag', tree.src, tree.out, progress=False, split='val')


def test_cli(tree, check_output, capsys):
    tool = import_tool('dataset_converters/convert_rain_datasets')
    rainrag_set(tree, 'train')
    rainrag_set(tree, 'test')
    tool.main(['--dataset', 'rainrag', '--src',
               osp.join(tree.src, 'train'), '--out', tree.out])
    tool.main(['--dataset', 'rainrag', '--src', osp.join(tree.src, 'test'),
               '--out', tree.out, '--split', 'test'])
    assert 'rainrag -> ' in capsys.readouterr().out
    four = {'DRD': 1, 'DRS': 1, 'NRD': 1, 'NRS': 1}
    check_output(tree.out, 'rainrag', {'train': four, 'test': four})
    with pytest.raises(SystemExit, match='rainrag: expected the type '
                       'folders drs, drd, nrs, nrd'):
        tool.main(['--dataset', 'rainrag', '--src', tree.src, '--out',
                   tree.out])
    with pytest.raises(SystemExit, match='split must be one of'):
        tool.main(['--dataset', 'rainrag', '--src', tree.src, '--out',
                   tree.out, '--split', 'val'])
    with pytest.raises(SystemExit):
        tool.main(['--dataset', 'rainrag', '--src', tree.src,
                   '--rain-type', 'DRS'])
    assert '--rain-type: only for --dataset generic' in capsys.readouterr().err
