"""tools/misc/test_realdata.sh on a fake tree in the realdata layout (the
real samples are never needed by a test)."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
from mmengine.runner import Runner

from conftest import REPO_ROOT, tiny_config

SCRIPT = osp.join(REPO_ROOT, 'tools', 'misc', 'test_realdata.sh')
SAMPLES = {  # folder -> (rainy name, clean name)
    'day_streak/rain100h_mspfn': ('1.png', '1.png'),
    'night_streak/hq_nightrain_cstnet': ('b1-74.jpg', 'b1-74.jpg'),
    'day_raindrop/raindrop_qian_attentivegan': ('0_rain.png', '0_clean.png'),
}


def fake_realdata(root: str) -> str:
    rng = np.random.default_rng(0)
    for folder, names in SAMPLES.items():
        for sub, name in zip(('input', 'gt'), names):
            os.makedirs(osp.join(root, folder, sub), exist_ok=True)
            cv2.imwrite(osp.join(root, folder, sub, name),
                        rng.integers(0, 255, (24, 40, 3), dtype=np.uint8))
    return root


def run(*args, cwd):
    return subprocess.run(['bash', SCRIPT, *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300,
                          env=dict(os.environ, PYTHON=sys.executable))


def test_absent_folder_is_not_an_error(tmp_path):
    proc = run('cfg.py', 'ckpt.pth', str(tmp_path / 'absent'), cwd=tmp_path)
    assert proc.returncode == 0 and 'nothing to test' in proc.stdout


def test_tables_and_images(pair_tree, tmp_path):
    cfg = tiny_config(pair_tree, str(tmp_path / 'wd'), max_iters=1,
                      val_interval=1)
    Runner.from_cfg(cfg).train()
    cfg.dump(str(tmp_path / 'cfg.py'))
    real = fake_realdata(str(tmp_path / 'real'))
    proc = run(str(tmp_path / 'cfg.py'), str(tmp_path / 'wd' / 'iter_1.pth'),
               real, str(tmp_path / 'out'), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    table = (tmp_path / 'out' / 'results.md').read_text()
    for name in ('Rain100H-samples', 'HQ-NightRain-samples',
                 'RainDrop-samples', 'Avg'):
        assert f'| {name} |' in table
    assert (tmp_path / 'out' / 'results.csv').is_file()
    saved = tmp_path / 'out' / 'images'
    assert (saved / 'RainDrop-samples').is_dir()
    assert len(list((saved / 'grids').rglob('*.png'))) == 3
