import numpy as np
import pytest
import torch
from mmagic.evaluation import PSNR, SSIM

from unirain_mm.evaluation import InputPSNR, InputSSIM


def _samples():
    rng = np.random.default_rng(0)
    gt = torch.from_numpy(rng.uniform(0, 255, (3, 16, 16))).float()
    rainy = (gt + 20).clamp(0, 255)
    pred = (gt + 5).clamp(0, 255)
    return [dict(gt_img=gt, input=rainy, output=dict(pred_img=pred))]


@pytest.mark.parametrize('input_cls, plain_cls', [(InputPSNR, PSNR),
                                                  (InputSSIM, SSIM)])
def test_scores_the_input_not_the_prediction(input_cls, plain_cls):
    samples = _samples()
    on_input = input_cls(convert_to='Y')
    on_input.process(None, samples)
    plain = plain_cls(convert_to='Y')
    plain.process(None, [dict(samples[0],
                              output=dict(pred_img=samples[0]['input']))])
    pred = plain_cls(convert_to='Y')
    pred.process(None, samples)
    value = on_input.results[0][input_cls.metric]
    assert value == pytest.approx(plain.results[0][plain_cls.metric])
    assert value < pred.results[0][plain_cls.metric]
    assert input_cls.metric.startswith('Input')
