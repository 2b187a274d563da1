"""Tiled inference, the config-driven inferencer and tools/infer.py."""
import os

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn

from conftest import DEMO_CONFIG, REPO_ROOT, import_tool
from unirain_mm.apis import UniRainInferencer, tile_starts, tiled_forward
from unirain_mm.apis.inferencer import global_routes
from unirain_mm.models.editors.unirain.moe import HardMoE
from unirain_mm.models.editors.unirain.unirain_net import UniRainNet


def _tiny_net(seed: int = 0) -> UniRainNet:
    torch.manual_seed(seed)
    return UniRainNet(dim=8, num_blocks=(1, 1, 1, 1), num_refinement_blocks=1,
                      num_heads=(1, 1, 1, 1), encoder_moe_blocks=(1, 1, 1),
                      decoder_moe_blocks=(1, 1, 1)).eval()


@pytest.mark.parametrize('size,tile,overlap', [(67, 32, 8), (32, 32, 8),
                                               (100, 40, 0), (33, 32, 31)])
def test_tile_starts_cover_axis(size, tile, overlap):
    starts = tile_starts(size, tile, overlap)
    length = min(size, tile)
    assert starts[0] == 0 and starts[-1] + length == size
    covered = np.zeros(size, bool)
    for s in starts:
        covered[s:s + length] = True
    assert covered.all()
    steps = np.diff(starts)
    assert (steps > 0).all() and (steps <= tile - overlap).all()


def test_identity_generator_is_returned_exactly():
    """Blending weights are normalised everywhere, for odd sizes."""
    img = torch.rand(1, 3, 67, 131)
    for tile_batch in (1, 3, 4):
        out = tiled_forward(nn.Identity(), img, tile=32, overlap=8,
                            tile_batch=tile_batch)
        assert out.shape == img.shape
        assert (out - img).abs().max() <= 1e-6


def test_conv_tiled_equals_untiled():
    """A translation-equivariant net gives the untiled result: the pixels
    next to a tile cut (wrong context) carry (almost) no weight."""
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 3, 3, padding=1)
    img = torch.rand(1, 3, 70, 101)
    with torch.no_grad():
        ref = conv(img)
    out = tiled_forward(conv, img, tile=32, overlap=8, tile_batch=2)
    assert out.shape == ref.shape
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)
    # sanity: the same net on the whole image through the small-image path
    torch.testing.assert_close(
        tiled_forward(conv, img, tile=128), ref, atol=1e-6, rtol=0)


def test_tiled_output_channels_follow_generator():
    conv = nn.Conv2d(3, 5, 1)
    out = tiled_forward(conv, torch.rand(1, 3, 50, 45), tile=16, overlap=4)
    assert out.shape == (1, 5, 50, 45)


def test_bad_arguments_raise():
    img = torch.rand(1, 3, 40, 40)
    with pytest.raises(ValueError, match='overlap'):
        tiled_forward(nn.Identity(), img, tile=16, overlap=16)
    with pytest.raises(ValueError, match='routes'):
        tiled_forward(nn.Identity(), img, tile=16, routes='local')
    with pytest.raises(ValueError, match=r'\(1, C, H, W\)'):
        tiled_forward(nn.Identity(), torch.rand(2, 3, 40, 40), tile=16)


def _record_hard_moe(net: UniRainNet):
    """Per HardMoE layer, the router probabilities of every call."""
    records, handles = [], []
    for module in net.modules():
        if isinstance(module, HardMoE):
            calls = []
            records.append(calls)
            handles.append(module.register_forward_hook(
                lambda m, i, o, calls=calls: calls.append(o[1])))
    return records, handles


@pytest.mark.parametrize('route_size', [256, 24])
def test_global_route_is_shared_by_all_tiles(route_size):
    net = _tiny_net()
    img = torch.rand(1, 3, 70, 90)
    expected = global_routes(net, img, route_size)
    records, handles = _record_hard_moe(net)
    try:
        out = tiled_forward(net, img, tile=32, overlap=8, routes='global',
                            route_size=route_size, tile_batch=4)
    finally:
        for h in handles:
            h.remove()
    assert out.shape == img.shape
    assert torch.isfinite(out).all()
    assert len(records) == 3 and len(expected) == 6
    hard_expected = expected[3:]  # encoder (Soft-MoE) layers come first
    for calls, route in zip(records, hard_expected):
        tile_calls = calls[1:]  # calls[0]: compute_routes on the whole image
        assert sum(c.probs.size(0) for c in tile_calls) == 3 * 4  # 12 tiles
        for info in tile_calls:
            torch.testing.assert_close(
                info.probs, route.expand_as(info.probs), atol=0, rtol=0)
            assert (info.selected == info.selected[:1]).all()


def test_per_tile_routes_differ_between_tiles():
    """Control for the test above: the hook does see per-tile routing."""
    net = _tiny_net()
    img = torch.rand(1, 3, 70, 90)
    records, handles = _record_hard_moe(net)
    try:
        tiled_forward(net, img, tile=32, overlap=8, routes='per_tile')
    finally:
        for h in handles:
            h.remove()
    probs = torch.cat([c.probs for c in records[0]])
    assert probs.size(0) == 12
    assert not torch.allclose(probs, probs[:1].expand_as(probs))


@pytest.fixture(scope='module')
def tiny_ckpt(tmp_path_factory):
    """A dumped tiny config and a checkpoint of a randomly initialised model.

    Returns (config path, checkpoint path, the saved state dict).
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmagic.registry import MODELS
    root = tmp_path_factory.mktemp('ckpt')
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.generator.update(
        dim=8, num_blocks=(1, 1, 1, 1), num_heads=(1, 1, 1, 1))
    cfg_path = str(root / 'tiny.py')
    cfg.dump(cfg_path)
    init_default_scope('mmagic')
    torch.manual_seed(123)
    model = MODELS.build(cfg.model)
    with torch.no_grad():  # away from the default init, so loading shows
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    ckpt_path = str(root / 'tiny.pth')
    torch.save({'state_dict': state}, ckpt_path)
    return cfg_path, ckpt_path, state


def _predict_by_model(model, rgb: np.ndarray) -> np.ndarray:
    """``model(..., mode='predict')`` on an RGB uint8 image, fed through the
    model's data preprocessor as a test loader's sample would be; mmagic
    returns the prediction in BGR."""
    from mmagic.structures import DataSample
    h, w = rgb.shape[:2]
    sample = DataSample(metainfo=dict(img_channel_order='rgb',
                                      ori_img_shape=(h, w, 3)))
    data = model.data_preprocessor(
        dict(inputs=[torch.from_numpy(rgb).permute(2, 0, 1)],
             data_samples=[sample]), False)
    with torch.no_grad():
        pred = model(**data, mode='predict')[0].output.pred_img
    return pred.round().byte().permute(1, 2, 0).numpy()


def _build_loaded(cfg_path: str, state: dict):
    from mmagic.registry import MODELS
    from mmengine.config import Config
    model = MODELS.build(Config.fromfile(cfg_path).model)
    model.load_state_dict(state)
    return model.eval()


def test_inferencer_matches_the_models_predict(tiny_ckpt, tmp_path):
    """Within one tile the inferencer is exactly the model's predict path
    (data preprocessor, forward, destruct), and that path is the network
    on ``rgb / 255``, scaled back and clamped."""
    cfg_path, ckpt_path, state = tiny_ckpt
    inf = UniRainInferencer(cfg_path, ckpt_path, tile=64, overlap=8)
    assert not inf.model.training
    for key, value in inf.model.state_dict().items():
        torch.testing.assert_close(value, state[key], msg=key)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    out = inf(rgb)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    model = _build_loaded(cfg_path, state)  # no tiling in its test_cfg
    bgr = _predict_by_model(model, rgb)
    np.testing.assert_array_equal(out, bgr[..., ::-1])
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        net = model.generator(x)[0].permute(1, 2, 0).numpy()
    by_hand = np.clip(net * 255, 0, 255).round().astype(np.uint8)
    assert np.abs(out.astype(int) - by_hand.astype(int)).max() <= 1
    # a path gives the same result as the array (RGB order kept)
    path = str(tmp_path / 'in.png')
    cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    np.testing.assert_array_equal(inf(path), out)
    # bf16 autocast runs on CPU and stays close to fp32
    inf16 = UniRainInferencer(cfg_path, ckpt_path, dtype='bf16', tile=64,
                              overlap=8)
    out16 = inf16(rgb)
    assert out16.shape == rgb.shape
    assert np.abs(out16.astype(int) - out.astype(int)).mean() < 8


class _Pointwise(nn.Module):
    """A per-pixel network: tiling cannot change its output."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(x) * 3)


def test_inferencer_tiles_through_the_model(tmp_path):
    """Images larger than the tile go through the model's tiled predict:
    for a per-pixel network the result equals the untiled predict."""
    from mmagic.registry import MODELS
    from mmengine.config import Config
    MODELS.register_module(name='_TestPointwiseNet', module=_Pointwise,
                           force=True)
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.generator = dict(type='_TestPointwiseNet')
    cfg_path = str(tmp_path / 'pointwise.py')
    cfg.dump(cfg_path)
    torch.manual_seed(0)
    state = MODELS.build(cfg.model).state_dict()
    ckpt = str(tmp_path / 'pointwise.pth')
    torch.save({'state_dict': state}, ckpt)
    inf = UniRainInferencer(cfg_path, ckpt, tile=16, overlap=4)
    calls = []
    forward = inf.generator.forward
    inf.generator.forward = lambda x: calls.append(x.shape) or forward(x)
    rgb = np.random.default_rng(1).integers(0, 256, (40, 50, 3), np.uint8)
    out = inf(rgb)
    assert calls and all(s[-2:] == (16, 16) for s in calls)  # tiled
    expected = _predict_by_model(_build_loaded(cfg_path, state), rgb)
    expected = expected[..., ::-1]  # BGR -> RGB
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 1


def test_inferencer_keeps_the_global_route(tiny_ckpt):
    """A MoE generator routes once on the whole image (``routes='global'``)
    and every tile gets that route; ``'per_tile'`` routes each tile."""
    cfg_path, ckpt_path, _ = tiny_ckpt
    rgb = np.random.default_rng(2).integers(0, 256, (40, 50, 3), np.uint8)
    for routes, expect_global in (('global', True), ('per_tile', False)):
        inf = UniRainInferencer(cfg_path, ckpt_path, tile=32, overlap=8,
                                routes=routes, route_size=24)
        gen = inf.generator
        seen, given = [], []
        compute, forward = gen.compute_routes, gen.forward
        gen.compute_routes = lambda x: seen.append(x.shape) or compute(x)
        gen.forward = (lambda x, routes=None:
                       given.append(routes) or forward(x, routes=routes))
        inf(rgb)
        assert given  # the tiles ran
        if expect_global:
            assert [s[-2:] for s in seen] == [(19, 24)]
            assert all(r is not None for r in given)
        else:
            assert all(r is None for r in given)


def test_inferencer_errors(tiny_ckpt, tmp_path):
    cfg_path, ckpt_path, _ = tiny_ckpt
    with pytest.raises(ValueError, match='CUDA.*bf16'):
        UniRainInferencer(cfg_path, ckpt_path, dtype='fp16')
    inf = UniRainInferencer(cfg_path, ckpt_path)
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'not an image')
    with pytest.raises(ValueError, match='broken.png'):
        inf(str(bad))
    with pytest.raises(FileNotFoundError, match='missing.png'):
        inf(str(tmp_path / 'missing.png'))
    with pytest.raises(ValueError, match='uint8'):
        inf(np.zeros((8, 8, 3), np.float32))


def _infer_tool():
    return import_tool('infer')


def test_cli_folder_glob_skip_and_missing(tiny_ckpt, tmp_path, capsys):
    cfg_path, ckpt_path, _ = tiny_ckpt
    infer = _infer_tool()
    rng = np.random.default_rng(1)
    folder = tmp_path / 'rainy'
    folder.mkdir()
    for name, (h, w) in (('a.png', (36, 40)), ('b.jpg', (30, 45))):
        cv2.imwrite(str(folder / name),
                    rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    (folder / 'notes.txt').write_text('not an image')
    other = tmp_path / 'more'
    other.mkdir()
    cv2.imwrite(str(other / 'c.png'),
                rng.integers(0, 256, (20, 24, 3), dtype=np.uint8))
    out_dir = tmp_path / 'out'
    common = ['--out-dir', str(out_dir), '--tile', '32', '--overlap', '8']
    stats = infer.main([cfg_path, ckpt_path, str(folder),
                        str(other / '*.png'), *common, '--side-by-side'])
    assert stats['written'] == 3 and stats['skipped'] == 0
    assert sorted(os.listdir(out_dir)) == [
        'a.png', 'a_compare.png', 'b.png', 'b_compare.png', 'c.png',
        'c_compare.png']
    assert cv2.imread(str(out_dir / 'b.png')).shape == (30, 45, 3)
    assert cv2.imread(str(out_dir / 'b_compare.png')).shape == (30, 90, 3)
    assert 'peak RSS' in capsys.readouterr().out
    # resumable: existing outputs are kept, a removed one is redone
    sentinel = out_dir / 'a.png'
    before = sentinel.read_bytes()
    os.utime(sentinel, (0, 0))
    os.remove(out_dir / 'c.png')
    stats = infer.main(
        [cfg_path, ckpt_path, str(folder), str(other / '*.png'), *common])
    assert stats['written'] == 1 and stats['skipped'] == 2
    assert sentinel.stat().st_mtime == 0 and sentinel.read_bytes() == before
    assert (out_dir / 'c.png').is_file()
    stats = infer.main(
        [cfg_path, ckpt_path, str(folder / 'a.png'), *common, '--overwrite'])
    assert stats['written'] == 1 and sentinel.stat().st_mtime > 0
    assert not [n for n in os.listdir(out_dir) if n.startswith('.tmp_')]
    # clear errors on inputs that name nothing
    with pytest.raises(SystemExit, match='input not found: .*nothing.png'):
        infer.main(
            [cfg_path, ckpt_path, str(tmp_path / 'nothing.png'), *common])
    with pytest.raises(SystemExit, match='no images in input'):
        infer.main(
            [cfg_path, ckpt_path, str(tmp_path / 'zz*.png'), *common])


@pytest.mark.parametrize('size,tile,overlap,expected', [
    (1080, 512, 32, 384),   # 3 rows of 512 would compute 1536 rows
    (1920, 512, 32, 504),   # 4 columns
    (500, 512, 32, 500),    # one tile: the axis itself
    (513, 512, 32, 280),    # 2 tiles of 280 (multiple of 8) overlap 47
])
def test_balanced_tiles_cover_with_as_many_tiles(size, tile, overlap,
                                                 expected):
    from unirain_mm.apis import balanced_tile
    length = balanced_tile(size, tile, overlap)
    assert length == expected
    assert len(tile_starts(size, length, overlap)) == len(
        tile_starts(size, tile, overlap))
    starts = tile_starts(size, length, overlap)
    assert starts[-1] + length == size
    # neighbours overlap by at least ``overlap``
    assert all(b - a <= length - overlap for a, b in zip(starts, starts[1:]))


def test_inferencer_tiles_every_generator(tmp_path):
    """A baseline (mmagic's Restormer through TiledEditModel) is tiled like
    UniRain: its generator never sees more than one tile."""
    from mmengine.config import Config
    cfg = Config.fromfile(f'{REPO_ROOT}/configs/baselines/restormer_all.py')
    cfg.model.generator.update(dim=8, num_blocks=[1, 1, 1, 1],
                               num_refinement_blocks=1, heads=[1, 1, 1, 1])
    inferencer = UniRainInferencer(cfg, tile=32, overlap=8, tile_batch=1)
    seen = []
    inferencer.generator.register_forward_hook(
        lambda m, i, o: seen.append(tuple(i[0].shape[-2:])))
    out = inferencer((np.random.default_rng(0).random((50, 70, 3)) *
                      255).astype(np.uint8))
    assert out.shape == (50, 70, 3)
    assert len(seen) == 2 * 3 and all(h <= 32 and w <= 32 for h, w in seen)
