"""The generic converter: two folders and a naming rule or a mapping file."""
import pytest

from unirain_mm.datasets.converters import convert

from converter_trees import check_output_fixture, tree  # noqa: F401 (fixtures)


def test_generic_same_names_in_sub_folders(tree, check_output):
    for scene in ('a', 'b'):
        tree.pair(f'target/{scene}/1.png', f'input/{scene}/1.png')
    convert('generic', tree.src, tree.out, rain_type='DRS', recursive=True,
            progress=False)
    check_output(tree.out, 'generic', {'train': {'DRS': 2}})


def test_generic_mapping_file(tree, check_output):
    tree.pair('clean/0.png', 'rain/0_a.png', 'rain/0_b.png')
    mapping = tree.text('pairs.csv', 'rain/0_a.png,clean/0.png\n'
                        'rain/0_b.png,clean/0.png\n')
    convert('generic', tree.src, tree.out, source='myrain', rain_type='NRS',
            split='val', mapping=mapping, progress=False)
    check_output(tree.out, 'myrain', {'val': {'NRS': 2}})


def test_generic_errors(tree):
    with pytest.raises(ValueError, match='rain type'):
        convert('generic', tree.src, tree.out, progress=False)
    with pytest.raises(FileNotFoundError, match='expected the folder .*input'):
        convert('generic', tree.src, tree.out, rain_type='DRS',
                progress=False)
    tree.pair('target/1.png', 'input/2.png')
    with pytest.warns(UserWarning, match='skipped 1'), pytest.raises(
            FileNotFoundError, match='no rainy image .* has a clean image'):
        convert('generic', tree.src, tree.out, rain_type='DRS',
                progress=False)
