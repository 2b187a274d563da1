"""The quorum vote: abstentions never count as yes."""
import pytest

from unirain_mm.distill import quorum_vote


@pytest.mark.parametrize('answers,quorum,decision', [
    (['yes', 'yes', 'no'], 2, 'keep'),
    (['yes', 'yes', 'yes'], 2, 'keep'),
    (['yes', 'no', 'no'], 2, 'reject'),
    (['no', 'no', 'abstain'], 2, 'reject'),
    (['yes', 'abstain', 'no'], 2, 'abstain'),
    (['yes', 'abstain', 'abstain'], 2, 'abstain'),
    (['abstain', 'abstain', 'abstain'], 2, 'abstain'),
    (['yes', 'yes', 'abstain'], 3, 'abstain'),
    (['yes', 'no', 'yes'], 3, 'reject'),
    (['yes'], 1, 'keep'),
    (['abstain'], 1, 'abstain'),
])
def test_quorum(answers, quorum, decision):
    assert quorum_vote(answers, quorum) == decision


def test_bad_input():
    with pytest.raises(ValueError, match='quorum'):
        quorum_vote(['yes', 'no'], 3)
    with pytest.raises(ValueError, match='yes/no/abstain'):
        quorum_vote(['maybe', 'yes'], 1)
