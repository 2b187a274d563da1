# Loss-weighting ablation on the demo budget: Dynamic Weight Average (Liu et
# al. 2019) on the validation losses, temperature 2.
# All configs in this folder share the demo model, data, seed and schedule
# and validate every 50 iterations (20 rounds in 1000, each one reweighting
# round); they differ only in the ReweightingHook strategy. Compare them with
#   python tools/analysis/ablate_reweighting.py --strategies all
_base_ = ['./demo_1000it_base.py']

custom_hooks = [
    dict(type='AverageMetricsHook', prefix='Avg'),
    dict(
        type='ReweightingHook',
        strategy=dict(type='DWA', temperature=2.0),
        warmup=3,
        floor=0.0),
]
