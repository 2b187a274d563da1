"""Tests of the rain synthesis (pure numpy + cv2)."""
import cv2
import numpy as np
import pytest

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
    assert all(12.0 < p < 38.0 for p in psnrs), psnrs
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
        np.testing.assert_array_equal(target, night)
        assert _luma(target).mean() < 0.6 * _luma(photo).mean()
        diff = _luma(rainy) - _luma(target)
        near, far = light_map > 0.4, light_map < 0.05
        near_sum, near_n = near_sum + diff[near].sum(), near_n + near.sum()
        far_sum, far_n = far_sum + diff[far].sum(), far_n + far.sum()
    assert near_n > 500 and far_n > 500
    near_mean, far_mean = near_sum / near_n, far_sum / far_n
    assert near_mean > 2.5 * far_mean, (near_mean, far_mean)
    assert far_mean > 0  # faint, but present, away from the lights


def test_night_raindrops_target_is_night(photo):
    rainy, target = rs.synthesize(photo, 'NRD', _rng(9))
    night, _ = rs.to_night(photo, _rng(9))
    np.testing.assert_array_equal(target, night)
    assert not np.array_equal(rainy, target)


def test_sensor_noise_is_low_level(photo):
    noisy = rs.add_sensor_noise(photo, _rng())
    diff = noisy.astype(float) - photo.astype(float)
    assert 0.5 < diff.std() < 8.0
    assert abs(diff.mean()) < 1.0
