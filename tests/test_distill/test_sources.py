"""Query and photo sources built from the config through their registries."""
import os

import pytest

from unirain_mm.datasets.pairs import PairRecord, write_pair_list
from unirain_mm.distill.registry import QUERY_SOURCES
from unirain_mm.distill.sources import load_photos, load_queries


def test_pair_folder_and_pair_list(pair_tree, tmp_path):
    folder = dict(type='PairFolder', root=pair_tree, split='train',
                  rain_types=['DRS', 'NRD'], source='tiny')
    records = load_queries([folder])
    # conftest's tree: 4 training pairs per type, named <type>_train_<i>.png
    assert [r.key for r in records] == sorted(
        f'tiny_{t}_{t.lower()}_train_{i:03d}' for t in ('DRS', 'NRD')
        for i in range(4))
    assert {r.rain_type for r in records} == {'DRS', 'NRD'}
    listed = tmp_path / 'pairs.tsv'
    write_pair_list(str(listed), records[:3])
    from_list = load_queries([dict(type='PairList', path=str(listed))])
    assert from_list == records[:3]


def test_image_folder_and_image_list(tmp_path):
    for rel in ('a.png', 'sub/b.JPG', 'sub/notes.txt', 'other/c.png'):
        path = tmp_path / 'real' / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'')
    (tmp_path / 'list.txt').write_text('real/other/c.png\n\n')
    photos = load_photos([
        dict(type='ImageFolder', root=str(tmp_path / 'real'), source='rr',
             pattern='[as]*/**/*'),
        dict(type='ImageFolder', root=str(tmp_path / 'real'), source='top',
             pattern='*.png'),
        dict(type='ImageList', path=str(tmp_path / 'list.txt'),
             source='listed'),
    ])
    real = os.path.join(str(tmp_path), 'real')
    assert photos == [
        ('listed_real_other_c', os.path.join(real, 'other', 'c.png')),
        ('rr_sub_b', os.path.join(real, 'sub', 'b.JPG')),
        ('top_a', os.path.join(real, 'a.png')),
    ]


def test_unknown_type_names_the_registered_ones(tmp_path):
    with pytest.raises(ValueError, match="'PairTable'.*PairList, PairFolder"):
        load_queries([dict(type='PairTable', path='x')])
    with pytest.raises(ValueError, match="photo source type 'Folder'"):
        load_photos([dict(type='Folder', root=str(tmp_path), source='x')])


def test_duplicate_keys_and_empty_sources_are_refused(pair_tree, tmp_path):
    folder = dict(type='PairFolder', root=pair_tree, split='val',
                  rain_types=['DRS'], source='tiny')
    with pytest.raises(ValueError, match="duplicate pair key 'tiny_DRS"):
        load_queries([folder, folder])
    with pytest.raises(FileNotFoundError, match='holds no images'):
        load_photos([dict(type='ImageFolder', root=str(tmp_path),
                          source='x')])


def test_a_registered_source_is_built_from_its_name():
    record = PairRecord('made_0', 'in.png', 'gt.png', 'DRS', 'made')

    class MadeUp:

        def __init__(self, count):
            self.count = count

        def records(self):
            return [record] * self.count

    QUERY_SOURCES.register_module(name='MadeUpPairs', module=MadeUp)
    try:
        assert load_queries([dict(type='MadeUpPairs', count=1)]) == [record]
    finally:
        QUERY_SOURCES.module_dict.pop('MadeUpPairs')
