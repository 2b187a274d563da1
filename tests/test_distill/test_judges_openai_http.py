"""OpenAIChatJudge against a real chat-completions server on loopback."""
import base64
import time

import cv2
import numpy as np
import pytest

from distill_fixtures import (  # noqa: F401  (fixtures, used by name)
    chat_server, completion)

from unirain_mm.distill.judges import JudgeQuery, OpenAIChatJudge


@pytest.fixture
def query(tmp_path):
    paths = []
    for name, value in (('in', 90), ('gt', 60), ('r1', 120), ('r2', 30)):
        path = str(tmp_path / f'{name}.png')
        cv2.imwrite(path, np.full((40, 50, 3), value, np.uint8))
        paths.append(path)
    refs = [dict(key=f'real_{i}', path=p, caption='rain', text_l2=0.1,
                 image_cos=0.9, ssim=0.5) for i, p in enumerate(paths[2:])]
    return JudgeQuery('demo_DRS_0', paths[0], paths[1], 'DRS', 'demo',
                      'a street', refs)


def _judge(server, **kwargs):
    kwargs.setdefault('retry_backoff', 0.01)
    return OpenAIChatJudge('vlm', server.url, 'internvl', **kwargs)


def test_request_and_yes(chat_server, completion, query, monkeypatch):
    server = chat_server(lambda body, n: (200, completion('Yes.'), 0))
    monkeypatch.setenv('JUDGE_TOKEN', 'secret')
    judge = _judge(server, api_key_env='JUDGE_TOKEN',
                   prompt='Is this {rain_type_name} real? {num_refs} refs')
    ans = judge.judge_batch([query])[0]
    assert (ans.answer, ans.attempts, ans.error) == ('yes', 1, '')
    (req, ) = server.requests
    assert req['path'] == '/v1/chat/completions'
    assert req['auth'] == 'Bearer secret'
    body = req['body']
    assert body['model'] == 'internvl' and body['temperature'] == 0.0
    parts = body['messages'][0]['content']
    urls = [p['image_url']['url'] for p in parts if p['type'] == 'image_url']
    assert len(urls) == 4  # rainy, target, two references
    texts = [p['text'] for p in parts if p['type'] == 'text']
    assert texts[-1] == 'Is this daytime rain streaks real? 2 refs'
    assert texts[0] == 'Rainy image to judge:'
    head, data = urls[0].split(',', 1)
    assert head == 'data:image/jpeg;base64'
    img = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8),
                       cv2.IMREAD_COLOR)
    assert img.shape == (40, 50, 3) and abs(int(img.mean()) - 90) <= 2


def test_garbage_is_retried_then_abstains(chat_server, completion, query):
    server = chat_server(lambda body, n: (200, completion('Perhaps.'), 0))
    ans = _judge(server, max_retries=2).judge(query)
    assert ans.answer == 'abstain' and ans.attempts == 3
    assert 'neither yes nor no' in ans.error and ans.raw == 'Perhaps.'
    assert len(server.requests) == 3


@pytest.mark.parametrize('status,payload', [(500, 'oops'), (429, 'slow'),
                                            (200, 'not json'),
                                            (200, {'choices': []})])
def test_transient_failure_then_no(chat_server, completion, query, status,
                                   payload):
    server = chat_server(lambda body, n: (status, payload, 0) if n == 0 else
                         (200, completion('no, the rain is fake'), 0))
    ans = _judge(server).judge(query)
    assert (ans.answer, ans.attempts) == ('no', 2)


def test_timeout_abstains(chat_server, completion, query):
    server = chat_server(lambda body, n: (200, completion('yes'), 1.0))
    start = time.monotonic()
    ans = _judge(server, timeout=0.2, max_retries=1).judge(query)
    assert ans.answer == 'abstain' and 'Timeout' in ans.error
    assert ans.attempts == 2 and time.monotonic() - start < 1.5


def test_client_error_abstains_at_once(chat_server, query):
    server = chat_server(lambda body, n: (400, 'too many images', 0))
    ans = _judge(server).judge(query)
    assert ans.answer == 'abstain' and 'HTTP 400' in ans.error
    assert len(server.requests) == 1


def test_unreachable_server_abstains(query):
    judge = OpenAIChatJudge('vlm', 'http://127.0.0.1:9/v1', 'm', timeout=0.5,
                            max_retries=1, retry_backoff=0.01)
    assert judge.judge(query).answer == 'abstain'


def test_concurrency_limit(chat_server, completion, query):
    server = chat_server(lambda body, n: (200, completion('yes'), 0.1))
    judge = _judge(server, max_concurrency=2)
    answers = judge.judge_batch([query] * 6)
    assert [a.answer for a in answers] == ['yes'] * 6
    assert server.max_in_flight == 2


def test_bad_prompt_template_fails_early(chat_server):
    with pytest.raises(ValueError, match='placeholders available'):
        OpenAIChatJudge('vlm', 'http://x/v1', 'm', prompt='{nonsense}')
