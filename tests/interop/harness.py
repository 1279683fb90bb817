"""Shared harness for the FreeTase2 interop scripts.

Everything the scripts in ``tests/interop/`` have in common lives here:

* free-port selection and waiting for a TCP port to accept connections,
* starting and stopping our ``tase2 serve`` process,
* a tshark capture on the loopback interface (started and confirmed to be capturing before any
  traffic flows, stopped cleanly so the pcapng is complete),
* the tshark checks from ``/work/shared/PEERS.md`` (nothing malformed, no expert info of severity
  Warning or above, every TCP payload decoded) scoped to one side of the traffic,
* libiec61850 (``pyiec61850-ng``) helpers: the connect-with-retry for the known quirk where the
  client closes the socket right after the initiate response, LinkedList-of-strings decoding,
  and a small IedServer model builder shared by ``iedserver.py`` and ``capture_libiec61850.py``,
* PASS/FAIL bookkeeping with a non-zero exit on failure.

Only the standard library and the peers themselves are used.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CAPTURE_DIR = REPO_ROOT / "build" / "interop"

# The AP titles of the FreeTase2 test set-up (see tests/interop/README in the root README).
CLIENT_AP_TITLE = "1.1.1.999"
SERVER_AP_TITLE = "1.1.1.998"
AE_QUALIFIER = 12


# --------------------------------------------------------------------------------------------
# results


class Results:
    """Collects PASS/FAIL lines; ``finish()`` prints a summary and exits non-zero on failure."""

    def __init__(self, name: str):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.notes: list[str] = []

    def check(self, cond: bool, what: str, detail: object = "") -> bool:
        """Record one check. Returns ``cond`` so callers can branch on it."""
        if cond:
            self.passed += 1
            print(f"PASS {what}", flush=True)
        else:
            self.failed += 1
            extra = f": {detail}" if detail != "" else ""
            print(f"FAIL {what}{extra}", flush=True)
        return bool(cond)

    def note(self, text: str) -> None:
        """Print an informational line (not counted)."""
        self.notes.append(text)
        print(f"INFO {text}", flush=True)

    def finish(self) -> None:
        """Print the summary and exit (1 if anything failed or nothing was checked)."""
        ok = self.failed == 0 and self.passed > 0
        verdict = "PASS" if ok else "FAIL"
        print(f"{verdict} {self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(0 if ok else 1)


def common_args(description: str) -> argparse.Namespace:
    """Arguments every interop test script takes: ``--tase2 BIN --port N [--capture-dir D]``."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--tase2", default=os.environ.get("TASE2_BIN", str(REPO_ROOT / "target" / "release" / "tase2")),
                   help="path of the tase2 binary (default: $TASE2_BIN or target/release/tase2)")
    p.add_argument("--port", type=int, default=0, help="TCP port for our server (default: a free one)")
    p.add_argument("--capture-dir", default=str(DEFAULT_CAPTURE_DIR), help="where pcapng files go")
    p.add_argument("--no-server", action="store_true",
                   help="do not start tase2; expect a server already listening on --port")
    a = p.parse_args()
    if a.port == 0:
        a.port = free_port()
    return a


# --------------------------------------------------------------------------------------------
# sockets and processes


def _die_with_parent(sig: int):
    """A ``preexec_fn`` that makes the child get ``sig`` when this process dies (Linux
    ``PR_SET_PDEATHSIG``), so a crash of a peer library in the test process (a segfault skips every
    ``finally``) does not leave tshark or the server running."""

    def fn() -> None:
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, sig, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except Exception:
            pass

    return fn


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, host: str = "127.0.0.1", timeout: float = 10.0, proc: subprocess.Popen | None = None) -> bool:
    """Wait until ``host:port`` accepts a TCP connection (False on timeout or if ``proc`` died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_listening(port: int, timeout: float = 10.0, proc: subprocess.Popen | None = None) -> bool:
    """Wait until something listens on TCP ``port``, without connecting to it.

    Probing with a connection would put a refused SYN (and the kernel's RST) into the capture that the
    tshark checks then read as our server's expert warning; /proc/net/tcp shows the LISTEN socket
    without sending a packet.
    """
    want = f":{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    next(f)
                    for line in f:
                        cols = line.split()
                        if cols[1].endswith(want) and cols[3] == "0A":
                            return True
            except OSError:
                pass
        time.sleep(0.02)
    return False


class Tase2Server:
    """``tase2 serve --listen 127.0.0.1:PORT`` as a child process (context manager)."""

    def __init__(self, binary: str, port: int, extra_args: list[str] | None = None, log_path: Path | None = None):
        self.binary = binary
        self.port = port
        self.extra_args = extra_args or []
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> bool:
        """Start the server and wait for its port. False if it did not come up."""
        if not Path(self.binary).exists():
            print(f"INFO tase2 binary not found at {self.binary}", flush=True)
            return False
        cmd = [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}", *self.extra_args]
        print(f"INFO starting: {' '.join(cmd)}", flush=True)
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log or subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT if self._log else subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent(signal.SIGTERM))
        return wait_listening(self.port, proc=self.proc)

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 5 s)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "Tase2Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------
# tshark


def tshark_bin() -> str:
    """Path of tshark, or exit with a clear message."""
    t = shutil.which("tshark")
    if t is None:
        print("FAIL tshark not installed (run `cargo xtask setup`)", flush=True)
        sys.exit(2)
    return t


class Capture:
    """A tshark capture on ``lo`` for one TCP port (context manager).

    ``start()`` returns only after tshark reports that it is capturing, so no packet is missed.
    ``stop()`` sends SIGINT and waits, so the pcapng is complete.
    """

    def __init__(self, port: int, path: Path, iface: str = "lo"):
        self.port = port
        self.path = Path(path)
        self.iface = iface
        self.proc: subprocess.Popen | None = None
        self._stderr: list[str] = []
        self._ready = threading.Event()

    def start(self, timeout: float = 20.0) -> None:
        """Start tshark and wait until it prints that it is capturing."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self.path.unlink()
        cmd = [tshark_bin(), "-i", self.iface, "-f", f"tcp port {self.port}", "-w", str(self.path)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=_die_with_parent(signal.SIGINT))
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError("tshark did not start capturing: " + "".join(self._stderr))
        # tshark prints "Capturing on" just before the capture loop; a short grace period keeps
        # the very first SYN from racing it.
        time.sleep(0.3)

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)
            if "Capturing on" in line:
                self._ready.set()

    def stop(self) -> None:
        """Stop tshark cleanly (SIGINT) and wait for the file to be complete."""
        if self.proc is None:
            return
        time.sleep(0.5)  # let the last segments (FIN/ACK) reach the capture
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> "Capture":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def tshark_read(pcap: Path, port: int, args: list[str]) -> str:
    """Run ``tshark -r PCAP -d tcp.port==PORT,tpkt ARGS`` and return stdout."""
    cmd = [tshark_bin(), "-r", str(pcap), "-d", f"tcp.port=={port},tpkt", *args]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"tshark failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def tshark_count(pcap: Path, port: int, display_filter: str) -> int:
    """Number of frames matching ``display_filter``."""
    out = tshark_read(pcap, port, ["-Y", display_filter, "-T", "fields", "-e", "frame.number"])
    return len([ln for ln in out.splitlines() if ln.strip()])


def tshark_checks(res: Results, pcap: Path, port: int, side: str = "server") -> None:
    """The PEERS.md checks on our side of the traffic.

    ``side="server"``: frames sent by our server (``tcp.srcport==PORT``);
    ``side="client"``: frames sent by our client (``tcp.dstport==PORT``);
    ``side="both"``: every frame.
    """
    scope = {"server": f"tcp.srcport=={port}", "client": f"tcp.dstport=={port}", "both": "tcp"}[side]
    total = tshark_count(pcap, port, f"{scope} && tcp.len>0")
    res.check(total > 0, f"tshark: our side ({side}) sent payload frames", total)
    bad = tshark_read(pcap, port, ["-Y", f'{scope} && (_ws.malformed || _ws.expert.severity >= "Warning")'])
    res.check(bad.strip() == "", f"tshark: nothing malformed / no expert>=Warning on {side} side", "\n" + bad)
    undecoded = tshark_read(pcap, port, ["-Y", f"{scope} && tcp.len>0 && !(mms || acse || cotp.type==0x0e || cotp.type==0x0d)"])
    res.check(undecoded.strip() == "", f"tshark: every {side}-side payload decoded", "\n" + undecoded)
    # Informational: the whole conversation, one line a frame, for the log.
    summary = tshark_read(pcap, port, ["-Y", "tcp.len>0"])
    print("INFO capture summary:\n" + summary, flush=True)


def capture_path(capture_dir: str, name: str) -> Path:
    """``capture_dir/name.pcapng`` (the directory is created)."""
    d = Path(capture_dir)
    d.mkdir(parents=True, exist_ok=True)
    return d / f"{name}.pcapng"


# --------------------------------------------------------------------------------------------
# libiec61850 (pyiec61850-ng)


def serve_and_check(doc: str, title: str, name: str, session, capture_checks) -> "Results":
    """The common run of a third-party client against `tase2 serve`: start the server (unless
    --no-server) under a packet capture, run `session(res, port)` (its result is handed on as the
    session's facts), stop, then `capture_checks(res, pcap, port, facts)` on the capture. A harness
    exception fails one check instead of hiding the capture checks. The caller finishes `res`."""
    args = common_args(doc.splitlines()[0])
    res = Results(title)
    pcap = capture_path(args.capture_dir, name)
    server = Tase2Server(args.tase2, args.port, log_path=Path(args.capture_dir) / f"{name}.server.log")
    facts = None
    with Capture(args.port, pcap):
        up = True
        if not args.no_server:
            up = res.check(server.start(), f"tase2 serve listens on 127.0.0.1:{args.port}", args.tase2)
        if up:
            try:
                facts = session(res, args.port)
            except Exception as exc:  # a harness bug must not hide the capture checks
                traceback.print_exc()
                res.check(False, "client session ran to the end", repr(exc))
        time.sleep(0.3)
        server.stop()
    if up:
        capture_checks(res, pcap, args.port, facts if facts is not None else {})
    res.note(f"capture: {pcap}")
    return res


def ber_tlv(tag: int, body: bytes) -> bytes:
    """One BER element with a definite length, for PDUs a test encodes by hand (not by our encoder)."""
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82, n >> 8, n & 0xFF])
    return bytes([tag]) + length + body


def ber_int(v: int) -> bytes:
    """The minimal two's-complement content octets of an INTEGER."""
    out = v.to_bytes((v.bit_length() + 8) // 8 or 1, "big", signed=True)
    while len(out) > 1 and out[0] == 0 and out[1] < 0x80:
        out = out[1:]
    return out


def libiec():
    """Import the SWIG module of pyiec61850-ng."""
    import pyiec61850.pyiec61850 as L  # noqa: N812  (the C API's own names)

    return L


def ll_strings(ll) -> list[str]:
    """Decode a libiec61850 LinkedList of ``char*`` into a Python list (None -> [])."""
    L = libiec()
    out: list[str] = []
    if ll is None:
        return out
    e = L.LinkedList_getNext(ll)
    while e:
        out.append(L.toCharP(L.LinkedList_getData(e)))
        e = L.LinkedList_getNext(e)
    return out


def mms_connect(port: int, host: str = "127.0.0.1", attempts: int = 5, ap_titles: bool = True,
                res: Results | None = None, local_ap_title: str = CLIENT_AP_TITLE):
    """Connect a libiec61850 MmsConnection with AP titles 1.1.1.999/12 -> 1.1.1.998/12
    (``local_ap_title`` replaces the calling 1.1.1.999).

    Retries up to ``attempts`` times for the known quirk (the client sometimes closes the socket
    right after the initiate response). Returns ``(con, retries)``; ``con`` is None on failure.
    """
    L = libiec()
    retries = 0
    last = None
    for i in range(attempts):
        con = L.MmsConnection_create()
        L.MmsConnection_setRequestTimeout(con, 5000)
        L.MmsConnection_setConnectTimeout(con, 5000)
        if ap_titles:
            iso = L.MmsConnection_getIsoConnectionParameters(con)
            L.IsoConnectionParameters_setLocalApTitle(iso, local_ap_title, AE_QUALIFIER)
            L.IsoConnectionParameters_setRemoteApTitle(iso, SERVER_AP_TITLE, AE_QUALIFIER)
        err = L.MmsError_create()
        ok = L.MmsConnection_connect(con, err, host, port)
        last = L.MmsError_getValue(err)
        if ok and last == 0:
            # The quirk can also strike just after a successful connect: the socket is already gone.
            # One Identify tells; a lost connection counts as a retry like a failed connect.
            L.MmsConnection_identify(con, err)
            last = L.MmsError_getValue(err)
        if ok and last == 0:
            if res is not None:
                res.note(f"libiec61850 connect retries: {retries}")
            return con, retries
        L.MmsConnection_destroy(con)
        retries += 1
        print(f"INFO libiec61850 connect attempt {i + 1} failed (MmsError {last})", flush=True)
        time.sleep(0.2)
    if res is not None:
        res.note(f"libiec61850 connect retries: {retries} (gave up, last MmsError {last})")
    return None, retries


def describe_value(L, v):
    """A Python rendering of an MmsValue: structures as lists, bit strings as ("bits", size, int with
    bit n of the string at 1 << n), access errors as ("access-error", code)."""
    if v is None:
        return None
    t = L.MmsValue_getType(v)
    if t in (L.MMS_STRUCTURE, L.MMS_ARRAY):
        return [describe_value(L, L.MmsValue_getElement(v, i)) for i in range(L.MmsValue_getArraySize(v))]
    if t == L.MMS_INTEGER:
        return L.MmsValue_toInt32(v)
    if t == L.MMS_UNSIGNED:
        return L.MmsValue_toUint32(v)
    if t == L.MMS_FLOAT:
        return L.MmsValue_toFloat(v)
    if t == L.MMS_BOOLEAN:
        return bool(L.MmsValue_getBoolean(v))
    if t == L.MMS_BIT_STRING:
        return ("bits", L.MmsValue_getBitStringSize(v), L.MmsValue_getBitStringAsInteger(v))
    if t in (L.MMS_VISIBLE_STRING, L.MMS_STRING):
        return L.MmsValue_toString(v)
    if t == L.MMS_DATA_ACCESS_ERROR:
        return ("access-error", L.MmsValue_getDataAccessError(v))
    return ("type", L.MmsValue_getTypeString(v))


def mms_error_name(code: int) -> str:
    """Symbolic name of an MmsError value."""
    L = libiec()
    for n in dir(L):
        if n.startswith("MMS_ERROR_") and getattr(L, n) == code:
            return n
    return str(code)


def build_iedserver_model():
    """The libiec61850 IedServer model of PEERS.md: domain/LD ``ICC1``, ``GGIO1`` with
    CDC_MV ``AnIn1`` and CDC_SPS ``Ind1``.

    ``Ind1`` also carries the optional description (``GGIO1$DC$Ind1$d``), and the DC functional
    constraint is made writable, so a client has one leaf it may write successfully.
    Returns ``(model, server)``; the server is created but not started.
    """
    L = libiec()
    m = L.IedModel_create("TEST")
    ld = L.LogicalDevice_createEx("LD0", m, "ICC1")
    ln = L.LogicalNode_create("GGIO1", ld)
    L.CDC_MV_create("AnIn1", L.toModelNode(ln), 0, False)
    L.CDC_SPS_create("Ind1", L.toModelNode(ln), L.CDC_OPTION_DESC)
    s = L.IedServer_create(m)
    L.IedServer_setWriteAccessPolicy(s, L.IEC61850_FC_DC, L.ACCESS_POLICY_ALLOW)
    return m, s


def tmpdir() -> Path:
    """A fresh temporary directory."""
    return Path(tempfile.mkdtemp(prefix="tase2-interop-"))
