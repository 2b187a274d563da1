"""Every converter on a tiny fake tree in its dataset's published layout."""
import pytest

from unirain_mm.datasets.benchmarks import BENCHMARKS
from unirain_mm.datasets.converters import convert, converter_names
from unirain_mm.datasets.converters.streaks import RAIN13K_TESTS

from converter_trees import check_output_fixture, tree  # noqa: F401 (fixtures)


def rain13k(t):
    for i in (1, 2):
        t.pair(f'train/Rain13K/target/{i}.jpg', f'train/Rain13K/input/{i}.jpg')
    for name in RAIN13K_TESTS:
        t.pair(f'test/{name}/target/1.png', f'test/{name}/input/1.png')


def spa_data(t):
    t.pair('Training/real_world_gt/000/000_1_1.png',
           'Training/real_world/000/000-0/000-0_1_1.png',
           'Training/real_world/000/000-1/000-1_1_1.png')
    t.text('Training/real_world.txt',
           '/real_world/000/000-0/000-0_1_1.png '
           '/real_world_gt/000/000_1_1.png\n'
           '/real_world/000/000-1/000-1_1_1.png '
           '/real_world_gt/000/000_1_1.png\n')
    t.pair('Testing/real_test_1000/gt/000gt.png',
           'Testing/real_test_1000/rain/000.png')


def gt_rain(t):
    t.pair('GT-RAIN_train/Oslo_1/Oslo_1-C-000.png',
           'GT-RAIN_train/Oslo_1/Oslo_1-R-000.png',
           'GT-RAIN_train/Oslo_1/Oslo_1-R-001.png')
    for i in ('000', '001'):  # a scene with one clean frame per rainy frame
        t.pair(f'GT-RAIN_val/Gurutto_1-2/Gurutto_1-2-C-{i}.png',
               f'GT-RAIN_val/Gurutto_1-2/Gurutto_1-2-R-{i}.png')
    t.pair('GT-RAIN_test/Cam 2/Cam 2-Webcam-C-000.png',
           'GT-RAIN_test/Cam 2/Cam 2-Webcam-R-000.png')


def lhp_rain(t):
    for seq in ('seq1', 'seq2'):
        t.pair(f'train/gt/{seq}/0001.png', f'train/input/{seq}/0001.png')
    t.pair('val/gt/a.png', 'val/input/a.png')
    t.pair('test/gt/b.png', 'test/input/b.png')


def realrain_1k(t):
    for subset in ('RealRain-1k-H', 'RealRain-1k-L'):
        for part in ('train', 'test'):
            t.pair(f'{subset}/{part}/target/1.png',
                   f'{subset}/{part}/input/1.png')


def weatherbench(t):
    for part in ('train', 'test'):
        t.pair(f'rain/{part}/target/1.png', f'rain/{part}/input/1.png')
    t.pair('snow/train/target/1.png', 'snow/train/input/1.png')


def raindrop(t):
    for i in (0, 1):
        t.pair(f'train/gt/{i}_clean.png', f'train/data/{i}_rain.png')
    t.pair('test_a/gt/0_clean.png', 'test_a/data/0_rain.png')
    t.pair('test_b/gt/0_clean.jpg', 'test_b/data/0_rain.jpg')


def raindrop_clarity(t):
    for frame in ('00001', '00002'):
        t.pair(f'DayRainDrop_Train/Clear/00001/{frame}.png',
               f'DayRainDrop_Train/Drop/00001/{frame}.png')
        t.image(f'DayRainDrop_Train/Blur/00001/{frame}.png', 0)
    t.pair('NightRainDrop_Train/Clear/00007/00001.png',
           'NightRainDrop_Train/Drop/00007/00001.png')


def rainds(t):
    for prefix in ('', 'pie-'):  # the synthetic part's two numberings
        t.pair(f'RainDS_syn/train/gt/{prefix}norain-1.png',
               f'RainDS_syn/train/raindrop/{prefix}rd-1.png',
               f'RainDS_syn/train/rainstreak/{prefix}rain-1.png',
               f'RainDS_syn/train/rainstreak_raindrop/{prefix}rd-rain-1.png')
    t.pair('RainDS_syn/test/gt/norain-2.png',
           'RainDS_syn/test/raindrop/rd-2.png',
           'RainDS_syn/test/rainstreak/rain-2.png',
           'RainDS_syn/test/rainstreak_raindrop/rd-rain-2.png')
    for part in ('train_set', 'test_set'):
        t.pair(f'RainDS_real/{part}/gt/3.png',
               f'RainDS_real/{part}/raindrop/3.png',
               f'RainDS_real/{part}/rainstreak/3.png',
               f'RainDS_real/{part}/rainstreak_raindrop/3.png')


def gtav_nightrain(t):
    t.pair('train/gt/0000.png', 'train/rainy/0000_00.png',
           'train/rainy/0000_01.png')
    t.pair('test/gt/0001.png', 'test/rainy/0001_00.png')


def hq_nightrain(t):
    for part in ('train', 'validation', 'test'):
        t.pair(f'HQ-NightRain-RS/{part}/target/a.jpg',
               f'HQ-NightRain-RS/{part}/input/a.jpg')
    t.pair('HQ-NightRain-RD/train/target/b.jpg',
           'HQ-NightRain-RD/train/input/b.jpg')
    t.pair('HQ-NightRain-SD/test/target/c.jpg',
           'HQ-NightRain-SD/test/input/c.jpg')


def rainrag(t):
    for folder in ('drs', 'DRD', 'Nrs', 'nrd'):
        t.pair(f'{folder}/target/1.png', f'{folder}/input/1.png')
    t.pair('drs/target/2.png', 'drs/input/2.png')


def generic(t):
    t.pair('clean/x_clean.png', 'rainy/x_rain.png')


#: converter -> (tree builder, options, {split: {type: pairs}})
CASES = {
    'rain13k': (rain13k, {}, {
        'train': {'DRS': 2},
        **{name: {'DRS': 1} for name in RAIN13K_TESTS}
    }),
    'spa-data': (spa_data, {}, {
        'train': {'DRS': 2},
        'SPA-Data-test': {'DRS': 1}
    }),
    'gt-rain': (gt_rain, {}, {
        'train': {'DRS': 2},
        'val': {'DRS': 2},
        'GT-RAIN-test': {'DRS': 1}
    }),
    'lhp-rain': (lhp_rain, {}, {
        'train': {'DRS': 2},
        'val': {'DRS': 1},
        'LHP-Rain-test': {'DRS': 1}
    }),
    'realrain-1k': (realrain_1k, {}, {
        'train': {'DRS': 2},
        'RealRain-1k-H': {'DRS': 1},
        'RealRain-1k-L': {'DRS': 1}
    }),
    'weatherbench': (weatherbench, {}, {
        'train': {'DRS': 1},
        'WeatherBench-rain': {'DRS': 1}
    }),
    'raindrop': (raindrop, {}, {
        'train': {'DRD': 2},
        'RainDrop-test_a': {'DRD': 1},
        'RainDrop-test_b': {'DRD': 1}
    }),
    'raindrop-clarity': (raindrop_clarity, {}, {
        'train': {'DRD': 2, 'NRD': 1}
    }),
    'rainds': (rainds, {}, {
        'train': {'DRD': 6, 'DRS': 3},
        'RainDS-syn-RD': {'DRD': 1},
        'RainDS-syn-RS': {'DRS': 1},
        'RainDS-syn-RDS': {'DRD': 1},
        'RainDS-real-RD': {'DRD': 1},
        'RainDS-real-RS': {'DRS': 1},
        'RainDS-real-RDS': {'DRD': 1}
    }),
    'gtav-nightrain': (gtav_nightrain, {}, {
        'train': {'NRS': 2},
        'GTAV-NightRain': {'NRS': 1}
    }),
    'hq-nightrain': (hq_nightrain, {}, {
        'train': {'NRD': 1, 'NRS': 1},
        'val': {'NRS': 1},
        'HQ-NightRain-RS': {'NRS': 1},
        'HQ-NightRain-SD': {'NRD': 1}
    }),
    'rainrag': (rainrag, {}, {
        'train': {'DRD': 1, 'DRS': 2, 'NRD': 1, 'NRS': 1}
    }),
    'generic': (generic,
                dict(rain_type='NRD', split='extra', input_dir='rainy',
                     target_dir='clean', input_rule='{}_rain',
                     target_rule='{}_clean'), {
                         'extra': {'NRD': 1}
                     }),
}


def test_every_converter_is_tested():
    assert set(CASES) == set(converter_names())


def test_every_benchmark_is_written_with_its_type():
    for benchmark, rain_type in BENCHMARKS.items():
        assert any(
            list(expected.get(benchmark, {})) == [rain_type]
            for _, _, expected in CASES.values()), benchmark


@pytest.mark.parametrize('name', sorted(CASES))
def test_converter(name, tree, check_output):
    build, options, expected = CASES[name]
    build(tree)
    summary = convert(name, tree.src, tree.out, progress=False, **options)
    assert summary.counts == expected
    check_output(tree.out, name, expected)
    # Converted again: everything is already there.
    again = convert(name, tree.src, tree.out, progress=False, **options)
    assert (again.written, again.counts) == (0, expected)


@pytest.mark.parametrize('name', sorted(set(CASES) - {'generic'}))
def test_wrong_tree_names_converter_and_folder(name, tree):
    tree.pair('somewhere/else/1.png', 'somewhere/else/1_rain.png')
    with pytest.raises(FileNotFoundError, match=f'^{name}: .*expected'):
        convert(name, tree.src, tree.out, progress=False)


def test_missing_sub_folder_is_named(tree):
    tree.pair('test/Rain100H/target/1.png', 'test/Rain100H/input/1.png')
    tree.image('test/Rain100L/input/1.png', 1)
    with pytest.raises(FileNotFoundError, match='Rain100L/target'):
        convert('rain13k', tree.src, tree.out, progress=False)


def test_rainy_image_without_clean_image_is_skipped(tree, check_output):
    raindrop(tree)
    tree.image('train/data/7_rain.png', 1)
    with pytest.warns(UserWarning, match=r"raindrop: skipped 1 .*7_rain"):
        convert('raindrop', tree.src, tree.out, progress=False)
    check_output(tree.out, 'raindrop', CASES['raindrop'][2])
