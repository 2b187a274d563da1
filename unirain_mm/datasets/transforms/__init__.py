from .synthesize_rain import SynthesizeRain

__all__ = ['SynthesizeRain']
