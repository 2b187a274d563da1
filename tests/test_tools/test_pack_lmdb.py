"""tools/dataset_converters/pack_lmdb.py: the three inputs, verify, errors."""
import os.path as osp

import pytest

from conftest import import_tool
from unirain_mm.datasets.lmdb_io import read_meta_info
from unirain_mm.datasets.pairs import records_from_layout, write_pair_list

pack_lmdb = import_tool('dataset_converters/pack_lmdb')


def keys(out):
    return [m.key for m in read_meta_info(
        osp.join(out, 'input.lmdb', 'meta_info.txt'))]


def test_layout_then_verify(pair_tree, tmp_path, capsys):
    out = str(tmp_path / 'a')
    args = ['--layout', pair_tree, '--split', 'val', '--rain-types', 'NRS',
            '--out', out, '--workers', '0']
    assert pack_lmdb.main(args) == 0
    assert 'packed 2 pairs' in capsys.readouterr().out
    assert pack_lmdb.main(args + ['--verify']) == 0
    assert 'verified 2/2 pairs' in capsys.readouterr().out


def test_lists_and_folder_pair(pair_tree, tmp_path):
    recs = records_from_layout(pair_tree, 'test', source='bench')
    write_pair_list(str(tmp_path / 'l1.tsv'), recs[:3])
    write_pair_list(str(tmp_path / 'l2.tsv'), recs[3:])
    out = str(tmp_path / 'lists')
    pack_lmdb.main(['--lists', str(tmp_path / 'l1.tsv'),
                    str(tmp_path / 'l2.tsv'), '--out', out, '--workers', '0'])
    assert keys(out) == [r.key for r in recs]
    folder = osp.join(pair_tree, 'train', 'DRD')
    out = str(tmp_path / 'pair')
    pack_lmdb.main(['--input-dir', osp.join(folder, 'input'), '--target-dir',
                    osp.join(folder, 'target'), '--rain-type', 'DRD',
                    '--source', 'mine', '--out', out, '--workers', '0'])
    assert keys(out)[0] == 'mine_drd_train_000'
    assert read_meta_info(osp.join(out, 'target.lmdb',
                                   'meta_info.txt'))[0].rain_type == 'DRD'


def test_stops_with_the_key_on_an_error_policy(pair_tree, tmp_path):
    import shutil
    root = tmp_path / 'data'
    shutil.copytree(pair_tree, root)
    (root / 'val' / 'DRS' / 'input' / 'drs_val_001.png').write_bytes(b'x')
    args = ['--layout', str(root), '--split', 'val', '--rain-types', 'DRS',
            '--out', str(tmp_path / 'o'), '--workers', '0']
    with pytest.raises(SystemExit, match='(?s)drs_val_001.*resumes'):
        pack_lmdb.main(args + ['--policy', 'corrupt=error'])
    with pytest.raises(ValueError, match='unknown bad-data cases'):
        pack_lmdb.main(args + ['--policy', 'nonsense=skip'])
    with pytest.raises(SystemExit, match='expected CASE=ACTION'):
        pack_lmdb.main(args + ['--policy', 'corrupt'])
    assert pack_lmdb.main(args) == 0  # default policy: skipped, logged
    assert len(keys(str(tmp_path / 'o'))) == 1
