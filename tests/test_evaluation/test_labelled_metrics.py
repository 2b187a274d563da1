import numpy as np
import pytest
import torch
from mmagic.evaluation import PSNR, SSIM

from unirain_mm.evaluation import (InputPSNRRGB, InputPSNRY, InputSSIMY,
                                   PSNRRGB, PSNRY, SSIMY)


def _sample():
    rng = np.random.default_rng(0)
    gt = torch.from_numpy(rng.uniform(0, 255, (3, 24, 20))).float()
    rainy = (gt + torch.linspace(0, 40, 20)).clamp(0, 255)
    pred = (gt + 5 * torch.tensor([1., 0., -1.])[:, None, None]).clamp(
        0, 255)
    return dict(gt_img=gt, input=rainy, output=dict(pred_img=pred))


def _score(metric, sample):
    metric.process(None, [sample])
    return metric.results[0][metric.metric]


@pytest.mark.parametrize('cls, reference, name', [
    (PSNRY, PSNR(convert_to='Y'), 'PSNR-Y'),
    (SSIMY, SSIM(convert_to='Y'), 'SSIM-Y'),
    (PSNRRGB, PSNR(), 'PSNR-RGB'),
])
def test_names_match_the_measurement(cls, reference, name):
    sample = _sample()
    assert cls.metric == name
    assert _score(cls(), sample) == pytest.approx(_score(reference, sample))
    with pytest.raises(TypeError):
        cls(convert_to=None)  # the class fixes the colour space


def test_rgb_and_y_psnr_differ():
    # a chroma-only error: invisible in Y, visible in RGB
    sample = _sample()
    assert _score(PSNRRGB(), sample) != pytest.approx(
        _score(PSNRY(), sample))


@pytest.mark.parametrize('input_cls, cls', [(InputPSNRY, PSNRY),
                                            (InputSSIMY, SSIMY),
                                            (InputPSNRRGB, PSNRRGB)])
def test_input_variants_score_the_rainy_input(input_cls, cls):
    sample = _sample()
    as_pred = dict(sample, output=dict(pred_img=sample['input']))
    assert input_cls.metric == 'Input' + cls.metric
    assert _score(input_cls(prefix='DRS'), sample) == pytest.approx(
        _score(cls(), as_pred))
