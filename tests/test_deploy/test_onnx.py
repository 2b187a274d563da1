"""ONNX export: parity with PyTorch, routing as input, sparsity, backends."""
import numpy as np
import pytest
import torch

from conftest import REPO_ROOT, import_tool
from unirain_mm.deploy.onnx_backend import OnnxGenerator
from unirain_mm.deploy.onnx_export import export_onnx
from unirain_mm.models.editors.unirain import HardMoE, UniRainNet

pytest.importorskip('onnxruntime')  # pinned in requirements/lock.txt
DEMO_CONFIG = f'{REPO_ROOT}/configs/unirain/unirain_demo_cpu.py'


def tiny_net() -> UniRainNet:
    torch.manual_seed(0)
    net = UniRainNet(dim=8, num_blocks=(1, 1, 1, 1), num_refinement_blocks=1,
                     num_heads=(1, 1, 2, 2), encoder_moe_blocks=(1, 1, 1),
                     decoder_moe_blocks=(1, 1, 1)).eval()
    with torch.no_grad():  # routers that pick different experts per image
        for m in net.modules():
            if isinstance(m, HardMoE):
                m.router.proj.weight.mul_(20)
    return net


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """(net, router-inside model path, route-input model path)."""
    net = tiny_net()
    root = tmp_path_factory.mktemp('onnx')
    inside = export_onnx(net, str(root / 'inside.onnx'))
    routed = export_onnx(net, str(root / 'routed.onnx'), route_input=True)
    return net, inside, routed


@pytest.mark.parametrize('size', [(32, 48), (41, 27)])
def test_router_inside_matches_pytorch(exported, size):
    net, inside, _ = exported
    x = torch.rand(1, 3, *size)
    ort_out, ort_routes = OnnxGenerator(inside).forward_with_routes(x)
    with torch.no_grad():
        out, infos = net.forward_with_routes(x)
    assert ort_out.shape == x.shape
    torch.testing.assert_close(ort_out, out, atol=1e-4, rtol=0)
    for r, info in zip(ort_routes, infos, strict=True):
        torch.testing.assert_close(r, info.probs, atol=1e-5, rtol=0)


def test_route_input_follows_the_given_route(exported):
    net, _, routed = exported
    session = OnnxGenerator(routed)
    x = torch.rand(2, 3, 40, 32)
    with torch.no_grad():
        own = net(x)
        other = net.compute_routes(torch.rand(1, 3, 16, 16))
        given = net(x, other)
    # NaN (no route given): the graph routes itself
    torch.testing.assert_close(session(x), own, atol=1e-4, rtol=0)
    torch.testing.assert_close(session(x, other), given, atol=1e-4, rtol=0)
    assert not torch.allclose(given, own, atol=1e-3)
    # the route it reports is the one it used
    _, used = session.forward_with_routes(x, other)
    for u, r in zip(used, other):
        torch.testing.assert_close(u, r.expand(2, -1))


def test_exported_graph_runs_only_the_selected_experts(tmp_path):
    """Unselected Hard-MoE experts with NaN weights leave the output of the
    exported graph finite: the graph does not touch them."""
    net = tiny_net()
    routes = net.compute_routes(torch.rand(1, 3, 16, 16))
    hard = [isinstance(m, HardMoE) for m in net.modules()
            if hasattr(m, 'router')]
    with torch.no_grad():
        for is_hard, route, layer in zip(
                hard, routes, [m for m in net.modules()
                               if hasattr(m, 'router')]):
            if is_hard:
                route.copy_(torch.tensor([[0.7, 0.2, 0.1]]))
                for p in layer.experts.parameters():
                    p[1:] = float('nan')
    path = export_onnx(net, str(tmp_path / 'nan.onnx'), route_input=True)
    out = OnnxGenerator(path)(torch.rand(1, 3, 24, 32), routes)
    assert torch.isfinite(out).all()


def test_given_route_needs_a_route_input_model(exported):
    _, inside, _ = exported
    routes = [torch.full((1, 3), 1 / 3)] * 6
    with pytest.raises(ValueError, match='--route-input'):
        OnnxGenerator(inside)(torch.rand(1, 3, 16, 16), routes)


def test_bad_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.onnx'):
        OnnxGenerator(str(tmp_path / 'nothere.onnx'))
    bad = tmp_path / 'bad.onnx'
    bad.write_bytes(b'not a model')
    with pytest.raises(ValueError, match='bad.onnx'):
        OnnxGenerator(str(bad))


def test_export_tool_and_both_inference_backends(tmp_path):
    """tools/deploy/export_onnx.py, then tools/infer.py with each backend on
    a tiled image with a global route: the same pixels."""
    import cv2
    torch.manual_seed(0)
    export = import_tool('deploy/export_onnx')
    infer = import_tool('infer')
    from mmengine.config import Config

    from unirain_mm.apis import UniRainInferencer
    cfg = Config.fromfile(DEMO_CONFIG)
    eager = UniRainInferencer(cfg, tile=32, overlap=8, route_size=24)
    ckpt = str(tmp_path / 'demo.pth')
    torch.save({'state_dict': eager.model.state_dict()}, ckpt)
    onnx_path = str(tmp_path / 'demo.onnx')
    export.main([DEMO_CONFIG, ckpt, '--out', onnx_path, '--route-input'])
    onnx = UniRainInferencer(onnx_path, backend='onnxruntime', tile=32,
                             overlap=8, route_size=24)
    rgb = (np.random.default_rng(0).random((45, 70, 3)) * 255).astype(
        np.uint8)
    a, b = eager(rgb), onnx(rgb)
    assert a.shape == b.shape == rgb.shape
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
    image = str(tmp_path / 'in.png')
    cv2.imwrite(image, rgb[..., ::-1])
    tiles = ['--tile', '32', '--overlap', '8', '--route-size', '24']
    infer.main([DEMO_CONFIG, ckpt, image, '--out-dir',
                str(tmp_path / 'pt')] + tiles)
    infer.main(['--backend', 'onnxruntime', onnx_path, image, '--out-dir',
                str(tmp_path / 'ort')] + tiles)
    pt, ort = (cv2.imread(str(tmp_path / d / 'in.png')) for d in ('pt',
                                                                 'ort'))
    assert np.abs(pt.astype(int) - ort.astype(int)).max() <= 1
    with pytest.raises(ValueError, match='no checkpoint'):
        UniRainInferencer(onnx_path, ckpt, backend='onnxruntime')
