"""Atomic file writes (readers never see a partial file) and safe reads."""
import json
import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from typing import IO, Iterator, Optional

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_open(path: str, mode: str = 'wb') -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; it replaces
    ``path`` when the block ends without an exception, else it is removed.
    For outputs too large to build in memory first."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_')
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; act like open()
        with os.fdopen(fd, mode) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with atomic_open(path, 'wb') as f:
        f.write(data)


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode('utf-8'))


def atomic_write_png(path: str, rgb) -> None:
    """Encode an (H, W, 3) uint8 RGB array as PNG and write it atomically.

    Raises:
        RuntimeError: The array cannot be encoded as PNG.
    """
    import cv2
    ok, buf = cv2.imencode('.png', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError(f'PNG encoding failed for {path}')
    atomic_write_bytes(path, buf.tobytes())


def save_json_atomic(obj, path: str, indent: int = 1) -> None:
    """Write ``obj`` as JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=indent) + '\n')


def read_bytes(path: str) -> Optional[bytes]:
    """The content of ``path``, or None if the file does not exist."""
    try:
        with open(path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        return None
