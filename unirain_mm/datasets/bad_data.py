"""What to do with bad training pairs: one documented action per case.

The same policy is applied when packing an LMDB (``lmdb_pack``) and when
loading a pair (``LoadRainPair``), so a database never holds a sample the
loader would treat differently.

========================  =======================  ===========================
case                      actions                  default and why
========================  =======================  ===========================
``corrupt``               ``skip`` / ``error``     ``skip``: one undecodable
  (undecodable bytes,                              file in millions should not
  unreadable file)                                 stop training; it is logged
``missing``               ``skip`` / ``error``     ``error``: a key listed in
  (key absent from the                             ``meta_info.txt`` but not in
  database, file gone)                             the database means the wrong
                                                   database or a broken copy
``size_mismatch``         ``crop`` / ``skip`` /    ``error``: the pair is
  (input and target       ``error``                probably mismatched;
  differ in size)                                  ``crop`` keeps the common
                                                   top-left region
``grayscale``             ``convert`` / ``skip``   ``convert``: replicate the
                          / ``error``              channel to RGB
``alpha``                 ``convert`` / ``skip``   ``convert``: drop the alpha
  (RGBA)                  / ``error``              channel
``high_bit_depth``        ``convert`` / ``skip``   ``convert``: scale 16-bit to
  (16-bit)                / ``error``              8-bit with rounding
``too_small``             ``pad`` / ``skip`` /     ``pad``: reflect-pad input
  (smaller than the       ``error``                and target alike to the
  crop)                                            crop size
========================  =======================  ===========================

``skip`` drops the pair and logs it with its key and a running count; in a
training dataset mmengine then draws another sample. ``error`` raises
:class:`BadPairError`, which names the key. A pair is never silently wrong.
"""
from dataclasses import dataclass, fields
from typing import Optional, Tuple

import cv2
import numpy as np
from mmengine.logging import MMLogger

_ACTIONS = {
    'corrupt': ('skip', 'error'),
    'missing': ('skip', 'error'),
    'size_mismatch': ('crop', 'skip', 'error'),
    'grayscale': ('convert', 'skip', 'error'),
    'alpha': ('convert', 'skip', 'error'),
    'high_bit_depth': ('convert', 'skip', 'error'),
    'too_small': ('pad', 'skip', 'error'),
}


class BadPairError(ValueError):
    """A pair that the policy says must stop the job; the message names it."""


class SkipPair(Exception):
    """A pair that the policy says to drop (carries the reason)."""


@dataclass(frozen=True)
class BadDataPolicy:
    """The action for each bad-data case (see the module docstring)."""
    corrupt: str = 'skip'
    missing: str = 'error'
    size_mismatch: str = 'error'
    grayscale: str = 'convert'
    alpha: str = 'convert'
    high_bit_depth: str = 'convert'
    too_small: str = 'pad'

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in _ACTIONS[f.name]:
                raise ValueError(f'bad-data policy {f.name}={value!r}: '
                                 f'expected one of {_ACTIONS[f.name]}')

    @classmethod
    def build(cls, cfg: Optional[dict] = None) -> 'BadDataPolicy':
        """A policy from a config dict of overrides (None: the defaults)."""
        if isinstance(cfg, cls):
            return cfg
        unknown = set(cfg or {}) - set(_ACTIONS)
        if unknown:
            raise ValueError(f'unknown bad-data cases {sorted(unknown)}; '
                             f'known: {sorted(_ACTIONS)}')
        return cls(**(cfg or {}))

    def handle(self, case: str, key: str, detail: str) -> str:
        """Apply the action for ``case``: raise for ``error`` or ``skip``,
        return the action otherwise (``convert``/``crop``/``pad``)."""
        action = getattr(self, case)
        message = f'{key}: {detail}'
        if action == 'error':
            raise BadPairError(
                f'{message} (bad-data policy {case}=error; set it to one of '
                f'{[a for a in _ACTIONS[case] if a != "error"]} to go on)')
        if action == 'skip':
            raise SkipPair(f'{message} ({case})')
        return action


def decode_image(data: Optional[bytes], key: str, policy: BadDataPolicy,
                 what: str) -> np.ndarray:
    """Decode image bytes to an RGB uint8 array ``(H, W, 3)`` under the
    policy. ``data`` None means the record or file is missing.

    Raises:
        BadPairError, SkipPair: as the policy says.
    """
    if data is None:
        policy.handle('missing', key, f'{what} image not found')
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) \
        if data else None
    if img is None:
        policy.handle('corrupt', key, f'{what} image cannot be decoded')
    if img.dtype == np.uint16:
        policy.handle('high_bit_depth', key, f'{what} image is 16-bit')
        img = ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif img.dtype != np.uint8:
        policy.handle('corrupt', key, f'{what} image has dtype {img.dtype}')
    if img.ndim == 2 or img.shape[2] == 1:
        policy.handle('grayscale', key, f'{what} image is grayscale')
        return np.ascontiguousarray(
            np.repeat(img.reshape(img.shape[0], img.shape[1], 1), 3, 2))
    if img.shape[2] == 4:
        policy.handle('alpha', key, f'{what} image has an alpha channel')
        img = img[..., :3]
    return np.ascontiguousarray(img[..., ::-1])  # cv2 decodes to BGR


def match_sizes(img: np.ndarray, gt: np.ndarray, key: str,
                policy: BadDataPolicy) -> Tuple[np.ndarray, np.ndarray]:
    """Check that input and target have the same size (crop if allowed)."""
    if img.shape[:2] == gt.shape[:2]:
        return img, gt
    policy.handle('size_mismatch', key, f'input is {img.shape[1]}x'
                  f'{img.shape[0]} but target is {gt.shape[1]}x'
                  f'{gt.shape[0]} (width x height)')
    h, w = min(img.shape[0], gt.shape[0]), min(img.shape[1], gt.shape[1])
    return img[:h, :w], gt[:h, :w]


def pad_to_size(img: np.ndarray, gt: np.ndarray, min_size: int, key: str,
                policy: BadDataPolicy) -> Tuple[np.ndarray, np.ndarray]:
    """Make a pair at least ``min_size`` on both sides (reflect padding)."""
    h, w = img.shape[:2]
    if h >= min_size and w >= min_size:
        return img, gt
    policy.handle('too_small', key, f'{w}x{h} is smaller than the crop '
                  f'{min_size}x{min_size}')
    pad = ((0, max(0, min_size - h)), (0, max(0, min_size - w)), (0, 0))
    # reflect needs a side of at least 2 pixels; symmetric works for 1
    mode = 'reflect' if min(h, w) > 1 else 'symmetric'
    return np.pad(img, pad, mode=mode), np.pad(gt, pad, mode=mode)


def log_skip(reason: SkipPair, count: int) -> None:
    """Log a skipped pair with the running count of this process."""
    MMLogger.get_current_instance().warning(
        f'skipped bad pair {reason} [{count} skipped so far in this '
        'process]')
