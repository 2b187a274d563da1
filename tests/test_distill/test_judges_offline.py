"""OfflineJudge: its measures and the yes/no/abstain rules."""
import cv2
import numpy as np
import pytest

from unirain_mm.distill.judges import JudgeQuery, OfflineJudge
from unirain_mm.distill.judges.offline import (clipped_fraction, noise_sigma,
                                               pair_psnr, sharpness)


def _textured(seed=0, size=96):
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (12, 12, 3)).astype(np.float32)
    return cv2.resize(small, (size, size),
                      interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(
                          np.uint8)


def test_measures():
    img = _textured()
    blurred = cv2.GaussianBlur(img, (9, 9), 3)
    assert sharpness(blurred) < 0.5 * sharpness(img)
    rng = np.random.default_rng(1)
    flat = np.full((96, 96, 3), 128, np.uint8)
    noise = rng.normal(0, 10, flat.shape[:2])[..., None]  # same in R, G, B
    noisy = (flat + noise).clip(0, 255).astype(np.uint8)
    assert noise_sigma(flat) == 0
    assert noise_sigma(noisy) == pytest.approx(10, rel=0.2)
    assert clipped_fraction(np.zeros((8, 8, 3), np.uint8)) == 1
    assert pair_psnr(img, img) == 100
    assert np.isnan(pair_psnr(img, img[:10]))
    off = (img.astype(int) + 10).clip(0, 255).astype(np.uint8)
    assert 25 < pair_psnr(off, img) < 29


@pytest.fixture
def pair(tmp_path):
    clean = _textured()
    rainy = clean.copy()
    cv2.line(rainy, (10, 0), (30, 90), (255, 255, 255), 2)
    paths = []
    for name, img in (('rainy', rainy), ('clean', clean)):
        paths.append(str(tmp_path / f'{name}.png'))
        cv2.imwrite(paths[-1], img)
    return paths


def _query(pair, refs=None, target=True):
    refs = [dict(ssim=0.4, image_cos=0.8, text_l2=0.3),
            dict(ssim=0.1, image_cos=0.6, text_l2=0.5)] if refs is None \
        else refs
    return JudgeQuery('k', pair[0], pair[1] if target else None, 'DRS',
                      references=refs)


def test_all_checks_pass_or_fail(pair):
    judge = OfflineJudge('realism', checks=dict(
        ref_ssim_max=(0.3, None), ref_image_cos_mean=(0.65, 0.75),
        ref_text_l2_min=(None, 0.35), pair_psnr=(15, 40)))
    ans = judge.judge(_query(pair))
    assert ans.answer == 'yes', ans.raw
    assert ans.details['ref_image_cos_mean'] == pytest.approx(0.7)
    strict = OfflineJudge('strict', checks=dict(ref_ssim_mean=(0.3, None),
                                                target_sharpness=(1e9, None)))
    ans = strict.judge(_query(pair))
    assert ans.answer == 'no'
    assert 'ref_ssim_mean' in ans.raw and 'target_sharpness' in ans.raw


def test_failure_message_does_not_depend_on_the_order_of_checks(pair):
    # a config dumped and reloaded by torchrun workers may reorder the dict
    checks = dict(target_sharpness=(1e9, None), ref_ssim_mean=(0.3, None))
    forward = OfflineJudge('a', checks=checks).judge(_query(pair))
    backward = OfflineJudge('a', checks=dict(reversed(checks.items()))).judge(
        _query(pair))
    assert forward.raw == backward.raw and forward.raw.count(';') == 1


def test_abstains_without_what_it_needs(pair):
    needs_target = OfflineJudge('bg', checks=dict(target_noise=(None, 5)))
    assert needs_target.judge(_query(pair, target=False)).answer == 'abstain'
    needs_refs = OfflineJudge('r', checks=dict(ref_ssim_max=(0, None)))
    assert needs_refs.judge(_query(pair, refs=[])).answer == 'abstain'


def test_unknown_measure():
    with pytest.raises(ValueError, match='available'):
        OfflineJudge('x', checks=dict(beauty=(0, 1)))
