from .input_metrics import InputPSNR, InputSSIM

__all__ = ['InputPSNR', 'InputSSIM']
