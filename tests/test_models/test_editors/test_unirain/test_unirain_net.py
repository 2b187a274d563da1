"""UniRainNet: shapes, paper size, Hard-MoE sparsity, Soft-MoE mixing,
shared routes."""
import os.path as osp

import pytest
import torch

from unirain_mm.models.editors.unirain import (HardMoE, Router, SoftMoE,
                                               UniRainNet, load_balance_loss)
from unirain_mm.models.editors.unirain.moe import ExpertBank, RouteInfo
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


def reference_experts(bank: ExpertBank) -> list:
    """The bank's experts as separate dense feed-forward modules, built from
    the documented layout: expert e's first ``hidden`` input channels are the
    GELU branch, the next ``hidden`` the gate."""
    experts = []
    for e in range(bank.num_experts):
        ffn = GatedFeedForward(bank.channels, bank.hidden,
                               bank.proj_in_bias is not None)
        with torch.no_grad():
            ffn.proj_in.weight.copy_(bank.proj_in[e][..., None, None])
            ffn.dwconv.weight.copy_(bank.dwconv[e][:, None])
            ffn.proj_out.weight.copy_(bank.proj_out[e][..., None, None])
            if bank.proj_in_bias is not None:
                ffn.proj_in.bias.copy_(bank.proj_in_bias[e])
                ffn.dwconv.bias.copy_(bank.dwconv_bias[e])
                ffn.proj_out.bias.copy_(bank.proj_out_bias[e])
        experts.append(ffn)
    return experts


def _bank_grads_from_reference(experts: list) -> dict:
    """Gradients of the reference experts, stacked like the bank's."""
    grads = dict(proj_in=[], dwconv=[], proj_out=[])
    for ffn in experts:
        grads['proj_in'].append(ffn.proj_in.weight.grad[..., 0, 0])
        grads['dwconv'].append(ffn.dwconv.weight.grad[:, 0])
        grads['proj_out'].append(ffn.proj_out.weight.grad[..., 0, 0])
    return {k: torch.stack(v) for k, v in grads.items()}


@pytest.mark.parametrize('bias', [False, True])
def test_soft_moe_equals_the_sum_of_its_experts(bias):
    torch.manual_seed(0)
    layer = SoftMoE(8, 3, 6, 0.0, bias).eval()
    x = torch.rand(4, 8, 5, 7)
    out, info = layer(x)
    assert info.selected.all()
    torch.testing.assert_close(info.probs.sum(1), torch.ones(4))
    experts = reference_experts(layer.experts)
    probs = info.probs.detach()
    expected = sum(probs[:, e].view(-1, 1, 1, 1) * experts[e](x)
                   for e in range(3))
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    # the same gradients for the weights (router held fixed)
    grad_out = torch.randn_like(out)
    out, _ = layer(x, probs)
    (out * grad_out).sum().backward()
    (expected * grad_out).sum().backward()
    for name, grad in _bank_grads_from_reference(experts).items():
        torch.testing.assert_close(
            getattr(layer.experts, name).grad, grad, atol=1e-5, rtol=1e-5,
            msg=name)
    # a route that picks one expert reproduces that expert alone
    onehot = torch.tensor([[0., 1., 0.]])
    out1, _ = layer(x, onehot)
    torch.testing.assert_close(out1, experts[1](x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('top_k,bias', [(1, False), (2, True), (3, False)])
def test_hard_moe_output_matches_per_image_computation(top_k, bias):
    torch.manual_seed(0)
    layer = HardMoE(8, 3, 6, 0.0, bias, top_k=top_k).eval()
    with torch.no_grad():  # images that prefer different experts
        layer.router.proj.weight.mul_(5)
    x = torch.rand(6, 8, 5, 7) + 3 * torch.randn(6, 8, 1, 1)
    out, info = layer(x)
    assert (info.selected.sum(1) == top_k).all()
    assert top_k == 3 or len({tuple(r) for r in info.selected.tolist()}) > 1
    experts = reference_experts(layer.experts)
    for b in range(6):
        expected = sum(info.gates[b, e] * experts[e](x[b:b + 1])
                       for e in range(3) if info.selected[b, e])
        torch.testing.assert_close(out[b:b + 1], expected, atol=1e-5,
                                   rtol=1e-5)


@pytest.mark.parametrize('top_k', [1, 2])
def test_hard_moe_unselected_experts_do_no_work(top_k):
    """An expert no image selected takes no part in the computation: with
    NaN weights the output stays finite and its gradient is zero."""
    torch.manual_seed(1)
    layer = HardMoE(8, 3, 6, 0.0, True, top_k=top_k).eval()
    x = torch.rand(5, 8, 6, 6)
    route = torch.tensor([[0.5, 0.3, 0.2]])  # every image: expert 0 (and 1)
    unused = 2 if top_k == 2 else slice(1, 3)
    with torch.no_grad():
        for p in layer.experts.parameters():
            p[unused] = float('nan')
    out, info = layer(x, route)
    assert torch.isfinite(out).all()
    assert not info.selected[:, unused].any()
    out.sum().backward()
    for name, p in layer.experts.named_parameters():
        assert (p.grad[unused] == 0).all(), name
        assert (p.grad[0] != 0).any(), name


def test_hard_moe_renormalize():
    layer = HardMoE(8, 3, 8, 0.0, top_k=2, renormalize=True).eval()
    _, info = layer(torch.rand(4, 8, 5, 5))
    torch.testing.assert_close(info.gates.sum(1), torch.ones(4))
    assert (info.selected.sum(1) == 2).all()


def _fixture():
    path = osp.join(osp.dirname(__file__), '..', '..', '..', 'data',
                    'unirain_net_per_expert_moe.pth')
    return torch.load(path, weights_only=True)


@pytest.mark.parametrize('name', ['default', 'bias_top2'])
def test_checkpoints_of_the_per_expert_layout_load(name):
    """A state dict saved by the per-expert MoE (one module per expert,
    router seed and call count as buffers) loads strictly and gives the
    outputs and routes that code computed."""
    fixture = _fixture()
    saved = fixture[name]
    net = tiny_net(**saved['kwargs']).eval()
    net.load_state_dict(dict(saved['state_dict']))
    with torch.no_grad():
        out, infos = net.forward_with_routes(fixture['input'])
    torch.testing.assert_close(out, saved['output'], atol=1e-5, rtol=1e-5)
    for info, probs, selected in zip(infos, saved['routes'],
                                     saved['selected']):
        torch.testing.assert_close(info.probs, probs)
        assert torch.equal(info.selected, selected)
    router = net.enc1[0].ffn.router
    assert router.noise_calls == 7
    assert router.noise_seed == int(
        saved['state_dict']['enc1.0.ffn.router.noise_seed'])


def test_router_state_round_trips_and_resumes_the_noise():
    torch.manual_seed(0)
    a = Router(8, 3, 1.0).train()
    x = torch.rand(2, 8, 4, 4)
    a(x)
    state = a.state_dict()
    assert state['_extra_state'].tolist() == [a.noise_seed, 1]
    continued = [a(x) for _ in range(3)]
    b = Router(8, 3, 1.0).train()
    assert b.noise_seed != a.noise_seed
    b.load_state_dict(state)
    torch.manual_seed(123)  # the global RNG does not matter
    for expected in continued:
        torch.testing.assert_close(b(x), expected)
    with pytest.raises(ValueError, match='extra state'):
        b.set_extra_state({'seed': 1})


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
    assert net.enc1[0].ffn.experts.hidden == hidden
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
    assert net.dec1[0].ffn.experts.proj_in.grad is not None


def test_default_moe_kinds_keep_the_state_dict():
    default = tiny_net().state_dict()
    explicit = tiny_net(encoder_moe='soft', decoder_moe='hard').state_dict()
    assert ({k: v.shape for k, v in default.items()} ==
            {k: v.shape for k, v in explicit.items()})
    block = ['norm1.weight', 'norm1.bias', 'attn.temperature',
             'attn.to_qkv.weight', 'attn.qkv_dwconv.weight',
             'attn.proj.weight', 'norm2.weight', 'norm2.bias',
             'ffn.router._extra_state', 'ffn.router.proj.weight',
             'ffn.router.proj.bias', 'ffn.experts.proj_in',
             'ffn.experts.dwconv', 'ffn.experts.proj_out']
    for level in ('enc1', 'dec1'):
        assert [k for k in default if k.startswith(f'{level}.')] == [
            f'{level}.0.{k}' for k in block]
    # Paper widths: soft experts 1.0x in the encoder, hard 2.0x in the
    # decoder (dec1 has 2C = 16 channels).
    assert default['enc1.0.ffn.experts.proj_in'].shape == (3, 16, 8)
    assert default['dec1.0.ffn.experts.proj_in'].shape == (3, 64, 16)


def test_bad_moe_kind_names_the_argument():
    with pytest.raises(ValueError, match="encoder_moe must be one of "
                       r"\('soft', 'hard'\), got 'dense'"):
        tiny_net(encoder_moe='dense')
    with pytest.raises(ValueError, match="decoder_moe .* got 'Hard'"):
        tiny_net(decoder_moe='Hard')


def test_strict_loader_accepts_the_per_expert_layout(tmp_path):
    from unirain_mm.checkpoint import load_model_weights
    saved = _fixture()['default']
    path = str(tmp_path / 'old.pth')
    torch.save({'state_dict': saved['state_dict']}, path)
    net = tiny_net().eval()
    load_model_weights(net, path)  # strict: would raise on any mismatch
    with torch.no_grad():
        out = net(_fixture()['input'])
    torch.testing.assert_close(out, saved['output'], atol=1e-5, rtol=1e-5)


def test_channels_last_gives_the_same_result():
    torch.manual_seed(0)
    net = tiny_net(top_k=2).eval()
    x = torch.rand(2, 3, 24, 40)
    with torch.no_grad():
        nchw, infos = net.forward_with_routes(x)
        net.channels_last = True
        cl, cl_infos = net.forward_with_routes(x)
    assert cl.stride(1) == 1  # the output is channels-last in memory
    torch.testing.assert_close(cl, nchw, atol=1e-5, rtol=1e-5)
    for a, b in zip(infos, cl_infos):
        torch.testing.assert_close(a.probs, b.probs)


def test_nan_route_rows_route_themselves():
    torch.manual_seed(0)
    net = tiny_net().eval()
    x = torch.rand(2, 3, 16, 16)
    nan = [torch.full((1, 3), float('nan'))] * net.num_moe_layers
    with torch.no_grad():
        torch.testing.assert_close(net(x, nan), net(x))
