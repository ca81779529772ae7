"""What every one-instance Mastodon.py script in this folder shares:
loopback-only name resolution (installed on import), `check`, `step` and
`run`, which reports the first failed check and exits 1.

The scripts run under `python -I` (no script directory on sys.path), so
each adds its own directory before importing this module.
"""

import socket
import sys
import traceback

_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host, port, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name in ("localhost", "127.0.0.1") or (name or "").endswith(".localhost"):
        return _getaddrinfo("127.0.0.1", port, *args, **kwargs)
    raise OSError(f"the client test only talks to *.localhost, not {name!r}")


# glibc may not resolve `alpha.localhost`.
socket.getaddrinfo = _loopback_getaddrinfo


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def step(name):
    print(f"== {name}", flush=True)


def run(main):
    """Runs `main`; any exception is the test's failure, printed."""
    try:
        main()
    except Exception as e:  # noqa: BLE001 - the report is the point
        print(f"FAILED: {e}", flush=True)
        traceback.print_exc()
        sys.exit(1)
