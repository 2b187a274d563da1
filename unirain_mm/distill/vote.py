"""The quorum vote that turns the judges' answers into a decision."""
from typing import Sequence

from .judges.base import ABSTAIN, NO, YES

KEEP, REJECT = 'keep', 'reject'
#: ``'abstain'``: too many judges abstained to decide either way.
UNDECIDED = ABSTAIN


def quorum_vote(answers: Sequence[str], quorum: int = 2) -> str:
    """Decide from yes/no/abstain answers.

    ``'keep'`` with at least ``quorum`` yes answers; ``'reject'`` when even
    counting every abstention as yes could not reach ``quorum``; otherwise
    ``'abstain'``. An abstention is never counted as a yes.

    Args:
        answers (Sequence[str]): One answer per judge.
        quorum (int): Yes answers needed to keep the pair.

    Returns:
        str: ``'keep'``, ``'reject'`` or ``'abstain'``.
    """
    bad = [a for a in answers if a not in (YES, NO, ABSTAIN)]
    if bad:
        raise ValueError(f'answers must be yes/no/abstain, got {bad}')
    if not 1 <= quorum <= len(answers):
        raise ValueError(f'quorum {quorum} needs 1..{len(answers)} judges')
    yes = sum(a == YES for a in answers)
    if yes >= quorum:
        return KEEP
    if yes + sum(a == ABSTAIN for a in answers) < quorum:
        return REJECT
    return UNDECIDED
