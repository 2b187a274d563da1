"""Test benchmarks and the rain type of each (docs/method.md, "Evaluation").

A benchmark ``<name>`` lives in the usual layout with the benchmark name as
the split: ``<data_root>/<name>/<type>/{input,target}/`` (the converters in
``tools/dataset_converters`` write it, the test configs read it).
"""
from collections import OrderedDict

#: benchmark name -> rain type code; the RainRAG splits are ``test/<type>``.
BENCHMARKS = OrderedDict([
    ('RealRain-1k-L', 'DRS'),
    ('RealRain-1k-H', 'DRS'),
    ('RainDS-real-RD', 'DRD'),
    ('RainDS-real-RDS', 'DRD'),
    ('WeatherBench-rain', 'DRS'),
    ('Rain100L', 'DRS'),
    ('Rain100H', 'DRS'),
    ('Test100', 'DRS'),
    ('Test1200', 'DRS'),
    ('Test2800', 'DRS'),
    ('RainDrop-test_a', 'DRD'),
    ('RainDrop-test_b', 'DRD'),
    ('GTAV-NightRain', 'NRS'),
])
