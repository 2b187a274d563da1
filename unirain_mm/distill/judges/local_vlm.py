"""A judge run in-process by transformers from a local model directory."""
import time
from typing import Optional, Sequence

import torch

from ..encoders import resolve_device
from ..registry import JUDGES
from .base import (ABSTAIN, JudgeAnswer, JudgeQuery, VLMJudge,
                   parse_yes_no)


@JUDGES.register_module()
class TransformersVLMJudge(VLMJudge):
    """A vision-language model loaded with ``AutoProcessor`` and
    ``AutoModelForVision2Seq`` and asked with greedy ``generate``.

    Works with models whose processor takes ``text`` with one image token
    per image plus ``images`` (LLaVA-1.5 style; with the pinned transformers
    4.38). Models that need their own chat code (InternVL2.5, MobileVLM) or a
    newer transformers (LLaVA-NeXT) are better served over HTTP with
    :class:`OpenAIChatJudge`.

    The model loads on the first query, so building the judge is cheap.

    Args:
        name (str): Judge name.
        model_path (str): Local model directory.
        prompt (str, optional): Prompt template.
        prompt_format (str): Wraps the labelled images and the prompt
            (``{content}``) in the model's conversation format.
        image_token (str): The processor's image placeholder.
        include_target (bool): Also show the clean target.
        image_max_side (int): Images are shrunk to this longer side.
        max_new_tokens (int): Reply length limit.
        dtype (str): ``'float32'``, ``'float16'`` or ``'bfloat16'``.
        device (str): ``'auto'`` (this rank's GPU, else CPU), ``'cpu'``...
        trust_remote_code (bool): Passed to ``from_pretrained``.
    """

    def __init__(self,
                 name: str,
                 model_path: str,
                 prompt: Optional[str] = None,
                 prompt_format: str = 'USER: {content}\nASSISTANT:',
                 image_token: str = '<image>',
                 include_target: bool = True,
                 image_max_side: int = 448,
                 max_new_tokens: int = 8,
                 dtype: str = 'bfloat16',
                 device: str = 'auto',
                 trust_remote_code: bool = False) -> None:
        super().__init__(name, prompt, include_target, image_max_side)
        self.model_path = model_path
        self.prompt_format = prompt_format
        self.image_token = image_token
        self.max_new_tokens = max_new_tokens
        self.dtype = getattr(torch, dtype)
        self.device = resolve_device(device)
        self.trust_remote_code = trust_remote_code
        self._model = self._processor = None

    def _load(self) -> None:
        from transformers import AutoModelForVision2Seq, AutoProcessor
        self._processor = AutoProcessor.from_pretrained(
            self.model_path, trust_remote_code=self.trust_remote_code)
        self._model = AutoModelForVision2Seq.from_pretrained(
            self.model_path, torch_dtype=self.dtype,
            trust_remote_code=self.trust_remote_code).to(self.device).eval()

    def render_text(self, query: JudgeQuery, labels: Sequence[str]) -> str:
        """The full model input text: each image label followed by an
        image token, then the prompt."""
        content = '\n'.join(f'{label} {self.image_token}' for label in labels)
        return self.prompt_format.format(
            content=f'{content}\n{self.render_prompt(query)}')

    @torch.no_grad()
    def judge(self, query: JudgeQuery) -> JudgeAnswer:
        start = time.monotonic()
        if self._model is None:
            self._load()
        from PIL import Image
        items = self.labelled_images(query)
        inputs = self._processor(
            text=[self.render_text(query, [label for label, _ in items])],
            images=[Image.fromarray(img) for _, img in items],
            return_tensors='pt').to(self.device)
        if 'pixel_values' in inputs:
            inputs['pixel_values'] = inputs['pixel_values'].to(self.dtype)
        out = self._model.generate(**inputs, do_sample=False,
                                   max_new_tokens=self.max_new_tokens)
        new_tokens = out[:, inputs['input_ids'].shape[1]:]
        raw = self._processor.batch_decode(new_tokens,
                                           skip_special_tokens=True)[0]
        answer = parse_yes_no(raw)
        return JudgeAnswer(
            answer or ABSTAIN, raw=raw,
            error='' if answer else f'reply is neither yes nor no: {raw!r}',
            seconds=time.monotonic() - start)
