# Test on every benchmark of docs/method.md ("Evaluation") converted under
# data_root: the four RainRAG type splits (<data_root>/test/<type>/) and the
# public benchmarks (<data_root>/<name>/<type>/, written by the converters in
# tools/dataset_converters/). tools/test.py builds one MultiTestLoop loader
# and evaluator per benchmark from these names
# (unirain_mm.evaluation.benchmark_test_cfg): PSNR-Y, SSIM-Y, PSNR-RGB and
# LPIPS, prefixed with the benchmark name, plus the rainy input's scores.
# The group 'all' skips benchmarks that are not converted; named benchmarks
# are required, e.g. --cfg-options test_benchmarks="[Rain100H,Test100]".
test_benchmarks = ['all']
