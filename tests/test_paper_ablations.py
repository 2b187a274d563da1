"""configs/unirain/paper_ablations/: each is the paper recipe with only its
intended change, and builds its model and reweighting strategy."""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmagic.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from conftest import REPO_ROOT
from unirain_mm.models.editors.unirain import HardMoE, SoftMoE
from unirain_mm.reweighting.strategies import CoBa, Uniform, build_strategy

ABLATIONS = osp.join(REPO_ROOT, 'configs', 'unirain', 'paper_ablations')
PAPER = osp.join(REPO_ROOT, 'configs', 'unirain', 'unirain_all.py')


def coba(fixed_af):
    return dict(type='CoBa', variant='official', window=10, tau=5.0,
                fixed_af=fixed_af)


#: config -> (generator overrides, reweighting strategy or None (the
#: paper's), expected MoE kinds (encoder, decoder), experts per layer)
CASES = {
    'unirain_fixed_weights.py': ({}, dict(type='Uniform'), (SoftMoE, HardMoE),
                                 3),
    'unirain_tbs_only.py': ({}, coba(1.0), (SoftMoE, HardMoE), 3),
    'unirain_tbs_tss.py': ({}, coba(0.5), (SoftMoE, HardMoE), 3),
    'unirain_soft_soft.py': (dict(encoder_moe='soft', decoder_moe='soft'),
                             None, (SoftMoE, SoftMoE), 3),
    'unirain_hard_hard.py': (dict(encoder_moe='hard', decoder_moe='hard'),
                             None, (HardMoE, HardMoE), 3),
    'unirain_hard_soft.py': (dict(encoder_moe='hard', decoder_moe='soft'),
                             None, (HardMoE, SoftMoE), 3),
    'unirain_single_expert.py': (dict(num_experts=1, top_k=1), None,
                                 (SoftMoE, HardMoE), 1),
}

TINY = dict(dim=8, num_blocks=(1, 1, 1, 1), num_refinement_blocks=1,
            num_heads=(1, 1, 2, 2), encoder_moe_blocks=(1, 1, 1),
            decoder_moe_blocks=(1, 1, 1))


def test_every_ablation_config_is_tested():
    assert sorted(osp.basename(p) for p in glob.glob(
        osp.join(ABLATIONS, '*.py'))) == sorted(CASES)


@pytest.mark.parametrize('name', sorted(CASES))
def test_only_the_intended_change(name):
    generator, strategy, _, _ = CASES[name]
    expected = copy.deepcopy(Config.fromfile(PAPER).to_dict())
    expected['model']['generator'].update(generator)
    if strategy is not None:
        (hook, ) = [h for h in expected['custom_hooks']
                    if h['type'] == 'ReweightingHook']
        hook['strategy'] = strategy
    cfg = Config.fromfile(osp.join(ABLATIONS, name))
    assert cfg.to_dict() == expected
    assert [h['type'] for h in cfg.custom_hooks] == [
        'AverageMetricsHook', 'ReweightingHook']
    assert cfg.custom_hooks[0]['prefix'] == 'Avg'
    hook = cfg.custom_hooks[1]
    assert (hook['interval'], hook['warmup'], hook['floor'],
            hook['floor_mode']) == (1, 20, 0.1, 'affine')


@pytest.mark.parametrize('name', sorted(CASES))
def test_builds_its_model_and_strategy(name):
    _, strategy, (enc_kind, dec_kind), experts = CASES[name]
    cfg = Config.fromfile(osp.join(ABLATIONS, name))
    cfg.model.generator.update(TINY)
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model).eval()
    net = model.generator
    assert type(net.enc1[-1].ffn) is enc_kind
    assert type(net.dec1[-1].ffn) is dec_kind
    assert net.dec1[-1].ffn.num_experts == experts
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert net(x).shape == x.shape
    built = build_strategy(cfg.custom_hooks[1]['strategy'], 4)
    if strategy is None or strategy['type'] == 'CoBa':
        assert type(built) is CoBa
        assert built.fixed_af == (strategy or {}).get('fixed_af')
    else:
        assert type(built) is Uniform
