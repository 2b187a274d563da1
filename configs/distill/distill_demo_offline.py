# Distillation of the demo data with no model weights at all: deterministic
# statistics captions, hashed embeddings and three offline judges. It shows
# the pipeline end to end (knowledge base, three-level retrieval, quorum vote,
# manifest, LMDB, report); its decisions are NOT those of BLIP/CLIP and VLMs.
#
# The knowledge base of "real" photos is the rainy inputs of the demo's test
# split (synthetic too, and unpaired here); the queries are the training pairs.
#   python tools/misc/make_demo_data.py --root data/demo
#   python tools/distill/distill.py build-kb configs/distill/distill_demo_offline.py
#   python tools/distill/distill.py run configs/distill/distill_demo_offline.py
# or both steps (and finalize) at once:
#   python tools/distill/distill.py all configs/distill/distill_demo_offline.py
work_dir = 'work_dirs/distill_demo_offline'

kb = dict(
    root='work_dirs/distill_demo_offline/kb',
    sources=[
        dict(type='ImageFolder', root='data/demo/test', pattern='*/input/*',
             source='demoreal')
    ],
    ssim_size=64,  # the common size of the SSIM level
    # faiss: 'auto' = exact up to exact_max entries, IVF above (searched
    # with search_params; see tools/analysis/benchmark_retrieval.py)
    index=dict(spec='auto', exact_max=100_000, search_params='nprobe=16'))

queries = [dict(type='PairFolder', root='data/demo', split='train',
                source='demo')]

encoders = dict(
    captioner=dict(type='StatsCaptioner'),
    embedder=dict(type='HashEmbedder', dim=128),
    batch_size=32)

# Paper defaults are K1=100, K2=20, K3=3; the demo base holds 32 photos.
retrieval = dict(k1=16, k2=8, k3=3)

# Three offline judges stand in for the three VLMs: realism (retrieval
# similarity), background (no-reference quality of the target) and the pair.
judges = [
    dict(type='OfflineJudge', name='realism',
         checks=dict(ref_ssim_max=(0.15, None),
                     ref_image_cos_mean=(0.6, None))),
    dict(type='OfflineJudge', name='background',
         checks=dict(target_sharpness=(30.0, None), target_noise=(None, 8.0),
                     target_clipped=(None, 0.1))),
    dict(type='OfflineJudge', name='pair',
         checks=dict(pair_psnr=(18.0, 31.0))),
]
vote = dict(quorum=2)

loader = dict(batch_size=16, num_workers=0)
# PNG level 0 decodes ~2x faster than 1 at ~2x the disk (docs/benchmarks.md)
pack = dict(compress_level=0, num_workers=0)
report = dict(num_examples=6)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
