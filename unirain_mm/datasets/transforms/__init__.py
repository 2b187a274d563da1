from .loading import LoadRainPair
from .synthesize_rain import SynthesizeRain

__all__ = ['LoadRainPair', 'SynthesizeRain']
