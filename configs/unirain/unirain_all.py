# UniRain, paper recipe: the 24.4M-parameter Soft/Hard-MoE network trained on
# all four rain types with AdamW 2e-4 -> 1e-6 (cosine), 300k iterations,
# batch 8 across GPUs (2 per GPU on 4 GPUs), 128x128 crops with flips and
# rotations. Validation per type; the best checkpoint by Avg/PSNR is kept.
#   bash tools/dist_train.sh configs/unirain/unirain_all.py 4
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/schedules/adamw_cosine_300k.py',
    '../_base_/datasets/unirain_4types.py',
]

model = dict(
    type='UniRain',
    generator=dict(
        type='UniRainNet',
        dim=48,
        num_blocks=(4, 6, 6, 8),
        num_refinement_blocks=4,
        num_heads=(1, 2, 4, 8),
        num_experts=3,
        top_k=1,
        renormalize=False,
        router_noise_std=1.0),
    pixel_loss=dict(type='L1Loss', loss_weight=1.0, reduction='none'),
    rain_types=['DRS', 'DRD', 'NRS', 'NRD'],
    # the authors' loss: every image weighted by its type's weight, over B
    loss_form='batch_mean',
    balance_loss_weight=0.0,
    data_preprocessor=dict(
        type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255.,
                                                         255.]))

# Training pairs come from LMDB (pack them with tools/dataset_converters/
# pack_lmdb.py, see data/README.md); validation and test sets stay folders.
# To train on a distilled subset, wrap the dataset:
#   dict(type='ManifestSubset', manifest='.../manifest.jsonl', dataset=...)
# To see each type equally often whatever its size:
#   sampler=dict(type='TypeBalancedSampler')
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PairedLmdbDataset',
        data_root='data/unirain/lmdb/train',  # below data_root: moves with it
        pipeline=_base_.train_pipeline))

# Multi-objective reweighting (docs/method.md, "Optimisation"), the authors'
# released schedule: per-type validation L1 measured at every validation
# round (one update per round), uniform weights for the first 20 rounds
# (only the losses are recorded), CoBa 'official' with a window of 10 rounds
# and tau 5, then the affine floor 0.1. The history and a plot land in the
# work dir (reweighting_history.json, reweighting.png); replay it offline
# with tools/analysis/replay_reweighting.py.
# custom_hooks replaces the base list, so AverageMetricsHook is listed again.
custom_hooks = [
    dict(type='AverageMetricsHook', prefix='Avg'),
    dict(
        type='ReweightingHook',
        strategy=dict(type='CoBa', variant='official', window=10, tau=5.0),
        interval=1,
        warmup=20,
        floor=0.1,
        floor_mode='affine'),
]
