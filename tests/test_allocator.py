"""unirain_mm.allocator: applied from inside the process, opt-out, trim."""
import subprocess
import sys

from conftest import REPO_ROOT

SCRIPT = '''
import ctypes, sys
sys.path.insert(0, {root!r})
from unirain_mm import allocator
print(allocator.keep_freed_memory(), allocator.release_freed_memory())
# with mmap off, a 64 MiB block comes from the heap (brk), not from mmap:
# freeing it leaves the program break where it was
libc = ctypes.CDLL(None)
libc.sbrk.restype = ctypes.c_void_p
libc.malloc.restype = ctypes.c_void_p
before = libc.sbrk(0)
libc.malloc(64 << 20)
print(libc.sbrk(0) - before >= 64 << 20)
'''


def _run(env_value=None):
    import os
    env = dict(os.environ)
    env.pop('UNIRAIN_MALLOC', None)
    if env_value is not None:
        env['UNIRAIN_MALLOC'] = env_value
    out = subprocess.run([sys.executable, '-c',
                          SCRIPT.format(root=REPO_ROOT)],
                         capture_output=True, text=True, env=env, check=True)
    return out.stdout.split()


def test_keeps_large_blocks_in_the_heap_and_opts_out():
    assert _run() == ['True', 'True', 'True']
    # opted out: glibc's default serves 64 MiB with mmap, the break stays
    assert _run('default') == ['False', 'True', 'False']


def test_importing_the_package_changes_nothing():
    out = subprocess.run(
        [sys.executable, '-c', 'import sys; sys.path.insert(0, %r); '
         'import ctypes; libc = ctypes.CDLL(None); '
         'libc.sbrk.restype = libc.malloc.restype = ctypes.c_void_p; '
         'import unirain_mm, unirain_mm.allocator; b = libc.sbrk(0); '
         'libc.malloc(64 << 20); print(libc.sbrk(0) - b >= 64 << 20)'
         % REPO_ROOT], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ['False']
