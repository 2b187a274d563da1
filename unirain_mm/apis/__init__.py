"""High-level inference: tiled restoration of images of any size."""
from .inferencer import (UniRainInferencer, balanced_tile, tile_starts,
                         tiled_forward)

__all__ = [
    'UniRainInferencer', 'tiled_forward', 'tile_starts', 'balanced_tile'
]
