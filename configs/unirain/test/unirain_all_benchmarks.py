# The paper model on every converted benchmark (see the dataset base).
#   python tools/test.py configs/unirain/test/unirain_all_benchmarks.py CKPT
_base_ = ['../unirain_all.py', '../../_base_/datasets/derain_benchmarks.py']
