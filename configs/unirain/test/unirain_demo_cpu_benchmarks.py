# The demo model on every converted benchmark under data/demo (the demo data
# holds the four type splits; other benchmarks are skipped with a message).
#   python tools/test.py configs/unirain/test/unirain_demo_cpu_benchmarks.py \
#       work_dirs/unirain_demo_cpu/iter_1800.pth
_base_ = [
    '../unirain_demo_cpu.py', '../../_base_/datasets/derain_benchmarks.py'
]
