# The paper's pipeline: BLIP captions, CLIP ViT-B/16 embeddings, three
# vision-language judges served over HTTP (OpenAI-compatible chat
# completions), a pair kept when 2 of 3 say yes. See README, "With real
# weights and served VLMs on GPUs", for the serving commands.
#
#   python tools/distill/distill.py build-kb \
#       configs/distill/distill_real_vlm.py
#   torchrun --nproc_per_node 8 tools/distill/distill.py run \
#       configs/distill/distill_real_vlm.py --launcher pytorch
work_dir = 'work_dirs/distill_real_vlm'

kb = dict(
    root='data/distill/kb_realrain',  # built once, reused by every run
    sources=[
        # unpaired real rainy photos, e.g. the rainy images of real sets
        dict(type='ImageFolder', root='data/real_rain', pattern='**/*',
             source='realrain'),
    ],
    ssim_size=128,
    # exact search up to 100k photos; above, an inverted file with about
    # 4*sqrt(N) lists searched in 16 of them (tools/analysis/
    # benchmark_retrieval.py measures speed and recall)
    index=dict(spec='auto', exact_max=100_000, search_params='nprobe=16'))

# Paired training sets as list files written by tools/dataset_converters.
queries = [
    dict(type='PairList', path='data/lists/rain13k_train.tsv'),
    dict(type='PairList', path='data/lists/spa_train.tsv'),
    dict(type='PairList', path='data/lists/gtav_nightrain_train.tsv'),
]

# Weights: local paths or URLs (downloaded once into torch's hub cache).
# Tokenizers: local folders (offline) or hub names.
encoders = dict(
    captioner=dict(
        type='BlipCaptioner',
        model='blip-base_3rdparty_caption',
        checkpoint='https://download.openmmlab.com/mmclassification/v1/blip/'
        'blip-base_3rdparty_coco-caption_20230419-a5b71af3.pth',
        tokenizer='bert-base-uncased',
        fp16=True),
    embedder=dict(
        type='ClipEmbedder',
        model='mmpretrain::clip/clip_vit-base-p16_zeroshot-cls_in1k.py',
        # OpenAI CLIP ViT-B/16 converted with mmpretrain's
        # tools/model_converters/openai-clip_to_mmpretrain-clip.py
        checkpoint='checkpoints/clip_vit-base-p16_openai_mmpretrain.pth',
        tokenizer='openai/clip-vit-base-patch16',
        fp16=True),
    batch_size=64)

retrieval = dict(k1=100, k2=20, k3=3)

# One prompt for all judges ({rain_type_name}, {num_refs}, {caption}).
prompt = (
    'You are auditing training data for an image deraining model. The first '
    'image is a rainy image ({rain_type_name}) from a paired, mostly '
    'synthetic dataset; the {num_refs} images labelled "real rainy photo" '
    'are the real photos that resemble it most. Answer yes only if all of '
    'these hold: the rain in the rainy image looks realistic and consistent '
    'with the real rainy photos; the clean target has a clean and sharp '
    'background; the pair is usable for training. Otherwise answer no. '
    'Reply with one word: yes or no.')

_judge = dict(type='OpenAIChatJudge', timeout=120.0, max_retries=3,
              max_concurrency=16, image_max_side=448, max_tokens=4)
judges = [
    dict(_judge, name='internvl2_5_8b', base_url='http://127.0.0.1:23333/v1',
         model='OpenGVLab/InternVL2_5-8B'),
    dict(_judge, name='llava_next_7b', base_url='http://127.0.0.1:8001/v1',
         model='llava-hf/llava-v1.6-vicuna-7b-hf'),
    dict(_judge, name='mobilevlm_3b', base_url='http://127.0.0.1:23334/v1',
         model='mobilevlm-v2-3b'),
]
vote = dict(quorum=2)

loader = dict(batch_size=64, num_workers=8)
# PNG level 0 decodes ~2x faster than 1 at ~2x the disk (docs/benchmarks.md)
pack = dict(compress_level=0, num_workers=8)
report = dict(num_examples=8)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
