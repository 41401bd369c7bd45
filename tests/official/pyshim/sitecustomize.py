"""Debian 12's filelock 3.9 has no `mode=` argument, which huggingface_hub
passes (official-clients.md).  Drop it; nothing changes on the wire."""
try:
    import filelock

    _Orig = filelock.FileLock

    class _FileLock(_Orig):
        def __init__(self, lock_file, timeout=-1, **kwargs):
            super().__init__(lock_file, timeout=timeout)

    filelock.FileLock = _FileLock
except ImportError:
    pass
