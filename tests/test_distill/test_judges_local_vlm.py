"""TransformersVLMJudge with a tiny random LLaVA saved to a local folder."""
import cv2
import numpy as np
import pytest
import torch

from unirain_mm.distill.judges import JudgeQuery, TransformersVLMJudge

WORDS = ['<unk>', '<s>', '</s>', '<image>', 'USER:', 'ASSISTANT:', 'yes',
         'no', 'rain']


@pytest.fixture(scope='module')
def tiny_llava(tmp_path_factory) -> str:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (CLIPImageProcessor, CLIPVisionConfig,
                              LlamaConfig, LlamaTokenizerFast, LlavaConfig,
                              LlavaForConditionalGeneration, LlavaProcessor)
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)},
                                     unk_token='<unk>'))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = LlamaTokenizerFast(tokenizer_object=tok, bos_token='<s>',
                                   eos_token='</s>', unk_token='<unk>',
                                   pad_token='<unk>')
    tokenizer.add_special_tokens({'additional_special_tokens': ['<image>']})
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessor(
            size={'shortest_edge': 16},
            crop_size={'height': 16, 'width': 16}),
        tokenizer=tokenizer)
    cfg = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=16, intermediate_size=32, num_hidden_layers=2,
            num_attention_heads=2, image_size=16, patch_size=8,
            projection_dim=16),
        text_config=LlamaConfig(
            vocab_size=len(WORDS), hidden_size=16, intermediate_size=32,
            num_hidden_layers=1, num_attention_heads=2,
            num_key_value_heads=2),
        image_token_index=WORDS.index('<image>'), vocab_size=len(WORDS),
        pad_token_id=0)
    torch.manual_seed(0)
    folder = str(tmp_path_factory.mktemp('llava'))
    LlavaForConditionalGeneration(cfg).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@pytest.fixture
def query(tmp_path):
    paths = []
    for name, value in (('in', 90), ('gt', 60), ('ref', 120)):
        paths.append(str(tmp_path / f'{name}.png'))
        cv2.imwrite(paths[-1], np.full((20, 30, 3), value, np.uint8))
    return JudgeQuery('k', paths[0], paths[1], 'NRS', 'demo', 'rain',
                      [dict(path=paths[2])])


def _only_says(folder: str, word: str, dst: str) -> str:
    """A copy of the tiny model whose generation config suppresses every
    token but ``word``, so that greedy decoding can only produce it."""
    import shutil

    from transformers import GenerationConfig
    shutil.copytree(folder, dst)
    GenerationConfig(
        suppress_tokens=[i for i, w in enumerate(WORDS) if w != word],
        pad_token_id=0, bos_token_id=1, eos_token_id=2).save_pretrained(dst)
    return dst


def test_renders_the_prompt_and_decodes_deterministically(tiny_llava, query):
    judge = TransformersVLMJudge('llava', tiny_llava, prompt='rain',
                                 dtype='float32', device='cpu')
    text = judge.render_text(query, ['a', 'b', 'c'])
    assert text == 'USER: a <image>\nb <image>\nc <image>\nrain\nASSISTANT:'
    (ans, ) = judge.judge_batch([query])
    assert ans.raw.strip() and ans.answer in ('yes', 'no', 'abstain')
    assert judge.judge(query).raw == ans.raw  # greedy: deterministic


@pytest.mark.parametrize('word', ['yes', 'no'])
def test_the_models_word_is_the_answer(tiny_llava, query, tmp_path, word):
    folder = _only_says(tiny_llava, word, str(tmp_path / word))
    judge = TransformersVLMJudge('llava', folder, prompt='rain',
                                 dtype='float32', device='cpu',
                                 max_new_tokens=3)
    (ans, ) = judge.judge_batch([query])
    assert ans.raw.split() == [word] * 3
    assert ans.answer == word and not ans.error


def test_missing_model_abstains(tmp_path, query):
    judge = TransformersVLMJudge('llava', str(tmp_path / 'none'),
                                 device='cpu')
    (ans, ) = judge.judge_batch([query])
    assert ans.answer == 'abstain' and ans.error
