from .crop import CropToMultiple
from .loading import LoadRainPair
from .synthesize_rain import SynthesizeRain

__all__ = ['CropToMultiple', 'LoadRainPair', 'SynthesizeRain']
