"""Retrieval-augmented dataset distillation (UniRain's "RainRAG").

Real rainy photos form a knowledge base (caption, caption embedding, image
embedding, thumbnail). Each rainy input of a paired dataset retrieves its
closest real photos in three levels (caption L2, image cosine, SSIM), and
vision-language judges (or an offline judge) vote on whether to keep the
pair. See ``tools/distill/`` and ``configs/distill/``.
"""
from .encoders import (BlipCaptioner, ClipEmbedder, HashEmbedder,
                       StatsCaptioner, build_encoders)
from .judges import (JudgeAnswer, JudgeQuery, OfflineJudge, OpenAIChatJudge,
                     TransformersVLMJudge)
from .knowledge_base import KnowledgeBase
from .pipeline import Distiller, build_knowledge_base, finalize
from .registry import ENCODERS, JUDGES, PHOTO_SOURCES, QUERY_SOURCES
from .retrieval import Hits, Retriever
from .vote import quorum_vote

__all__ = [
    'BlipCaptioner', 'ClipEmbedder', 'HashEmbedder', 'StatsCaptioner',
    'build_encoders', 'JudgeAnswer', 'JudgeQuery', 'OfflineJudge',
    'OpenAIChatJudge', 'TransformersVLMJudge', 'KnowledgeBase', 'Distiller',
    'build_knowledge_base', 'finalize', 'ENCODERS', 'JUDGES',
    'PHOTO_SOURCES', 'QUERY_SOURCES', 'Hits', 'Retriever', 'quorum_vote'
]
