"""Keep freed activations inside the process (glibc malloc settings).

By default glibc serves every allocation above its mmap threshold (at most
32 MiB, usually far less) with a fresh ``mmap`` and returns it with
``munmap`` when freed. A restoration network frees and re-allocates
activations of tens to hundreds of MiB in every layer, so each layer
page-faults its output in again: on a CPU forward pass the process spends
more time in the kernel than in its own code. :func:`keep_freed_memory`
turns mmap allocation off and raises the trim threshold, so freed blocks stay
in the heap and are reused without page faults. The cost: memory that was
once used is not given back to the system until the process ends (peak RSS
is about the same, but the RSS does not fall after the peak;
``docs/benchmarks.md`` has the measurements).

The tools call it at start-up (train, test, infer, export and the speed
benchmarks), never an import. Set ``UNIRAIN_MALLOC=default`` to leave glibc's
settings alone. No effect (and False) on a C library without ``mallopt``.
"""
import ctypes
import ctypes.util
import os

#: Environment variable; ``default`` leaves the allocator alone.
ENV_VAR = 'UNIRAIN_MALLOC'

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_MAX = -4
_INT_MAX = 2**31 - 1  # mallopt takes an int: the largest trim threshold


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library('c') or None)
    except OSError:
        return None


def release_freed_memory() -> bool:
    """Give the memory that freed blocks hold back to the system now
    (``malloc_trim(0)``), e.g. between the images of a benchmark whose
    processes would not fit in memory together otherwise.

    Returns:
        bool: Whether the C library has ``malloc_trim``.
    """
    trim = getattr(_libc(), 'malloc_trim', None)
    if trim is None:
        return False
    trim.argtypes = (ctypes.c_size_t, )
    trim(0)
    return True


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for reuse instead of unmapping it.

    Equivalent to starting the process with ``MALLOC_MMAP_MAX_=0
    MALLOC_TRIM_THRESHOLD_=2147483647``, applied from inside it.

    Returns:
        bool: Whether the settings were applied (False when disabled by
        ``UNIRAIN_MALLOC=default`` or without glibc's ``mallopt``).
    """
    if os.environ.get(ENV_VAR, '').lower() == 'default':
        return False
    mallopt = getattr(_libc(), 'mallopt', None)
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success
    return (mallopt(_M_MMAP_MAX, 0) == 1
            and mallopt(_M_TRIM_THRESHOLD, _INT_MAX) == 1)
