# Paper Table 5, "TBS + TSS": CoBa with TBS and TSS mixed half and half, AF
# fixed at 0.5 instead of CoBa's adaptive divergence factor (our reading of
# the row). Full CoBa is unirain_all.py itself.
#   bash tools/dist_train.sh configs/unirain/paper_ablations/unirain_tbs_tss.py 4
_base_ = ['../unirain_all.py']

# custom_hooks replaces the base list, so it is restated whole.
custom_hooks = [
    dict(type='AverageMetricsHook', prefix='Avg'),
    dict(
        type='ReweightingHook',
        strategy=dict(
            type='CoBa', variant='official', window=10, tau=5.0,
            fixed_af=0.5),
        interval=1,
        warmup=20,
        floor=0.1,
        floor_mode='affine'),
]
