"""End-to-end: Runner training, resume, test tables and 2-process gloo."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.runner import Runner

from conftest import REPO_ROOT, free_port, tiny_config
from unirain_mm.datasets.lmdb_pack import pack_pairs
from unirain_mm.datasets.pairs import records_from_layout


def _train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def _scalars(work_dir: str, key: str):
    """Values of ``key`` per iteration from the run's JSON scalar log."""
    (run_dir, ) = [d for d in os.listdir(work_dir)
                   if osp.isdir(osp.join(work_dir, d))]
    path = osp.join(work_dir, run_dir, 'vis_data', 'scalars.json')
    values = {}
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if key in rec:
                values[rec['step']] = rec[key]
    return values


def test_training_lowers_loss_and_validates(pair_tree, tmp_path):
    cfg = tiny_config(pair_tree, str(tmp_path), max_iters=40,
                      val_interval=40)
    cfg.optim_wrapper.optimizer.lr = 2e-3
    runner = _train(cfg)
    losses = _scalars(str(tmp_path), 'loss')
    first = sum(losses[i] for i in range(1, 6)) / 5
    last = sum(losses[i] for i in range(36, 41)) / 5
    assert last < 0.7 * first, (first, last)
    # per-type losses and router statistics are logged
    assert _scalars(str(tmp_path), 'l1_NRD')
    assert _scalars(str(tmp_path), 'router_DRS_e0')
    hub = runner.message_hub
    for t in ('DRS', 'DRD', 'NRS', 'NRD', 'Avg'):
        assert hub.get_scalar(f'val/{t}/PSNR').current() > 0
    assert osp.isfile(osp.join(str(tmp_path), 'best_Avg_PSNR_iter_40.pth'))


def test_resume_reproduces_uninterrupted_run(pair_tree, tmp_path):
    full = _train(tiny_config(pair_tree, str(tmp_path / 'full')))
    half_dir = str(tmp_path / 'resumed')
    cfg = tiny_config(pair_tree, half_dir)
    cfg.resume = True
    cfg.load_from = str(tmp_path / 'full' / 'iter_3.pth')
    resumed = _train(cfg)
    assert resumed.iter == full.iter == 6
    full_state = full.model.state_dict()
    for key, value in resumed.model.state_dict().items():
        torch.testing.assert_close(value, full_state[key], msg=key)
    full_losses = _scalars(str(tmp_path / 'full'), 'loss')
    resumed_losses = _scalars(half_dir, 'loss')
    assert [resumed_losses[i] for i in (4, 5, 6)] == \
        [full_losses[i] for i in (4, 5, 6)]


def test_test_tool_writes_tables(pair_tree, tmp_path):
    cfg = tiny_config(pair_tree, str(tmp_path), max_iters=2, val_interval=2)
    _train(cfg)
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools'))
    try:
        import test as test_tool
    finally:
        sys.path.pop(0)
    metrics = test_tool.main(
        [cfg_path, str(tmp_path / 'iter_2.pth'), '--out',
         str(tmp_path / 'res')])
    for t in ('DRS', 'DRD', 'NRS', 'NRD', 'Avg'):
        for name in ('PSNR-Y', 'SSIM-Y', 'PSNR-RGB', 'InputPSNR-Y',
                     'InputSSIM-Y', 'InputPSNR-RGB'):
            assert f'{t}/{name}' in metrics
    with open(tmp_path / 'res.json') as f:
        assert json.load(f) == pytest.approx(metrics)
    table = (tmp_path / 'res.md').read_text()
    assert table.splitlines()[0] == \
        '| set | InputPSNR-Y | PSNR-Y | InputSSIM-Y | SSIM-Y | ' \
        'InputPSNR-RGB | PSNR-RGB |'
    assert '| Avg |' in table


def test_two_process_gloo_training_from_lmdb(pair_tree, tmp_path):
    """Two ranks, each with a DataLoader worker that opens the LMDBs."""
    lmdb_root = str(tmp_path / 'lmdb')
    pack_pairs(records_from_layout(pair_tree, 'train'), lmdb_root,
               progress=False)
    cfg = tiny_config(pair_tree, str(tmp_path / 'wd'), max_iters=4,
                      val_interval=2, num_workers=1)
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.dataset.update(type='PairedLmdbDataset',
                                        data_root=lmdb_root)
    cfg.train_dataloader.dataset.pop('split')
    cfg.train_dataloader.sampler = dict(type='TypeBalancedSampler')
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1',
               PYTHON=sys.executable)
    proc = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), cfg_path, '2'],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'Iter(train) [4/4]' in proc.stdout + proc.stderr
    assert osp.isfile(tmp_path / 'wd' / 'iter_4.pth')
