"""Image reading and the small conversions the distillation needs."""
import base64
from typing import Optional

import cv2
import numpy as np


def read_rgb(path: str) -> np.ndarray:
    """Read an image file as RGB.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.

    Raises:
        FileNotFoundError: naming ``path`` if it is missing or undecodable.
    """
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f'cannot read image {path!r} (missing or '
                                'not a decodable image)')
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def fit_max_side(img: np.ndarray, max_side: Optional[int]) -> np.ndarray:
    """Shrink ``img`` (H, W, C) so that its longer side is at most
    ``max_side``; smaller images and ``max_side=None`` pass unchanged."""
    h, w = img.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return img
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def grey_thumb(img: np.ndarray, size: int) -> np.ndarray:
    """Grey image at the common SSIM size.

    Args:
        img (np.ndarray): (H, W, 3) uint8 RGB.
        size (int): Side of the square output.

    Returns:
        np.ndarray: (size, size) uint8.
    """
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    interp = cv2.INTER_AREA if min(grey.shape) > size else cv2.INTER_LINEAR
    return cv2.resize(grey, (size, size), interpolation=interp)


def to_data_url(img: np.ndarray, fmt: str = 'jpeg',
                quality: int = 90) -> str:
    """Encode an RGB image (H, W, 3) uint8 as a base64 ``data:`` URL, the
    form chat-completions servers accept in ``image_url``."""
    fmt = fmt.lower()
    ext = {'jpeg': '.jpg', 'jpg': '.jpg', 'png': '.png'}.get(fmt)
    if ext is None:
        raise ValueError(f'unsupported image format {fmt!r}: use jpeg or png')
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == '.jpg' else []
    ok, buf = cv2.imencode(ext, cv2.cvtColor(img, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise ValueError(f'cannot encode an image of shape {img.shape}')
    mime = 'jpeg' if ext == '.jpg' else 'png'
    return (f'data:image/{mime};base64,'
            + base64.b64encode(buf.tobytes()).decode('ascii'))
