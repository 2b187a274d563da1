from .benchmark_cfg import (BENCHMARK_GROUPS, PROTOCOLS, apply_protocol,
                            benchmark_dir, benchmark_location,
                            benchmark_metrics, benchmark_test_cfg,
                            resolve_benchmarks)
from .labelled_metrics import (InputPSNRRGB, InputPSNRY, InputSSIMY, PSNRRGB,
                               PSNRY, SSIMY)
from .lpips_metric import LPIPS, load_pretrained_lpips, lpips_weight_files
from .pyiqa_ssim import InputSSIMpyiqa, SSIMpyiqa, pyiqa_ssim
from .results_table import (format_markdown, metrics_to_table, save_results,
                            table_to_csv)

__all__ = [
    'PSNRY', 'SSIMY', 'PSNRRGB', 'InputPSNRY',
    'InputSSIMY', 'InputPSNRRGB', 'LPIPS', 'load_pretrained_lpips',
    'lpips_weight_files', 'SSIMpyiqa', 'InputSSIMpyiqa', 'pyiqa_ssim',
    'BENCHMARK_GROUPS', 'PROTOCOLS', 'apply_protocol', 'benchmark_dir',
    'benchmark_location', 'benchmark_metrics', 'benchmark_test_cfg',
    'resolve_benchmarks', 'format_markdown', 'metrics_to_table',
    'save_results', 'table_to_csv'
]
