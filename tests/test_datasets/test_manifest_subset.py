"""ManifestSubset: keep the pairs a distillation manifest keeps."""
import json

import pytest

from unirain_mm.datasets import ManifestSubset, RainTypeDataset
from unirain_mm.datasets.manifest_subset import read_manifest_keys


def keys_of(ds):
    return [ds.get_data_info(i)['key'] for i in range(len(ds))]


@pytest.fixture
def dataset(pair_tree):
    return RainTypeDataset(pair_tree, split='train')


def write_jsonl(path, entries):
    path.write_text('\n'.join(json.dumps(e) for e in entries) + '\n')
    return str(path)


def test_jsonl_manifest_keeps_keep_decisions(dataset, tmp_path):
    keys = keys_of(dataset)
    manifest = write_jsonl(tmp_path / 'm.jsonl', [
        dict(key=keys[0], decision='keep', source='s', rain_type='DRS'),
        dict(key=keys[5], decision='reject'),
        dict(key=keys[9], decision='abstain'),
        dict(key=keys[12], decision='keep'),
    ])
    sub = ManifestSubset(dataset, manifest)
    assert keys_of(sub) == [keys[0], keys[12]]
    assert sub.get_data_info(1)['gt_label'] == 3
    assert sub.metainfo == dataset.metainfo
    assert len(ManifestSubset(dataset, manifest,
                              keep=('keep', 'abstain'))) == 3


def test_plain_key_list_and_config_build(pair_tree, dataset, tmp_path):
    from mmengine.registry import init_default_scope
    from mmagic.registry import DATASETS
    keys = keys_of(dataset)
    manifest = tmp_path / 'keys.txt'
    manifest.write_text(f'# kept pairs\n{keys[3]}\n\n{keys[1]}\n')
    init_default_scope('mmagic')
    sub = DATASETS.build(
        dict(type='ManifestSubset', manifest=str(manifest),
             dataset=dict(type='RainTypeDataset', data_root=pair_tree,
                          split='train',
                          pipeline=[dict(type='LoadRainPair')])))
    assert keys_of(sub) == [keys[1], keys[3]]  # dataset order
    assert sub[0]['img'].shape == (32, 32, 3)


def test_foreign_and_malformed_manifests(dataset, tmp_path):
    foreign = write_jsonl(tmp_path / 'f.jsonl', [
        dict(key=keys_of(dataset)[0], decision='keep'),
        dict(key='other_dataset_001', decision='keep')])
    with pytest.raises(ValueError, match='1 keys that the dataset does not'):
        ManifestSubset(dataset, foreign)
    assert len(ManifestSubset(dataset, foreign, strict=False)) == 1
    nothing = write_jsonl(tmp_path / 'n.jsonl',
                          [dict(key=keys_of(dataset)[0], decision='reject')])
    with pytest.raises(ValueError, match='keeps none'):
        ManifestSubset(dataset, nothing)
    bad = tmp_path / 'bad.jsonl'
    bad.write_text('{"key": "a", "decision": "keep"}\n{"key": "b"}\n')
    with pytest.raises(ValueError, match=r'bad.jsonl:2: expected a JSON'):
        read_manifest_keys(str(bad))
