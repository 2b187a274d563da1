import json

from unirain_mm.evaluation import format_markdown, metrics_to_table, \
    save_results

METRICS = {'DRS/PSNR': 30.123, 'DRS/SSIM': 0.91234, 'Avg/PSNR': 29.0,
           'Avg/SSIM': 0.9, 'NRS/PSNR': 27.877, 'NRS/SSIM': 0.88766,
           'DRS/InputPSNR': 21.0}


def test_table_layout():
    header, rows = metrics_to_table(METRICS)
    assert header == ['set', 'InputPSNR', 'PSNR', 'SSIM']
    assert [r[0] for r in rows] == ['DRS', 'NRS', 'Avg']
    assert rows[1] == ['NRS', None, 27.877, 0.88766]
    md = format_markdown(METRICS)
    assert md.splitlines()[2] == '| DRS | 21.00 | 30.12 | 0.9123 |'
    assert md.splitlines()[3] == '| NRS | - | 27.88 | 0.8877 |'


def test_save_results(tmp_path):
    paths = save_results(METRICS, str(tmp_path / 'sub' / 'res'))
    assert json.loads(open(paths[0]).read()) == METRICS
    assert open(paths[1]).read() == format_markdown(METRICS)
    assert sorted(p.name for p in (tmp_path / 'sub').iterdir()) == \
        ['res.json', 'res.md']  # no temporary files left
