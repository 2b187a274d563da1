"""Shard files: durable appends, a killed writer's partial line, the
latest attempt, and a merge that does not depend on file order."""
import json

from unirain_mm.distill.results import (ShardWriter, latest_records,
                                        merge_shards, read_manifest,
                                        shard_path)


def _rec(key, attempt=1, decision='keep'):
    return dict(key=key, attempt=attempt, decision=decision)


def test_partial_line_is_cut_and_merge_is_sorted(tmp_path):
    work = str(tmp_path)
    with ShardWriter(shard_path(work, 1, 2)) as w:
        w.write([_rec('c'), _rec('a')])
    with open(shard_path(work, 1, 2), 'a') as f:
        f.write('{"key": "zz", "attem')  # killed mid-line
    assert set(latest_records(work)) == {'a', 'c'}  # partial line ignored
    with ShardWriter(shard_path(work, 1, 2)) as w:  # resumes: cuts it off
        w.write([_rec('zz')])
    with ShardWriter(shard_path(work, 0, 2)) as w:
        w.write([_rec('b', decision='abstain')])
    with open(shard_path(work, 1, 2)) as f:
        assert [json.loads(line)['key'] for line in f] == ['c', 'a', 'zz']
    n = merge_shards(work, str(tmp_path / 'manifest.jsonl'))
    keys = [r['key'] for r in read_manifest(str(tmp_path / 'manifest.jsonl'))]
    assert n == 4 and keys == ['a', 'b', 'c', 'zz']


def test_latest_attempt_wins_across_world_sizes(tmp_path):
    work = str(tmp_path)
    with ShardWriter(shard_path(work, 0, 1)) as w:
        w.write([_rec('a', 1, 'abstain'), _rec('b', 1, 'reject')])
    with ShardWriter(shard_path(work, 1, 2)) as w:  # a later 2-process run
        w.write([_rec('a', 2, 'keep')])
    latest = latest_records(work)
    assert latest['a'][0] == 2 and latest['a'][3] == 'keep'
    merge_shards(work, str(tmp_path / 'm.jsonl'))
    assert [(r['key'], r['decision'])
            for r in read_manifest(str(tmp_path / 'm.jsonl'))] == \
        [('a', 'keep'), ('b', 'reject')]
