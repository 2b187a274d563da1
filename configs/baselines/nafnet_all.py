# NAFNet-w64 (mmagic's implementation of the 67.9M-parameter GoPro model)
# retrained like restormer_all.py: UniRain's recipe and data, a plain L1;
# only the network differs. mmagic's NAFNet zero-pads inputs to a multiple
# of 16 and crops its output back, so any image size works.
#   bash tools/dist_train.sh configs/baselines/nafnet_all.py 4
_base_ = ['./restormer_all.py']

model = dict(
    generator=dict(
        _delete_=True,
        type='NAFNet',
        img_channels=3,
        mid_channels=64,
        enc_blk_nums=[1, 1, 1, 28],
        middle_blk_num=1,
        dec_blk_nums=[1, 1, 1, 1]))
