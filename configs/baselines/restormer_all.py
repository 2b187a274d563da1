# Restormer (mmagic's implementation, 26.1M parameters) retrained with
# UniRain's recipe and data: everything of unirain_all.py (training set,
# crops and augmentations, AdamW 2e-4 -> 1e-6 cosine over 300k iterations,
# batch 8, per-type validation, best checkpoint by Avg/PSNR) except the
# network and the loss: mmagic's BaseEditModel with a plain L1, without the
# per-type reweighting (ReweightingHook needs UniRain's type weights).
# mmagic's Restormer reflect-pads inputs to a multiple of 8 and crops its
# output back, so any image size works.
#   bash tools/dist_train.sh configs/baselines/restormer_all.py 4
_base_ = ['../unirain/unirain_all.py']

model = dict(
    _delete_=True,
    type='TiledEditModel',  # BaseEditModel + tiled evaluation
    generator=dict(
        type='Restormer',
        inp_channels=3,
        out_channels=3,
        dim=48,
        num_blocks=[4, 6, 6, 8],
        num_refinement_blocks=4,
        heads=[1, 2, 4, 8],
        ffn_expansion_factor=2.66,
        bias=False,
        LayerNorm_type='WithBias',
        dual_pixel_task=False),
    pixel_loss=dict(type='L1Loss', loss_weight=1.0, reduction='mean'),
    data_preprocessor=dict(
        type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255.,
                                                         255.]))

custom_hooks = [dict(type='AverageMetricsHook', prefix='Avg')]
# Every parameter gets a gradient (no routed experts).
find_unused_parameters = False
