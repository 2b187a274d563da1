# The four rain types in the folder layout <data_root>/<split>/<type>/
# {input,target}/ with split in train, val, test (see README, "Data").
# Training mixes all types; validation and testing evaluate each type
# separately (MultiValLoop / MultiTestLoop) with Y-channel PSNR/SSIM, no
# border crop, prefixed by the type.
# Every dataset lies below data_root. mmengine fills data_root into the
# loaders when it reads this file, so they record it as loaders_root: a
# config that inherits them only sets data_root (as unirain_demo_cpu.py
# does), and tools/train.py and tools/test.py move every dataset below
# loaders_root or data_root there, also for --data-root DIR and
# --cfg-options data_root=DIR (unirain_mm/datasets/data_root.py).
data_root = 'data/unirain'
loaders_root = data_root
rain_types = ['DRS', 'DRD', 'NRS', 'NRD']
crop_size = 128

# LoadRainPair reads files or LMDB and applies the bad-data policy
# (unirain_mm/datasets/bad_data.py): grayscale/RGBA/16-bit converted, pairs of
# different sizes fail, undecodable ones skipped and logged, pairs smaller
# than the crop reflect-padded.
train_pipeline = [
    dict(type='LoadRainPair', min_size=crop_size),
    dict(type='SetValues', dictionary=dict(scale=1)),
    dict(type='PairedRandomCrop', gt_patch_size=crop_size),
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5,
         direction='horizontal'),
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5,
         direction='vertical'),
    dict(type='RandomTransposeHW', keys=['img', 'gt'], transpose_ratio=0.5),
    dict(type='PackInputs'),
]
# at test time a bad pair must stop the run, not vanish from the average
test_pipeline = [
    dict(type='LoadRainPair', policy=dict(corrupt='error')),
    dict(type='PackInputs'),
]

# batch 2 per GPU x 4 GPUs = the paper's batch 8
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='RainTypeDataset',
        data_root=data_root,
        split='train',
        rain_types=rain_types,
        pipeline=train_pipeline))

# one loader per type, as unirain_mm.datasets.data_root.rain_type_loader
# builds them (configs cannot import it)
def _per_type_loaders(split):
    return [
        dict(
            batch_size=1,
            num_workers=2,
            persistent_workers=False,
            drop_last=False,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='RainTypeDataset',
                data_root=data_root,
                split=split,
                rain_types=[t],
                test_mode=True,
                pipeline=test_pipeline)) for t in rain_types
    ]


# 'val' is a held-out part of the training data: it selects the best
# checkpoint and steers the loss reweighting, so the test split steers
# nothing.
val_dataloader = _per_type_loaders('val')
val_evaluator = [[
    dict(type='PSNR', convert_to='Y', prefix=t),
    dict(type='SSIM', convert_to='Y', prefix=t),
] for t in rain_types]
test_dataloader = _per_type_loaders('test')
# Testing reports both conventions, labelled: PSNR-Y/SSIM-Y (mmagic's) and
# PSNR-RGB/SSIM-Y/LPIPS (the authors'; LPIPS only with local AlexNet weights).
test_evaluator = [[
    dict(type=metric, prefix=t)
    for metric in ('PSNRY', 'SSIMY', 'PSNRRGB', 'LPIPS')
] for t in rain_types]
