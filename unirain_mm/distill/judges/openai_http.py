"""A judge served over HTTP by any OpenAI-compatible chat-completions server
(lmdeploy, vLLM, SGLang...)."""
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Sequence

import requests

from ..images import to_data_url
from ..registry import JUDGES
from .base import (ABSTAIN, JudgeAnswer, JudgeQuery, VLMJudge,
                   parse_yes_no)


class _Retry(Exception):
    """A failure worth another attempt (timeout, 5xx, 429, garbage)."""


class _Refused(Exception):
    """A failure that another attempt would repeat (other 4xx)."""


@JUDGES.register_module()
class OpenAIChatJudge(VLMJudge):
    """Asks a served vision-language model through ``POST
    {base_url}/chat/completions``, with the images as base64 data URLs.

    A request that times out, fails to connect, gets a 5xx or 429 status or
    an answer that is neither yes nor no is retried with exponential
    backoff; after ``max_retries`` retries the answer is an abstention. Other
    4xx statuses (a wrong model name, too many images) abstain at once.

    Args:
        name (str): Judge name.
        base_url (str): Server root including ``/v1``, e.g.
            ``'http://127.0.0.1:23333/v1'``.
        model (str): Model name the server knows.
        prompt (str, optional): Prompt template.
        api_key_env (str, optional): Environment variable holding a bearer
            token; unset or ``None``: no ``Authorization`` header.
        timeout (float): Seconds per request (connect and read).
        max_retries (int): Retries after the first attempt.
        retry_backoff (float): Sleep before retry i is
            ``retry_backoff * 2**i`` seconds.
        max_concurrency (int): Requests in flight at once, across threads.
        include_target (bool): Also show the clean target.
        image_max_side (int): Images are shrunk to this longer side.
        image_format (str): ``'jpeg'`` or ``'png'``.
        max_tokens (int): Reply length limit.
        system_prompt (str, optional): A system message.
        extra_body (dict, optional): More request fields (e.g.
            ``dict(top_k=1)``).
    """

    def __init__(self,
                 name: str,
                 base_url: str,
                 model: str,
                 prompt: Optional[str] = None,
                 api_key_env: Optional[str] = None,
                 timeout: float = 60.0,
                 max_retries: int = 2,
                 retry_backoff: float = 1.0,
                 max_concurrency: int = 4,
                 include_target: bool = True,
                 image_max_side: int = 448,
                 image_format: str = 'jpeg',
                 max_tokens: int = 8,
                 system_prompt: Optional[str] = None,
                 extra_body: Optional[dict] = None) -> None:
        super().__init__(name, prompt, include_target, image_max_side)
        self.url = base_url.rstrip('/') + '/chat/completions'
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self.image_format = image_format
        self.max_tokens = max_tokens
        self.system_prompt = system_prompt
        self.extra_body = dict(extra_body or {})

    def request_body(self, query: JudgeQuery) -> dict:
        """The chat-completions request for ``query``."""
        content = []
        for label, img in self.labelled_images(query):
            content.append(dict(type='text', text=label))
            content.append(
                dict(type='image_url',
                     image_url=dict(url=to_data_url(img, self.image_format))))
        content.append(dict(type='text', text=self.render_prompt(query)))
        messages = [dict(role='user', content=content)]
        if self.system_prompt:
            messages.insert(0, dict(role='system', content=self.system_prompt))
        return dict(model=self.model, messages=messages,
                    max_tokens=self.max_tokens, temperature=0.0,
                    **self.extra_body)

    def _headers(self) -> dict:
        headers = {'Content-Type': 'application/json'}
        token = os.environ.get(self.api_key_env) if self.api_key_env else None
        if token:
            headers['Authorization'] = f'Bearer {token}'
        return headers

    def _ask(self, body: bytes) -> str:
        """One request; the reply text. Raises :class:`_Retry` on a
        transient failure, :class:`_Refused` on a permanent one."""
        try:
            with self._slots:
                resp = requests.post(self.url, data=body,
                                     headers=self._headers(),
                                     timeout=self.timeout)
        except requests.RequestException as e:
            raise _Retry(f'{type(e).__name__}: {e}') from None
        if resp.status_code == 429 or resp.status_code >= 500:
            raise _Retry(f'HTTP {resp.status_code}: {resp.text[:200]}')
        if resp.status_code != 200:
            raise _Refused(f'HTTP {resp.status_code} from {self.url}: '
                           f'{resp.text[:300]}')
        try:
            content = resp.json()['choices'][0]['message']['content']
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Retry(f'not a chat completion: {resp.text[:200]!r}') \
                from None
        if isinstance(content, list):  # content parts
            content = ' '.join(p.get('text', '') for p in content
                               if isinstance(p, dict))
        return str(content)

    def judge(self, query: JudgeQuery) -> JudgeAnswer:
        start = time.monotonic()
        body = json.dumps(self.request_body(query)).encode('utf-8')
        error, raw = '', ''
        for attempt in range(1, self.max_retries + 2):
            if attempt > 1:
                time.sleep(self.retry_backoff * 2**(attempt - 2))
            try:
                raw = self._ask(body)
            except _Retry as e:
                error = str(e)
                continue
            except _Refused as e:
                error = str(e)
                break
            answer = parse_yes_no(raw)
            if answer is not None:
                return JudgeAnswer(answer, raw=raw, attempts=attempt,
                                   seconds=time.monotonic() - start)
            error = f'reply is neither yes nor no: {raw[:200]!r}'
        return JudgeAnswer(ABSTAIN, raw=raw, error=error, attempts=attempt,
                           seconds=time.monotonic() - start)

    def judge_batch(self, queries: Sequence[JudgeQuery]) -> List[JudgeAnswer]:
        """Answer the queries ``max_concurrency`` at a time."""
        with ThreadPoolExecutor(self.max_concurrency) as pool:
            return list(pool.map(self.safe_judge, queries))
