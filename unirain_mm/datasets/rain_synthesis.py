"""Synthetic rain for unified image deraining (pure numpy + OpenCV).

Four degradation types are produced from a clean RGB photo:

====  ==  ==================================================================
code  id  degradation
====  ==  ==================================================================
DRS   0   daytime rain streaks: 1 to 4 depth layers (far layers shorter,
          thinner, denser, dimmer and defocused), screen-blended; heavy rain
          is either sheets of long, thick streaks (Rain100H style) or adds
          rain accumulation (mist) and a depth-dependent veil (Outdoor-Rain
          style)
DRD   1   daytime raindrops on a window or lens: large, dense, refracting
          drops, translucent, milky and defocused as a layer, behind a
          glass veil (RainDrop style)
NRS   2   nighttime rain streaks, brightest where the scene's lights catch
          them but seen all over the frame (HQ-NightRain / GTAV-NightRain
          style)
NRD   3   nighttime raindrops: bokeh of the lights, light scattered by the
          drops, glare of the lights seen through the drops

Night pairs differ by the rain alone: the halo of the lights and the
sensor noise (one field) are in the target as well as in the input.
====  ==  ==================================================================

The default parameter ranges of :func:`synthesize` are calibrated so that
the mean RGB PSNR of the rainy inputs against their targets is within 1.5 dB
of the UniRain paper's test inputs for every type
(``tools/analysis/calibrate_synthesis.py``; table in ``docs/benchmarks.md``).

Every public function takes and returns ``uint8`` RGB ``HxWx3`` arrays and an
explicit :class:`numpy.random.Generator`; no global random state is touched,
so results are a pure function of the inputs and the generator's state.
Geometric defaults (streak length, drop radius, glow size) scale with
``min(H, W)``, so the functions work for any image size (odd sizes included)
and look alike at different resolutions. All functions are vectorised; a
256x256 pair takes about 20 (DRS) to 100 (NRD) ms on one CPU core, so they
can also serve as online training transforms.
"""
from __future__ import annotations

import math
from typing import List, Optional, Tuple, Union

import cv2
import numpy as np

from unirain_mm.rain_types import RAIN_TYPES, rain_type_code

__all__ = [
    'RAIN_TYPES', 'rain_type_code', 'HEAVY_RAIN_PROB', 'rain_streak_layers',
    'rain_streak_layer', 'pseudo_depth', 'add_rain_veil', 'add_rain_streaks',
    'render_raindrops', 'add_raindrops', 'to_night', 'add_light_glow',
    'add_sensor_noise', 'synthesize'
]

# Relative depth of the (up to four) streak layers: nearest first.
_LAYER_DEPTHS = (1.0, 0.6, 0.36, 0.22)

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
# rain streaks, veil and accumulation
# --------------------------------------------------------------------------
def _draw_density(rng: np.random.Generator) -> float:
    return float(np.exp(rng.uniform(np.log(0.025), np.log(0.12))))


def rain_streak_layers(height: int,
                       width: int,
                       rng: np.random.Generator,
                       density: Optional[float] = None,
                       angle: Optional[float] = None,
                       length: Optional[float] = None,
                       thickness: Optional[float] = None,
                       num_layers: Optional[int] = None,
                       defocus: Optional[float] = None) -> List[np.ndarray]:
    """Render rain streaks as separate depth layers, nearest first.

    Each layer is made of sparse random seeds (uniform noise that is
    thresholded) motion-blurred with a tapered line kernel. A layer at
    relative depth ``d`` (1 for the nearest, see ``_LAYER_DEPTHS``) has
    streaks ``d`` times as long, ``sqrt(d)`` times as wide, a defocus blur of
    ``defocus * (1 - d)`` pixels (the camera focuses on the scene, not on the
    rain), an opacity of about ``d ** 0.6`` and a coverage ``0.8 / d`` times
    that of the nearest layer (more drops fit in the far volume). All layers
    share the wind direction up to a few degrees of jitter.

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
        num_layers: Number of depth layers, 1 to 4. Drawn from ``2..4`` when
            None.
        defocus: Defocus blur (gaussian sigma, pixels) of a layer at depth 0;
            drawn from ``[0.8, 2] * max(1, min(H, W) / 256)`` when None.

    Returns:
        ``num_layers`` float32 arrays of shape ``(height, width)`` with
        values in ``[0, 1]``, nearest layer first.
    """
    _check_rng(rng)
    if height < 1 or width < 1:
        raise ValueError(f'invalid layer size {height}x{width}')
    short = float(min(height, width))
    scale = max(1.0, short / 256.0)
    if density is None:
        density = _draw_density(rng)
    if not 0.0 < density <= 1.0:
        raise ValueError(f'density must be in (0, 1], got {density}')
    if angle is None:
        angle = float(rng.uniform(-30.0, 30.0))
    if length is None:
        length = float(rng.uniform(0.08, 0.3)) * short
    length = max(float(length), 3.0)
    if thickness is None:
        thickness = float(rng.uniform(1.0, 1.8)) * scale
    thickness = max(float(thickness), 0.6)
    if num_layers is None:
        num_layers = int(rng.integers(2, len(_LAYER_DEPTHS) + 1))
    if not 1 <= num_layers <= len(_LAYER_DEPTHS):
        raise ValueError(f'num_layers must be in 1..{len(_LAYER_DEPTHS)}, '
                         f'got {num_layers}')
    if defocus is None:
        defocus = float(rng.uniform(0.8, 2.0)) * scale

    layers = []
    for depth in _LAYER_DEPTHS[:num_layers]:
        lay_len = max(length * depth, 3.0)
        lay_thick = max(thickness * math.sqrt(depth), 0.6)
        lay_angle = angle + (0.0 if depth == 1.0 else rng.uniform(-4, 4))
        # Seeds per pixel so that the streaks cover ~coverage of the area.
        coverage = density * (1.0 if depth == 1.0 else 0.6 / math.sqrt(
            depth))
        prob = min(coverage / (lay_len * max(lay_thick, 1.0)), 0.5)
        noise = rng.random((height, width), dtype=np.float32)
        seeds = np.where(noise < prob,
                         rng.uniform(0.45, 1.0, (height, width)),
                         0.0).astype(np.float32)
        kernel = _line_kernel(lay_len, lay_angle, lay_thick)
        streaks = cv2.filter2D(
            seeds, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
        streaks = np.clip(streaks, 0.0, 1.0)
        sigma = defocus * (1.0 - depth)
        if sigma >= 0.3:
            # Blur lowers a thin streak's peak; partly restore it so that
            # far rain stays visible as soft streaks rather than vanishing.
            streaks = np.clip(_gauss_blur(streaks, sigma) *
                              (1.0 + 0.6 * sigma / max(lay_thick, 1.0)),
                              0.0, 1.0)
        opacity = depth**0.6 * rng.uniform(0.85, 1.0)
        layers.append((streaks * opacity).astype(np.float32))
    return layers


def rain_streak_layer(height: int,
                      width: int,
                      rng: np.random.Generator,
                      density: Optional[float] = None,
                      angle: Optional[float] = None,
                      length: Optional[float] = None,
                      thickness: Optional[float] = None,
                      num_layers: Optional[int] = None,
                      defocus: Optional[float] = None) -> np.ndarray:
    """Render a grey-level rain streak layer: the clipped sum of the depth
    layers of :func:`rain_streak_layers` (same arguments).

    Returns:
        float32 array of shape ``(height, width)`` with values in ``[0, 1]``.
    """
    layers = rain_streak_layers(height, width, rng, density, angle, length,
                                thickness, num_layers, defocus)
    return np.clip(np.sum(layers, axis=0), 0.0, 1.0).astype(np.float32)


def pseudo_depth(height: int, width: int,
                 rng: np.random.Generator) -> np.ndarray:
    """A plausible scene depth without a depth sensor: far at the top.

    Outdoor photos are mostly ground below and sky or distant objects
    above, so depth grows from the bottom to a random horizon height, with a
    smooth random undulation so that the veil is not a plain ramp.

    Args:
        height: Output height in pixels.
        width: Output width in pixels.
        rng: Source of randomness.

    Returns:
        float32 ``(height, width)`` relative depth in ``[0, 1]`` (1 far).
    """
    _check_rng(rng)
    horizon = rng.uniform(0.25, 0.6)  # fraction of the height from the top
    ys = (np.arange(height, dtype=np.float32) + 0.5) / height
    ramp = np.clip((1.0 - ys) / (1.0 - horizon), 0.0, 1.0)**0.7
    coarse = rng.uniform(-1.0, 1.0, (4, 4)).astype(np.float32)
    wobble = cv2.resize(coarse, (width, height),
                        interpolation=cv2.INTER_CUBIC)
    depth = ramp[:, None] * (1.0 + 0.15 * wobble)
    return np.clip(depth, 0.0, 1.0).astype(np.float32)


def add_rain_veil(img: np.ndarray,
                  rng: np.random.Generator,
                  strength: Optional[float] = None,
                  airlight: Optional[float] = None,
                  depth: Optional[np.ndarray] = None) -> np.ndarray:
    """Add the veiling haze of heavy rain (atmospheric scattering model).

    ``out = img * t + A * (1 - t)`` with transmission
    ``t = (1 - strength) ** depth``: far parts of the scene fade into a
    bright grey, slightly bluish airlight ``A``, as in the heavy-rain model
    of Outdoor-Rain (Li et al., CVPR 2019). It raises the dark channel.

    Args:
        img: uint8 RGB image, HxWx3.
        rng: Source of randomness.
        strength: Veil opacity ``1 - t`` at the farthest depth, in
            ``[0, 1)``; drawn from ``[0.15, 0.5]`` when None.
        airlight: Grey level of the airlight in ``(0, 1]``; drawn from
            ``[0.7, 0.92]`` when None.
        depth: Optional float HxW relative depth in ``[0, 1]``; drawn with
            :func:`pseudo_depth` when None.

    Returns:
        The hazy uint8 RGB image (a new array).
    """
    _check_image(img)
    _check_rng(rng)
    h, w = img.shape[:2]
    if strength is None:
        strength = float(rng.uniform(0.15, 0.5))
    if not 0.0 <= strength < 1.0:
        raise ValueError(f'strength must be in [0, 1), got {strength}')
    if airlight is None:
        airlight = float(rng.uniform(0.7, 0.92))
    if depth is None:
        depth = pseudo_depth(h, w, rng)
    depth = _check_light_map(depth, (h, w))
    colour = airlight * np.array([0.97, 0.99, 1.0], dtype=np.float32)
    trans = ((1.0 - strength)**depth)[..., None]
    return _to_uint8(_to_float(img) * trans + colour * (1.0 - trans))


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
                     ambient: Optional[float] = None,
                     defocus: Optional[float] = None,
                     accumulation: Optional[float] = None) -> np.ndarray:
    """Add motion-blurred rain streaks to an image.

    The streak layers of :func:`rain_streak_layers` are composited with
    screen blending (``1 - (1 - I) * (1 - R)``), so streaks are clearly
    visible on dark areas and faint on bright sky, as in real photos. Heavy
    rain adds rain accumulation (the mist of countless far drops: a strongly
    blurred copy of the streaks, screen-blended) and a depth-dependent veil
    (:func:`add_rain_veil`, strength ``haze``).

    When ``light_map`` is given (night scenes), the streaks are lit by the
    scene's light sources: their brightness is
    ``min(1, ambient + 1.6 * light_map)`` and their colour is that of the
    local light (estimated from a strong blur of ``img``); no veil and no
    accumulation are added (unlit, they are invisible at night; the lit part
    is :func:`add_light_glow`).

    Args:
        img: uint8 RGB image, HxWx3.
        rng: Source of randomness.
        density: See :func:`rain_streak_layers`.
        angle: See :func:`rain_streak_layers`.
        length: See :func:`rain_streak_layers`.
        thickness: See :func:`rain_streak_layers`.
        num_layers: See :func:`rain_streak_layers`.
        intensity: Peak opacity of the streaks in ``[0, 1]``; drawn from
            ``[0.55, 0.95]`` when None.
        haze: Strength of the rain veil in ``[0, 1)`` (see
            :func:`add_rain_veil`); when None it is 0 for light rain and up
            to 0.5 for dense rain (density above 0.05).
        light_map: Optional float HxW illumination in ``[0, 1]`` (see
            :func:`to_night`).
        ambient: Streak brightness away from the lights when ``light_map`` is
            given; drawn from ``[0.04, 0.1]`` when None.
        defocus: See :func:`rain_streak_layers`.
        accumulation: Opacity in ``[0, 1]`` of the rain accumulation mist;
            when None it is 0 for light rain and up to 0.6 for dense rain.

    Returns:
        The rainy uint8 RGB image (a new array).
    """
    _check_image(img)
    _check_rng(rng)
    h, w = img.shape[:2]
    light_map = _check_light_map(light_map, (h, w))
    if density is None:
        density = _draw_density(rng)
    layer = rain_streak_layer(h, w, rng, density, angle, length, thickness,
                              num_layers, defocus)
    if intensity is None:
        intensity = float(rng.uniform(0.55, 0.95))
    heavy = float(np.clip((density - 0.05) / 0.07, 0.0, 1.0))
    if haze is None:
        haze = heavy * float(rng.uniform(0.15, 0.5))
    if accumulation is None:
        accumulation = heavy * float(rng.uniform(0.2, 0.6))

    base = _to_float(img)
    rain = (layer * intensity)[..., None]
    if light_map is None:
        if accumulation > 0:
            mist = _cheap_blur(layer, 0.02 * min(h, w))
            mist = mist / max(float(mist.max()), 1e-6)
            rain = 1.0 - (1.0 - rain) * (1.0 - accumulation * mist[..., None])
        rain = np.repeat(rain, 3, axis=2)
    else:
        if ambient is None:
            ambient = float(rng.uniform(0.04, 0.1))
        # Colour of the local light: a strong blur, normalised to max 1.
        tint = _cheap_blur(base, 0.04 * min(h, w)) + 1e-3
        tint = tint / tint.max(axis=2, keepdims=True)
        tint = 1.0 - light_map[..., None] * (1.0 - tint)  # white when unlit
        lit = np.clip(ambient + 1.6 * light_map, 0.0, 1.0)
        rain = rain * lit[..., None] * tint
        haze = 0.0
    out = _to_uint8(1.0 - (1.0 - base) * (1.0 - rain))
    if haze > 0:
        out = add_rain_veil(out, rng, strength=haze)
    return out


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
        light_map: Optional[np.ndarray] = None,
        defocus: Optional[float] = None,
        scatter: Optional[float] = None,
        opacity_range: Tuple[float, float] = (0.55, 0.9),
        milk_range: Tuple[float, float] = (0.05, 0.2),
        rim_range: Tuple[float, float] = (0.3, 0.55),
) -> Tuple[np.ndarray, np.ndarray]:
    """Render raindrops adhering to a lens or window, returning their alpha.

    The camera focuses on the scene, so drops are seen through a defocused
    copy of the background. Each drop is an irregular, slightly bottom-heavy
    ellipse acting as a small lens: it shows a flipped, displaced and
    fisheye-distorted patch of the blurred background, with a dark rim at the
    edge (total internal reflection), a faint bright caustic near the bottom,
    a specular highlight towards the top-left and a soft alpha edge. The
    drops themselves are out of focus too: the drop layer (premultiplied
    colour and alpha) is blurred by ``defocus`` before compositing, which
    gives the soft, glowing blobs of the RainDrop dataset.

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
        defocus: Blur (gaussian sigma, pixels) of the drop layer itself; 0
            keeps sharp drops. Drawn from ``[0, 0.012] * min(H, W)`` when
            None.
        scatter: Night only (with ``light_map``): gain of the light that
            drops scatter from nearby sources, which makes drops near lamps
            glow; drawn from ``[0.5, 1.5]`` when None, unused without
            ``light_map``.
        opacity_range: Range of a drop's peak opacity; out-of-focus drops
            let part of the scene behind them through.
        milk_range: Range of the milkiness of a drop (mix towards its mean
            colour: water scatters light and lowers contrast).
        rim_range: Range of the darkening at a drop's rim (total internal
            reflection; weaker on defocused drops).

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
    if defocus is None:
        defocus = float(rng.uniform(0.0, 0.012)) * short

    base = _to_float(img)
    background = _gauss_blur(base, blur_sigma)
    if light_map is not None:
        if scatter is None:
            scatter = float(rng.uniform(0.5, 1.5))
        # Light arriving at the lens from the sources around each point.
        scattered = scatter * _cheap_blur(base * light_map[..., None],
                                          0.05 * short)
    # The drop layer, premultiplied: out = colour + (1 - alpha) * base.
    colour = np.zeros_like(base)
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
        rim = rng.uniform(*rim_range)
        caustic = rng.uniform(0.04, 0.14)
        spec = rng.uniform(0.45, 0.9)
        milk = rng.uniform(*milk_range)
        opacity = rng.uniform(*opacity_range)

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
            drop += scattered[y0:y1, x0:x1]
        drop += highlight[..., None]

        # "over" compositing of this drop onto the drop layer
        a3 = alpha[..., None]
        colour[y0:y1, x0:x1] = (a3 * np.clip(drop, 0.0, 1.0) +
                                (1.0 - a3) * colour[y0:y1, x0:x1])
        alpha_total[y0:y1, x0:x1] = alpha + (
            1.0 - alpha) * alpha_total[y0:y1, x0:x1]
    if defocus >= 0.3:
        colour = _gauss_blur(colour, defocus)
        alpha_total = _gauss_blur(alpha_total, defocus)
    out = colour + (1.0 - alpha_total[..., None]) * base
    return _to_uint8(out), np.clip(alpha_total, 0.0, 1.0)


def add_raindrops(img: np.ndarray,
                  rng: np.random.Generator,
                  num_drops: Optional[int] = None,
                  radius_range: Optional[Tuple[float, float]] = None,
                  coverage: Optional[float] = None,
                  blur_sigma: Optional[float] = None,
                  light_map: Optional[np.ndarray] = None,
                  defocus: Optional[float] = None,
                  scatter: Optional[float] = None) -> np.ndarray:
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
        defocus: Blur of the drop layer itself (see
            :func:`render_raindrops`).
        scatter: Night light scattered by the drops (see
            :func:`render_raindrops`).

    Returns:
        The uint8 RGB image with raindrops (a new array).
    """
    out, _ = render_raindrops(img, rng, num_drops, radius_range, coverage,
                              blur_sigma, light_map, defocus, scatter)
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


def add_light_glow(img: np.ndarray,
                   light_map: np.ndarray,
                   rng: np.random.Generator,
                   strength: Optional[float] = None,
                   radius: Optional[float] = None) -> np.ndarray:
    """Add the glow of night lights scattered by rain and wet air.

    In linear light, the parts of the image lit by the sources (weighted by
    ``light_map ** 2``, so the sources themselves dominate) are blurred
    widely and added back: halos around lamps and head lights, brighter near
    the lights and negligible far from them.

    Args:
        img: uint8 RGB night image, HxWx3.
        light_map: Float HxW illumination in ``[0, 1]`` (see
            :func:`to_night`).
        rng: Source of randomness.
        strength: Gain of the halo; drawn from ``[0.3, 1.0]`` when None.
        radius: Gaussian sigma of the halo in pixels; drawn from
            ``[0.02, 0.06] * min(H, W)`` when None.

    Returns:
        The uint8 RGB image with glow (a new array).
    """
    _check_image(img)
    _check_rng(rng)
    h, w = img.shape[:2]
    light_map = _check_light_map(light_map, (h, w))
    if light_map is None:
        raise ValueError('light_map is required')
    if strength is None:
        strength = float(rng.uniform(0.3, 1.0))
    if radius is None:
        radius = float(rng.uniform(0.02, 0.06)) * min(h, w)
    lin = _SRGB_TO_LINEAR[img]
    halo = _cheap_blur(lin * (light_map**2)[..., None], radius)
    out = np.clip(lin + strength * halo, 0.0, 1.0)**(1 / 2.2)
    return _to_uint8(out)


# --------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------
#: Probability that a default DRS sample is heavy rain (dense streaks,
#: accumulation and veil, Rain100H / Outdoor-Rain style) rather than light
#: to moderate rain (Rain100L / Rain800 style).
HEAVY_RAIN_PROB = 0.25


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def synthesize(clean: np.ndarray,
               rain_type: Union[int, str, np.integer],
               rng: np.random.Generator,
               heavy: Optional[bool] = None,
               heavy_prob: float = HEAVY_RAIN_PROB
               ) -> Tuple[np.ndarray, np.ndarray]:
    """Make a ``(rainy, target)`` training pair of the given type.

    Day types (DRS, DRD) degrade ``clean`` directly and the target is
    ``clean``. Night types (NRS, NRD) first convert ``clean`` with
    :func:`to_night` (this is the first use of ``rng``, so replaying
    ``to_night(clean, rng_copy)`` reproduces the night image and its light
    map) and add the halo of the lights (:func:`add_light_glow`) to make the
    night scene; the rain is added on that scene, lit by the lights (night
    drops also show the lights' glare), and one field of sensor noise is
    added to both the rainy image and the scene, which is the target.

    The parameter ranges are calibrated so that the mean RGB PSNR of the
    rainy inputs against their targets is close to that of the UniRain
    paper's test inputs (``tools/analysis/calibrate_synthesis.py``, results
    in ``docs/benchmarks.md``).

    Args:
        clean: uint8 RGB clean daytime image, HxWx3.
        rain_type: Type id ``0..3`` or code in :data:`RAIN_TYPES`.
        rng: Source of randomness.
        heavy: DRS only: heavy rain (True; half of it Rain100H-like sheets
            of long, thick streaks, half a downpour with accumulation and a
            veil) or light to moderate rain (False); drawn with probability
            ``heavy_prob`` when None.
        heavy_prob: Probability of heavy rain when ``heavy`` is None. The
            default :data:`HEAVY_RAIN_PROB` is the calibrated mixture; a
            training recipe may oversample heavy rain.

    Returns:
        ``(rainy, target)``, both uint8 RGB HxWx3 (new arrays).

    Raises:
        ValueError: For an unknown ``rain_type``, an image that is not
            uint8 HxWx3 or a ``heavy_prob`` outside ``[0, 1]``.
    """
    code = rain_type_code(rain_type)
    if not 0.0 <= heavy_prob <= 1.0:
        raise ValueError(f'heavy_prob must be in [0, 1], got {heavy_prob}')
    _check_image(clean, 'clean')
    _check_rng(rng)
    short = float(min(clean.shape[:2]))
    if code == 'DRS':
        if heavy is None:
            heavy = bool(rng.random() < heavy_prob)
        if heavy and rng.random() < 0.5:
            # Sheets of rain (Rain100H style): dense, long, thick, nearly
            # opaque streaks over the whole frame, little haze.
            rainy = add_rain_streaks(
                clean, rng,
                density=_log_uniform(rng, 0.3, 0.7),
                angle=float(rng.uniform(-12.0, 12.0)),
                length=float(rng.uniform(0.3, 0.8)) * short,
                thickness=float(rng.uniform(1.2, 2.5)) * max(1.0,
                                                             short / 256.0),
                num_layers=int(rng.integers(1, 3)),
                intensity=float(rng.uniform(0.8, 1.0)),
                haze=float(rng.uniform(0.0, 0.15)),
                accumulation=float(rng.uniform(0.0, 0.15)))
        elif heavy:
            # A downpour seen in depth (Outdoor-Rain style): streaks, rain
            # accumulation and a veil that grows with distance.
            rainy = add_rain_streaks(
                clean, rng,
                density=_log_uniform(rng, 0.06, 0.12),
                angle=float(rng.uniform(-15.0, 15.0)),
                length=float(rng.uniform(0.2, 0.45)) * short,
                intensity=float(rng.uniform(0.65, 0.9)),
                haze=float(rng.uniform(0.1, 0.35)),
                accumulation=float(rng.uniform(0.15, 0.4)))
        else:
            rainy = add_rain_streaks(
                clean, rng,
                density=_log_uniform(rng, 0.012, 0.04),
                intensity=float(rng.uniform(0.5, 0.85)),
                haze=0.0, accumulation=0.0)
        return rainy, clean.copy()
    if code == 'DRD':
        # Drops on a window or lens a little in front of the camera
        # (RainDrop style): out of focus, so translucent, milky and with
        # faint rims, behind a glass that adds a uniform veil.
        rainy, _ = render_raindrops(
            clean, rng,
            radius_range=(0.03 * short, 0.12 * short),
            coverage=float(rng.uniform(0.4, 0.8)),
            defocus=float(rng.uniform(0.004, 0.015)) * short,
            opacity_range=(0.35, 0.75),
            milk_range=(0.15, 0.4),
            rim_range=(0.05, 0.25))
        rainy = add_rain_veil(
            rainy, rng,
            strength=float(rng.uniform(0.04, 0.16)),
            airlight=float(rng.uniform(0.75, 0.95)),
            depth=np.ones(clean.shape[:2], np.float32))
        return rainy, clean.copy()
    night, light_map = to_night(clean, rng)
    # Everything that is not rain belongs to both sides of the pair: the
    # lights' halo in wet air is part of the night scene, and the sensor
    # noise (one field, added last) is in the target as well as the input.
    # Real night pairs are made this way (rain rendered over a night photo),
    # and a model learns to remove from every night scene, rain or not, a
    # brightening or noise that only the input carries.
    scene = add_light_glow(night, light_map, rng,
                           strength=float(rng.uniform(0.3, 0.8)))
    if code == 'NRS':
        # Lit streaks are brightest, but rain is seen everywhere in the
        # frame (the camera's own lights and the sky glow catch it too).
        rainy = add_rain_streaks(
            scene, rng,
            density=_log_uniform(rng, 0.035, 0.11),
            intensity=float(rng.uniform(0.7, 1.0)),
            ambient=float(rng.uniform(0.1, 0.3)),
            light_map=light_map)
    else:
        rainy, drops = render_raindrops(
            scene, rng,
            radius_range=(0.03 * short, 0.12 * short),
            coverage=float(rng.uniform(0.55, 0.9)),
            defocus=float(rng.uniform(0.01, 0.025)) * short,
            light_map=light_map,
            scatter=float(rng.uniform(1.0, 3.0)))
        # Drops on the lens spread the lights into glare, seen through the
        # drops only: where there is no drop the scene is untouched.
        glare = add_light_glow(rainy, light_map, rng,
                               strength=float(rng.uniform(2.5, 5.0)))
        mix = np.sqrt(drops)[..., None]  # defocused drops: soft edges
        rainy = _to_uint8(mix * _to_float(glare) +
                          (1.0 - mix) * _to_float(rainy))
    return _add_shared_sensor_noise(rainy, scene, rng)


def _add_shared_sensor_noise(rainy: np.ndarray, target: np.ndarray,
                             rng: np.random.Generator
                             ) -> Tuple[np.ndarray, np.ndarray]:
    """Add one field of sensor noise (see :func:`add_sensor_noise`) to both
    images of a pair, its level set by the target's intensity."""
    shot = float(rng.uniform(2e-4, 1.5e-3))
    read = float(rng.uniform(0.003, 0.01))
    sigma = np.sqrt(shot * _to_float(target) + read * read)
    noise = sigma * rng.standard_normal(target.shape, dtype=np.float32)
    return (_to_uint8(_to_float(rainy) + noise),
            _to_uint8(_to_float(target) + noise))
