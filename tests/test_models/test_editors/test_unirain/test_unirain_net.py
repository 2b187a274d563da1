"""UniRainNet: shapes, paper size, Hard-MoE sparsity, Soft-MoE mixing,
shared routes."""
import pytest
import torch

from unirain_mm.models.editors.unirain import (HardMoE, SoftMoE, UniRainNet,
                                               load_balance_loss)
from unirain_mm.models.editors.unirain.moe import RouteInfo
from unirain_mm.models.editors.unirain.unirain_net import GatedFeedForward


def tiny_net(**kwargs) -> UniRainNet:
    cfg = dict(dim=8, num_blocks=(1, 1, 1, 1), num_refinement_blocks=1,
               num_heads=(1, 1, 2, 2), encoder_moe_blocks=(1, 1, 1),
               decoder_moe_blocks=(1, 1, 1))
    cfg.update(kwargs)
    return UniRainNet(**cfg)


@pytest.mark.parametrize('size', [(16, 16), (17, 23), (9, 40), (5, 6)])
def test_output_shape_for_any_size(size):
    net = tiny_net().eval()
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        out, routes = net.forward_with_routes(x)
    assert out.shape == x.shape
    assert len(routes) == net.num_moe_layers == 6
    assert [r.hard for r in routes] == [False] * 3 + [True] * 3


def test_paper_configuration_size():
    from mmengine.analysis import FlopAnalyzer
    net = UniRainNet().eval()
    params = sum(p.numel() for p in net.parameters())
    assert abs(params / 24.4e6 - 1) < 0.05, params
    analyzer = FlopAnalyzer(net, (torch.rand(1, 3, 256, 256), ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    macs = analyzer.total()
    assert 120e9 <= macs <= 140e9, macs
    # Experts that an image does not select are not counted: the same
    # network with all 3 experts active costs more.
    dense = UniRainNet(top_k=3).eval()
    dense_analyzer = FlopAnalyzer(dense, (torch.rand(1, 3, 256, 256), ))
    dense_analyzer.unsupported_ops_warnings(False)
    dense_analyzer.uncalled_modules_warnings(False)
    assert dense_analyzer.total() > macs + 5e9


def _count_expert_calls(net):
    calls = []
    for layer_idx, module in enumerate(
            m for m in net.modules() if isinstance(m, HardMoE)):
        for e, expert in enumerate(module.experts):
            expert.register_forward_hook(
                lambda mod, inp, out, key=(layer_idx, e): calls.append(
                    (key, inp[0].shape[0])))
    return calls


@pytest.mark.parametrize('top_k', [1, 2])
def test_hard_moe_runs_only_selected_experts(top_k):
    net = tiny_net(top_k=top_k).eval()
    calls = _count_expert_calls(net)
    with torch.no_grad():
        _, routes = net.forward_with_routes(torch.rand(5, 3, 16, 16))
    hard = [r for r in routes if r.hard]
    # each image ran exactly top_k experts per hard layer ...
    for r in hard:
        assert (r.selected.sum(dim=1) == top_k).all()
    # ... and each expert was called once, on exactly the images that chose
    # it; experts nobody chose were never called.
    expected = {(i, e): int(r.selected[:, e].sum())
                for i, r in enumerate(hard) for e in range(3)}
    seen = {}
    for key, batch in calls:
        assert key not in seen, 'an expert ran twice in one forward'
        seen[key] = batch
    assert seen == {k: v for k, v in expected.items() if v > 0}
    assert sum(seen.values()) == len(hard) * 5 * top_k


def test_hard_moe_output_matches_per_image_computation():
    torch.manual_seed(0)
    layer = HardMoE(8, 3, lambda: GatedFeedForward(8, 8, False), 0.0,
                    top_k=1).eval()
    x = torch.rand(6, 8, 5, 5)
    out, info = layer(x)
    for b in range(6):
        e = int(info.probs[b].argmax())
        expected = info.probs[b, e] * layer.experts[e](x[b:b + 1])
        torch.testing.assert_close(out[b:b + 1], expected)


def test_hard_moe_renormalize():
    layer = HardMoE(8, 3, lambda: GatedFeedForward(8, 8, False), 0.0,
                    top_k=2, renormalize=True).eval()
    _, info = layer(torch.rand(4, 8, 5, 5))
    torch.testing.assert_close(info.gates.sum(1), torch.ones(4))
    assert (info.selected.sum(1) == 2).all()


def test_soft_moe_mixes_all_experts_with_router_weights():
    torch.manual_seed(0)
    layer = SoftMoE(8, 3, lambda: GatedFeedForward(8, 8, False), 0.0).eval()
    x = torch.rand(4, 8, 5, 5)
    out, info = layer(x)
    assert info.selected.all()
    torch.testing.assert_close(info.probs.sum(1), torch.ones(4))
    expected = sum(info.probs[:, e].view(-1, 1, 1, 1) * layer.experts[e](x)
                   for e in range(3))
    torch.testing.assert_close(out, expected)
    # a route that picks one expert reproduces that expert alone
    onehot = torch.tensor([[0., 1., 0.]])
    out1, _ = layer(x, onehot)
    torch.testing.assert_close(out1, layer.experts[1](x))


def test_router_noise_only_in_training():
    net = tiny_net(router_noise_std=5.0)
    x = torch.rand(2, 3, 16, 16)
    net.eval()
    a = net.compute_routes(x)
    b = net.compute_routes(x)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    net.train()
    with torch.no_grad():
        c = [r.probs for r in net.forward_with_routes(x)[1]]
    assert not all(torch.allclose(p, q) for p, q in zip(a, c))


def test_tiles_share_the_route_of_the_whole_image():
    torch.manual_seed(3)
    net = tiny_net().eval()
    image = torch.rand(1, 3, 32, 32)
    tiles = torch.cat([
        image[..., i:i + 16, j:j + 16] for i in (0, 16) for j in (0, 16)
    ])
    route = net.compute_routes(torch.nn.functional.interpolate(
        image, size=(16, 16), mode='area'))
    assert all(r.shape == (1, 3) for r in route)
    with torch.no_grad():
        out, infos = net.forward_with_routes(tiles, route)
        own_out = net(tiles)
    for given, info in zip(route, infos):
        assert (info.probs == given).all()  # every tile uses the given route
        if info.hard:
            assert (info.selected == info.selected[:1]).all()
    # the fixed route changes the result compared with per-tile routing
    assert not torch.allclose(out, own_out)
    with pytest.raises(ValueError, match='routes'):
        net(tiles, route[:-1])
    with pytest.raises(ValueError, match='batch'):
        net(tiles, [r.expand(2, -1) for r in route])


def test_load_balance_loss_values():
    balanced = RouteInfo(
        probs=torch.full((6, 3), 1 / 3),
        gates=torch.eye(3).repeat(2, 1) / 3,
        hard=True)
    collapsed_probs = torch.tensor([[1., 0., 0.]]).repeat(6, 1)
    collapsed = RouteInfo(
        probs=collapsed_probs, gates=collapsed_probs, hard=True)
    assert load_balance_loss([balanced]).item() == pytest.approx(1.0)
    assert load_balance_loss([collapsed]).item() == pytest.approx(3.0)
    assert load_balance_loss([balanced, collapsed]).item() == \
        pytest.approx(2.0)


def test_mixed_precision_forward_and_backward():
    net = tiny_net(top_k=2)
    x = torch.rand(3, 3, 16, 16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = net(x)
    assert out.shape == x.shape and torch.isfinite(out).all()
    out.float().mean().backward()
    assert net.embed.weight.grad is not None


def test_invalid_arguments_name_the_problem():
    with pytest.raises(ValueError, match='top_k'):
        tiny_net(top_k=4)
    with pytest.raises(ValueError, match='decoder_moe_blocks'):
        tiny_net(decoder_moe_blocks=(2, 1, 1))
    with pytest.raises(ValueError, match='num_heads'):
        UniRainNet(num_heads=(1, 2))


@pytest.mark.parametrize('encoder_moe,decoder_moe', [('soft', 'soft'),
                                                     ('hard', 'hard'),
                                                     ('hard', 'soft'),
                                                     ('soft', 'hard')])
def test_moe_kinds_of_encoder_and_decoder(encoder_moe, decoder_moe):
    net = tiny_net(encoder_moe=encoder_moe, decoder_moe=decoder_moe).eval()
    kinds = {'soft': SoftMoE, 'hard': HardMoE}
    for level, kind in (('enc1', encoder_moe), ('enc2', encoder_moe),
                        ('enc3', encoder_moe), ('dec3', decoder_moe),
                        ('dec2', decoder_moe), ('dec1', decoder_moe)):
        assert type(getattr(net, level)[0].ffn) is kinds[kind], level
    # A layer's expert width follows its kind: soft 1.0x, hard 2.0x.
    hidden = {'soft': 8, 'hard': 16}[encoder_moe]
    assert net.enc1[0].ffn.experts[0].proj_out.in_channels == hidden
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        out, routes = net.forward_with_routes(x)
    assert out.shape == x.shape
    assert [r.hard for r in routes] == ([encoder_moe == 'hard'] * 3 +
                                        [decoder_moe == 'hard'] * 3)


@pytest.mark.parametrize('encoder_moe,decoder_moe', [('soft', 'hard'),
                                                     ('hard', 'soft')])
def test_single_expert(encoder_moe, decoder_moe):
    net = tiny_net(num_experts=1, encoder_moe=encoder_moe,
                   decoder_moe=decoder_moe)
    x = torch.rand(2, 3, 16, 16)
    out, routes = net.forward_with_routes(x)
    assert out.shape == x.shape and torch.isfinite(out).all()
    for route in routes:
        assert route.probs.shape == (2, 1)
        assert torch.allclose(route.gates, torch.ones(2, 1))
    out.mean().backward()
    assert net.dec1[0].ffn.experts[0].proj_in.weight.grad is not None


def test_default_moe_kinds_keep_the_state_dict():
    default = tiny_net().state_dict()
    explicit = tiny_net(encoder_moe='soft', decoder_moe='hard').state_dict()
    assert ({k: v.shape for k, v in default.items()} ==
            {k: v.shape for k, v in explicit.items()})
    block = ['norm1.weight', 'norm1.bias', 'attn.temperature',
             'attn.to_qkv.weight', 'attn.qkv_dwconv.weight',
             'attn.proj.weight', 'norm2.weight', 'norm2.bias',
             'ffn.router.noise_seed', 'ffn.router.noise_calls',
             'ffn.router.proj.weight', 'ffn.router.proj.bias'] + [
                 f'ffn.experts.{e}.{name}.weight' for e in range(3)
                 for name in ('proj_in', 'dwconv', 'proj_out')]
    for level in ('enc1', 'dec1'):
        assert [k for k in default if k.startswith(f'{level}.')] == [
            f'{level}.0.{k}' for k in block]
    # Paper widths: soft experts 1.0x in the encoder, hard 2.0x in the
    # decoder (dec1 has 2C = 16 channels).
    assert default['enc1.0.ffn.experts.0.proj_in.weight'].shape[0] == 16
    assert default['dec1.0.ffn.experts.0.proj_in.weight'].shape[0] == 64


def test_bad_moe_kind_names_the_argument():
    with pytest.raises(ValueError, match="encoder_moe must be one of "
                       r"\('soft', 'hard'\), got 'dense'"):
        tiny_net(encoder_moe='dense')
    with pytest.raises(ValueError, match="decoder_moe .* got 'Hard'"):
        tiny_net(decoder_moe='Hard')
