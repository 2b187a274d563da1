# Paper Table 5, "fixed weights": the paper recipe with uniform type weights
# all along (no reweighting); the hook still logs the per-type validation
# losses. Full CoBa is unirain_all.py itself.
#   bash tools/dist_train.sh configs/unirain/paper_ablations/unirain_fixed_weights.py 4
_base_ = ['../unirain_all.py']

# custom_hooks replaces the base list, so it is restated whole.
custom_hooks = [
    dict(type='AverageMetricsHook', prefix='Avg'),
    dict(
        type='ReweightingHook',
        strategy=dict(type='Uniform'),
        interval=1,
        warmup=20,
        floor=0.1,
        floor_mode='affine'),
]
