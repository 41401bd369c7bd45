"""Put on PYTHONPATH when running huggingface_hub from source on Debian 12.

huggingface_hub calls filelock.FileLock(..., mode=0o664), which Debian's
filelock 3.9 does not accept (official-clients.md).  Wrap FileLock so that
keyword arguments its __init__ does not know are dropped; nothing changes on
the wire.  A filelock that knows them all is left alone.
"""
try:
    import inspect

    import filelock

    _Orig = filelock.FileLock
    _params = inspect.signature(_Orig.__init__).parameters
    _known = set(_params) - {"self"}
    _takes_any = any(p.kind == p.VAR_KEYWORD for p in _params.values())

    if not _takes_any and "mode" not in _known:
        class _FileLock(_Orig):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **{k: v for k, v in kwargs.items() if k in _known})

        filelock.FileLock = _FileLock
except (ImportError, TypeError, ValueError):
    pass
