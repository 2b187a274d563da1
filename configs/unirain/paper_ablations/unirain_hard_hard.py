# Paper Table 6, "Hard+Hard": the paper recipe with Hard-MoE layers in the
# encoder and Hard-MoE layers in the decoder (UniRain itself, Soft+Hard, is
# unirain_all.py). Each MoE layer keeps the expert width of its kind (soft
# 1.0x, hard 2.0x the channels), so parameters and cost differ from UniRain.
#   bash tools/dist_train.sh configs/unirain/paper_ablations/unirain_hard_hard.py 4
_base_ = ['../unirain_all.py']

model = dict(generator=dict(encoder_moe='hard', decoder_moe='hard'))
