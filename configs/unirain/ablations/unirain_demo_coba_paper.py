# Loss-weighting ablation on the demo budget: UniRain's reweighting as written
# in the paper (losses normalised by their first value, AF = min(t * softmax,
# 1), no floor), window and warm-up scaled to 20 rounds.
# All configs in this folder share the demo model, data, seed and schedule
# and validate every 50 iterations (20 rounds in 1000, each one reweighting
# round); they differ only in the ReweightingHook strategy. Compare them with
#   python tools/analysis/ablate_reweighting.py --strategies all
_base_ = ['./demo_1000it_base.py']

custom_hooks = [
    dict(type='AverageMetricsHook', prefix='Avg'),
    dict(
        type='ReweightingHook',
        strategy=dict(type='CoBa', variant='paper', window=5, tau=5.0),
        warmup=3,
        floor=0.0),
]
