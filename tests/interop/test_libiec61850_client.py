#!/usr/bin/env python3
"""Interop (a): libiec61850's MMS client (pyiec61850-ng) against our ``tase2 serve``.

Starts a tshark capture and ``tase2 serve --listen 127.0.0.1:PORT`` (default embedded model), then
drives libiec61850's MmsConnection through the services a TASE.2 client needs: association with AP
titles (1.1.1.999/12 -> 1.1.1.998/12, retried for the known client quirk), Identify, GetNameList
(domains, VMD variables, a domain's variables over several pages, variable lists), Read, Write,
GetVariableAccessAttributes, named variable list define / read / list / delete, an InformationReport
on the VMD-scope list ``Vcc_Report`` triggered by writing ``Report_Trigger``, and Conclude. Then the
tshark checks of PEERS.md run on the server's side of the capture.

The default model has TASE.2 bilateral tables: 1.1.1.999/12 is bound to domain ICC1 (table
BLT_ICC1) and must not see ICC2; a second association as 1.1.1.997/12 (table BLT_ICC2) lists and
reads ICC2 and must not see ICC1; a third as 1.1.1.555/12, which no table names, is refused.

libiec61850 cannot write a VMD-scope variable: ``MmsConnection_writeVariable`` always encodes a
domain-specific name and crashes on a NULL domain. The write of the VMD variable ``Report_Trigger``
is therefore an MMS Write-Request PDU encoded here (ISO 9506-2) and sent through libiec61850's own
association with ``MmsConnection_sendRawData``; libiec61850 ignores the response (its invoke id is
not one of its own) and tshark checks it instead. The report itself is received and decoded by
libiec61850.

Usage: test_libiec61850_client.py --tase2 PATH --port N [--capture-dir DIR] [--no-server]
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from pathlib import Path

sys.dont_write_bytecode = True  # keep tests/interop free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ICC1 = "ICC1"
ICC2 = "ICC2"
ICC2_CLIENT_AP_TITLE = "1.1.1.997"  # bilateral table BLT_ICC2 of the default model
UNLISTED_AP_TITLE = "1.1.1.555"  # in no bilateral table: refused
VMD_VARIABLES = ["TASE2_Version", "Supported_Features", "Report_Trigger", "Report_Counter"]
ICC1_OTHERS = ["Bilateral_Table_ID", "Setpoint_Real", "Setpoint_Discrete", "Nested"]
RAW_INVOKE_BASE = 0x7F0000  # invoke ids of the hand-encoded writes, far from libiec61850's own


def point(n: int) -> str:
    return f"Point_{n:04d}"


class Step:
    """Context manager: an exception inside a step is a FAIL of that step, and the test goes on."""

    def __init__(self, res: harness.Results, name: str):
        self.res = res
        self.name = name

    def __enter__(self) -> "Step":
        print(f"---- {self.name}", flush=True)
        return self

    def __exit__(self, et, e, tb) -> bool:
        if e is not None:
            traceback.print_exception(et, e, tb)
            self.res.check(False, f"{self.name}: no exception", repr(e))
        return True


# ------------------------------------------------------------------------------------------------
# BER for the one hand-encoded PDU (ISO 9506-2 Write-Request with a vmd-specific name)






def write_vmd_boolean_pdu(invoke_id: int, name: str, value: bool) -> bytes:
    """confirmed-RequestPDU { invokeID, write { listOfVariable { name vmd-specific }, listOfData { boolean } } }"""
    spec = harness.ber_tlv(0xA0, harness.ber_tlv(0x30, harness.ber_tlv(0xA0, harness.ber_tlv(0x80, name.encode("ascii")))))
    data = harness.ber_tlv(0xA0, harness.ber_tlv(0x83, b"\xff" if value else b"\x00"))
    return harness.ber_tlv(0xA0, harness.ber_tlv(0x02, harness.ber_int(invoke_id)) + harness.ber_tlv(0xA5, spec + data))


def send_raw_mms(L, con, pdu: bytes) -> int:
    """Send one MMS PDU through libiec61850's association; returns the MmsError value."""
    buf_value = L.MmsValue_newOctetString(len(pdu), len(pdu))
    for i, b in enumerate(pdu):
        L.MmsValue_setOctetStringOctet(buf_value, i, b)
    err = L.MmsError_create()
    L.MmsConnection_sendRawData(con, err, L.MmsValue_getOctetStringBuffer(buf_value), len(pdu))
    return L.MmsError_getValue(err)


# ------------------------------------------------------------------------------------------------


def make_report_handler(L, reports: list, arrived: threading.Condition):
    """An InformationReportHandler director subclass that copies what it gets into ``reports``."""

    class Handler(L.InformationReportHandler):
        def trigger(self) -> None:  # runs on libiec61850's receive thread
            entry = {"domain": self.getDomainName(), "name": self.getVariableListName(),
                     "is_list": self.getIsVariableListName(), "values": None}
            v = self.getMmsValue()
            try:
                if v is not None and L.MmsValue_getType(v) == L.MMS_ARRAY:
                    items = []
                    for i in range(L.MmsValue_getArraySize(v)):
                        e = L.MmsValue_getElement(v, i)
                        items.append(harness.describe_value(L, e))
                    entry["values"] = items
                elif v is not None:
                    entry["values"] = harness.describe_value(L, v)
            except Exception as exc:  # never let an exception cross into C
                entry["error"] = repr(exc)
            with arrived:
                reports.append(entry)
                arrived.notify_all()

    return Handler()


def session(res: harness.Results, port: int) -> dict:
    """The client session. Returns facts for the capture checks."""
    L = harness.libiec()
    facts: dict = {"raw_invoke_ids": []}
    con, retries = harness.mms_connect(port, res=res)
    if not res.check(con is not None, "libiec61850 connects with AP titles 1.1.1.999/12 -> 1.1.1.998/12",
                     f"after {retries} retries"):
        return facts
    err = L.MmsError_create()

    def ok(what: str) -> bool:
        code = L.MmsError_getValue(err)
        return res.check(code == 0, what, harness.mms_error_name(code))

    with Step(res, "identify"):
        ident = L.MmsConnection_identify(con, err)
        if ok("identify succeeds") and ident is not None:
            res.check(ident.vendorName == "FreeTase2", "identify vendor is FreeTase2", ident.vendorName)
            res.check(ident.modelName == "tase2", "identify model is tase2", ident.modelName)
            res.note(f"identify revision {ident.revision!r}")

    with Step(res, "getDomainNames"):
        domains = harness.ll_strings(L.MmsConnection_getDomainNames(con, err))
        ok("getDomainNames succeeds")
        res.check(domains == [ICC1], "domains are [ICC1] (bilateral table BLT_ICC1 hides ICC2)", domains)

    with Step(res, "getVMDVariableNames"):
        vmd = harness.ll_strings(L.MmsConnection_getVMDVariableNames(con, err))
        ok("getVMDVariableNames succeeds")
        missing = [n for n in VMD_VARIABLES if n not in vmd]
        res.check(not missing, "VMD variables include TASE2_Version, Supported_Features, Report_Trigger, Report_Counter",
                  f"missing {missing}, got {vmd}")

    with Step(res, "getDomainVariableNames(ICC1)"):
        names = harness.ll_strings(L.MmsConnection_getDomainVariableNames(con, err, ICC1))
        ok("getDomainVariableNames(ICC1) succeeds")
        res.note(f"ICC1 has {len(names)} variable names")
        missing = [n for n in [point(i) for i in range(1, 401)] + ICC1_OTHERS if n not in names]
        res.check(not missing, "ICC1 lists Point_0001..Point_0400 and the other variables",
                  f"{len(missing)} missing, first {missing[:5]}")
        res.check(len(set(names)) == len(names), "ICC1 names have no duplicates (paging is consistent)",
                  len(names) - len(set(names)))
        if names != sorted(names):
            res.note("ICC1 names are not in ascending order")

    with Step(res, "getDomainVariableNames(ICC2) as 1.1.1.999"):
        names2 = harness.ll_strings(L.MmsConnection_getDomainVariableNames(con, err, ICC2))
        code = L.MmsError_getValue(err)
        res.check(code != 0 and not names2, "ICC2's variables are not listed to 1.1.1.999",
                  f"{harness.mms_error_name(code)} {names2[:5]}")

    with Step(res, "read VMD TASE2_Version"):
        v = L.MmsConnection_readVariable(con, err, None, "TASE2_Version")
        ok("read TASE2_Version succeeds")
        res.check(harness.describe_value(L, v) == [2000, 8], "TASE2_Version = {2000, 8}", harness.describe_value(L, v))

    with Step(res, "read VMD Supported_Features"):
        v = L.MmsConnection_readVariable(con, err, None, "Supported_Features")
        ok("read Supported_Features succeeds")
        d = harness.describe_value(L, v)
        res.check(isinstance(d, tuple) and d[0] == "bits" and d[1] == 12, "Supported_Features is a 12-bit BIT STRING", d)

    with Step(res, "read ICC1 Bilateral_Table_ID"):
        v = L.MmsConnection_readVariable(con, err, ICC1, "Bilateral_Table_ID")
        ok("read Bilateral_Table_ID succeeds")
        res.check(harness.describe_value(L, v) == "BLT_ICC1", "ICC1 Bilateral_Table_ID = BLT_ICC1", harness.describe_value(L, v))

    with Step(res, "read ICC1 Point_0007"):
        v = L.MmsConnection_readVariable(con, err, ICC1, point(7))
        ok("read Point_0007 succeeds")
        d = harness.describe_value(L, v)
        res.check(d == [10.5, 1700000007, ("bits", 8, 0)], "Point_0007 = {10.5, 1700000007, flags 8 bits 0}", d)

    with Step(res, "read ICC2 Point_0010 as 1.1.1.999"):
        v = L.MmsConnection_readVariable(con, err, ICC2, point(10))
        d = harness.describe_value(L, v)
        res.check(d == ("access-error", L.DATA_ACCESS_ERROR_OBJECT_NONE_EXISTENT),
                  "ICC2 Point_0010 does not exist for 1.1.1.999 (object-non-existent)", d)

    with Step(res, "read / write Setpoint_Real"):
        v = L.MmsConnection_readVariable(con, err, ICC1, "Setpoint_Real")
        ok("read Setpoint_Real succeeds")
        res.check(harness.describe_value(L, v) == 0.0, "Setpoint_Real is initially 0.0", harness.describe_value(L, v))
        r = L.MmsConnection_writeVariable(con, err, ICC1, "Setpoint_Real", L.MmsValue_newFloat(42.25))
        ok("write Setpoint_Real = 42.25 succeeds")
        res.check(r == L.DATA_ACCESS_ERROR_SUCCESS, "write Setpoint_Real result is success", r)
        v = L.MmsConnection_readVariable(con, err, ICC1, "Setpoint_Real")
        res.check(harness.describe_value(L, v) == 42.25, "Setpoint_Real reads back 42.25", harness.describe_value(L, v))

    with Step(res, "read / write Setpoint_Discrete"):
        r = L.MmsConnection_writeVariable(con, err, ICC1, "Setpoint_Discrete", L.MmsValue_newIntegerFromInt32(-123456))
        ok("write Setpoint_Discrete = -123456 succeeds")
        v = L.MmsConnection_readVariable(con, err, ICC1, "Setpoint_Discrete")
        res.check(harness.describe_value(L, v) == -123456, "Setpoint_Discrete reads back -123456", harness.describe_value(L, v))

    with Step(res, "write to a read-only point is refused"):
        r = L.MmsConnection_writeVariable(con, err, ICC1, point(1), L.MmsValue_newFloat(1.0))
        res.check(r != L.DATA_ACCESS_ERROR_SUCCESS, "write of a FLOAT to structure Point_0001 fails", r)

    with Step(res, "read / write Nested"):
        v = L.MmsConnection_readVariable(con, err, ICC1, "Nested")
        ok("read Nested succeeds")
        res.check(harness.describe_value(L, v) == [-5, [True, "hello"], [1, 2, 3]], "Nested is initially {-5, {true, hello}, [1,2,3]}",
                  harness.describe_value(L, v))
        nested = L.MmsValue_createEmptyStructure(3)
        L.MmsValue_setElement(nested, 0, L.MmsValue_newIntegerFromInt16(1234))
        b = L.MmsValue_createEmptyStructure(2)
        L.MmsValue_setElement(b, 0, L.MmsValue_newBoolean(False))
        L.MmsValue_setElement(b, 1, L.MmsValue_newVisibleString("world, again"))
        L.MmsValue_setElement(nested, 1, b)
        e = L.MmsValue_createEmptyArray(3)
        for i, x in enumerate((7, 8, 255)):
            L.MmsValue_setElement(e, i, L.MmsValue_newUnsignedFromUint32(x))
        L.MmsValue_setElement(nested, 2, e)
        r = L.MmsConnection_writeVariable(con, err, ICC1, "Nested", nested)
        ok("write Nested succeeds")
        res.check(r == L.DATA_ACCESS_ERROR_SUCCESS, "write Nested result is success", r)
        v = L.MmsConnection_readVariable(con, err, ICC1, "Nested")
        res.check(harness.describe_value(L, v) == [1234, [False, "world, again"], [7, 8, 255]],
                  "Nested reads back {1234, {false, 'world, again'}, [7,8,255]}", harness.describe_value(L, v))

    with Step(res, "getVariableAccessAttributes Point_0001"):
        spec = L.MmsConnection_getVariableAccessAttributes(con, err, ICC1, point(1))
        ok("GVAA Point_0001 succeeds")
        if res.check(spec is not None, "GVAA returned a type"):
            res.check(L.MmsVariableSpecification_getType(spec) == L.MMS_STRUCTURE, "Point_0001 is a structure")
            res.check(L.MmsVariableSpecification_getSize(spec) == 3, "Point_0001 has 3 components",
                      L.MmsVariableSpecification_getSize(spec))
            got = []
            for i in range(max(0, L.MmsVariableSpecification_getSize(spec))):
                c = L.MmsVariableSpecification_getChildSpecificationByIndex(spec, i)
                got.append((L.MmsVariableSpecification_getName(c), L.MmsVariableSpecification_getType(c),
                            L.MmsVariableSpecification_getSize(c)))
            want = [("Value", L.MMS_FLOAT, 32), ("TimeStamp", L.MMS_INTEGER, 32), ("Flags", L.MMS_BIT_STRING, 8)]
            res.check(got == want, "components are Value FLOAT32, TimeStamp INT32, Flags BIT STRING(8)", got)
            if got and got[0][1] == L.MMS_FLOAT:
                c = L.MmsVariableSpecification_getChildSpecificationByIndex(spec, 0)
                res.check(L.MmsVariableSpecification_getExponentWidth(c) == 8, "Value has exponent width 8",
                          L.MmsVariableSpecification_getExponentWidth(c))

    with Step(res, "getVariableAccessAttributes VMD TASE2_Version"):
        spec = L.MmsConnection_getVariableAccessAttributes(con, err, None, "TASE2_Version")
        ok("GVAA TASE2_Version succeeds")
        if spec is not None:
            res.check(L.MmsVariableSpecification_getType(spec) == L.MMS_STRUCTURE
                      and L.MmsVariableSpecification_getSize(spec) == 2, "TASE2_Version is a structure of 2")

    with Step(res, "named variable list ICC1/DS_Test"):
        specs = L.LinkedList_create()
        # libiec61850 keeps the char pointers it is given: the Python strings must outlive the call.
        ds_items = [point(1), point(2), point(3), "Setpoint_Real"]
        for item in ds_items:
            L.LinkedList_add(specs, L.MmsVariableAccessSpecification_create(ICC1, item))
        L.MmsConnection_defineNamedVariableList(con, err, ICC1, "DS_Test", specs)
        ok("defineNamedVariableList ICC1/DS_Test succeeds")
        v = L.MmsConnection_readNamedVariableListValues(con, err, ICC1, "DS_Test", False)
        ok("readNamedVariableListValues ICC1/DS_Test succeeds")
        d = harness.describe_value(L, v)
        want = [[1.5, 1700000001, ("bits", 8, 0)], [3.0, 1700000002, ("bits", 8, 0)],
                [4.5, 1700000003, ("bits", 8, 0)], 42.25]
        res.check(d == want, "DS_Test values are Point_0001..0003 and Setpoint_Real", d)
        lists = harness.ll_strings(L.MmsConnection_getDomainVariableListNames(con, err, ICC1))
        ok("getDomainVariableListNames(ICC1) succeeds")
        res.check("DS_Test" in lists and "DS_Predefined" in lists, "ICC1 lists DS_Test and DS_Predefined", lists)
        v = L.MmsConnection_readNamedVariableListValues(con, err, ICC1, "DS_Predefined", False)
        ok("readNamedVariableListValues ICC1/DS_Predefined succeeds")
        d = harness.describe_value(L, v)
        res.check(isinstance(d, list) and len(d) == 5 and d[4] == [7.5, 1700000005, ("bits", 8, 0)],
                  "DS_Predefined has Point_0001..0005", d)
        deleted = L.MmsConnection_deleteNamedVariableList(con, err, ICC1, "DS_Test")
        ok("deleteNamedVariableList ICC1/DS_Test succeeds")
        res.check(bool(deleted), "server reports DS_Test deleted", deleted)
        lists = harness.ll_strings(L.MmsConnection_getDomainVariableListNames(con, err, ICC1))
        res.check("DS_Test" not in lists and "DS_Predefined" in lists, "DS_Test is gone, DS_Predefined stays", lists)

    with Step(res, "InformationReport Vcc_Report"):
        reports: list = []
        arrived = threading.Condition()
        handler = make_report_handler(L, reports, arrived)
        subscriber = L.InformationReportSubscriber()
        subscriber.setMmsConnection(con)
        subscriber.setEventHandler(handler)
        handler.__disown__()  # the subscriber owns (and deletes) the handler: no double free at exit
        facts["subscriber"] = subscriber  # keep it alive as long as the connection
        res.check(bool(subscriber.subscribe()), "InformationReportSubscriber subscribed")
        counters = []
        for k in range(2):
            invoke = RAW_INVOKE_BASE + k
            facts["raw_invoke_ids"].append(invoke)
            code = send_raw_mms(L, con, write_vmd_boolean_pdu(invoke, "Report_Trigger", True))
            res.check(code == 0, f"write Report_Trigger=true #{k + 1} sent (invoke id {invoke})", harness.mms_error_name(code))
            deadline = time.monotonic() + 5.0
            with arrived:
                while len(reports) <= k and time.monotonic() < deadline:
                    arrived.wait(0.1)
            if not res.check(len(reports) > k, f"InformationReport #{k + 1} arrives within 5 s", reports):
                break
            rep = reports[k]
            res.check(rep["name"] == "Vcc_Report" and rep["is_list"] and not rep["domain"],
                      f"report #{k + 1} names the VMD-scope list Vcc_Report", rep)
            vals = rep["values"]
            good = isinstance(vals, list) and len(vals) == 2 and vals[0] == [2000, 8] and isinstance(vals[1], int)
            res.check(good, f"report #{k + 1} carries TASE2_Version {{2000, 8}} and an INT32 Report_Counter", vals)
            if good:
                counters.append(vals[1])
        if len(counters) == 2:
            res.note(f"Report_Counter values {counters}")
            res.check(counters[1] == counters[0] + 1, "Report_Counter increments by one per report", counters)
        v = L.MmsConnection_readNamedVariableListValues(con, err, None, "Vcc_Report", False)
        ok("read of the VMD list Vcc_Report succeeds")
        d = harness.describe_value(L, v)
        res.check(isinstance(d, list) and len(d) == 2 and d[0] == [2000, 8], "Vcc_Report reads {TASE2_Version, Report_Counter}", d)

    with Step(res, "conclude"):
        L.MmsConnection_conclude(con, err)
        ok("conclude succeeds")
    L.MmsConnection_destroy(con)
    sub = facts.pop("subscriber", None)
    del sub
    return facts


def icc2_session(res: harness.Results, port: int) -> None:
    """ICC2's own client (1.1.1.997/12, bilateral table BLT_ICC2) lists and reads ICC2 only."""
    L = harness.libiec()
    con, retries = harness.mms_connect(port, local_ap_title=ICC2_CLIENT_AP_TITLE)
    if not res.check(con is not None, "libiec61850 connects as 1.1.1.997/12 (bilateral table BLT_ICC2)",
                     f"after {retries} retries"):
        return
    err = L.MmsError_create()

    def ok(what: str) -> bool:
        code = L.MmsError_getValue(err)
        return res.check(code == 0, what, harness.mms_error_name(code))

    with Step(res, "getDomainNames as 1.1.1.997"):
        domains = harness.ll_strings(L.MmsConnection_getDomainNames(con, err))
        ok("getDomainNames as 1.1.1.997 succeeds")
        res.check(domains == [ICC2], "1.1.1.997 sees domains [ICC2]", domains)

    with Step(res, "getDomainVariableNames(ICC2) as 1.1.1.997"):
        names2 = harness.ll_strings(L.MmsConnection_getDomainVariableNames(con, err, ICC2))
        ok("getDomainVariableNames(ICC2) succeeds")
        missing = [n for n in [point(i) for i in range(1, 11)] + ["Bilateral_Table_ID"] if n not in names2]
        res.check(not missing, "ICC2 lists Point_0001..Point_0010 and Bilateral_Table_ID", missing)

    with Step(res, "read ICC2 as 1.1.1.997"):
        v = L.MmsConnection_readVariable(con, err, ICC2, point(10))
        ok("read ICC2 Point_0010 succeeds")
        d = harness.describe_value(L, v)
        res.check(d == [15.0, 1700000010, ("bits", 8, 0)], "ICC2 Point_0010 = {15.0, 1700000010, flags 0}", d)
        v = L.MmsConnection_readVariable(con, err, ICC2, "Bilateral_Table_ID")
        res.check(harness.describe_value(L, v) == "BLT_ICC2", "ICC2 Bilateral_Table_ID = BLT_ICC2", harness.describe_value(L, v))
        v = L.MmsConnection_readVariable(con, err, ICC1, "Bilateral_Table_ID")
        d = harness.describe_value(L, v)
        res.check(d == ("access-error", L.DATA_ACCESS_ERROR_OBJECT_NONE_EXISTENT),
                  "ICC1 Bilateral_Table_ID does not exist for 1.1.1.997", d)

    with Step(res, "conclude as 1.1.1.997"):
        L.MmsConnection_conclude(con, err)
        ok("conclude as 1.1.1.997 succeeds")
    L.MmsConnection_destroy(con)


def refused_session(res: harness.Results, port: int) -> None:
    """A client no bilateral table names is refused at association."""
    con, _ = harness.mms_connect(port, attempts=1, local_ap_title=UNLISTED_AP_TITLE)
    res.check(con is None, "1.1.1.555/12 (in no bilateral table) is refused at association")
    if con is not None:
        harness.libiec().MmsConnection_destroy(con)


def capture_checks(res: harness.Results, pcap: Path, port: int, facts: dict) -> None:
    harness.tshark_checks(res, pcap, port, side="server")
    more = harness.tshark_count(pcap, port, f"tcp.srcport=={port} && mms.confirmedServiceResponse==1 && mms.moreFollows==1")
    res.check(more >= 1, "server paged a GetNameList response (moreFollows TRUE) and libiec61850 followed it", more)
    triggers = len(facts.get("raw_invoke_ids", []))
    reports = harness.tshark_count(pcap, port, f"tcp.srcport=={port} && mms.informationReport_element")
    res.check(triggers > 0 and reports >= triggers, f"server sent {triggers} InformationReports (tshark)", reports)
    refusals = harness.tshark_count(pcap, port, f"tcp.srcport=={port} && acse.result==1")
    res.check(refusals >= 1, "server answered 1.1.1.555 with an AARE rejected-permanent (tshark)", refusals)
    for inv in facts.get("raw_invoke_ids", []):
        n = harness.tshark_count(pcap, port, f"tcp.srcport=={port} && mms.invokeID=={inv} && mms.success_element")
        res.check(n == 1, f"server answered the Report_Trigger write (invoke id {inv}) with success", n)


def sessions(res: harness.Results, port: int) -> dict:
    facts = session(res, port)
    icc2_session(res, port)
    refused_session(res, port)
    return facts


def main() -> None:
    harness.serve_and_check(__doc__, "libiec61850 client -> tase2 server", "libiec61850_client",
                            sessions, capture_checks).finish()


if __name__ == "__main__":
    main()
