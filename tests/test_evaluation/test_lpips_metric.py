"""LPIPS with an injected random network (no pretrained weights offline)."""
from types import SimpleNamespace
from unittest.mock import MagicMock

import numpy as np
import pytest
import torch

from unirain_mm.evaluation import LPIPS, load_pretrained_lpips
from unirain_mm.evaluation import lpips_metric

lpips = pytest.importorskip('lpips')


@pytest.fixture(scope='module')
def random_net():
    torch.manual_seed(0)
    return lpips.LPIPS(net='alex', pretrained=False, pnet_rand=True,
                       verbose=False).eval()


@pytest.fixture
def fresh_cache():
    load_pretrained_lpips.cache_clear()
    yield
    load_pretrained_lpips.cache_clear()


def _samples(n=2, h=40, w=36):
    rng = np.random.default_rng(1)
    out = []
    for _ in range(n):
        gt = torch.from_numpy(rng.uniform(0, 255, (3, h, w))).float()
        pred = (gt + torch.from_numpy(rng.normal(0, 20, (3, h, w)))).clamp(
            0, 255).float()
        out.append(dict(gt_img=gt, output=dict(pred_img=pred)))
    return out


def _evaluate(metric, samples):
    metric.prepare(MagicMock(), SimpleNamespace(dataset=samples))
    metric.process(None, samples)
    return metric.evaluate()


def test_matches_the_network_on_rgb_in_minus_one_one(random_net):
    samples = _samples()
    result = _evaluate(LPIPS(net=random_net, device='cpu', prefix='Rain100H'),
                       samples)
    assert list(result) == ['Rain100H/LPIPS']

    def rgb(bgr):  # (3, H, W) BGR in [0, 255] -> (1, 3, H, W) RGB [-1, 1]
        return bgr.flip(0)[None] / 127.5 - 1

    with torch.no_grad():
        expected = np.mean([
            float(random_net(rgb(s['output']['pred_img']),
                             rgb(s['gt_img'])).mean()) for s in samples
        ])
    assert result['Rain100H/LPIPS'] == pytest.approx(expected, rel=1e-5)
    assert expected > 0


def test_identical_images_score_zero(random_net):
    (sample, ) = _samples(1)
    same = dict(sample, output=dict(pred_img=sample['gt_img'].clone()))
    assert _evaluate(LPIPS(net=random_net, device='cpu'),
                     [same])['LPIPS'] == pytest.approx(0, abs=1e-6)


def test_missing_weights_skip_with_one_message(tmp_path, monkeypatch,
                                               fresh_cache):
    monkeypatch.setattr(
        lpips_metric, 'lpips_weight_files',
        lambda: dict(alexnet=str(tmp_path / 'alexnet.pth'), linear=''))
    messages = []
    monkeypatch.setattr(lpips_metric, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    metrics = [LPIPS(prefix=p) for p in ('DRS', 'Rain100H')]
    for metric in metrics:
        assert not metric.available
        assert _evaluate(metric, _samples(1)) == {}  # no value at all
    assert len(messages) == 1
    assert str(tmp_path / 'alexnet.pth') in messages[0]
    assert 'lpips package' in messages[0]
    assert 'skipped' in messages[0]


def test_local_weights_build_alexnet_lpips_once(tmp_path, monkeypatch,
                                                fresh_cache):
    """A real AlexNet file in the torch hub cache (random weights here: the
    real ones cannot be downloaded offline) is what LPIPS is built from."""
    import torchvision
    from torchvision.models import AlexNet_Weights
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    folder = tmp_path / 'hub' / 'checkpoints'
    folder.mkdir(parents=True)
    torch.manual_seed(3)
    alexnet = torchvision.models.alexnet(weights=None)
    torch.save(alexnet.state_dict(),
               folder / AlexNet_Weights.IMAGENET1K_V1.url.rsplit('/', 1)[1])
    first, second = LPIPS(device='cpu'), LPIPS(device='cpu')
    assert first.available and first.net is second.net  # one per process
    conv1 = first.net.net.slice1[0].weight
    torch.testing.assert_close(conv1, alexnet.features[0].weight)
    result = _evaluate(first, _samples())
    assert result['LPIPS'] > 0
