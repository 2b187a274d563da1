"""tools/dataset_converters/convert_rain_datasets.py."""

import pytest

from conftest import import_tool
from unirain_mm.datasets.converters import CONVERTERS, converter_names
from unirain_mm.datasets.pairs import PairRecord

from converter_trees import check_output_fixture, tree  # noqa: F401 (fixtures)

@pytest.fixture(scope='module')
def tool():
    return import_tool('dataset_converters/convert_rain_datasets')


def test_list_datasets_shows_every_layout(tool, capsys):
    tool.main(['--list-datasets'])
    text = capsys.readouterr().out
    for name in converter_names():
        assert f'== {name}\n' in text
    assert text.count('<src>/') == len(converter_names())


def test_convert(tool, tree, check_output, capsys):
    tree.pair('train/gt/0_clean.png', 'train/data/0_rain.png')
    tool.main(['--dataset', 'raindrop', '--src', tree.src, '--out', tree.out,
               '--mode', 'hardlink'])
    assert 'raindrop -> ' in capsys.readouterr().out
    check_output(tree.out, 'raindrop', {'train': {'DRD': 1}})


def test_generic_options(tool, tree, check_output):
    tree.pair('data/norain-1.png', 'data/rain-1.png')
    tool.main(['--dataset', 'generic', '--src', tree.src, '--out', tree.out,
               '--rain-type', 'DRS', '--input-dir', 'data', '--target-dir',
               'data', '--input-rule', 'rain-{}', '--target-rule',
               'norain-{}'])
    check_output(tree.out, 'generic', {'train': {'DRS': 1}})


def test_errors(tool, tree, capsys):
    with pytest.raises(SystemExit, match='raindrop: found none of the'):
        tool.main(['--dataset', 'raindrop', '--src', tree.src])
    for argv in (['--dataset', 'raindrop'],
                 ['--dataset', 'raindrop', '--src', tree.src,
                  '--rain-type', 'DRD']):
        with pytest.raises(SystemExit):
            tool.main(argv)
    assert '--rain-type: only for --dataset generic' in capsys.readouterr().err


def test_a_registered_converter_gets_the_options_it_takes(
        tool, tree, monkeypatch, check_output):
    """A new converter needs no change to the tool: the flags it accepts
    follow its signature."""

    def toy(src, source, split='train'):
        clean = tree.image('clean.png', 7)
        rainy = tree.image('rainy.png', 7)
        return [PairRecord(f'{source}_{split}_0', rainy, clean, 'NRS',
                           source, split)]

    monkeypatch.setitem(CONVERTERS.module_dict, 'toy', toy)
    tool.main(['--dataset', 'toy', '--src', tree.src, '--out', tree.out,
               '--split', 'extra'])
    check_output(tree.out, 'toy', {'extra': {'NRS': 1}})
    with pytest.raises(SystemExit):
        tool.main(['--dataset', 'toy', '--src', tree.src, '--recursive'])
