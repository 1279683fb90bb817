#!/usr/bin/env python3
"""Regenerate the recordings of real sessions in ``tests/data/recordings/``.

Each fixture is a ``tase2 serve --record`` log (and one ``tase2 watch --record`` log) of a short
session with the default embedded model; ``tests/tests/replay_fixtures.rs`` replays them on the pure
core in every ``cargo test``, without Python. A third-party client is what makes them worth having:
its octets are not ours.

* ``libiec61850-blocks12.server.rec``: libiec61850's MmsConnection (pyiec61850-ng) as 1.1.1.999/12:
  TASE2_Version, Supported_Features, Bilateral_Table_ID, GetNameList, a typed point read and its
  GetVariableAccessAttributes, DefineNamedVariableList ``ICC1/DS_Rec``, Read ``Next_DSTransfer_Set``,
  the whole DSTransferSet written (integrity 1 s + object change, RBE), about three seconds of
  reports, the transfer set stopped, the data set deleted, release; then an association with an
  unknown AP-title (1.1.1.996), refused.
* ``libiec61850-blocks45.server.rec``: select-before-operate of ``Brk1_Cmd`` (CheckBackID 101,
  close), a direct operate of ``Gen1_Start``, the faulty field device of ``Brk9_Cmd``
  (hardware-fault), a tag set and cleared on ``Brk1_Cmd_TAG``, information messages enabled through
  the association-specific ``IM_Transfer_Set`` until one arrives, then disabled; release.
* ``tase2-watch.server.rec`` and ``tase2-watch.client.rec``: ``tase2 watch --record`` for two
  seconds against ``tase2 serve --record`` (our tokio client and server, both sides).

The wall clock, the simulation's random walk and the libiec61850 invoke ids make every run's octets
differ; the flow, the sizes and what the replay test asserts do not. Usage:

    record_fixtures.py --tase2 PATH [--out DIR]      (or: cargo xtask fixtures)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # keep tests/interop free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import test_tase2_blocks12 as b12  # noqa: E402
import test_tase2_blocks45 as b45  # noqa: E402

ICC1 = "ICC1"
REPORTS_FOR = 3.0  # seconds of transfer set reports
INFO_WAIT = 7.0  # information messages go out every 5 s
REPORT_VARIABLES = ["Transfer_Set_Name", "Transfer_Set_Time_Stamp", "DSConditions_Detected"]
POINTS = ["Gen1_MW", "Brk1", "Tap1"]


class Failed(Exception):
    """A step of a recorded session did not do what it should: the fixture would be wrong."""


def need(cond: bool, what: str, detail: object = "") -> None:
    if not cond:
        raise Failed(f"{what}: {detail}")
    print(f"ok  {what}", flush=True)


def transfer_set(L, status: bool):
    """A whole 2000.08 DSTransferSet naming ICC1/DS_Rec: integrity 1 s + object change, RBE."""
    comps = [
        b12.objname(L, 1, ICC1, "DS_Rec"),
        L.MmsValue_newIntegerFromInt32(0),  # StartTime
        L.MmsValue_newIntegerFromInt32(0),  # Interval
        L.MmsValue_newIntegerFromInt32(0),  # TLE
        L.MmsValue_newIntegerFromInt32(0),  # BufferTime
        L.MmsValue_newIntegerFromInt32(1),  # IntegrityCheck
        b12.bitstring(L, 5, [b12.COND_INTEGRITY, b12.COND_CHANGE]),
        L.MmsValue_newBoolean(False),  # BlockData
        L.MmsValue_newBoolean(False),  # Critical
        L.MmsValue_newBoolean(True),  # RBE
        L.MmsValue_newBoolean(False),  # AllChangesReported
        L.MmsValue_newBoolean(status),  # Status
        L.MmsValue_newIntegerFromInt16(0),  # EventCodeRequested
    ]
    s = L.MmsValue_createEmptyStructure(len(comps))
    for i, c in enumerate(comps):
        L.MmsValue_setElement(s, i, c)
    return s


def connect(port: int, title: str = harness.CLIENT_AP_TITLE):
    con, retries = harness.mms_connect(port, local_ap_title=title)
    need(con is not None, f"libiec61850 associates as {title}/12", f"after {retries} retries")
    return con


def blocks12(port: int) -> None:
    L = harness.libiec()
    err = L.MmsError_create()
    con = connect(port)

    def read(domain, name):
        v = L.MmsConnection_readVariable(con, err, domain, name)
        return harness.describe_value(L, v), L.MmsError_getValue(err)

    need(read(None, "TASE2_Version")[0] == [2000, 8], "TASE2_Version")
    need(read(None, "Supported_Features")[1] == 0, "Supported_Features")
    need(read(ICC1, "Bilateral_Table_ID")[0] == "BLT_ICC1", "Bilateral_Table_ID")
    need(harness.ll_strings(L.MmsConnection_getDomainNames(con, err)) == [ICC1], "GetNameList(domains)")
    lists = harness.ll_strings(L.MmsConnection_getDomainVariableListNames(con, err, ICC1))
    need("DS_Grid" in lists, "GetNameList(variable lists of ICC1)", lists)
    need(read(ICC1, "Gen1_MW")[1] == 0, "read ICC1/Gen1_MW")
    spec = L.MmsConnection_getVariableAccessAttributes(con, err, ICC1, "Gen1_MW")
    need(spec is not None and L.MmsError_getValue(err) == 0, "GetVariableAccessAttributes ICC1/Gen1_MW")

    keep = []  # libiec61850 keeps the char pointers of access specifications
    specs = L.LinkedList_create()
    for item in REPORT_VARIABLES + POINTS:
        keep.append(item)
        L.LinkedList_add(specs, L.MmsVariableAccessSpecification_create(ICC1, item))
    L.MmsConnection_defineNamedVariableList(con, err, ICC1, "DS_Rec", specs)
    need(L.MmsError_getValue(err) == 0, "DefineNamedVariableList ICC1/DS_Rec")
    d, code = read(ICC1, "Next_DSTransfer_Set")
    need(code == 0 and isinstance(d, list) and len(d) == 3, "read Next_DSTransfer_Set", d)
    ts = d[2]

    reports = b12.Reports()
    handler = b12.make_handler(L, reports)
    sub = L.InformationReportSubscriber()
    sub.setMmsConnection(con)
    sub.setEventHandler(handler)
    handler.__disown__()  # the subscriber owns (and deletes) the handler
    need(bool(sub.subscribe()), "InformationReportSubscriber subscribed")
    r = L.MmsConnection_writeVariable(con, err, ICC1, ts, transfer_set(L, True))
    need(r == L.DATA_ACCESS_ERROR_SUCCESS, f"start {ts}", r)
    time.sleep(REPORTS_FOR)
    r = L.MmsConnection_writeVariable(con, err, ICC1, ts, transfer_set(L, False))
    need(r == L.DATA_ACCESS_ERROR_SUCCESS, f"stop {ts}", r)
    got = len(reports.snapshot())
    need(got >= 2, "reports arrived", got)
    L.MmsConnection_deleteNamedVariableList(con, err, ICC1, "DS_Rec")
    need(L.MmsError_getValue(err) == 0, "DeleteNamedVariableList ICC1/DS_Rec")
    L.MmsConnection_conclude(con, err)
    L.MmsConnection_destroy(con)
    del sub

    # An unknown AP-title: refused at association (no retries: one attempt is the point).
    con, _ = harness.mms_connect(port, attempts=1, local_ap_title="1.1.1.996")
    need(con is None, "1.1.1.996/12 is refused")


def blocks45(port: int) -> None:
    L = harness.libiec()
    err = L.MmsError_create()
    con = connect(port)
    OK = L.DATA_ACCESS_ERROR_SUCCESS

    def read(domain, name):
        return harness.describe_value(L, L.MmsConnection_readVariable(con, err, domain, name))

    def write(name, value):
        return L.MmsConnection_writeVariable(con, err, ICC1, name, value)

    reports = b45.Reports()
    sub = b45.subscribe(L, con, reports)
    need(read(ICC1, "Brk1_Cmd_SBO") == 101, "select ICC1/Brk1_Cmd: CheckBackID 101")
    need(write("Brk1_Cmd", L.MmsValue_newIntegerFromInt16(1)) == OK, "operate ICC1/Brk1_Cmd = 1")
    need(b45.breaker_state(read(ICC1, "Brk1")) == "on", "ICC1/Brk1 closed")
    need(write("Gen1_Start", L.MmsValue_newIntegerFromInt16(1)) == OK, "direct operate ICC1/Gen1_Start")
    need(read(ICC1, "Brk9_Cmd_SBO") == 109, "select ICC1/Brk9_Cmd")
    need(write("Brk9_Cmd", L.MmsValue_newIntegerFromInt16(1)) == L.DATA_ACCESS_ERROR_HARDWARE_FAULT,
         "operate ICC1/Brk9_Cmd: hardware-fault")
    need(write("Brk1_Cmd_TAG", b45.tag_value(L, b45.TAG_OPEN_AND_CLOSE, "recorded")) == OK, "tag Brk1_Cmd")
    need(write("Brk1_Cmd_TAG", b45.tag_value(L, b45.TAG_NONE, "")) == OK, "clear the tag")
    invoke = b45.RAW_INVOKE_BASE
    need(b45.send_raw_mms(L, con, b45.write_aa_boolean_pdu(invoke, b45.IM_TRANSFER_SET, True)) == 0,
         "enable information messages")
    need(reports.wait_for(lambda m: len(m) >= 1, INFO_WAIT), "an information message arrived")
    need(b45.send_raw_mms(L, con, b45.write_aa_boolean_pdu(invoke + 1, b45.IM_TRANSFER_SET, False)) == 0,
         "disable information messages")
    time.sleep(0.3)  # the answer to the raw write, before the release
    L.MmsConnection_conclude(con, err)
    L.MmsConnection_destroy(con)
    del sub


def watch(binary: str, port: int, out: Path) -> None:
    cmd = [binary, "watch", f"127.0.0.1:{port}", "--record", str(out / "tase2-watch.client.rec"),
           "--duration", "2", "--integrity", "1", "--points", "ICC1/Gen1_MW,ICC1/Brk1", "--no-info"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    need(r.returncode == 0, "tase2 watch --record", r.stdout)


def record(binary: str, out: Path, name: str, run) -> None:
    port = harness.free_port()
    path = out / f"{name}.server.rec"
    server = harness.Tase2Server(binary, port, extra_args=["--record", str(path)])
    print(f"-- {name}", flush=True)
    with server:
        need(server.start(), f"tase2 serve --record listens on {port}")
        run(port)
        time.sleep(0.3)  # the last answers and the release reach the log
    # SIGTERM: the server drops the endpoint, which flushes the recording.
    need(path.stat().st_size > 0, f"{path.name} written", path.stat().st_size)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tase2", default=str(harness.REPO_ROOT / "target" / "release" / "tase2"))
    p.add_argument("--out", default=str(harness.REPO_ROOT / "tests" / "data" / "recordings"))
    a = p.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        record(a.tase2, out, "libiec61850-blocks12", blocks12)
        record(a.tase2, out, "libiec61850-blocks45", blocks45)
        record(a.tase2, out, "tase2-watch", lambda port: watch(a.tase2, port, out))
    except Failed as e:
        print(f"FAIL {e}", flush=True)
        sys.exit(1)
    for f in sorted(out.glob("*.rec")):
        print(f"{f.name}: {f.stat().st_size} octets", flush=True)


if __name__ == "__main__":
    main()
