"""The UniRain paper's published numbers, in one place (plain data).

Source: UniRain (CVPR 2026, arXiv 2603.03967), the RainRAG test splits.
Metrics as the authors compute them: PSNR on RGB, SSIM as pyiqa computes it
by default, LPIPS; ``tools/test.py --protocol authors`` reproduces that
convention (``PSNR-RGB``, ``SSIM-pyiqa``, ``LPIPS``). A value we do not
have from the paper is None; nothing here is estimated.
"""
from collections import OrderedDict
from typing import Dict, NamedTuple, Optional, Tuple

PAPER_SOURCE = 'UniRain (CVPR 2026, arXiv 2603.03967)'

#: The columns: the four type test splits and their average.
SETS = ('DRS', 'DRD', 'NRS', 'NRD', 'Avg')
#: The metrics of a cell, in order.
METRICS = ('PSNR', 'SSIM', 'LPIPS')

#: (PSNR, SSIM, LPIPS); None where the paper gives no value.
Triple = Tuple[Optional[float], Optional[float], Optional[float]]


class PaperRow(NamedTuple):
    """One published row.

    Attributes:
        label (str): What the row is, as the paper names it.
        table (str): Where it is published.
        values (dict): Set (of :data:`SETS`) -> :data:`Triple`; a set
            left out is a number we do not have.
        note (str): How a value was read, where it is not a table entry.
    """
    label: str
    table: str
    values: Dict[str, Triple]
    note: str = ''


_NONE: Triple = (None, None, None)

#: Config name (the work-dir name tools/test.py results land in) -> row.
PAPER_ROWS: 'OrderedDict[str, PaperRow]' = OrderedDict([
    ('unirain_all', PaperRow(
        'UniRain (Soft+Hard, full CoBa)', 'main results', {
            'DRS': (29.58, 0.8400, 0.1814),
            'DRD': (24.71, 0.7687, 0.2408),
            'NRS': (35.23, 0.9592, 0.1617),
            'NRD': (26.21, 0.8380, 0.3275),
            'Avg': (28.93, 0.8515, 0.2279),
        })),
    ('restormer_all', PaperRow(
        'Restormer (retrained on RainRAG)', 'main results',
        {'Avg': (27.89, 0.8405, 0.2332)})),
    ('unirain_fixed_weights', PaperRow(
        'Fixed weights', 'Table 5', {'Avg': (27.24, None, None)},
        'the paper states reweighting gains +1.69 dB average PSNR over '
        'fixed weights; 27.24 = 28.93 - 1.69')),
    ('unirain_tbs_only', PaperRow('TBS only', 'Table 5', {})),
    ('unirain_tbs_tss', PaperRow('TBS + TSS', 'Table 5', {})),
    ('unirain_soft_soft', PaperRow(
        'Soft+Soft', 'Table 6', {'Avg': (27.91, None, None)})),
    ('unirain_hard_hard', PaperRow('Hard+Hard', 'Table 6', {})),
    ('unirain_hard_soft', PaperRow('Hard+Soft', 'Table 6', {})),
    ('unirain_single_expert', PaperRow('Single expert', 'Table 6', {})),
])


def paper_value(row: str, set_name: str) -> Triple:
    """The published (PSNR, SSIM, LPIPS) of a row on a set, None where we
    do not have the paper's number."""
    return PAPER_ROWS[row].values.get(set_name, _NONE)
