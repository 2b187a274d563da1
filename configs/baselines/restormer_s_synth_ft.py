# Restormer-S of the model zoo, second stage: UniRain-S's second stage
# (configs/unirain/unirain_s_synth_ft.py) applied to Restormer-S. The weights
# of restormer_s_synth.py fine-tuned on the night synthesis of generator
# version 5 with a fifth of the samples left rain-free, at the same learning
# rate and schedule shape, for UniRain-S's 900 iterations scaled by the
# ratio the first stage used (2800 / 3000), so that both models get the same
# wall-clock budget in both stages.
#   bash tools/misc/train_reference.sh restormer-s
_base_ = ['./restormer_s_synth.py']

# the first stage, as published in the zoo on 2026-12-04
load_from = 'checkpoints/restormer_s_synth_20261204-333cc34c.pth'
max_iters = 840

train_pipeline = [
    dict(step, clean_prob=0.2) if step['type'] == 'SynthesizeRain' else step
    for step in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = dict(end=max_iters, T_max=max_iters)
train_cfg = dict(max_iters=max_iters, val_interval=280)
