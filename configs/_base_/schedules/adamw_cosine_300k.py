# UniRain paper schedule: AdamW 2e-4, cosine decay to 1e-6 over 300k iters.
max_iters = 300_000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999),
                   weight_decay=1e-4))
# T_max and end are explicit so that a resume keeps the same schedule.
param_scheduler = dict(
    type='CosineAnnealingLR',
    by_epoch=False,
    begin=0,
    end=max_iters,
    T_max=max_iters,
    eta_min=1e-6)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=5000)
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')
# Total batch 8 on 4 GPUs in the paper: 2 per GPU (see the dataset base).
auto_scale_lr = dict(enable=False, base_batch_size=8)
