"""Judges: yes/no verdicts on a query pair and its retrieved references."""
from .base import (ABSTAIN, DEFAULT_PROMPT, NO, YES, BaseJudge, JudgeAnswer,
                   JudgeQuery, VLMJudge, parse_yes_no)
from .local_vlm import TransformersVLMJudge
from .offline import OfflineJudge
from .openai_http import OpenAIChatJudge

__all__ = [
    'ABSTAIN', 'DEFAULT_PROMPT', 'NO', 'YES', 'BaseJudge', 'JudgeAnswer',
    'JudgeQuery', 'VLMJudge', 'parse_yes_no', 'OpenAIChatJudge',
    'TransformersVLMJudge', 'OfflineJudge'
]
