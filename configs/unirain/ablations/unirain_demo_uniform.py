# Loss-weighting ablation on the demo budget: fixed uniform weights (the
# baseline; the hook only logs the per-type validation L1).
# All configs in this folder share the demo model, data, seed and schedule
# and validate every 50 iterations (20 rounds in 1000, each one reweighting
# round); they differ only in the ReweightingHook strategy. Compare them with
#   python tools/analysis/ablate_reweighting.py --strategies all
_base_ = ['./demo_1000it_base.py']

custom_hooks = [
    dict(type='AverageMetricsHook', prefix='Avg'),
    dict(
        type='ReweightingHook',
        strategy=dict(type='Uniform'),
        warmup=0,
        floor=0.0),
]
