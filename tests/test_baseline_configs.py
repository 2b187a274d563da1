"""The Restormer and NAFNet baselines: UniRain's recipe and data, mmagic's
networks (padding included), and they train."""
import os.path as osp

import pytest
import torch
from mmagic.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from conftest import REPO_ROOT, tiny_config

UNIRAIN = osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_all.py')
# config -> (generator type, published parameters, a tiny CPU variant)
BASELINES = {
    'restormer_all.py': ('Restormer', 26.13e6,
                         dict(dim=8, num_blocks=[1, 1, 1, 1],
                              num_refinement_blocks=1, heads=[1, 1, 1, 1])),
    'nafnet_all.py': ('NAFNet', 67.89e6,
                      dict(mid_channels=8, enc_blk_nums=[1, 1, 1, 1])),
}


def _config(name: str) -> Config:
    return Config.fromfile(osp.join(REPO_ROOT, 'configs', 'baselines', name))


@pytest.mark.parametrize('name', BASELINES)
def test_same_recipe_and_data_as_unirain(name):
    cfg, unirain = _config(name), Config.fromfile(UNIRAIN)
    for key in ('train_dataloader', 'val_dataloader', 'val_evaluator',
                'test_dataloader', 'test_evaluator', 'optim_wrapper',
                'param_scheduler', 'train_cfg', 'val_cfg', 'test_cfg',
                'default_hooks', 'randomness'):
        assert cfg[key] == unirain[key], key
    assert cfg.model.type == 'TiledEditModel'
    assert cfg.model.generator.type == BASELINES[name][0]
    assert cfg.model.pixel_loss == dict(type='L1Loss', loss_weight=1.0,
                                        reduction='mean')
    assert cfg.model.data_preprocessor == unirain.model.data_preprocessor
    assert 'rain_types' not in cfg.model  # nothing of UniRain's wrapper
    assert [h.type for h in cfg.custom_hooks] == ['AverageMetricsHook']
    assert cfg.find_unused_parameters is False


@pytest.mark.parametrize('name', BASELINES)
def test_paper_size_and_any_input_size(name):
    init_default_scope('mmagic')
    net = MODELS.build(_config(name).model.generator).eval()
    params = sum(p.numel() for p in net.parameters())
    assert params == pytest.approx(BASELINES[name][1], rel=1e-3)
    # mmagic pads to the network's stride and crops back
    with torch.no_grad():
        out = net(torch.rand(1, 3, 21, 30))
    assert out.shape == (1, 3, 21, 30)


@pytest.mark.parametrize('name', BASELINES)
def test_two_training_iterations_on_tiny_data(name, pair_tree, tmp_path):
    baseline = _config(name)
    baseline.model.generator.update(BASELINES[name][2])
    cfg = tiny_config(pair_tree, str(tmp_path), max_iters=2, val_interval=2)
    cfg.model = baseline.model
    cfg.custom_hooks = baseline.custom_hooks
    cfg.find_unused_parameters = baseline.find_unused_parameters
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    hub = runner.message_hub
    assert torch.isfinite(torch.tensor(hub.get_scalar('train/loss').current()))
    assert hub.get_scalar('val/Avg/PSNR').current() > 0


# what a baseline shares with the UniRain config it is compared with
RECIPE_KEYS = ('train_dataloader', 'val_dataloader', 'val_evaluator',
               'test_dataloader', 'test_evaluator', 'optim_wrapper',
               'val_cfg', 'test_cfg', 'default_hooks', 'randomness')


def _assert_same_recipe(cfg: Config, reference: Config) -> None:
    for key in RECIPE_KEYS:
        assert cfg[key] == reference[key], key


def test_restormer_s_matches_unirain_s_but_for_network_and_budget():
    """Restormer-S: UniRain-S's data, crops, optimiser and validation, a
    network within 2% of its parameter count, its own iteration budget."""
    s_cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_s_synth.py'))
    r_cfg = _config('restormer_s_synth.py')
    _assert_same_recipe(r_cfg, s_cfg)
    assert r_cfg.param_scheduler.T_max == r_cfg.train_cfg.max_iters
    assert r_cfg.train_cfg.val_interval == s_cfg.train_cfg.val_interval
    init_default_scope('mmagic')
    counts = [sum(p.numel() for p in MODELS.build(c.model.generator)
                  .parameters()) for c in (s_cfg, r_cfg)]
    assert abs(counts[1] / counts[0] - 1) < 0.02, counts


def test_restormer_s_second_stage_matches_unirain_s_second_stage():
    """The zoo's restormer-s gets UniRain-S's second stage: the same data,
    rain-free share, optimiser and validation, from its own first-stage
    weights, for UniRain-S's iterations scaled as in the first stage."""
    s_cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_s_synth_ft.py'))
    r_cfg = _config('restormer_s_synth_ft.py')
    _assert_same_recipe(r_cfg, s_cfg)
    synth = [step for step in r_cfg.train_dataloader.dataset.pipeline
             if step['type'] == 'SynthesizeRain']
    assert [step['clean_prob'] for step in synth] == [0.2]
    first = _config('restormer_s_synth.py')
    s_first = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_s_synth.py'))
    ratio = first.train_cfg.max_iters / s_first.train_cfg.max_iters
    assert r_cfg.train_cfg.max_iters == round(s_cfg.train_cfg.max_iters *
                                              ratio)
    assert r_cfg.param_scheduler.T_max == r_cfg.train_cfg.max_iters
    assert r_cfg.model == first.model
    # its own first stage, as committed
    assert r_cfg.load_from != s_cfg.load_from
    assert osp.isfile(osp.join(REPO_ROOT, r_cfg.load_from))
