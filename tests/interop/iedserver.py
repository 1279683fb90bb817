#!/usr/bin/env python3
"""libiec61850's IedServer as a stand-alone MMS server peer: ``iedserver.py PORT``.

The model is the one of PEERS.md: IED ``TEST``, logical device ``LD0`` whose MMS domain is ``ICC1``
(LogicalDevice_createEx), logical node ``GGIO1`` with a CDC_MV ``AnIn1`` (``GGIO1$MX$AnIn1$mag$f`` and
friends) and a CDC_SPS ``Ind1`` (``GGIO1$ST$Ind1$stVal``), plus ``Ind1``'s description
``GGIO1$DC$Ind1$d``, which a client may write (the DC functional constraint is writable).

It prints ``READY`` (one line, flushed) once the server listens, and serves until its stdin is closed
or it gets SIGTERM / SIGINT; then it stops the server and exits 0. Our Rust client tests spawn it with
a piped stdin and drop the pipe to stop it.

Spawn it with a piped stdin (a stdin of /dev/null is at end of file at once, so it would stop at once),
or pass ``--ignore-stdin`` to serve until a signal. ``--ready-file PATH`` also writes ``READY`` to a
file (for callers that cannot read stdout).
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # keep tests/interop free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description="libiec61850 IedServer peer (domain ICC1, GGIO1 AnIn1 + Ind1)")
    ap.add_argument("port", type=int)
    ap.add_argument("--ready-file", default=None)
    ap.add_argument("--ignore-stdin", action="store_true", help="serve until a signal, whatever stdin does")
    a = ap.parse_args()

    L = harness.libiec()
    _model, server = harness.build_iedserver_model()
    L.IedServer_start(server, a.port)
    if not L.IedServer_isRunning(server):
        print(f"ERROR IedServer could not listen on port {a.port}", file=sys.stderr, flush=True)
        L.IedServer_destroy(server)
        return 1

    stop = False

    def on_signal(_sig, _frame) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    print("READY", flush=True)
    if a.ready_file:
        Path(a.ready_file).write_text("READY\n")

    # Serve until stdin reaches end of file (the parent dropped its pipe) or a signal arrives.
    stdin_fd = sys.stdin.fileno() if sys.stdin is not None and not a.ignore_stdin else None
    while not stop:
        if stdin_fd is None:
            time.sleep(0.2)
            continue
        try:
            readable, _, _ = select.select([stdin_fd], [], [], 0.2)
        except InterruptedError:
            continue
        if readable:
            try:
                if not os.read(stdin_fd, 4096):
                    break
            except OSError:
                break
    L.IedServer_stop(server)
    L.IedServer_destroy(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
