"""Two processes under torchrun (gloo on the CPU) split the queries and
merge to the same manifest as one process."""
import os
import os.path as osp
import subprocess
import sys

from distill_fixtures import (  # noqa: F401  (fixtures, used by name)
    distill_cfg, distill_data)

from unirain_mm.distill import Distiller, build_knowledge_base, finalize
from unirain_mm.distill.results import read_manifest, shard_files

TOOL = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                'tools', 'distill', 'distill.py')


def _strip_timing(manifest):
    recs = list(read_manifest(manifest))
    for rec in recs:
        for j in rec['judges']:
            j.pop('seconds')
    return recs


def test_two_process_sharding(distill_cfg, tmp_path):
    cfg = distill_cfg
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--standalone',
         '--nproc_per_node', '2', TOOL, 'all', cfg_path, '--launcher',
         'pytorch', '--no-report'],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    shards = shard_files(cfg.work_dir)
    assert [osp.basename(p) for p in shards] == [
        'shard-00000-of-00002.jsonl', 'shard-00001-of-00002.jsonl']
    keys = [[r['key'] for r in read_manifest(p)] for p in shards]
    assert len(keys[0]) == len(keys[1]) == 8
    assert not set(keys[0]) & set(keys[1])
    assert osp.isdir(osp.join(cfg.work_dir, 'lmdb', 'input.lmdb'))
    two = _strip_timing(osp.join(cfg.work_dir, 'manifest.jsonl'))

    cfg.work_dir = str(tmp_path / 'one')  # same knowledge base
    build_knowledge_base(cfg, progress=False)
    Distiller(cfg).run(progress=False)
    one = _strip_timing(finalize(cfg, pack=False, report=False)['manifest'])
    assert [r['key'] for r in one] == sorted(keys[0] + keys[1])
    assert one == two
