"""High-level inference: tiled restoration of images of any size."""
from .inferencer import UniRainInferencer, tiled_forward, tile_starts

__all__ = ['UniRainInferencer', 'tiled_forward', 'tile_starts']
