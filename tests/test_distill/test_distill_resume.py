"""A run killed mid-way (SIGKILL) resumes without redoing finished queries
and without losing any; the result equals an uninterrupted run's."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

from conftest import import_tool
from distill_fixtures import (  # noqa: F401  (fixtures, used by name)
    chat_server, completion, distill_cfg, distill_data)

from unirain_mm.distill import build_knowledge_base
from unirain_mm.distill.results import read_manifest, shard_files

TOOL = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                'tools', 'distill', 'distill.py')


def _tool():
    return import_tool('distill/distill')


def _lines(work_dir):
    n = 0
    for path in shard_files(work_dir):
        with open(path, 'rb') as f:
            n += f.read().count(b'\n')
    return n


def _comparable(manifest):
    """Records without timings."""
    out = []
    for rec in read_manifest(manifest):
        for j in rec['judges']:
            j.pop('seconds')
        out.append(rec)
    return out


def test_kill_and_resume(distill_cfg, chat_server, completion, tmp_path):
    server = chat_server(lambda body, n: (200, completion('yes'), 0.12))
    cfg = distill_cfg
    cfg.judges.append(dict(type='OpenAIChatJudge', name='served',
                           base_url=server.url, model='m', max_concurrency=1,
                           image_max_side=32))
    build_knowledge_base(cfg, progress=False)
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.Popen(
        [sys.executable, TOOL, 'run', cfg_path, '--no-pack', '--no-report'],
        cwd=str(tmp_path), env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _lines(cfg.work_dir) < 4 and proc.poll() is None:
        assert time.monotonic() < deadline, 'no results written'
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = _lines(cfg.work_dir)
    assert 4 <= done_before < 16, proc.stderr.read().decode()[-2000:]

    requests_before = len(server.requests)
    out = _tool().main(['run', cfg_path, '--no-pack', '--no-report'])
    assert len(server.requests) - requests_before == 16 - done_before
    resumed = _comparable(out['manifest'])
    # every query decided exactly once (the demo's judges may reject some:
    # the calibrated synthesis makes a few heavy-rain pairs fail them)
    assert len(resumed) == 16 and sum(out['counts'].values()) == 16

    cfg.work_dir = str(tmp_path / 'uninterrupted')
    cfg.dump(cfg_path)
    out = _tool().main(['run', cfg_path, '--no-pack', '--no-report'])
    assert _comparable(out['manifest']) == resumed
    report = _tool().main(['report', out['manifest'],
                           str(tmp_path / 'report')])['report']
    text = open(report).read()
    assert f"16 pairs: {out['counts'].get('keep', 0)} keep (" in text
