# The schedule that the loss-weighting ablations in docs/benchmarks.md were
# measured with, kept when the demo moved to 1800 iterations of 64x64 crops:
# 1000 iterations of 4 x 96x96 crops, validating every 50 iterations (20
# rounds, each one reweighting round).
_base_ = ['../unirain_demo_cpu.py']

max_iters = 1000
crop_size = 96
train_pipeline = [
    dict(step, gt_patch_size=crop_size) if step['type'] == 'PairedRandomCrop'
    else dict(step, min_size=crop_size) if step['type'] == 'LoadRainPair'
    else step for step in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
param_scheduler = dict(end=max_iters, T_max=max_iters)
train_cfg = dict(max_iters=max_iters, val_interval=50)
default_hooks = dict(checkpoint=dict(interval=500))
