import csv
import json

from unirain_mm.evaluation import format_markdown, metrics_to_table, \
    save_results, table_to_csv

METRICS = {'DRS/PSNR': 30.123, 'DRS/SSIM': 0.91234, 'Avg/PSNR': 29.0,
           'Avg/SSIM': 0.9, 'NRS/PSNR': 27.877, 'NRS/SSIM': 0.88766,
           'DRS/L1': 0.021}
LABELLED = {'Rain100H/LPIPS': 0.2, 'Rain100H/PSNR-RGB': 29.5,
            'Rain100H/SSIM-Y': 0.9, 'Rain100H/PSNR-Y': 31.0,
            'Rain100H/InputPSNR-Y': 14.0}


def test_table_layout():
    header, rows = metrics_to_table(METRICS)
    assert header == ['set', 'PSNR', 'SSIM', 'L1']  # unknown names last
    assert [r[0] for r in rows] == ['DRS', 'NRS', 'Avg']
    assert rows[1] == ['NRS', 27.877, 0.88766, None]
    md = format_markdown(METRICS)
    assert md.splitlines()[2] == '| DRS | 30.12 | 0.9123 | 0.0210 |'
    assert md.splitlines()[3] == '| NRS | 27.88 | 0.8877 | - |'


def test_labelled_columns_and_their_notes():
    header, _ = metrics_to_table(LABELLED)
    assert header == ['set', 'InputPSNR-Y', 'PSNR-Y', 'SSIM-Y', 'PSNR-RGB',
                      'LPIPS']
    md = format_markdown(LABELLED)
    assert md.splitlines()[2] == \
        '| Rain100H | 14.00 | 31.00 | 0.9000 | 29.50 | 0.2000 |'
    notes = md.split('\n\n')[1]
    assert 'Y channel' in notes and "authors' PSNR" in notes
    assert 'AlexNet' in notes
    assert 'rainy input' in notes
    assert 'Y channel' not in format_markdown(METRICS)  # unlabelled: no note


def test_csv_has_full_precision_and_empty_gaps():
    rows = list(csv.reader(table_to_csv(METRICS).splitlines()))
    assert rows[0] == ['set', 'PSNR', 'SSIM', 'L1']
    assert rows[1] == ['DRS', '30.123', '0.91234', '0.021']
    assert rows[2] == ['NRS', '27.877', '0.88766', '']


def test_save_results(tmp_path):
    paths = save_results(METRICS, str(tmp_path / 'sub' / 'res'))
    assert json.loads(open(paths[0]).read()) == METRICS
    assert open(paths[1]).read() == table_to_csv(METRICS)
    assert open(paths[2]).read() == format_markdown(METRICS)
    assert sorted(p.name for p in (tmp_path / 'sub').iterdir()) == \
        ['res.csv', 'res.json', 'res.md']  # no temporary files left


def test_authors_protocol_columns_and_notes():
    metrics = {'DRS/LPIPS': 0.1, 'DRS/SSIM-pyiqa': 0.8, 'DRS/PSNR-RGB': 28.0,
               'DRS/InputSSIM-pyiqa': 0.5}
    header, _ = metrics_to_table(metrics)
    assert header == ['set', 'PSNR-RGB', 'InputSSIM-pyiqa', 'SSIM-pyiqa',
                      'LPIPS']
    notes = format_markdown(metrics).split('\n\n')[1]
    assert "pyiqa's default ssim: Y of YIQ" in notes
    assert 'multiple of 16' in notes and 'RGB channels' in notes
    assert 'AlexNet' in notes
