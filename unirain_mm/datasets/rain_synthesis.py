"""Synthetic rain for unified image deraining (pure numpy + OpenCV).

Four degradation types are produced from a clean RGB photo:

====  ==  ==================================================================
code  id  degradation
====  ==  ==================================================================
DRS   0   daytime rain streaks (motion-blurred, multi-depth, screen-blended)
DRD   1   daytime raindrops on the lens (refracting, dark rims, highlights)
NRS   2   nighttime rain streaks, lit by the scene's light sources
NRD   3   nighttime raindrops (bokeh of the lights, lit highlights)
====  ==  ==================================================================

Every public function takes and returns ``uint8`` RGB ``HxWx3`` arrays and an
explicit :class:`numpy.random.Generator`; no global random state is touched,
so results are a pure function of the inputs and the generator's state.
Geometric defaults (streak length, drop radius, glow size) scale with
``min(H, W)``, so the functions work for any image size (odd sizes included)
and look alike at different resolutions. All functions are vectorised and
take a few milliseconds for a 256x256 image, so they can also serve as online
training transforms.
"""
from __future__ import annotations

import math
from typing import Optional, Tuple, Union

import cv2
import numpy as np

from unirain_mm.rain_types import RAIN_TYPES, rain_type_code

__all__ = [
    'RAIN_TYPES', 'rain_type_code', 'rain_streak_layer', 'add_rain_streaks',
    'render_raindrops', 'add_raindrops', 'to_night', 'add_sensor_noise',
    'synthesize'
]

# Relative depth of the (up to three) streak layers: nearest first.
_LAYER_DEPTHS = (1.0, 0.62, 0.4)

# Colours (linear RGB, max channel 1) of night light sources and the weight
# with which each is drawn: sodium orange, warm white, cool white, then a few
# saturated signs / traffic lights.
_LIGHT_COLOURS = np.array(
    [
        [1.00, 0.55, 0.18],  # sodium-vapour street lamp
        [1.00, 0.80, 0.55],  # warm white / tungsten
        [0.85, 0.92, 1.00],  # cool white LED
        [1.00, 0.22, 0.15],  # red
        [0.25, 1.00, 0.45],  # green
        [0.30, 0.50, 1.00],  # blue
        [1.00, 0.30, 0.85],  # magenta neon
    ],
    dtype=np.float32)
_LIGHT_WEIGHTS = np.array([0.25, 0.2, 0.15, 0.1, 0.1, 0.1, 0.1])

_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)

# uint8 sRGB-ish code value -> linear light (2.2 gamma).
_SRGB_TO_LINEAR = ((np.arange(256, dtype=np.float64) / 255.0)**2.2).astype(
    np.float32)


# --------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------
def _check_image(img: np.ndarray, name: str = 'img') -> None:
    """Raise ``ValueError`` unless ``img`` is a uint8 HxWx3 array."""
    if not isinstance(img, np.ndarray):
        raise ValueError(
            f'{name} must be a numpy.ndarray, got {type(img).__name__}')
    if img.dtype != np.uint8:
        raise ValueError(f'{name} must have dtype uint8, got {img.dtype}')
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(
            f'{name} must be an RGB image of shape HxWx3, got shape '
            f'{img.shape}')
    if img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f'{name} must not be empty, got shape {img.shape}')


def _check_rng(rng: np.random.Generator) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError('rng must be a numpy.random.Generator, got '
                        f'{type(rng).__name__}')


def _check_light_map(light_map: Optional[np.ndarray],
                     shape: Tuple[int, int]) -> Optional[np.ndarray]:
    if light_map is None:
        return None
    light_map = np.asarray(light_map, dtype=np.float32)
    if light_map.shape != tuple(shape):
        raise ValueError(f'light_map must have shape {tuple(shape)}, got '
                         f'{light_map.shape}')
    return np.clip(light_map, 0.0, 1.0)


# --------------------------------------------------------------------------
# small numeric helpers
# --------------------------------------------------------------------------
def _to_float(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) * (1.0 / 255.0)


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _gauss_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with reflective borders; a no-op for tiny sigmas."""
    if sigma < 0.3:
        return img
    return cv2.GaussianBlur(
        img, (0, 0), sigmaX=sigma, sigmaY=sigma,
        borderType=cv2.BORDER_REFLECT_101)


def _cheap_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Approximate wide gaussian blur: blur at reduced scale, upsample."""
    h, w = img.shape[:2]
    factor = int(max(1, min(sigma // 3, min(h, w) // 8)))
    if factor <= 1:
        return _gauss_blur(img, sigma)
    small = cv2.resize(img, (max(w // factor, 1), max(h // factor, 1)),
                       interpolation=cv2.INTER_AREA)
    small = _gauss_blur(small, sigma / factor)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _gaussian_mixture(h: int, w: int, centres, sigmas,
                      weights) -> np.ndarray:
    """Sum of weighted isotropic gaussians (peak = weight), HxWx3 float32.

    Args:
        h: Height.
        w: Width.
        centres: ``K`` (x, y) centres.
        sigmas: ``K`` standard deviations in pixels.
        weights: ``K`` RGB weights.
    """
    cx = np.array([c[0] for c in centres], dtype=np.float32)
    cy = np.array([c[1] for c in centres], dtype=np.float32)
    sig = np.array(sigmas, dtype=np.float32)
    wgt = np.asarray(weights, dtype=np.float32)  # K x 3
    gx = np.exp(-0.5 * ((np.arange(w, dtype=np.float32)[:, None] - cx) /
                        sig)**2)  # W x K
    gy = np.exp(-0.5 * ((np.arange(h, dtype=np.float32)[:, None] - cy) /
                        sig)**2)  # H x K
    out = np.empty((h, w, 3), dtype=np.float32)
    for c in range(3):
        out[..., c] = (gy * wgt[:, c]) @ gx.T
    return out


def _line_kernel(length: float, angle: float,
                 thickness: float) -> np.ndarray:
    """Anti-aliased, end-tapered line kernel with peak value 1.

    Args:
        length: Streak length in pixels.
        angle: Degrees from vertical; positive tilts the lower end right.
        thickness: Streak width in pixels (about the FWHM of the profile).
    """
    half = max(length, 1.0) / 2.0
    theta = math.radians(angle)
    ux, uy = math.sin(theta), math.cos(theta)  # unit vector along streak
    radius = int(math.ceil(half + thickness + 1))
    ys, xs = np.mgrid[-radius:radius + 1, -radius:radius + 1].astype(
        np.float32)
    along = xs * ux + ys * uy
    across = xs * uy - ys * ux
    sigma = max(thickness, 0.6) * 0.5
    profile = np.exp(-0.5 * (across / sigma)**2)
    # Taper both ends: a rain drop falling during the exposure fades in/out.
    t = np.clip(np.abs(along) / half, 0.0, 1.0)
    taper = 1.0 - _smoothstep(0.55, 1.0, t)
    kernel = profile * taper
    return (kernel / max(float(kernel.max()), 1e-6)).astype(np.float32)


# --------------------------------------------------------------------------
# rain streaks
# --------------------------------------------------------------------------
def rain_streak_layer(height: int,
                      width: int,
                      rng: np.random.Generator,
                      density: Optional[float] = None,
                      angle: Optional[float] = None,
                      length: Optional[float] = None,
                      thickness: Optional[float] = None,
                      num_layers: Optional[int] = None) -> np.ndarray:
    """Render a grey-level rain streak layer.

    Each depth layer is made of sparse random seeds (uniform noise that is
    thresholded) that are motion-blurred with a tapered line kernel. Farther
    layers are shorter, thinner, denser, dimmer and slightly defocused; all
    layers share the wind direction up to a few degrees of jitter.

    Args:
        height: Output height in pixels.
        width: Output width in pixels.
        rng: Source of randomness.
        density: Approximate fraction of the image covered by streaks of the
            nearest layer, in ``(0, 1]``. Drawn log-uniformly from
            ``[0.025, 0.12]`` when None.
        angle: Streak direction in degrees from vertical, positive tilting
            the lower end to the right. Drawn from ``[-30, 30]`` when None.
        length: Length of the nearest streaks in pixels. Drawn from
            ``[0.08, 0.3] * min(H, W)`` when None.
        thickness: Width of the nearest streaks in pixels. Drawn from
            ``[1, 1.8] * max(1, min(H, W) / 256)`` when None.
        num_layers: Number of depth layers, 1 to 3. Drawn when None.

    Returns:
        float32 array of shape ``(height, width)`` with values in ``[0, 1]``.
    """
    _check_rng(rng)
    if height < 1 or width < 1:
        raise ValueError(f'invalid layer size {height}x{width}')
    short = float(min(height, width))
    if density is None:
        density = float(np.exp(rng.uniform(np.log(0.025), np.log(0.12))))
    if not 0.0 < density <= 1.0:
        raise ValueError(f'density must be in (0, 1], got {density}')
    if angle is None:
        angle = float(rng.uniform(-30.0, 30.0))
    if length is None:
        length = float(rng.uniform(0.08, 0.3)) * short
    length = max(float(length), 3.0)
    if thickness is None:
        thickness = float(rng.uniform(1.0, 1.8)) * max(1.0, short / 256.0)
    thickness = max(float(thickness), 0.6)
    if num_layers is None:
        num_layers = int(rng.integers(1, 4))
    if not 1 <= num_layers <= len(_LAYER_DEPTHS):
        raise ValueError(f'num_layers must be in 1..{len(_LAYER_DEPTHS)}, '
                         f'got {num_layers}')

    layer = np.zeros((height, width), dtype=np.float32)
    for depth in _LAYER_DEPTHS[:num_layers]:
        lay_len = max(length * depth, 3.0)
        lay_thick = max(thickness * math.sqrt(depth), 0.6)
        lay_angle = angle + (0.0 if depth == 1.0 else rng.uniform(-4, 4))
        # Seeds per pixel so that the streaks cover ~density of the area;
        # far layers are a little denser (more drops fit in the far volume).
        coverage = density * (1.0 if depth == 1.0 else 0.8 / depth)
        prob = min(coverage / (lay_len * max(lay_thick, 1.0)), 0.5)
        noise = rng.random((height, width), dtype=np.float32)
        seeds = np.where(noise < prob,
                         rng.uniform(0.45, 1.0, (height, width)),
                         0.0).astype(np.float32)
        kernel = _line_kernel(lay_len, lay_angle, lay_thick)
        streaks = cv2.filter2D(
            seeds, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
        streaks = _gauss_blur(streaks, 0.9 * (1.0 - depth))  # far: defocus
        brightness = depth**0.6 * rng.uniform(0.85, 1.0)
        layer += np.clip(streaks, 0.0, 1.0) * brightness
    return np.clip(layer, 0.0, 1.0)


def add_rain_streaks(img: np.ndarray,
                     rng: np.random.Generator,
                     density: Optional[float] = None,
                     angle: Optional[float] = None,
                     length: Optional[float] = None,
                     thickness: Optional[float] = None,
                     num_layers: Optional[int] = None,
                     intensity: Optional[float] = None,
                     haze: Optional[float] = None,
                     light_map: Optional[np.ndarray] = None,
                     ambient: Optional[float] = None) -> np.ndarray:
    """Add motion-blurred rain streaks to an image.

    The streak layer from :func:`rain_streak_layer` is composited with screen
    blending (``1 - (1 - I) * (1 - R)``), so streaks are clearly visible on
    dark areas and faint on bright sky, as in real photos. Heavy rain may add
    a light grey veil (``haze``) from rain accumulation.

    When ``light_map`` is given (night scenes), the streaks are lit by the
    scene's light sources: their brightness is
    ``min(1, ambient + 1.6 * light_map)`` and their colour is that of the
    local light (estimated from a strong blur of ``img``); no veil is added.

    Args:
        img: uint8 RGB image, HxWx3.
        rng: Source of randomness.
        density: See :func:`rain_streak_layer`.
        angle: See :func:`rain_streak_layer`.
        length: See :func:`rain_streak_layer`.
        thickness: See :func:`rain_streak_layer`.
        num_layers: See :func:`rain_streak_layer`.
        intensity: Peak opacity of the streaks in ``[0, 1]``; drawn from
            ``[0.55, 0.95]`` when None.
        haze: Strength of the rain veil in ``[0, 1)``; when None it is 0 for
            light rain and up to 0.12 for dense rain.
        light_map: Optional float HxW illumination in ``[0, 1]`` (see
            :func:`to_night`).
        ambient: Streak brightness away from the lights when ``light_map`` is
            given; drawn from ``[0.04, 0.1]`` when None.

    Returns:
        The rainy uint8 RGB image (a new array).
    """
    _check_image(img)
    _check_rng(rng)
    h, w = img.shape[:2]
    light_map = _check_light_map(light_map, (h, w))
    if density is None:
        density = float(np.exp(rng.uniform(np.log(0.025), np.log(0.12))))
    layer = rain_streak_layer(h, w, rng, density, angle, length, thickness,
                              num_layers)
    if intensity is None:
        intensity = float(rng.uniform(0.55, 0.95))
    if haze is None:
        heavy = float(np.clip((density - 0.05) / 0.07, 0.0, 1.0))
        haze = heavy * float(rng.uniform(0.04, 0.12))

    base = _to_float(img)
    rain = (layer * intensity)[..., None]
    if light_map is None:
        rain = np.repeat(rain, 3, axis=2)
        veil_colour = np.full(3, 0.85, dtype=np.float32)
    else:
        if ambient is None:
            ambient = float(rng.uniform(0.04, 0.1))
        # Colour of the local light: a strong blur, normalised to max 1.
        tint = _cheap_blur(base, 0.04 * min(h, w)) + 1e-3
        tint = tint / tint.max(axis=2, keepdims=True)
        tint = 1.0 - light_map[..., None] * (1.0 - tint)  # white when unlit
        lit = np.clip(ambient + 1.6 * light_map, 0.0, 1.0)
        rain = rain * lit[..., None] * tint
        veil_colour = np.zeros(3, dtype=np.float32)
        haze = 0.0  # an unlit veil is invisible at night
    out = 1.0 - (1.0 - base) * (1.0 - rain)
    if haze > 0:
        out = out * (1.0 - haze) + haze * veil_colour
    return _to_uint8(out)


# --------------------------------------------------------------------------
# raindrops
# --------------------------------------------------------------------------
def render_raindrops(
        img: np.ndarray,
        rng: np.random.Generator,
        num_drops: Optional[int] = None,
        radius_range: Optional[Tuple[float, float]] = None,
        coverage: Optional[float] = None,
        blur_sigma: Optional[float] = None,
        light_map: Optional[np.ndarray] = None
) -> Tuple[np.ndarray, np.ndarray]:
    """Render raindrops adhering to a lens or window, returning their alpha.

    The camera focuses on the scene, so drops are seen through a defocused
    copy of the background. Each drop is an irregular, slightly bottom-heavy
    ellipse acting as a small lens: it shows a flipped, displaced and
    fisheye-distorted patch of the blurred background, with a dark rim at the
    edge (total internal reflection), a faint bright caustic near the bottom,
    a specular highlight towards the top-left and a soft alpha edge.

    Args:
        img: uint8 RGB image, HxWx3.
        rng: Source of randomness.
        num_drops: Number of drops; when None, drops are added until their
            summed area reaches ``coverage`` of the image.
        radius_range: ``(min, max)`` drop radius in pixels; defaults to
            ``(0.02, 0.085) * min(H, W)`` (at least 2 px). Small drops are
            more frequent than large ones.
        coverage: Target summed drop area as a fraction of the image when
            ``num_drops`` is None; drawn from ``[0.08, 0.22]`` when None.
        blur_sigma: Defocus blur of the background seen through the drops,
            in pixels; drawn from ``[0.008, 0.025] * min(H, W)`` when None.
        light_map: Optional float HxW illumination in ``[0, 1]`` (night
            scenes): specular highlights then appear only where lit.

    Returns:
        ``(out, alpha)``: the uint8 RGB image with drops and the float32 HxW
        drop opacity in ``[0, 1]`` (0 where the image is untouched).
    """
    _check_image(img)
    _check_rng(rng)
    h, w = img.shape[:2]
    light_map = _check_light_map(light_map, (h, w))
    short = float(min(h, w))
    if radius_range is None:
        radius_range = (0.02 * short, 0.085 * short)
    r_min = max(float(radius_range[0]), 2.0)
    r_max = max(float(radius_range[1]), r_min)
    if coverage is None:
        coverage = float(rng.uniform(0.08, 0.22))
    if blur_sigma is None:
        blur_sigma = float(rng.uniform(0.008, 0.025)) * short
    blur_sigma = max(float(blur_sigma), 0.8)

    base = _to_float(img)
    background = _gauss_blur(base, blur_sigma)
    out = base.copy()
    alpha_total = np.zeros((h, w), dtype=np.float32)

    target_area = coverage * h * w
    area = 0.0
    count = 0
    max_drops = num_drops if num_drops is not None else 10000
    while count < max_drops and (num_drops is not None or area < target_area):
        count += 1
        radius = r_min + (r_max - r_min) * float(rng.random())**2.2
        rx = radius * rng.uniform(0.8, 1.05)
        ry = radius * rng.uniform(0.95, 1.3)
        area += math.pi * rx * ry
        cx = rng.uniform(-0.3 * rx, w - 1 + 0.3 * rx)
        cy = rng.uniform(-0.3 * ry, h - 1 + 0.3 * ry)
        # Shape: low-order Fourier perturbation of the radius + gravity sag.
        amps = rng.uniform(0.0, 0.07, 3) / np.array([1.0, 1.4, 1.8])
        phases = rng.uniform(0.0, 2 * math.pi, 3)
        sag = rng.uniform(0.0, 0.12)
        # Lens: flipped (negative) magnification, displacement, fisheye.
        mag = -rng.uniform(1.3, 2.6)
        shift_x = rng.uniform(-0.6, 0.6) * rx
        shift_y = -rng.uniform(0.3, 1.6) * ry  # mostly shows what is above
        rim = rng.uniform(0.3, 0.55)
        caustic = rng.uniform(0.04, 0.14)
        spec = rng.uniform(0.45, 0.9)
        milk = rng.uniform(0.05, 0.2)
        # Out-of-focus drops let part of the scene behind them through.
        opacity = rng.uniform(0.55, 0.9)

        ext = 1.45 * max(rx, ry) + 2.0
        x0, x1 = max(int(cx - ext), 0), min(int(math.ceil(cx + ext)) + 1, w)
        y0, y1 = max(int(cy - ext), 0), min(int(math.ceil(cy + ext)) + 1, h)
        if x0 >= x1 or y0 >= y1:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dx, dy = xs - cx, ys - cy
        theta = np.arctan2(dy, dx)
        boundary = 1.0 + sag * np.clip(np.sin(theta), 0.0, None)
        for k, (a, p) in enumerate(zip(amps, phases), start=2):
            boundary += a * np.cos(k * theta + p)
        d = np.sqrt((dx / rx)**2 + (dy / ry)**2) / boundary
        edge = max(0.08, 1.2 / radius)
        alpha = 1.0 - _smoothstep(1.0 - edge, 1.0, d)
        if not np.any(alpha > 0):
            continue
        alpha *= opacity

        warp = 0.55 + 0.45 * np.minimum(d, 1.0)**2
        map_x = (cx + shift_x + mag * dx * warp).astype(np.float32)
        map_y = (cy + shift_y + mag * dy * warp).astype(np.float32)
        drop = cv2.remap(background, map_x, map_y, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT_101)
        # Water scatters a little light: slightly milky, lower contrast.
        drop = drop * (1.0 - milk) + milk * drop.mean(axis=(0, 1))
        below = np.clip(np.sin(theta), 0.0, None)
        shade = 1.0 - rim * (1.0 - 0.35 * below) * _smoothstep(0.6, 1.0, d)
        drop = drop * shade[..., None]
        drop += (caustic * below**2 * np.exp(-((d - 0.78) / 0.12)**2))[...,
                                                                     None]
        hx, hy = cx - 0.33 * rx, cy - 0.4 * ry
        hs = max(0.14 * radius, 0.6)
        highlight = spec * np.exp(-((xs - hx)**2 + (ys - hy)**2) /
                                  (2.0 * hs * hs))
        if light_map is not None:
            lit = light_map[int(np.clip(cy, 0, h - 1)),
                            int(np.clip(cx, 0, w - 1))]
            highlight *= 0.1 + 0.9 * lit
        drop += highlight[..., None]

        a3 = alpha[..., None]
        region = out[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = a3 * np.clip(drop, 0.0, 1.0) + (1.0 - a3) * region
        alpha_total[y0:y1, x0:x1] = np.maximum(alpha_total[y0:y1, x0:x1],
                                               alpha)
    return _to_uint8(out), alpha_total


def add_raindrops(img: np.ndarray,
                  rng: np.random.Generator,
                  num_drops: Optional[int] = None,
                  radius_range: Optional[Tuple[float, float]] = None,
                  coverage: Optional[float] = None,
                  blur_sigma: Optional[float] = None,
                  light_map: Optional[np.ndarray] = None) -> np.ndarray:
    """Add raindrops on the lens; see :func:`render_raindrops`.

    Args:
        img: uint8 RGB image, HxWx3.
        rng: Source of randomness.
        num_drops: Number of drops; random (area-driven) when None.
        radius_range: ``(min, max)`` drop radius in pixels.
        coverage: Target summed drop area fraction when ``num_drops`` is
            None.
        blur_sigma: Defocus blur of the background seen through the drops.
        light_map: Optional night illumination map, HxW in ``[0, 1]``.

    Returns:
        The uint8 RGB image with raindrops (a new array).
    """
    out, _ = render_raindrops(img, rng, num_drops, radius_range, coverage,
                              blur_sigma, light_map)
    return out


# --------------------------------------------------------------------------
# night conversion
# --------------------------------------------------------------------------
def to_night(
        img: np.ndarray,
        rng: np.random.Generator,
        darkness: Optional[float] = None,
        num_lights: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Turn a clean daytime photo into a plausible clean night photo.

    In linear light the scene is desaturated and strongly darkened (moonlight
    level, bluish tint), then lit by a few coloured point lights (sodium
    orange, warm/cool white, neon colours): each light illuminates nearby
    surfaces with a wide gaussian falloff and adds a bloom and a saturated
    core where the source itself is. The result is re-encoded with a 2.2
    gamma.

    Args:
        img: uint8 RGB daytime image, HxWx3.
        rng: Source of randomness.
        darkness: Linear-light ambient gain in ``(0, 1]`` (smaller is darker);
            drawn from ``[0.03, 0.1]`` when None.
        num_lights: Number of light sources; drawn from ``2..6`` when None.

    Returns:
        ``(night_clean, light_map)``: the uint8 RGB night image and a float32
        HxW map in ``[0, 1]`` of the illumination contributed by the lights
        (1 at and around the sources, ~0 far from them).
    """
    _check_image(img)
    _check_rng(rng)
    h, w = img.shape[:2]
    short = float(min(h, w))
    if darkness is None:
        darkness = float(rng.uniform(0.015, 0.05))
    if num_lights is None:
        num_lights = int(rng.integers(2, 7))

    lin = _SRGB_TO_LINEAR[img]
    luma = lin @ _LUMA
    keep_sat = rng.uniform(0.35, 0.65)  # low light: colours fade
    albedo = luma[..., None] + keep_sat * (lin - luma[..., None])
    moon = np.array([0.55, 0.72, 1.0], dtype=np.float32) * rng.uniform(
        0.9, 1.1, 3).astype(np.float32)

    # Every light contributes three gaussian components: the illumination
    # it casts on surfaces (wide), a bloom (medium) and the hot core (tiny).
    # Their sum is evaluated separably as a few small matrix products.
    centres, sigmas, illum_w, glow_w = [], [], [], []
    for _ in range(num_lights):
        colour = _LIGHT_COLOURS[rng.choice(len(_LIGHT_COLOURS),
                                           p=_LIGHT_WEIGHTS)]
        colour = np.clip(colour * rng.uniform(0.9, 1.1, 3), 0.0, 1.0)
        centre = (rng.uniform(0.0, w - 1), rng.uniform(0.0, 0.85 * (h - 1)))
        reach = rng.uniform(0.04, 0.12) * short
        power = rng.uniform(0.3, 1.0)
        bloom = rng.uniform(0.012, 0.035) * short
        core = max(rng.uniform(0.004, 0.009) * short, 0.8)
        bloom_gain = rng.uniform(0.35, 0.8)
        hot = 0.3 * colour + 0.7  # the source itself saturates to white-ish
        zero = np.zeros(3)
        centres += [centre] * 3
        sigmas += [reach, bloom, core]
        illum_w += [power * colour, zero, zero]
        glow_w += [zero, bloom_gain * colour, 2.5 * hot]
    illum = _gaussian_mixture(h, w, centres, sigmas, illum_w)
    glow = _gaussian_mixture(h, w, centres, sigmas, glow_w)
    night_lin = albedo * (darkness * moon + illum) + glow
    night = _to_uint8(np.clip(night_lin, 0.0, 1.0)**(1 / 2.2))
    strength = 0.8 * (illum @ _LUMA) + 2.0 * (glow @ _LUMA)
    light_map = (1.0 - np.exp(-3.0 * strength)).astype(np.float32)
    return night, np.clip(light_map, 0.0, 1.0)


def add_sensor_noise(img: np.ndarray,
                     rng: np.random.Generator,
                     shot: Optional[float] = None,
                     read: Optional[float] = None) -> np.ndarray:
    """Add low-level heteroscedastic (shot + read) sensor noise.

    The noise variance is ``shot * I + read**2`` for intensity ``I`` in
    ``[0, 1]``.

    Args:
        img: uint8 RGB image, HxWx3.
        rng: Source of randomness.
        shot: Shot-noise gain; drawn from ``[2e-4, 1.5e-3]`` when None.
        read: Read-noise standard deviation; drawn from ``[0.003, 0.01]``
            when None.

    Returns:
        The noisy uint8 RGB image (a new array).
    """
    _check_image(img)
    _check_rng(rng)
    if shot is None:
        shot = float(rng.uniform(2e-4, 1.5e-3))
    if read is None:
        read = float(rng.uniform(0.003, 0.01))
    x = _to_float(img)
    sigma = np.sqrt(shot * x + read * read)
    noise = rng.standard_normal(x.shape, dtype=np.float32)
    return _to_uint8(x + sigma * noise)


# --------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------
def synthesize(clean: np.ndarray, rain_type: Union[int, str, np.integer],
               rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Make a ``(rainy, target)`` training pair of the given type.

    Day types (DRS, DRD) degrade ``clean`` directly and the target is
    ``clean``. Night types (NRS, NRD) first convert ``clean`` with
    :func:`to_night` (this is the first use of ``rng``, so replaying
    ``to_night(clean, rng_copy)`` reproduces the target and its light map);
    the target is that night image, and the rain is added on it, lit by the
    lights, followed by low-level sensor noise.

    Args:
        clean: uint8 RGB clean daytime image, HxWx3.
        rain_type: Type id ``0..3`` or code in :data:`RAIN_TYPES`.
        rng: Source of randomness.

    Returns:
        ``(rainy, target)``, both uint8 RGB HxWx3 (new arrays).

    Raises:
        ValueError: For an unknown ``rain_type`` or an image that is not
            uint8 HxWx3.
    """
    code = rain_type_code(rain_type)
    _check_image(clean, 'clean')
    _check_rng(rng)
    if code == 'DRS':
        return add_rain_streaks(clean, rng), clean.copy()
    if code == 'DRD':
        return add_raindrops(clean, rng), clean.copy()
    night, light_map = to_night(clean, rng)
    if code == 'NRS':
        # Night rain is only seen where lit, so draw it denser and brighter.
        density = float(np.exp(rng.uniform(np.log(0.05), np.log(0.16))))
        rainy = add_rain_streaks(
            night,
            rng,
            density=density,
            intensity=float(rng.uniform(0.8, 1.0)),
            light_map=light_map)
    else:
        rainy = add_raindrops(
            night,
            rng,
            coverage=float(rng.uniform(0.15, 0.4)),
            light_map=light_map)
    return add_sensor_noise(rainy, rng), night
