"""What every judge shares: its input, its answer and the prompt."""
import re
import time
from dataclasses import asdict, dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

from unirain_mm.rain_types import RAIN_TYPE_NAMES
from ..images import fit_max_side, read_rgb

YES, NO, ABSTAIN = 'yes', 'no', 'abstain'

#: The default question; placeholders: ``{rain_type}``, ``{rain_type_name}``,
#: ``{num_refs}``, ``{caption}``. The images come before it, each after a
#: short label (see :meth:`VLMJudge.labelled_images`).
DEFAULT_PROMPT = (
    'You are auditing training data for an image deraining model. The first '
    'image is a rainy image ({rain_type_name}) from a paired, mostly '
    'synthetic dataset; the {num_refs} images labelled "real rainy photo" '
    'are the real photos that resemble it most. Answer yes only if all of '
    'these hold: the rain in the rainy image looks realistic and consistent '
    'with the real rainy photos; the clean target, if shown, has a clean and '
    'sharp background; the pair is usable for training. Otherwise answer '
    'no. Reply with one word: yes or no.')


@dataclass
class JudgeQuery:
    """One rainy/clean pair and the references retrieved for it.

    Attributes:
        key (str): Pair key.
        input_path (str): Rainy image.
        target_path (str, optional): Clean image.
        rain_type (str): Type code, e.g. ``'DRS'``.
        source (str): Dataset name.
        caption (str): Caption of the rainy image.
        references (list[dict]): K3 references, best first, each with
            ``key``, ``path``, ``caption``, ``text_l2``, ``image_cos`` and
            ``ssim``.
    """
    key: str
    input_path: str
    target_path: Optional[str]
    rain_type: str
    source: str = ''
    caption: str = ''
    references: List[dict] = field(default_factory=list)


@dataclass
class JudgeAnswer:
    """A judge's verdict on one query.

    Attributes:
        answer (str): ``'yes'``, ``'no'`` or ``'abstain'`` (no usable
            answer: never counted as yes).
        raw (str): The model's reply (or the measures that decided).
        error (str): Why the judge abstained, if it did.
        attempts (int): Requests made.
        seconds (float): Wall time spent.
        details (dict): Judge-specific numbers (e.g. offline measures).
    """
    answer: str
    raw: str = ''
    error: str = ''
    attempts: int = 1
    seconds: float = 0.0
    details: dict = field(default_factory=dict)

    def to_dict(self, name: str) -> dict:
        """The manifest's per-judge entry."""
        out = dict(name=name, **asdict(self))
        out['seconds'] = round(out['seconds'], 3)
        return out


def parse_yes_no(text: str) -> Optional[str]:
    """``'yes'``/``'no'`` from a model's reply, ``None`` if it is neither.

    The reply must start with the word (after punctuation or markup), or
    contain exactly one of the two words.
    """
    lower = text.strip().lower()
    m = re.match(r'^[^a-z]*(yes|no)\b', lower)
    if m:
        return m.group(1)
    found = set(re.findall(r'\b(yes|no)\b', lower))
    return found.pop() if len(found) == 1 else None


class BaseJudge:
    """A yes/no judge of (query, references, prompt).

    Args:
        name (str): Unique name, recorded in the manifest.
        prompt (str, optional): Template of the question; see
            :data:`DEFAULT_PROMPT` for the placeholders.
    """

    def __init__(self, name: str, prompt: Optional[str] = None) -> None:
        self.name = name
        self.prompt = DEFAULT_PROMPT if prompt is None else prompt
        self.render_prompt(
            JudgeQuery('check', 'x', None, 'DRS', references=[{}]))

    def render_prompt(self, query: JudgeQuery) -> str:
        """The prompt with the query's values filled in."""
        values = dict(
            rain_type=query.rain_type,
            rain_type_name=RAIN_TYPE_NAMES.get(query.rain_type,
                                               query.rain_type),
            num_refs=len(query.references),
            caption=query.caption)
        try:
            return self.prompt.format(**values)
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(
                f'judge {self.name!r}: bad prompt template ({e!r}); '
                f'placeholders available: {sorted(values)}') from None

    def judge(self, query: JudgeQuery) -> JudgeAnswer:
        """Answer one query. May raise; see :meth:`judge_batch`."""
        raise NotImplementedError

    def judge_batch(self, queries: Sequence[JudgeQuery]) -> List[JudgeAnswer]:
        """Answer each query; an exception becomes an abstention."""
        return [self.safe_judge(q) for q in queries]

    def safe_judge(self, query: JudgeQuery) -> JudgeAnswer:
        """:meth:`judge`, with any error recorded as an abstention."""
        start = time.monotonic()
        try:
            return self.judge(query)
        except Exception as e:  # a judge failure must never become a yes
            return JudgeAnswer(ABSTAIN, error=f'{type(e).__name__}: {e}',
                               seconds=time.monotonic() - start)


class VLMJudge(BaseJudge):
    """A judge that shows a vision-language model labelled images.

    Args:
        name (str): Judge name.
        prompt (str, optional): Prompt template.
        include_target (bool): Also show the clean target.
        image_max_side (int): Images are shrunk to this longer side.
    """

    def __init__(self,
                 name: str,
                 prompt: Optional[str] = None,
                 include_target: bool = True,
                 image_max_side: int = 448) -> None:
        super().__init__(name, prompt)
        self.include_target = include_target
        self.image_max_side = image_max_side

    def labelled_images(self,
                        query: JudgeQuery) -> List[Tuple[str, np.ndarray]]:
        """``(label, RGB (H, W, 3) uint8)`` for the rainy image, the clean
        target (if ``include_target``) and each reference, in this order."""
        items = [('Rainy image to judge:', query.input_path)]
        if self.include_target and query.target_path:
            items.append(('Its clean target:', query.target_path))
        items += [(f'Real rainy photo {i}:', ref['path'])
                  for i, ref in enumerate(query.references, 1)]
        return [(label, fit_max_side(read_rgb(path), self.image_max_side))
                for label, path in items]
