# UniRain-S of the model zoo, second stage: the weights of the second recipe
# (unirain_s_synth.py, 3000 iterations) fine-tuned for 900 iterations on the
# night synthesis of generator version 5 (the lights' halo and the sensor
# noise on both sides of a pair) with a fifth of the samples left rain-free.
# A model that only ever sees rainy inputs changes every image: the
# second-recipe model darkened clean images by 3 to 14 grey levels, real
# night photos most (docs/benchmarks.md). Rain-free samples teach it to
# leave clean images and clean regions alone.
#   bash tools/misc/train_reference.sh unirain-s
_base_ = ['./unirain_s_synth.py']

# the first stage, as published in the zoo by the second recipe
load_from = 'checkpoints/unirain_s_synth_20261202-4b0ba2c6.pth'
max_iters = 900

train_pipeline = [
    dict(step, clean_prob=0.2) if step['type'] == 'SynthesizeRain' else step
    for step in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# a fifth of the first stage's peak learning rate, cosine to the end
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = dict(end=max_iters, T_max=max_iters)
train_cfg = dict(max_iters=max_iters, val_interval=300)
