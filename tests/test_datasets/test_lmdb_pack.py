"""LMDB packer: BasicSR layout, kill-and-resume, verify, bad pairs."""
import os
import os.path as osp
import signal
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from unirain_mm.datasets import lmdb_pack
from unirain_mm.datasets.bad_data import BadPairError
from unirain_mm.datasets.lmdb_io import read_meta_info
from unirain_mm.datasets.lmdb_pack import pack_pairs, verify_pairs
from unirain_mm.datasets.pairs import (read_pair_list, records_from_layout,
                                       write_pair_list)

from conftest import REPO_ROOT


@pytest.fixture
def records(pair_tree):
    return records_from_layout(pair_tree, 'train')


def test_layout_and_meta_info(records, tmp_path):
    info = pack_pairs(records, str(tmp_path), progress=False)
    assert info['num_pairs'] == 16 and info['skipped'] == {}
    assert info['per_type'] == dict(DRS=4, DRD=4, NRS=4, NRD=4)
    for db in ('input.lmdb', 'target.lmdb'):
        assert sorted(os.listdir(tmp_path / db)) == [
            'data.mdb', 'lock.mdb', 'meta_info.txt']
        lines = (tmp_path / db / 'meta_info.txt').read_text().splitlines()
        assert lines[0] == f'{records[0].key}.png (32,32,3) 0 DRS ' \
            f'{records[0].source}'
        assert [ln.split('.')[0] for ln in lines] == [r.key for r in records]
    assert verify_pairs(records, str(tmp_path), progress=False) == {}


def test_mmagic_reads_it_as_basicsr_lmdb(records, tmp_path):
    """The layout is BasicSR's: mmagic's own dataset and loader read it."""
    from mmengine.registry import init_default_scope
    from mmagic.datasets import BasicImageDataset
    init_default_scope('mmagic')
    pack_pairs(records, str(tmp_path), progress=False)
    ds = BasicImageDataset(
        ann_file=str(tmp_path / 'input.lmdb' / 'meta_info.txt'),
        data_root='', data_prefix=dict(img='', gt=''),
        filename_tmpl=dict(img='{}', gt='{}'),
        pipeline=[
            dict(type='LoadImageFromFile', key=k, channel_order='rgb',
                 backend_args=dict(backend='lmdb',
                                   db_path=str(tmp_path / db)))
            for k, db in (('img', 'input.lmdb'), ('gt', 'target.lmdb'))
        ])
    sample = ds.pipeline(ds.get_data_info(0))
    expected = cv2.imread(records[0].target_path)[..., ::-1]
    assert np.array_equal(sample['gt'], expected)


def test_kill_and_resume(records, tmp_path):
    """SIGKILL mid-pack leaves a usable database; the rerun packs only what
    is missing and the result verifies."""
    list_file = tmp_path / 'pairs.tsv'
    write_pair_list(str(list_file), records)
    out = tmp_path / 'out'
    script = textwrap.dedent(f'''
        import sys, time
        sys.path.insert(0, {REPO_ROOT!r})
        import unirain_mm
        from unirain_mm.datasets import lmdb_pack
        from unirain_mm.datasets.pairs import read_pair_list
        commit = lmdb_pack._commit
        def slow_commit(*args):
            commit(*args)
            print('committed', flush=True)
            time.sleep(0.3)
        lmdb_pack._commit = slow_commit
        lmdb_pack.pack_pairs(read_pair_list({str(list_file)!r}),
                             {str(out)!r}, progress=False, commit_every=2)
    ''')
    proc = subprocess.Popen([sys.executable, '-c', script],
                            stdout=subprocess.PIPE, text=True)
    for _ in range(3):
        assert proc.stdout.readline().strip() == 'committed'
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not osp.exists(out / 'input.lmdb' / 'meta_info.txt')

    encoded = []
    encode = lmdb_pack._encode_pair

    def counting_encode(rec, **kwargs):
        encoded.append(rec.key)
        return encode(rec, **kwargs)

    lmdb_pack._encode_pair = counting_encode
    try:
        info = pack_pairs(read_pair_list(str(list_file)), str(out),
                          progress=False, commit_every=2)
    finally:
        lmdb_pack._encode_pair = encode
    assert 6 <= 16 - len(encoded) < 16  # at least 3 batches of 2 were kept
    assert encoded == [r.key for r in records][16 - len(encoded):]
    assert info['num_pairs'] == 16
    assert verify_pairs(records, str(out), progress=False) == {}
    # a finished pack of the same records is left as it is
    assert pack_pairs(records, str(out), progress=False) == info
    # without pack_info.json (a BasicSR-made pack): still finished
    os.remove(out / 'pack_info.json')
    assert pack_pairs(records, str(out), progress=False)['num_pairs'] == 16
    with pytest.raises(ValueError, match='already holds a finished'):
        pack_pairs(records[:3], str(out), progress=False)


def test_killed_while_finishing_keeps_skipped_pairs(records, tmp_path,
                                                    monkeypatch):
    """A kill between pack_info.json and meta_info.txt resumes, and the
    skipped pair stays recorded."""
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'garbage')
    recs = [records[0], records[1].__class__(
        key='broken_pair', input_path=str(bad),
        target_path=records[1].target_path, rain_type='DRS', source='x')]
    write = lmdb_pack.atomic_write_text

    def killed(path, text):
        raise KeyboardInterrupt

    monkeypatch.setattr(lmdb_pack, 'atomic_write_text', killed)
    with pytest.raises(KeyboardInterrupt):
        pack_pairs(recs, str(tmp_path / 'out'), progress=False)
    assert (tmp_path / 'out' / 'pack_info.json').is_file()
    monkeypatch.setattr(lmdb_pack, 'atomic_write_text', write)
    info = pack_pairs(recs, str(tmp_path / 'out'), progress=False)
    assert info['num_pairs'] == 1 and list(info['skipped']) == ['broken_pair']
    assert pack_pairs(recs, str(tmp_path / 'out'), progress=False) == info


def test_parallel_workers_match_serial(records, tmp_path):
    pack_pairs(records, str(tmp_path / 'a'), progress=False)
    pack_pairs(records, str(tmp_path / 'b'), num_workers=2, progress=False)
    a = read_meta_info(str(tmp_path / 'a' / 'input.lmdb' / 'meta_info.txt'))
    b = read_meta_info(str(tmp_path / 'b' / 'input.lmdb' / 'meta_info.txt'))
    assert a == b
    assert verify_pairs(records, str(tmp_path / 'b'), num_workers=2,
                        progress=False) == {}


def test_bad_pairs_at_pack_time(records, tmp_path):
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'garbage')
    broken = records[1].__class__(
        key='broken_pair', input_path=str(bad),
        target_path=records[1].target_path, rain_type='DRS', source='x')
    recs = [records[0], broken, records[2]]
    info = pack_pairs(recs, str(tmp_path / 'skip'), progress=False)
    assert info['num_pairs'] == 2
    assert 'broken_pair: input image cannot be decoded' in \
        info['skipped']['broken_pair']
    with pytest.raises(BadPairError, match='broken_pair'):
        pack_pairs(recs, str(tmp_path / 'err'), progress=False,
                   policy=dict(corrupt='error'))
    with pytest.raises(ValueError, match='duplicate keys'):
        pack_pairs([records[0], records[0]], str(tmp_path / 'dup'),
                   progress=False)


def test_verify_detects_a_changed_source(records, tmp_path):
    pack_pairs(records[:2], str(tmp_path / 'db'), progress=False)
    src = tmp_path / 'changed.png'
    img = cv2.imread(records[1].input_path)
    img[0, 0] += 1
    cv2.imwrite(str(src), img)
    changed = [records[0],
               records[1].__class__(**{**records[1].__dict__,
                                       'input_path': str(src)})]
    problems = verify_pairs(changed, str(tmp_path / 'db'), progress=False)
    assert list(problems) == [records[1].key]
    assert 'input record differs from' in problems[records[1].key]


def test_meta_info_errors_name_the_line(tmp_path):
    meta = tmp_path / 'meta_info.txt'
    meta.write_text('a.png (1,2,3) 1\nb.png (x) 1\n')
    with pytest.raises(ValueError, match=r'meta_info.txt:2: malformed'):
        read_meta_info(str(meta))
    # BasicSR's own three-column lines parse without type and source
    meta.write_text('baboon.png (480,492,3) 1\n')
    assert read_meta_info(str(meta))[0].rain_type is None


def test_sources_with_spaces_are_refused(records):
    with pytest.raises(ValueError, match="invalid source 'my data'"):
        records[0].__class__(**{**records[0].__dict__, 'source': 'my data'})


def test_pair_list_round_trip(records, tmp_path):
    path = tmp_path / 'lists' / 'x.tsv'
    write_pair_list(str(path), records)
    assert read_pair_list(str(path)) == records
    text = path.read_text().replace(records[3].key, records[2].key)
    path.write_text(text)
    with pytest.raises(ValueError, match=r'x.tsv:5: duplicate key'):
        read_pair_list(str(path))
