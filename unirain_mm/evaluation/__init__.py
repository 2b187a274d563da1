from .benchmark_cfg import (BENCHMARK_GROUPS, benchmark_dir,
                            benchmark_location, benchmark_metrics,
                            benchmark_test_cfg, resolve_benchmarks)
from .labelled_metrics import (InputPSNRRGB, InputPSNRY, InputSSIMY, PSNRRGB,
                               PSNRY, SSIMY)
from .lpips_metric import LPIPS, load_pretrained_lpips, lpips_weight_files
from .results_table import (format_markdown, metrics_to_table, save_results,
                            table_to_csv)

__all__ = [
    'PSNRY', 'SSIMY', 'PSNRRGB', 'InputPSNRY',
    'InputSSIMY', 'InputPSNRRGB', 'LPIPS', 'load_pretrained_lpips',
    'lpips_weight_files', 'BENCHMARK_GROUPS', 'benchmark_dir',
    'benchmark_location', 'benchmark_metrics', 'benchmark_test_cfg',
    'resolve_benchmarks', 'format_markdown', 'metrics_to_table',
    'save_results', 'table_to_csv'
]
