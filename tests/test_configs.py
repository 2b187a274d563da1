"""Every config parses; the paper config builds the paper-size network and
trains from a packed LMDB."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from conftest import REPO_ROOT
from unirain_mm.datasets.lmdb_pack import pack_pairs
from unirain_mm.datasets.pairs import records_from_layout

CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                           recursive=True))
PAPER = osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_all.py')


# configs/distill/ configure the distillation pipeline, not a model
MODEL_CONFIGS = [c for c in CONFIGS if '_base_' not in c
                 and osp.join('configs', 'distill') not in c]


@pytest.mark.parametrize('path', MODEL_CONFIGS,
                         ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_config_parses(path):
    cfg = Config.fromfile(path)
    assert cfg.model.type in ('UniRain', 'TiledEditModel')  # + baselines
    assert cfg.val_cfg.type == 'MultiValLoop'
    assert cfg.default_hooks.checkpoint.save_best == 'Avg/PSNR'
    assert len(cfg.val_dataloader) == len(cfg.val_evaluator) == 4
    for loader, evaluator in zip(cfg.val_dataloader, cfg.val_evaluator):
        (rain_type, ) = loader.dataset.rain_types
        assert {m['prefix'] for m in evaluator} == {rain_type}
        assert all(m['convert_to'] == 'Y' for m in evaluator)


def test_paper_recipe():
    cfg = Config.fromfile(PAPER)
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.lr == 2e-4
    assert cfg.param_scheduler.eta_min == 1e-6
    assert cfg.param_scheduler.T_max == cfg.train_cfg.max_iters == 300_000
    assert cfg.train_dataloader.batch_size * 4 == 8
    crop = [step for step in cfg.train_dataloader.dataset.pipeline
            if step.type == 'PairedRandomCrop']
    assert crop[0].gt_patch_size == 128
    assert cfg.train_dataloader.dataset.type == 'PairedLmdbDataset'


def test_paper_config_trains_from_packed_lmdb(pair_tree, tmp_path):
    lmdb_root = str(tmp_path / 'lmdb')
    pack_pairs(records_from_layout(pair_tree, 'train'), lmdb_root,
               progress=False)
    cfg = Config.fromfile(PAPER)
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.update(batch_size=1, num_workers=0,
                                persistent_workers=False)
    cfg.train_dataloader.dataset.data_root = lmdb_root
    for step in cfg.train_dataloader.dataset.pipeline:
        if step.type == 'PairedRandomCrop':
            step.gt_patch_size = 32
    cfg.train_cfg.update(max_iters=1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.logger.interval = 1
    runner = Runner.from_cfg(cfg)
    params = sum(p.numel() for p in runner.model.generator.parameters())
    assert abs(params / 24.4e6 - 1) < 0.05
    runner.train()
    assert runner.iter == 1
    assert runner.message_hub.get_scalar('train/loss').current() > 0


@pytest.mark.parametrize('name', ['distill_demo_offline.py',
                                  'distill_real_vlm.py'])
def test_distill_configs_parse(name):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'distill', name))
    assert cfg.retrieval.k3 == 3
    assert len(cfg.judges) == 3 and cfg.vote.quorum == 2
    assert cfg.queries and cfg.encoders


def test_reweighting_ablations_differ_only_in_the_strategy():
    # Their figures in docs/benchmarks.md were measured at 1000 iterations of
    # 96x96 crops, validating every 50; the demo itself has moved on.
    paths = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'unirain',
                                      'ablations', 'unirain_demo_*.py')))
    assert len(paths) == 5
    rest = []
    for path in paths:
        cfg = Config.fromfile(path)
        assert cfg.train_cfg.max_iters == cfg.param_scheduler.T_max == 1000
        assert cfg.train_cfg.val_interval == 50
        crop = [step for step in cfg.train_dataloader.dataset.pipeline
                if step.type == 'PairedRandomCrop']
        assert crop[0].gt_patch_size == 96
        hooks = [h for h in cfg.custom_hooks if h.type != 'ReweightingHook']
        rest.append((cfg.model.to_dict(), cfg.train_dataloader.to_dict(),
                     cfg.optim_wrapper.to_dict(), hooks,
                     cfg.randomness.to_dict()))
    assert all(r == rest[0] for r in rest[1:])
