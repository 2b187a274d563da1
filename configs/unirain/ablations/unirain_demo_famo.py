# Loss-weighting ablation on the demo budget: FAMO (Liu et al. 2023) adapted to
# validation losses at the same cadence.
# All configs in this folder share the demo model, data, seed and schedule
# and validate every 50 iterations (20 rounds in 1000, each one reweighting
# round); they differ only in the ReweightingHook strategy. Compare them with
#   python tools/analysis/ablate_reweighting.py --strategies all
_base_ = ['./demo_1000it_base.py']

custom_hooks = [
    dict(type='AverageMetricsHook', prefix='Avg'),
    dict(
        type='ReweightingHook',
        strategy=dict(type='FAMO', lr=0.025, gamma=0.001),
        warmup=3,
        floor=0.0),
]
