"""Generate the deterministic demo rain dataset (offline, a few seconds).

Usage::

    python tools/misc/make_demo_data.py --root data/demo --seed 0 \
        [--num-train 32] [--num-test 8] [--size 128] [--overwrite]

See :mod:`unirain_mm.datasets.demo_data` for the layout and the photos used.
"""
import os.path as osp
import sys

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from unirain_mm.datasets import demo_data  # noqa: E402

if __name__ == '__main__':
    demo_data.main()
