"""SynthesizeRain: online pairs for training from clean images."""
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmagic.registry import TRANSFORMS

from unirain_mm.datasets.rain_synthesis import synthesize


def _clean(seed=0, shape=(48, 64, 3)):
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 220, (6, 8, 3)).astype(np.uint8)
    return np.kron(small, np.ones((8, 8, 1), np.uint8))[:shape[0], :shape[1]]


def test_builds_a_labelled_pair_with_the_demo_synthesis():
    init_default_scope('mmagic')
    t = TRANSFORMS.build(dict(type='SynthesizeRain', rain_types=['NRS']))
    clean = _clean()
    np.random.seed(3)
    out = t(dict(gt=clean.copy(), gt_channel_order='rgb'))
    assert out['gt_label'] == 2 and out['rain_type'] == 'NRS'
    assert out['img'].shape == out['gt'].shape == clean.shape
    assert out['img_channel_order'] == 'rgb'
    # the same draw as calling the synthesis with the transform's generator
    np.random.seed(3)
    rng = np.random.default_rng(np.random.randint(2**31 - 1))
    rng.choice(1, p=None)
    rainy, target = synthesize(clean, 'NRS', rng)
    np.testing.assert_array_equal(out['img'], rainy)
    np.testing.assert_array_equal(out['gt'], target)
    assert out['gt'].mean() < 0.6 * clean.mean()  # night target


def test_bgr_input_stays_bgr_and_types_follow_probs():
    t = TRANSFORMS.build(dict(type='SynthesizeRain', rain_types=['DRS', 'DRD'],
                              probs=[0, 1]))
    clean = _clean(1)
    np.random.seed(0)
    out = t(dict(gt=clean[..., ::-1].copy(), gt_channel_order='bgr'))
    assert out['rain_type'] == 'DRD' and out['gt_label'] == 1
    np.testing.assert_array_equal(out['gt'], clean[..., ::-1])  # day: clean
    assert not np.array_equal(out['img'], out['gt'])
    labels = set()
    t_all = TRANSFORMS.build(dict(type='SynthesizeRain'))
    for seed in range(40):
        np.random.seed(seed)
        labels.add(t_all(dict(gt=clean.copy()))['gt_label'])
    assert labels == {0, 1, 2, 3}


def test_packs_for_the_model():
    pack = TRANSFORMS.build(dict(type='PackInputs'))
    t = TRANSFORMS.build(dict(type='SynthesizeRain', rain_types=['DRS']))
    np.random.seed(0)
    packed = pack(t(dict(gt=_clean(), gt_channel_order='rgb')))
    assert packed['inputs'].shape == (3, 48, 64)
    assert packed['data_samples'].gt_label.label.tolist() == [0]
    assert packed['data_samples'].gt_img.shape == (3, 48, 64)


def test_bad_arguments():
    with pytest.raises(ValueError, match='XYZ'):
        TRANSFORMS.build(dict(type='SynthesizeRain', rain_types=['XYZ']))
    with pytest.raises(ValueError, match='probs'):
        TRANSFORMS.build(dict(type='SynthesizeRain', rain_types=['DRS'],
                              probs=[0.5, 0.5]))


def test_heavy_prob_is_checked_and_passed_on():
    with pytest.raises(ValueError, match='heavy_prob'):
        TRANSFORMS.build(dict(type='SynthesizeRain', heavy_prob=1.5))
    t = TRANSFORMS.build(
        dict(type='SynthesizeRain', rain_types=['DRS'], heavy_prob=1.0))
    np.random.seed(4)
    out = t(dict(gt=_clean(2), gt_channel_order='rgb'))
    np.random.seed(4)
    rng = np.random.default_rng(np.random.randint(2**31 - 1))
    rng.choice(1, p=None)
    rainy, _ = synthesize(_clean(2), 'DRS', rng, heavy_prob=1.0)
    np.testing.assert_array_equal(out['img'], rainy)
    light, _ = synthesize(_clean(2), 'DRS', np.random.default_rng(0),
                          heavy=False)
    assert rainy.mean() > light.mean() + 10  # heavy rain: much more rain


def test_clean_prob_leaves_that_share_of_samples_rain_free():
    with pytest.raises(ValueError, match='clean_prob'):
        TRANSFORMS.build(dict(type='SynthesizeRain', clean_prob=-0.1))
    always = TRANSFORMS.build(
        dict(type='SynthesizeRain', rain_types=['NRD'], clean_prob=1.0))
    np.random.seed(5)
    out = always(dict(gt=_clean(3), gt_channel_order='rgb'))
    np.testing.assert_array_equal(out['img'], out['gt'])
    assert out['gt_label'] == 3  # still labelled with the drawn type
    assert out['gt'].mean() < 0.6 * _clean(3).mean()  # the night scene
    # the target is the one the rainy sample would have had
    np.random.seed(5)
    rainy = TRANSFORMS.build(dict(type='SynthesizeRain', rain_types=['NRD']))(
        dict(gt=_clean(3), gt_channel_order='rgb'))
    np.testing.assert_array_equal(out['gt'], rainy['gt'])
    assert not np.array_equal(rainy['img'], rainy['gt'])
    half = TRANSFORMS.build(dict(type='SynthesizeRain', clean_prob=0.3))
    clean_count = 0
    for seed in range(200):
        np.random.seed(seed)
        res = half(dict(gt=_clean(seed % 4), gt_channel_order='rgb'))
        clean_count += int(np.array_equal(res['img'], res['gt']))
    assert 40 <= clean_count <= 80  # 60 expected, binomial std 6.5
