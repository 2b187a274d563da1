# Runtime shared by all UniRain-MM configs (no mmagic:: bases needed).
default_scope = 'mmagic'
# Importing unirain_mm.registry_all registers UniRain-MM (and applies the
# shims it needs); a bare `import unirain_mm` registers nothing.
custom_imports = dict(
    imports=['unirain_mm.registry_all'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        interval=5000,
        by_epoch=False,
        save_best='Avg/PSNR',
        rule='greater',
        max_keep_ckpts=5,
        out_dir=None),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# Adds Avg/PSNR and Avg/SSIM over the per-type sets (read by save_best).
custom_hooks = [dict(type='AverageMetricsHook', prefix='Avg')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
# Hard-MoE experts that no image of a batch selects get no gradient.
find_unused_parameters = True

log_level = 'INFO'
log_processor = dict(type='LogProcessor', window_size=100, by_epoch=False)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='ConcatImageVisualizer',
    vis_backends=vis_backends,
    fn_key='gt_path',
    img_keys=['gt_img', 'input', 'pred_img'],
    bgr2rgb=True)
randomness = dict(seed=2026, diff_rank_seed=True)
load_from = None
resume = False
