"""Fixtures of the distillation tests: small demo data, the demo config
pointed at it, and a loopback chat-completions server.

A module, not a ``conftest.py``: test modules import the fixtures they use,
so that the name ``conftest`` keeps meaning ``tests/conftest.py``."""
import json
import os.path as osp
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, List

import pytest
from mmengine.config import Config

from unirain_mm.datasets.demo_data import generate_demo_data

DISTILL_REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_DISTILL_CONFIG = osp.join(DISTILL_REPO, 'configs', 'distill',
                               'distill_demo_offline.py')


@pytest.fixture(scope='session')
def distill_data(tmp_path_factory) -> str:
    """Demo pairs, 4 train and 3 test per type, 48x48."""
    root = str(tmp_path_factory.mktemp('distill') / 'demo')
    generate_demo_data(root, num_train=4, num_test=3, num_val=0, size=48,
                       progress=False)
    return root


def demo_config(data_root: str, work_dir: str) -> Config:
    """The demo distillation config on ``data_root``, writing to
    ``work_dir`` (the knowledge base under ``work_dir/kb``)."""
    cfg = Config.fromfile(DEMO_DISTILL_CONFIG)
    cfg.work_dir = work_dir
    cfg.kb.root = osp.join(work_dir, 'kb')
    cfg.kb.sources[0].root = osp.join(data_root, 'test')
    cfg.queries[0].root = data_root
    cfg.retrieval = dict(k1=8, k2=4, k3=2)
    cfg.loader.batch_size = 4
    return cfg


@pytest.fixture
def distill_cfg(distill_data, tmp_path) -> Config:
    return demo_config(distill_data, str(tmp_path / 'work'))


class ChatServer:
    """A chat-completions endpoint on 127.0.0.1.

    ``reply(body, n)`` gets the parsed request and its 0-based number and
    returns ``(status, payload, delay_s)``: a dict payload is sent as JSON,
    a str as is. The server records requests and the most in flight.
    """

    def __init__(self, reply: Callable) -> None:
        self.reply = reply
        self.requests: List[dict] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(
                    int(self.headers['Content-Length'])))
                with server._lock:
                    n = len(server.requests)
                    server.requests.append(
                        dict(path=self.path, body=body,
                             auth=self.headers.get('Authorization')))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight,
                                               server.in_flight)
                try:
                    status, payload, delay = server.reply(body, n)
                    time.sleep(delay)
                    data = (json.dumps(payload) if isinstance(payload, dict)
                            else payload).encode()
                    self.send_response(status)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}/v1'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _completion(text: str) -> dict:
    return dict(id='x', object='chat.completion',
                choices=[dict(index=0, finish_reason='stop',
                              message=dict(role='assistant', content=text))])


@pytest.fixture
def completion() -> Callable[[str], dict]:
    """``completion(text)``: a chat-completions response replying ``text``."""
    return _completion


@pytest.fixture
def chat_server():
    """Factory: ``chat_server(reply)`` starts a :class:`ChatServer`."""
    servers = []

    def start(reply: Callable) -> ChatServer:
        servers.append(ChatServer(reply))
        return servers[-1]

    yield start
    for s in servers:
        s.close()
