"""Reply parsing, prompt templates and the exception guard of all judges."""
import pytest

from unirain_mm.distill.judges import (BaseJudge, JudgeQuery, OfflineJudge,
                                       parse_yes_no)


@pytest.mark.parametrize('text,expected', [
    ('Yes', 'yes'), ('no.', 'no'), ('**Yes**, it is realistic', 'yes'),
    ('  NO - the background is blurred', 'no'), ('Answer: yes', 'yes'),
    ('Hard to say: yes or no', None), ('Perhaps', None), ('', None),
    ('nothing here', None), ('Yesterday it rained', None)
])
def test_parse_yes_no(text, expected):
    assert parse_yes_no(text) == expected


def test_prompt_placeholders():
    judge = BaseJudge('j', prompt='{rain_type}/{rain_type_name}/{num_refs}/'
                      '{caption}')
    query = JudgeQuery('k', 'x.png', None, 'NRD', 'src', 'a street',
                       [{}, {}, {}])
    assert judge.render_prompt(query) == \
        'NRD/nighttime raindrops/3/a street'


def test_exception_becomes_abstention():

    class Broken(BaseJudge):

        def judge(self, query):
            raise OSError('disk on fire')

    (ans, ) = Broken('b').judge_batch([JudgeQuery('k', 'x', None, 'DRS')])
    assert ans.answer == 'abstain' and 'disk on fire' in ans.error


def test_unreadable_image_abstains(tmp_path):
    judge = OfflineJudge('o', checks=dict(input_sharpness=(0, None)))
    (ans, ) = judge.judge_batch(
        [JudgeQuery('k', str(tmp_path / 'missing.png'), None, 'DRS')])
    assert ans.answer == 'abstain' and 'missing.png' in ans.error
