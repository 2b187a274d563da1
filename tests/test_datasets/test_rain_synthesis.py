"""Tests of the rain synthesis (pure numpy + cv2).

Expected directions come from the physics of each effect (a veil raises the
dark channel, glow brightens near lights, far streaks are shorter, ...), not
from values computed by the code under test.
"""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import REPO_ROOT
from unirain_mm.datasets import rain_synthesis as rs


def _rng(seed=0):
    return np.random.default_rng(seed)


def _psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return 10 * np.log10(255.0**2 / mse)


def _luma(img):
    return img.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


@pytest.fixture(scope='module')
def photo():
    """A natural 96x96 photo (scikit-image's astronaut, bundled)."""
    from skimage import data
    return cv2.resize(data.astronaut(), (96, 96), interpolation=cv2.INTER_AREA)


def _orientation_energies(layer, angle):
    """Mean squared derivative along and across the direction ``angle``."""
    gy, gx = np.gradient(layer.astype(np.float64))
    theta = np.deg2rad(angle)
    ux, uy = np.sin(theta), np.cos(theta)
    along = gx * ux + gy * uy
    across = gx * uy - gy * ux
    return np.mean(along**2), np.mean(across**2)


def _dominant_angle(layer, radius=10):
    """Streak direction (degrees from vertical, lower end right positive).

    Taken from the major axis of the central lobe of the autocorrelation,
    which is elongated along the streaks.
    """
    x = layer.astype(np.float64) - layer.mean()
    spec = np.fft.fft2(x)
    acf = np.fft.fftshift(np.real(np.fft.ifft2(spec * np.conj(spec))))
    cy, cx = acf.shape[0] // 2, acf.shape[1] // 2
    ys, xs = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    win = acf[cy - radius:cy + radius + 1, cx - radius:cx + radius + 1]
    wgt = np.clip(win, 0, None) * (xs**2 + ys**2 <= radius**2)
    cxx, cyy = (wgt * xs * xs).sum(), (wgt * ys * ys).sum()
    cxy = (wgt * xs * ys).sum()
    phi = 0.5 * np.arctan2(2 * cxy, cxx - cyy)  # major axis vs. x axis
    angle = np.rad2deg(np.arctan2(np.cos(phi), np.sin(phi)))
    return (angle + 90) % 180 - 90


def test_rain_types_constant():
    assert rs.RAIN_TYPES == ('DRS', 'DRD', 'NRS', 'NRD')
    assert [rs.rain_type_code(i) for i in range(4)] == list(rs.RAIN_TYPES)
    assert rs.rain_type_code(np.int64(2)) == 'NRS'
    assert rs.rain_type_code(' nrd ') == 'NRD'


@pytest.mark.parametrize('shape', [(16, 16), (17, 23), (31, 64), (64, 19)])
def test_shapes_and_dtypes(shape):
    img = _rng(1).integers(0, 256, shape + (3, ), dtype=np.uint8)
    for rain_type in range(4):
        rainy, target = rs.synthesize(img, rain_type, _rng(rain_type))
        assert rainy.shape == img.shape and target.shape == img.shape
        assert rainy.dtype == np.uint8 and target.dtype == np.uint8
    night, light_map = rs.to_night(img, _rng())
    assert night.shape == img.shape and night.dtype == np.uint8
    assert light_map.shape == shape and light_map.dtype == np.float32
    assert 0.0 <= light_map.min() and light_map.max() <= 1.0
    for func in (rs.add_rain_streaks, rs.add_raindrops, rs.add_sensor_noise):
        out = func(img, _rng())
        assert out.shape == img.shape and out.dtype == np.uint8
    layer = rs.rain_streak_layer(shape[0], shape[1], _rng())
    assert layer.shape == shape and layer.dtype == np.float32
    layers = rs.rain_streak_layers(shape[0], shape[1], _rng(), num_layers=4)
    assert len(layers) == 4
    assert all(x.shape == shape and x.dtype == np.float32 for x in layers)
    depth = rs.pseudo_depth(shape[0], shape[1], _rng())
    assert depth.shape == shape and depth.dtype == np.float32
    assert 0.0 <= depth.min() and depth.max() <= 1.0
    for out in (rs.add_rain_veil(img, _rng()),
                rs.add_light_glow(night, light_map, _rng())):
        assert out.shape == img.shape and out.dtype == np.uint8
    rainy, _ = rs.synthesize(img, 'DRS', _rng(), heavy=True)
    assert rainy.shape == img.shape and rainy.dtype == np.uint8


def test_inputs_not_modified(photo):
    before = photo.copy()
    for rain_type in rs.RAIN_TYPES:
        rs.synthesize(photo, rain_type, _rng())
    np.testing.assert_array_equal(photo, before)


@pytest.mark.parametrize('rain_type', list(rs.RAIN_TYPES))
def test_deterministic(photo, rain_type):
    a = rs.synthesize(photo, rain_type, _rng(7))
    b = rs.synthesize(photo, rain_type, _rng(7))
    c = rs.synthesize(photo, rain_type, _rng(8))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    # id and code (any case) are interchangeable
    d = rs.synthesize(photo, rs.RAIN_TYPES.index(rain_type), _rng(7))
    e = rs.synthesize(photo, rain_type.lower(), _rng(7))
    np.testing.assert_array_equal(a[0], d[0])
    np.testing.assert_array_equal(a[0], e[0])


def test_does_not_touch_global_random_state(photo):
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    for rain_type in range(4):
        rs.synthesize(photo, rain_type, _rng())
    assert np.random.random() == expected


@pytest.mark.parametrize('bad', ['XYZ', 4, -1, 'DR', None, 1.0, True])
def test_unknown_type_raises(photo, bad):
    with pytest.raises(ValueError, match=repr(bad).replace('.', r'\.')):
        rs.synthesize(photo, bad, _rng())


@pytest.mark.parametrize('bad_img, what', [
    (np.zeros((32, 32, 3), np.float32), 'float32'),
    (np.zeros((32, 32), np.uint8), r'\(32, 32\)'),
    (np.zeros((32, 32, 4), np.uint8), r'\(32, 32, 4\)'),
])
def test_bad_image_raises(bad_img, what):
    with pytest.raises(ValueError, match=what):
        rs.synthesize(bad_img, 'DRS', _rng())
    for func in (rs.add_rain_streaks, rs.add_raindrops, rs.to_night):
        with pytest.raises(ValueError, match=what):
            func(bad_img, _rng())


@pytest.mark.parametrize('rain_type', list(rs.RAIN_TYPES))
def test_each_type_degrades_plausibly(photo, rain_type):
    psnrs = []
    for seed in range(4):
        rainy, target = rs.synthesize(photo, rain_type, _rng(seed))
        assert not np.array_equal(rainy, target)
        psnrs.append(_psnr(rainy, target))
    # Heavy DRS goes as low as the hardest Rain100H pairs (about 7 dB).
    assert all(7.0 < p < 38.0 for p in psnrs), psnrs
    assert 15.0 < np.mean(psnrs) < 32.0, psnrs


def test_day_targets_are_the_clean_image(photo):
    for rain_type in ('DRS', 'DRD'):
        _, target = rs.synthesize(photo, rain_type, _rng(3))
        np.testing.assert_array_equal(target, photo)


@pytest.mark.parametrize('angle', [-25.0, 0.0, 20.0])
def test_streaks_are_oriented(angle):
    layer = rs.rain_streak_layer(128, 128, _rng(2), density=0.05,
                                 angle=angle, length=30, num_layers=1)
    e_along, e_across = _orientation_energies(layer, angle)
    assert e_across > 5 * e_along
    assert abs(_dominant_angle(layer) - angle) < 4.0

    # The composited rain (on a flat image) follows the same direction.
    flat = np.full((128, 128, 3), 60, np.uint8)
    rainy = rs.add_rain_streaks(flat, _rng(2), density=0.05, angle=angle,
                                length=30, num_layers=2, haze=0.0)
    diff = _luma(rainy) - _luma(flat)
    assert diff.min() >= 0 and diff.max() > 60  # screen blend brightens
    e_along, e_across = _orientation_energies(diff, angle)
    assert e_across > 3 * e_along
    assert abs(_dominant_angle(diff) - angle) < 6.0


def test_default_streak_angles_vary():
    angles = [
        _dominant_angle(rs.rain_streak_layer(96, 96, _rng(s), num_layers=1))
        for s in range(8)
    ]
    assert max(angles) - min(angles) > 15.0
    assert all(abs(a) <= 32.0 for a in angles)


def test_raindrop_rims_are_darker_than_centres():
    flat = np.full((128, 128, 3), 140, np.uint8)
    out, alpha = rs.render_raindrops(flat, _rng(4), num_drops=6,
                                     radius_range=(12.0, 16.0))
    inside = (alpha > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    rim = (dist > 0) & (dist <= 2.0)
    centre = dist >= 6.0
    assert rim.sum() > 50 and centre.sum() > 50
    luma = _luma(out)
    assert luma[rim].mean() < luma[centre].mean() - 10
    assert luma[rim].mean() < 140 - 10  # darker than the background
    # Pixels outside every drop are untouched.
    np.testing.assert_array_equal(out[alpha == 0], flat[alpha == 0])


def test_raindrops_refract_a_flipped_background():
    # Brightness falls from left to right; a (flipped) lens reverses it.
    x = np.arange(96, dtype=np.float64)
    ramp = np.clip(230 - 2.0 * x, 0, 255).astype(np.uint8)
    img = np.repeat(np.repeat(ramp[None, :, None], 96, 0), 3, 2)
    checked = 0
    for seed in range(30):
        out, alpha = rs.render_raindrops(img, _rng(seed), num_drops=1,
                                         radius_range=(14.0, 15.0),
                                         blur_sigma=1.0)
        inside = alpha > 0.5
        border = np.concatenate([alpha[0], alpha[-1], alpha[:, 0],
                                 alpha[:, -1]])
        if border.max() > 0 or inside.sum() < 200:
            continue
        ys, xs = np.nonzero(inside)
        cx, cy = xs.mean(), ys.mean()
        # lower-middle part of the drop, away from the rim and highlight
        sel = (ys > cy + 1) & (ys < cy + 7) & (np.abs(xs - cx) < 7)
        slope = np.polyfit(xs[sel], _luma(out)[ys[sel], xs[sel]], 1)[0]
        assert slope > 0.5, (seed, slope)
        checked += 1
        if checked == 3:
            break
    assert checked == 3


def test_raindrops_leave_most_of_the_image_untouched(photo):
    for seed in range(3):
        out, alpha = rs.render_raindrops(photo, _rng(seed))
        changed = np.any(out != photo, axis=2)
        assert 0.03 < changed.mean() < 0.5
        assert not np.any(changed[alpha == 0])


def test_night_is_dark_with_bright_localised_lights(photo):
    day_luma = _luma(photo).mean()
    for seed in range(3):
        night, light_map = rs.to_night(photo, _rng(seed))
        luma = _luma(night)
        assert luma.mean() < 0.5 * day_luma
        assert np.median(luma) < 60
        peak = night.max(axis=2)
        assert peak.max() >= 230  # light sources saturate
        bright = peak > 200
        assert 0 < bright.mean() < 0.08  # ... but are localised
        assert light_map[bright].mean() > 0.7
        assert np.median(light_map) < 0.3


def test_night_lights_are_coloured():
    grey = np.full((96, 96, 3), 128, np.uint8)
    hues = set()
    for seed in range(10):
        night, light_map = rs.to_night(grey, _rng(seed))
        glow = night[(light_map > 0.3) & (light_map < 0.8)].astype(float)
        mean = glow.mean(axis=0)
        hues.add(int(np.argmax(mean)))
        # Away from the lights the scene is bluish (moonlight).
        dark = night[light_map < 0.02].astype(float).mean(axis=0)
        assert dark[2] > dark[0]
    assert len(hues) >= 2  # not all lights have the same dominant colour


def test_streaks_are_lit_by_the_light_map():
    dark = np.full((96, 96, 3), 15, np.uint8)
    light_map = np.zeros((96, 96), np.float32)
    light_map[:, :48] = 1.0
    rainy = rs.add_rain_streaks(dark, _rng(5), density=0.08, angle=0.0,
                                light_map=light_map, ambient=0.15, haze=0.0)
    diff = _luma(rainy) - _luma(dark)
    assert diff[:, :40].mean() > 3 * diff[:, 56:].mean()
    assert diff[:, 56:].mean() > 0  # still faintly visible away from lights
    with pytest.raises(ValueError, match='light_map'):
        rs.add_rain_streaks(dark, _rng(), light_map=light_map[:10])


def test_night_rain_is_brighter_near_lights(photo):
    near_sum, near_n, far_sum, far_n = 0.0, 0, 0.0, 0
    for seed in range(6):
        rainy, target = rs.synthesize(photo, 'NRS', _rng(seed))
        # synthesize draws the night conversion first: replay it.
        night, light_map = rs.to_night(photo, _rng(seed))
        assert _luma(target).mean() < 0.6 * _luma(photo).mean()
        diff = _luma(rainy) - _luma(target)
        near, far = light_map > 0.4, light_map < 0.05
        near_sum, near_n = near_sum + diff[near].sum(), near_n + near.sum()
        far_sum, far_n = far_sum + diff[far].sum(), far_n + far.sum()
    assert near_n > 500 and far_n > 500
    near_mean, far_mean = near_sum / near_n, far_sum / far_n
    assert near_mean > 1.5 * far_mean, (near_mean, far_mean)
    assert far_mean > 0.5  # fainter, but seen all over the frame


@pytest.mark.parametrize('code', ['NRS', 'NRD'])
def test_night_targets_keep_the_lights_halo(photo, code):
    """The halo of the lights is part of the night scene: the target has
    it (it is brighter than the bare night conversion near the lights)."""
    for seed in range(3):
        _, target = rs.synthesize(photo, code, _rng(seed))
        night, light_map = rs.to_night(photo, _rng(seed))
        gain = _luma(target) - _luma(night)
        ring = (light_map > 0.2) & (night.max(axis=2) < 200)
        far = light_map < 0.02
        assert gain[ring].mean() > 2.0
        assert gain[ring].mean() > 3 * abs(gain[far].mean())


@pytest.mark.parametrize('code', ['NRS', 'NRD'])
def test_night_pairs_differ_by_the_rain_alone(photo, code):
    """Sensor noise and glow are shared by input and target: every pixel
    the rain or a drop does not reach is identical on both sides (noise
    added to one side only would leave about 1 % of them equal)."""
    for seed in range(3):
        rainy, target = rs.synthesize(photo, code, _rng(seed))
        same = np.all(rainy == target, axis=2)
        assert 0.08 < same.mean() < 0.95, same.mean()
        diff = _luma(rainy) - _luma(target)
        assert diff[~same].mean() > 2.0  # rain and drops add light
        if code == 'NRS':  # screen-blended streaks only ever add light
            assert np.all(rainy.astype(int) >= target.astype(int) - 1)


def test_night_drop_glare_is_seen_through_the_drops(photo):
    """Night drops spread the lights into glare, but only where drops are:
    near the lights, pixels that no drop covers stay identical to the
    target (glare over the whole frame leaves about 1 % of them so)."""
    same_near, near_count = 0, 0
    for seed in range(4):
        rainy, target = rs.synthesize(photo, 'NRD', _rng(seed))
        _, light_map = rs.to_night(photo, _rng(seed))
        near = light_map > 0.3
        same_near += np.all(rainy == target, axis=2)[near].sum()
        near_count += near.sum()
    assert near_count > 1000
    assert same_near / near_count > 0.05


def test_sensor_noise_is_low_level(photo):
    noisy = rs.add_sensor_noise(photo, _rng())
    diff = noisy.astype(float) - photo.astype(float)
    assert 0.5 < diff.std() < 8.0
    assert abs(diff.mean()) < 1.0


def _dark_channel(img, size=7):
    """Per-pixel min over RGB and a ``size`` window (He et al.), 0..255."""
    dark = img.min(axis=2)
    return cv2.erode(dark, np.ones((size, size), np.uint8)).astype(float)


def _vertical_acf(layer, lag):
    """Normalised autocorrelation of ``layer`` at a vertical shift."""
    x = layer.astype(np.float64) - layer.mean()
    return float((x[lag:] * x[:-lag]).mean() / max((x * x).mean(), 1e-12))


def test_default_streaks_have_several_layers():
    counts = [len(rs.rain_streak_layers(64, 64, _rng(s))) for s in range(12)]
    assert min(counts) >= 2 and max(counts) >= 3


def test_far_streak_layers_are_shorter_dimmer_and_defocused():
    kw = dict(density=0.04, angle=0.0, length=40.0, thickness=1.5,
              num_layers=3)
    sharp = rs.rain_streak_layers(160, 160, _rng(3), defocus=0.0, **kw)
    soft = rs.rain_streak_layers(160, 160, _rng(3), defocus=4.0, **kw)
    # vertical streaks: the near layer stays correlated over a longer shift
    assert _vertical_acf(sharp[0], 14) > _vertical_acf(sharp[2], 14) + 0.2
    # farther layers are dimmer
    assert sharp[0].max() > sharp[1].max() > sharp[2].max()
    # defocus leaves the nearest layer sharp and blurs the far ones
    np.testing.assert_array_equal(sharp[0], soft[0])

    def edge_ratio(x):
        return np.abs(np.diff(x, axis=1)).sum() / x.sum()

    assert edge_ratio(soft[2]) < 0.6 * edge_ratio(sharp[2])
    # the combined layer is their clipped sum
    np.testing.assert_allclose(
        rs.rain_streak_layer(160, 160, _rng(3), defocus=0.0, **kw),
        np.clip(sharp[0] + sharp[1] + sharp[2], 0, 1), atol=1e-6)


def test_veil_raises_the_dark_channel_most_where_far(photo):
    depth = np.repeat(np.linspace(1, 0, 96, dtype=np.float32)[:, None], 96,
                      axis=1)  # top far, bottom near
    hazy = rs.add_rain_veil(photo, _rng(), strength=0.5, airlight=0.85,
                            depth=depth)
    gain = _dark_channel(hazy) - _dark_channel(photo)
    assert gain[:24].mean() > 40  # far: strongly veiled
    assert gain[:24].mean() > 4 * max(gain[-24:].mean(), 1.0)
    np.testing.assert_array_equal(hazy[-1], photo[-1])  # depth 0: untouched
    # the contrast of the far part drops
    assert hazy[:24].std() < 0.75 * photo[:24].std()
    with pytest.raises(ValueError, match='strength'):
        rs.add_rain_veil(photo, _rng(), strength=1.0)


def test_pseudo_depth_is_far_at_the_top():
    for seed in range(5):
        depth = rs.pseudo_depth(64, 48, _rng(seed))
        assert depth[:8].mean() > 0.8 and depth[-4:].mean() < 0.3
        rows = depth.mean(axis=1)
        assert np.all(np.diff(rows[40:]) < 0)  # below the horizon: nearer


def test_heavy_rain_haze_and_accumulation(photo):
    kw = dict(density=0.1, angle=5.0, intensity=0.8)
    clear = rs.add_rain_streaks(photo, _rng(1), haze=0.0, accumulation=0.0,
                                **kw)
    veiled = rs.add_rain_streaks(photo, _rng(1), haze=0.4, accumulation=0.0,
                                 **kw)
    misty = rs.add_rain_streaks(photo, _rng(1), haze=0.0, accumulation=0.5,
                                **kw)
    assert _dark_channel(veiled).mean() > _dark_channel(clear).mean() + 10
    # accumulation brightens smoothly (mist), never darkens
    diff = misty.astype(float) - clear.astype(float)
    assert diff.min() >= -1 and diff.mean() > 5
    smooth = cv2.GaussianBlur(diff, (0, 0), 3)
    assert np.abs(diff - smooth).mean() < 0.5 * np.abs(diff).mean()
    # by default only dense rain is veiled
    light = [rs.add_rain_streaks(photo, _rng(s), density=0.03)
             for s in range(3)]
    light_ref = [rs.add_rain_streaks(photo, _rng(s), density=0.03, haze=0.0,
                                     accumulation=0.0) for s in range(3)]
    for a, b in zip(light, light_ref):
        np.testing.assert_array_equal(a, b)


def test_heavy_drs_is_harder_and_hazier(photo):
    for seed in range(3):
        heavy, clean = rs.synthesize(photo, 'DRS', _rng(seed), heavy=True)
        light, _ = rs.synthesize(photo, 'DRS', _rng(seed), heavy=False)
        assert _psnr(heavy, clean) < _psnr(light, clean) - 3
        assert _dark_channel(heavy).mean() > _dark_channel(light).mean() + 10


def test_defocused_drops_are_soft():
    rng = _rng(6)
    img = rng.integers(40, 220, (128, 128, 3), dtype=np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 2)
    kw = dict(num_drops=8, radius_range=(10.0, 14.0), blur_sigma=1.0)
    sharp, a_sharp = rs.render_raindrops(img, _rng(2), defocus=0.0, **kw)
    soft, a_soft = rs.render_raindrops(img, _rng(2), defocus=5.0, **kw)

    def partial(alpha):
        return ((alpha > 0.05) & (alpha < 0.5)).mean()

    assert partial(a_soft) > 2 * partial(a_sharp)
    # the blur spreads the same drops: their total opacity is about kept
    assert abs(a_soft.sum() / a_sharp.sum() - 1) < 0.1
    inside = a_sharp > 0.3
    grad = [np.abs(np.diff(x.astype(float), axis=1))[inside[:, 1:]].mean()
            for x in (sharp, soft)]
    assert grad[1] < 0.7 * grad[0]
    # untouched outside the (blurred) drops
    np.testing.assert_array_equal(soft[a_soft == 0], img[a_soft == 0])


def test_night_drops_scatter_the_lights(photo):
    night, light_map = rs.to_night(photo, _rng(4))
    kw = dict(num_drops=40, radius_range=(6.0, 10.0), defocus=0.0,
              light_map=light_map)
    dull, alpha = rs.render_raindrops(night, _rng(5), scatter=0.0, **kw)
    bright, _ = rs.render_raindrops(night, _rng(5), scatter=3.0, **kw)
    gain = _luma(bright) - _luma(dull)
    near = (alpha > 0.5) & (light_map > 0.4)
    far = (alpha > 0.5) & (light_map < 0.05)
    assert near.sum() > 20 and far.sum() > 20
    assert gain.min() >= -1 and gain[near].mean() > 3 * gain[far].mean()
    assert gain[near].mean() > 5
    assert not np.any(gain[alpha == 0])


def test_glow_brightens_around_lights(photo):
    night, light_map = rs.to_night(photo, _rng(2))
    glowing = rs.add_light_glow(night, light_map, _rng(), strength=1.5)
    gain = _luma(glowing) - _luma(night)
    assert gain.min() >= -0.5  # light is only added
    near = (light_map > 0.3) & (night.max(axis=2) < 200)  # not saturated
    far = light_map < 0.02
    assert near.sum() > 100 and far.sum() > 100
    assert gain[near].mean() > 3 * max(gain[far].mean(), 0.3)
    assert gain[near].mean() > 4
    # a wider halo reaches farther from the sources
    wide = rs.add_light_glow(night, light_map, _rng(), strength=1.5,
                             radius=12.0)
    narrow = rs.add_light_glow(night, light_map, _rng(), strength=1.5,
                               radius=2.0)
    ring = (light_map > 0.05) & (light_map < 0.2)
    assert (_luma(wide) - _luma(narrow))[ring].mean() > 0
    with pytest.raises(ValueError, match='light_map'):
        rs.add_light_glow(night, None, _rng())


@pytest.mark.parametrize('func', ['add_rain_veil', 'add_light_glow'])
def test_new_effects_are_deterministic(photo, func):
    night, light_map = rs.to_night(photo, _rng(1))
    args = (photo, ) if func == 'add_rain_veil' else (night, light_map)
    a = getattr(rs, func)(*args, _rng(3))
    b = getattr(rs, func)(*args, _rng(3))
    np.testing.assert_array_equal(a, b)


def test_night_types_are_noisy_on_both_sides(photo):
    """NRS/NRD pairs carry sensor noise in the target as well: flat dark
    areas get texture that the noiseless night conversion lacks."""
    for code in ('NRS', 'NRD'):
        rainy, target = rs.synthesize(photo, code, _rng(11))
        night, _ = rs.to_night(photo, _rng(11))
        for img in (rainy, target):
            res = img.astype(float) - night.astype(float)
            hf = res - cv2.GaussianBlur(res, (0, 0), 2)
            assert hf.std() > 0.5
        assert (_luma(rainy) - _luma(target)).mean() > 0  # rain adds light


def test_calibration_tool_runs(tmp_path):
    """The calibration tool on two skimage photos: a table and a grid."""
    tool = osp.join(REPO_ROOT, 'tools', 'analysis', 'calibrate_synthesis.py')
    grid = str(tmp_path / 'grid.png')
    out = str(tmp_path / 'cal.json')
    proc = subprocess.run(
        [sys.executable, tool, '--photos', str(tmp_path / 'none'), '--num',
         '2', '--size', '64', '--grid', grid, '--json', out],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for code in rs.RAIN_TYPES:
        assert f'| {code} |' in proc.stdout
    with open(out) as f:
        result = json.load(f)
    assert {k: len(v) for k, v in result['psnr'].items()} == {
        c: 2 for c in rs.RAIN_TYPES}
    img = cv2.imread(grid)
    assert img.shape[0] == 5 * 200  # clean + 4 types


def test_heavy_drs_includes_rain100h_like_sheets(photo):
    # Rain100H-style sheets: long, bright streaks over most of the frame;
    # the downpour style is sparser and veiled. Both occur among heavy draws.
    covered = []
    for seed in range(12):
        rainy, clean = rs.synthesize(photo, 'DRS', _rng(seed), heavy=True)
        covered.append(np.mean(_luma(rainy) - _luma(clean) > 40))
    assert max(covered) > 0.25 and min(covered) < 0.2, covered


def test_heavy_prob_sets_the_share_of_heavy_rain(photo):
    def mean_psnr(prob):
        return np.mean([
            _psnr(*rs.synthesize(photo, 'DRS', _rng(s), heavy_prob=prob))
            for s in range(8)
        ])

    assert mean_psnr(1.0) < mean_psnr(0.0) - 5
    with pytest.raises(ValueError, match='heavy_prob'):
        rs.synthesize(photo, 'DRS', _rng(), heavy_prob=1.5)


def test_day_raindrops_sit_behind_a_glass_veil(photo):
    # RainDrop's rainy shots are brighter than their clean ones everywhere
    # (the glass scatters light): the darkest pixels and the mean rise.
    for seed in range(4):
        rainy, clean = rs.synthesize(photo, 'DRD', _rng(seed))
        assert _luma(rainy).mean() > _luma(clean).mean() + 3
        assert np.percentile(_luma(rainy), 2) > np.percentile(
            _luma(clean), 2) + 3
