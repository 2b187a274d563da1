from .input_metrics import InputPSNR, InputSSIM
from .results_table import format_markdown, metrics_to_table, save_results

__all__ = [
    'InputPSNR', 'InputSSIM', 'format_markdown', 'metrics_to_table',
    'save_results'
]
