"""Encoders: tiny random-initialised BLIP and CLIP built from config with
tokenizer files made here, weights loaded from a path; the weight-free
stand-ins."""
import json

import numpy as np
import pytest
import torch

from unirain_mm.distill import ENCODERS, build_encoders
from unirain_mm.distill.encoders import encoder_signature

VIT = dict(type='VisionTransformer',
           arch=dict(embed_dims=32, num_layers=1, num_heads=2,
                     feedforward_channels=64),
           img_size=32, patch_size=16)


@pytest.fixture(scope='module')
def tokenizers(tmp_path_factory):
    """A BERT vocabulary (BLIP) and a byte-level CLIP vocabulary."""
    from transformers.models.clip.tokenization_clip import bytes_to_unicode
    root = tmp_path_factory.mktemp('tokenizers')
    bert = root / 'bert'
    bert.mkdir()
    words = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'picture',
             'of', 'rain', 'street', 'night']
    (bert / 'vocab.txt').write_text('\n'.join(words) + '\n')
    clip = root / 'clip'
    clip.mkdir()
    symbols = list(bytes_to_unicode().values())
    vocab = {s: i for i, s in enumerate(symbols + [s + '</w>'
                                                   for s in symbols])}
    vocab['<|startoftext|>'] = len(vocab)
    vocab['<|endoftext|>'] = len(vocab)
    (clip / 'vocab.json').write_text(json.dumps(vocab))
    (clip / 'merges.txt').write_text('#version: 0.2\n')
    (clip / 'tokenizer_config.json').write_text(json.dumps(
        dict(tokenizer_class='CLIPTokenizer', model_max_length=16)))
    return dict(bert=str(bert), bert_size=len(words) + 2, clip=str(clip),
                clip_size=len(vocab))


def blip_cfg(tok):
    med = dict(architectures=['BertModel'], attention_probs_dropout_prob=0.0,
               hidden_act='gelu', hidden_dropout_prob=0.0, hidden_size=32,
               initializer_range=0.02, intermediate_size=64,
               layer_norm_eps=1e-12, max_position_embeddings=64,
               model_type='bert', num_attention_heads=2, num_hidden_layers=1,
               pad_token_id=0, add_type_embeddings=False,
               vocab_size=tok['bert_size'], encoder_width=32,
               add_cross_attention=True)
    return dict(
        type='BlipCaptioner', input_size=32, device='cpu',
        tokenizer=tok['bert'],
        model=dict(
            type='BlipCaption', vision_encoder=dict(VIT, out_type='raw'),
            tokenizer=dict(type='BlipTokenizer', name_or_path='unused'),
            decoder_head=dict(type='SeqGenerationHead',
                              decoder=dict(type='XBertLMHeadDecoder',
                                           med_config=med)),
            prompt='a picture of ', max_txt_len=12))


def clip_cfg(tok):
    return dict(
        type='ClipEmbedder', input_size=32, device='cpu',
        tokenizer=dict(name_or_path=tok['clip']),
        model=dict(
            type='CLIPZeroShot',
            vision_backbone=dict(
                VIT, pre_norm=True,
                layer_cfgs=dict(act_cfg=dict(type='QuickGELU'))),
            projection=dict(type='CLIPProjection', in_channels=32,
                            out_channels=16),
            text_backbone=dict(type='CLIPTransformer', width=32, layers=1,
                               heads=2, attn_mask=True),
            tokenizer=dict(type='AutoTokenizer', name_or_path='unused',
                           use_fast=False),
            vocab_size=tok['clip_size'], transformer_width=32, proj_dim=16,
            context_length=16))


def _images(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (40 + 8 * i, 48, 3), dtype=np.uint8)
            for i in range(n)]


def test_blip_and_clip_from_config(tokenizers):
    captioner, embedder = build_encoders(
        dict(captioner=blip_cfg(tokenizers), embedder=clip_cfg(tokenizers)))
    captions = captioner.caption(_images())
    assert len(captions) == 3 and all(isinstance(c, str) for c in captions)
    assert set(' '.join(captions).split()) <= {
        'a', 'picture', 'of', 'rain', 'street', 'night', '[UNK]'}
    img = embedder.embed_images(_images())
    txt = embedder.embed_texts(['rain on a street', 'night', ''])
    assert img.shape == (3, 16) and txt.shape == (3, 16)
    assert img.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(img, axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(txt, axis=1), 1, rtol=1e-5)
    # batched equals one by one
    np.testing.assert_allclose(embedder.embed_images(_images()[1:2]),
                               img[1:2], atol=1e-5)


def test_weights_from_checkpoint(tokenizers, tmp_path):
    cfg = clip_cfg(tokenizers)
    torch.manual_seed(1)
    source = ENCODERS.build(cfg)
    path = str(tmp_path / 'clip.pth')
    torch.save(dict(state_dict=source.model.state_dict()), path)
    torch.manual_seed(2)
    fresh = ENCODERS.build(cfg)
    assert not np.allclose(fresh.embed_images(_images()),
                           source.embed_images(_images()))
    loaded = ENCODERS.build(dict(cfg, checkpoint=path))
    np.testing.assert_allclose(loaded.embed_images(_images()),
                               source.embed_images(_images()), atol=1e-6)
    with pytest.raises(FileNotFoundError, match='nothing.pth'):
        ENCODERS.build(dict(cfg, checkpoint=str(tmp_path / 'nothing.pth')))


def test_weight_free_encoders_are_deterministic():
    captioner, embedder = build_encoders(
        dict(captioner=dict(type='StatsCaptioner'),
             embedder=dict(type='HashEmbedder', dim=32)))
    dark = np.full((64, 64, 3), 20, np.uint8)
    dark[::8] = 255  # horizontal bright lines
    assert captioner.caption([dark]) == captioner.caption([dark.copy()])
    assert captioner.caption([dark])[0].startswith('a dark photo')
    assert 'horizontal lines' in captioner.caption([dark])[0]
    txt = embedder.embed_texts(['rain streaks', 'rain streaks', 'sunny'])
    np.testing.assert_array_equal(txt[0], txt[1])
    assert txt[0] @ txt[2] < 0.9
    img = embedder.embed_images(_images())
    np.testing.assert_array_equal(img, embedder.embed_images(_images()))
    np.testing.assert_allclose(np.linalg.norm(img, axis=1), 1, rtol=1e-5)


def test_signature_ignores_runtime_settings(tokenizers):
    a = dict(captioner=dict(type='StatsCaptioner', device='cuda'),
             embedder=dict(type='HashEmbedder', dim=32, fp16=True),
             batch_size=8)
    b = dict(captioner=dict(type='StatsCaptioner'),
             embedder=dict(type='HashEmbedder', dim=32), batch_size=64)
    assert encoder_signature(a) == encoder_signature(b)
    b['embedder']['dim'] = 64
    assert encoder_signature(a) != encoder_signature(b)
