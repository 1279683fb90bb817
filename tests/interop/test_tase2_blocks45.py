#!/usr/bin/env python3
"""Interop (e): TASE.2 conformance blocks 4 and 5, driven by libiec61850's raw MmsConnection.

libiec61850 (pyiec61850-ng) knows nothing of TASE.2 devices or information messages: it is a plain
MMS client here, so every block 4 / 5 rule below is checked against what our ``tase2 serve``
(default embedded model) answers, decoded by a stack other people wrote, and every byte of the
capture is judged by tshark.

The flow (each check is printed as ``PASS|FAIL <step>.<n> ...``):

1. associate as 1.1.1.999/12 (BLT_ICC1, twice: associations A and B of the same client) and as
   1.1.1.997/12 (BLT_ICC2, association C); ``Supported_Features`` has blocks 1, 2, 4 and 5; the device
   and information objects are listed and have the TASE.2 types (GetVariableAccessAttributes);
2. select-before-operate: read ``ICC1/Brk1_Cmd_SBO`` answers CheckBackID 101; write ``Brk1_Cmd`` = 1
   succeeds and ``Brk1`` reads closed; the select is used up (a second write: object-access-denied);
   select again, write 0, ``Brk1`` reads open; C's ``ICC2/Brk1_Cmd_SBO`` answers 301;
3. an operate without a select is object-access-denied; two associations race for ``Brk2_Cmd``: A's
   select answers BLT_ICC1's own CheckBackID 1202, B's select is temporarily-unavailable, B's operate
   object-access-denied, A's operate succeeds;
4. direct operates: ``Gen1_Start`` = 1; ``Gen1_MW_SP`` = 123.5 and ``Setpoint_Real`` follows; an
   SBO discrete setpoint (``Tap1_SP``, CheckBackID 201) moves ``Tap1``; wrong types are
   type-inconsistent, a command 2 is object-value-invalid;
5. the field device decides: ``Brk9_Cmd`` (selected) fails with hardware-fault; ``Brk8_Cmd`` is never
   answered and the Write response comes about 5 s later with temporarily-unavailable;
6. rights: BLT_ICC1 may read ``Brk3_Cmd`` but neither select nor operate it;
7. tags: ``Brk1_Cmd_TAG`` is { BIT STRING(3), VisibleString }; A tags it open-and-close inhibit, which
   refuses selects; B cannot change A's tag; tag value 3 is object-value-invalid; close-only refuses
   close but not open; a tag cannot change while the device is armed; A clears it and selects again;
   ``Cap1_Cmd`` carries a local close-only tag no client may change;
8. information messages: A and D (a fourth association, 1.1.1.997/12, in a process of its own:
   pyiec61850 has one InformationReport handler per process, blind to the connection) write
   ``true`` to the association-specific ``IM_Transfer_Set`` (an MMS Write encoded here and sent
   through libiec61850's association: libiec61850 cannot name an aa-specific variable); within 7 s A
   receives ``ICC1/Info_Mess_Header`` {10, 1, n, size} with ``ICC1/Info_Buff_256`` "ICC1 operations
   log entry n" and the VCC bulletin (VMD-specific names); D receives "ICC2 notice n" and the
   bulletin, never ICC1's log; after A writes ``false`` it receives no more, D still does;
9. tshark: nothing malformed, every payload decoded (the whole capture too, but for the reset of
   libiec61850's client after its own FIN when it closes before our Release-Response); the hand-encoded requests were answered (the
   writes with success, the read of ``IM_Transfer_Set`` with true); the information reports carry
   byte for byte the header and text; each association got only its own domain's messages, and B
   and C (never enabled) none; the late Write response of ``Brk8_Cmd`` is temporarily-unavailable.

Usage: test_tase2_blocks45.py --tase2 PATH --port N [--capture-dir DIR] [--no-server]
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from pathlib import Path

sys.dont_write_bytecode = True  # keep tests/interop free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from test_tase2_blocks12 import Checks, bit, dae_name, spec_type  # noqa: E402

ICC1 = "ICC1"
ICC2 = "ICC2"
ICC2_AP_TITLE = "1.1.1.997"
IM_TRANSFER_SET = "IM_Transfer_Set"
RAW_INVOKE_BASE = 0x7E0000  # invoke ids of the hand-encoded PDUs, far from libiec61850's own
INFO_WAIT = 7.0  # seconds: messages go out every 5 s
OPERATE_TIMEOUT = 5.0  # the default model's operate_timeout_s

# Tag values (the two tag bits; bit 0 is the first, most significant bit of the BIT STRING(3)).
TAG_NONE, TAG_OPEN_AND_CLOSE, TAG_CLOSE_ONLY, TAG_INVALID = 0, 1, 2, 3

INT16, INT32, FLOAT32 = ("int", 16), ("int", 32), ("float", 32)
TAG_TYPE = ("struct", [("Flags", ("bits", 3)), ("Reason", ("vstring", 255))])
HEADER_TYPE = ("struct", [("InfoReference", INT32), ("LocalReference", INT32), ("MessageId", INT32),
                          ("Size", INT32)])


# ------------------------------------------------------------------------------------------------
# BER for the hand-encoded PDUs (ISO 9506-2)






def aa_variable(name: str) -> bytes:
    """listOfVariable [0] { SEQUENCE { variableSpecification name [0] ObjectName aa-specific [2] } }"""
    return harness.ber_tlv(0xA0, harness.ber_tlv(0x30, harness.ber_tlv(0xA0, harness.ber_tlv(0x82, name.encode("ascii")))))


def write_aa_boolean_pdu(invoke_id: int, name: str, value: bool) -> bytes:
    """confirmed-RequestPDU { invokeID, write [5] { listOfVariable, listOfData [0] { boolean [3] } } }"""
    data = harness.ber_tlv(0xA0, harness.ber_tlv(0x83, b"\xff" if value else b"\x00"))
    return harness.ber_tlv(0xA0, harness.ber_tlv(0x02, harness.ber_int(invoke_id)) + harness.ber_tlv(0xA5, aa_variable(name) + data))


def read_aa_pdu(invoke_id: int, name: str) -> bytes:
    """confirmed-RequestPDU { invokeID, read [4] { variableAccessSpecification [1] { listOfVariable } } }"""
    return harness.ber_tlv(0xA0, harness.ber_tlv(0x02, harness.ber_int(invoke_id)) + harness.ber_tlv(0xA4, harness.ber_tlv(0xA1, aa_variable(name))))


def send_raw_mms(L, con, pdu: bytes) -> int:
    """Send one MMS PDU through libiec61850's association (it ignores the response, whose invoke id is
    not one of its own: tshark checks it); returns the MmsError value."""
    buf_value = L.MmsValue_newOctetString(len(pdu), len(pdu))
    for i, b in enumerate(pdu):
        L.MmsValue_setOctetStringOctet(buf_value, i, b)
    err = L.MmsError_create()
    L.MmsConnection_sendRawData(con, err, L.MmsValue_getOctetStringBuffer(buf_value), len(pdu))
    return L.MmsError_getValue(err)


# ------------------------------------------------------------------------------------------------
# values


def octets(L, v) -> bytes | None:
    """The octets of an OCTET STRING MmsValue (None for any other value)."""
    if v is None or L.MmsValue_getType(v) != L.MMS_OCTET_STRING:
        return None
    return bytes(L.MmsValue_getOctetStringOctet(v, i) for i in range(L.MmsValue_getOctetStringSize(v)))


def tag_value(L, flags: int, reason: str):
    """A ``<Device>_TAG`` value: Flags BIT STRING(3) with the two tag bits, Reason."""
    s = L.MmsValue_createEmptyStructure(2)
    b = L.MmsValue_newBitString(3)
    if flags & 2:
        L.MmsValue_setBitStringBit(b, 0, True)
    if flags & 1:
        L.MmsValue_setBitStringBit(b, 1, True)
    L.MmsValue_setElement(s, 0, b)
    L.MmsValue_setElement(s, 1, L.MmsValue_newVisibleString(reason))
    return s


def tag_read(d):
    """``(tag value, armed, reason)`` of a described ``<Device>_TAG`` read, or None."""
    if not (isinstance(d, list) and len(d) == 2 and isinstance(d[0], tuple) and d[0][:2] == ("bits", 3)
            and isinstance(d[1], str)):
        return None
    return ((2 if bit(d[0], 0) else 0) | (1 if bit(d[0], 1) else 0), bit(d[0], 2), d[1])


def breaker_state(d) -> str:
    """"on" / "off" / ... of a described Data_StateQTimeTag {TimeStamp, Flags}."""
    if not (isinstance(d, list) and len(d) == 2):
        return f"not a StateQTimeTag: {d}"
    return {0: "between", 1: "off", 2: "on", 3: "invalid"}[(2 if bit(d[1], 0) else 0) | (1 if bit(d[1], 1) else 0)]


# ------------------------------------------------------------------------------------------------
# information reports


class Reports:
    """Every InformationReport handler call of libiec61850 on one association, in arrival order
    (a listOfVariable report calls the handler once per variable)."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.cond = threading.Condition()

    def add(self, entry: dict) -> None:
        with self.cond:
            self.items.append(entry)
            self.cond.notify_all()

    def snapshot(self) -> list[dict]:
        with self.cond:
            return list(self.items)

    def messages(self) -> list[dict]:
        """The information messages: an ``Info_Mess_Header`` followed by an ``Info_Buff_<n>`` of the
        same scope."""
        return self._pair(self.snapshot())

    @staticmethod
    def _pair(items: list[dict]) -> list[dict]:
        out = []
        for h, b in zip(items, items[1:]):
            if h["name"] == "Info_Mess_Header" and b["name"].startswith("Info_Buff_") and h["domain"] == b["domain"]:
                out.append({"t": b["t"], "domain": h["domain"], "header": h["value"], "buffer": b["name"],
                            "data": b["octets"]})
        return out

    def wait_for(self, pred, timeout: float) -> bool:
        """Wait until ``pred(self.messages())`` holds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if pred(self._pair(self.items)):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.2))


def subscribe(L, con, reports: Reports):
    """Install an InformationReport handler on ``con`` that copies each call into ``reports``.
    Returns the subscriber (keep it alive as long as the connection). pyiec61850 dispatches every
    connection's reports to the first handler of the process, without saying which connection they
    came from: one listening connection per process."""

    class Handler(L.InformationReportHandler):
        def trigger(self) -> None:  # runs on libiec61850's receive thread
            entry = {"t": time.time(), "domain": self.getDomainName() or None, "name": self.getVariableListName(),
                     "is_list": bool(self.getIsVariableListName()), "value": None, "octets": None}
            try:
                v = self.getMmsValue()
                entry["octets"] = octets(L, v)
                if entry["octets"] is None:
                    entry["value"] = harness.describe_value(L, v)
            except Exception as exc:  # never let an exception cross into C
                entry["error"] = repr(exc)
            reports.add(entry)

    handler = Handler()
    sub = L.InformationReportSubscriber()
    sub.setMmsConnection(con)
    sub.setEventHandler(handler)
    handler.__disown__()  # the subscriber owns (and deletes) the handler
    sub.subscribe()
    return sub


def icc2_listener(port: int, invoke_id: int, duration: float, queue) -> None:
    """In a process of its own: associate as 1.1.1.997/12, enable information messages, collect the
    reports for ``duration`` seconds, conclude. Puts {connected, sent} on ``queue`` once enabled, then
    {items, concluded}."""
    L = harness.libiec()
    con, retries = harness.mms_connect(port, local_ap_title=ICC2_AP_TITLE)
    if con is None:
        queue.put({"connected": False, "retries": retries})
        queue.put({"items": [], "concluded": None})
        return
    reports = Reports()
    sub = subscribe(L, con, reports)
    sent = send_raw_mms(L, con, write_aa_boolean_pdu(invoke_id, IM_TRANSFER_SET, True))
    queue.put({"connected": True, "retries": retries, "sent": sent})
    time.sleep(duration)
    items = reports.snapshot()
    err = L.MmsError_create()
    L.MmsConnection_conclude(con, err)
    concluded = L.MmsError_getValue(err)
    L.MmsConnection_destroy(con)
    del sub
    queue.put({"items": items, "concluded": concluded})


# ------------------------------------------------------------------------------------------------
# the session


def session(res: harness.Results, port: int) -> dict:
    """The flow of the module docstring (steps 1-8). Returns facts for the capture checks (step 9)."""
    L = harness.libiec()
    c = Checks(res)
    facts: dict = {"checks": c, "raw": {}, "keep": []}
    err = L.MmsError_create()
    OK = L.DATA_ACCESS_ERROR_SUCCESS
    DENIED = L.DATA_ACCESS_ERROR_OBJECT_ACCESS_DENIED
    UNAVAILABLE = L.DATA_ACCESS_ERROR_TEMPORARILY_UNAVAILABLE
    TYPE = L.DATA_ACCESS_ERROR_TYPE_INCONSISTENT
    VALUE = L.DATA_ACCESS_ERROR_OBJECT_VALUE_INVALID
    FAULT = L.DATA_ACCESS_ERROR_HARDWARE_FAULT
    cons: dict = {}

    def read(who: str, domain, name):
        """The described value of a read by association ``who`` (an access error reads as
        ("access-error", code))."""
        v = L.MmsConnection_readVariable(cons[who], err, domain, name)
        code = L.MmsError_getValue(err)
        d = harness.describe_value(L, v)
        if d is None and code != 0:
            d = ("mms-error", harness.mms_error_name(code))
        return d

    def write(who: str, domain, name, value) -> int:
        """The DataAccessError of a write (-1: success)."""
        return L.MmsConnection_writeVariable(cons[who], err, domain, name, value)

    def i16(v: int):
        return L.MmsValue_newIntegerFromInt16(v)

    def expect_read(who, domain, name, want, what):
        d = read(who, domain, name)
        return c.check(d == want, what, d)

    def expect_write(who, domain, name, value, want, what):
        r = write(who, domain, name, value)
        return c.check(r == want, what, f"{dae_name(L, r)} ({r})")

    def denied(d, code) -> bool:
        return d == ("access-error", code)

    # -------------------------------------------------------------------- 1
    with c.step("associate A, B (1.1.1.999/12, BLT_ICC1) and C (1.1.1.997/12, BLT_ICC2); "
                "Supported_Features; device and information objects and their types"):
        for who, title in (("A", harness.CLIENT_AP_TITLE), ("B", harness.CLIENT_AP_TITLE), ("C", ICC2_AP_TITLE)):
            con, retries = harness.mms_connect(port, res=res, local_ap_title=title)
            if not c.check(con is not None, f"libiec61850 association {who} as {title}/12", f"after {retries} retries"):
                return facts
            cons[who] = con
        d = read("A", None, "Supported_Features")
        c.check(isinstance(d, tuple) and d[:2] == ("bits", 12) and all(bit(d, b) for b in (0, 1, 3, 4)),
                "Supported_Features has bits 0, 1, 3 and 4 (blocks 1, 2, 4 and 5)", d)
        c.check(isinstance(d, tuple) and not bit(d, 2) and not any(bit(d, b) for b in range(5, 12)),
                "no other block is claimed", d)
        names = harness.ll_strings(L.MmsConnection_getDomainVariableNames(cons["A"], err, ICC1))
        want = ["Brk1_Cmd", "Brk1_Cmd_SBO", "Brk1_Cmd_TAG", "Brk2_Cmd_SBO", "Brk3_Cmd", "Brk3_Cmd_SBO",
                "Gen1_Start", "Gen1_MW_SP", "Tap1_SP_SBO", "Tap1_SP_TAG", "Cap1_Cmd_TAG", "Brk9_Cmd_SBO",
                "Brk8_Cmd", "Info_Mess_Header", "Info_Buff_256", "Info_Buff_4096"]
        c.check(all(n in names for n in want), "ICC1 lists the devices, their _SBO / _TAG and the information "
                                               "buffers", [n for n in want if n not in names])
        c.check(not any(n in names for n in ("Gen1_Start_SBO", "Gen1_Start_TAG", "Brk3_Cmd_TAG", "Brk8_Cmd_SBO")),
                "direct devices have no _SBO, untagged devices no _TAG", [n for n in names if "Gen1_Start_" in n])
        vmd = harness.ll_strings(L.MmsConnection_getVMDVariableNames(cons["A"], err))
        c.check("Info_Mess_Header" in vmd and "Info_Buff_1024" in vmd, "VCC lists Info_Mess_Header and Info_Buff_1024",
                [n for n in vmd if n.startswith("Info")])
        names2 = harness.ll_strings(L.MmsConnection_getDomainVariableNames(cons["C"], err, ICC2))
        want2 = ["Brk1_Cmd", "Brk1_Cmd_SBO", "Brk1_Cmd_TAG", "Gen1_MW_SP", "Info_Mess_Header", "Info_Buff_1024"]
        c.check(all(n in names2 for n in want2), "ICC2 lists its devices and information buffer to C",
                [n for n in want2 if n not in names2])
        for domain, name, t in ((ICC1, "Brk1_Cmd", INT16), (ICC1, "Brk1_Cmd_SBO", INT16), (ICC1, "Brk1_Cmd_TAG", TAG_TYPE),
                                (ICC1, "Gen1_MW_SP", FLOAT32), (ICC1, "Tap1_SP", INT16), (ICC1, "Info_Mess_Header", HEADER_TYPE),
                                (None, "Info_Mess_Header", HEADER_TYPE)):
            spec = L.MmsConnection_getVariableAccessAttributes(cons["A"], err, domain, name)
            got = spec_type(L, spec) if spec is not None else harness.mms_error_name(L.MmsError_getValue(err))
            c.check(got == t, f"{domain or 'VMD'}/{name} is {t}", got)
        spec = L.MmsConnection_getVariableAccessAttributes(cons["A"], err, ICC1, "Info_Buff_256")
        c.check(spec is not None and L.MmsVariableSpecification_getType(spec) == L.MMS_OCTET_STRING
                and abs(L.MmsVariableSpecification_getSize(spec)) == 256,
                "ICC1/Info_Buff_256 is an OCTET STRING of 256 octets",
                spec and (L.MmsVariableSpecification_getType(spec), L.MmsVariableSpecification_getSize(spec)))

    # -------------------------------------------------------------------- 2
    with c.step("select-before-operate: Brk1_Cmd (CheckBackID 101) closes and opens Brk1; ICC2's Brk1_Cmd"):
        expect_read("A", ICC1, "Brk1_Cmd_SBO", 101, "select: read ICC1/Brk1_Cmd_SBO answers CheckBackID 101")
        expect_write("A", ICC1, "Brk1_Cmd", i16(1), OK, "operate: write ICC1/Brk1_Cmd = 1 (close) succeeds")
        d = read("A", ICC1, "Brk1")
        c.check(breaker_state(d) == "on", "ICC1/Brk1 reads closed (state 10)", d)
        expect_read("A", ICC1, "Brk1_Cmd", 1, "ICC1/Brk1_Cmd reads the last operate value 1")
        expect_write("A", ICC1, "Brk1_Cmd", i16(0), DENIED,
                     "a second operate after the select was used: object-access-denied")
        expect_read("A", ICC1, "Brk1_Cmd_SBO", 101, "select again: CheckBackID 101")
        expect_write("A", ICC1, "Brk1_Cmd", i16(0), OK, "operate: write ICC1/Brk1_Cmd = 0 (open) succeeds")
        d = read("A", ICC1, "Brk1")
        c.check(breaker_state(d) == "off", "ICC1/Brk1 reads open (state 01)", d)
        expect_read("C", ICC2, "Brk1_Cmd_SBO", 301, "C: read ICC2/Brk1_Cmd_SBO answers CheckBackID 301")
        expect_write("C", ICC2, "Brk1_Cmd", i16(1), OK, "C: write ICC2/Brk1_Cmd = 1 succeeds")
        d = read("C", ICC2, "Brk1")
        c.check(breaker_state(d) == "on", "ICC2/Brk1 reads closed", d)
        d = read("C", ICC1, "Brk1_Cmd_SBO")
        c.check(isinstance(d, tuple) and d[0] in ("access-error", "mms-error"),
                "C cannot select ICC1/Brk1_Cmd (another client's domain)", d)

    # -------------------------------------------------------------------- 3
    with c.step("operate without select; two associations race for Brk2_Cmd (CheckBackID 1202 for BLT_ICC1)"):
        expect_write("A", ICC1, "Brk2_Cmd", i16(1), DENIED, "operate of ICC1/Brk2_Cmd without a select: "
                                                            "object-access-denied")
        expect_read("A", ICC1, "Brk2_Cmd_SBO", 1202, "A selects Brk2_Cmd: BLT_ICC1's CheckBackID 1202 (not the "
                                                     "device's 102)")
        d = read("B", ICC1, "Brk2_Cmd_SBO")
        c.check(denied(d, UNAVAILABLE), "B's select while A holds it: temporarily-unavailable", d)
        expect_write("B", ICC1, "Brk2_Cmd", i16(1), DENIED, "B's operate of A's selection: object-access-denied")
        expect_write("A", ICC1, "Brk2_Cmd", i16(1), OK, "A's operate succeeds")
        d = read("B", ICC1, "Brk2")
        c.check(breaker_state(d) == "on", "ICC1/Brk2 reads closed", d)
        expect_read("B", ICC1, "Brk2_Cmd_SBO", 1202, "once A operated, B may select (1202)")
        expect_write("B", ICC1, "Brk2_Cmd", i16(0), OK, "B's operate succeeds")

    # -------------------------------------------------------------------- 4
    with c.step("direct operates and setpoints; wrong types and values"):
        expect_write("A", ICC1, "Gen1_Start", i16(1), OK, "direct operate: write ICC1/Gen1_Start = 1 succeeds")
        expect_write("A", ICC1, "Gen1_MW_SP", L.MmsValue_newFloat(123.5), OK,
                     "real setpoint: write ICC1/Gen1_MW_SP = 123.5 succeeds")
        expect_read("A", ICC1, "Setpoint_Real", 123.5, "the feedback point ICC1/Setpoint_Real reads 123.5")
        expect_read("A", ICC1, "Gen1_MW_SP", 123.5, "ICC1/Gen1_MW_SP reads 123.5")
        expect_read("A", ICC1, "Tap1_SP_SBO", 201, "select of the discrete setpoint ICC1/Tap1_SP: CheckBackID 201")
        expect_write("A", ICC1, "Tap1_SP", i16(7), OK, "write ICC1/Tap1_SP = 7 succeeds")
        d = read("A", ICC1, "Tap1")
        c.check(isinstance(d, list) and d and d[0] in (6, 7, 8), "ICC1/Tap1 follows to 7 (±1: it walks every second)", d)
        if isinstance(d, list) and d and d[0] != 7:
            c.note(f"Tap1 read {d[0]}: the simulation stepped between the operate and the read")
        expect_write("A", ICC1, "Gen1_MW_SP", L.MmsValue_newIntegerFromInt32(5), TYPE,
                     "an INTEGER to the real setpoint Gen1_MW_SP: type-inconsistent")
        expect_write("A", ICC1, "Gen1_Start", L.MmsValue_newFloat(1.0), TYPE,
                     "a FLOAT to the command Gen1_Start: type-inconsistent")
        expect_read("A", ICC1, "Brk1_Cmd_SBO", 101, "select ICC1/Brk1_Cmd")
        expect_write("A", ICC1, "Brk1_Cmd", L.MmsValue_newFloat(1.0), TYPE,
                     "a FLOAT to the SBO command Brk1_Cmd: type-inconsistent")
        expect_write("A", ICC1, "Brk1_Cmd", i16(0), OK, "a refused value is no operate: the select still holds")
        expect_write("A", ICC1, "Gen1_Start", i16(2), VALUE, "command value 2: object-value-invalid")
        expect_write("C", ICC2, "Gen1_MW_SP", L.MmsValue_newFloat(-20.0), OK, "C: write ICC2/Gen1_MW_SP succeeds")

    # -------------------------------------------------------------------- 5
    with c.step("the field device decides: Brk9_Cmd fails (hardware-fault), Brk8_Cmd never answers"):
        expect_read("A", ICC1, "Brk9_Cmd_SBO", 109, "select ICC1/Brk9_Cmd: CheckBackID 109")
        expect_write("A", ICC1, "Brk9_Cmd", i16(1), FAULT, "operate of the faulty breaker: hardware-fault")
        expect_write("A", ICC1, "Brk9_Cmd", i16(1), DENIED, "the failed operate used the select up")
        L.MmsConnection_setRequestTimeout(cons["A"], int((OPERATE_TIMEOUT + 5) * 1000))
        t0 = time.monotonic()
        r = write("A", ICC1, "Brk8_Cmd", i16(1))
        took = time.monotonic() - t0
        L.MmsConnection_setRequestTimeout(cons["A"], 5000)
        c.check(r == UNAVAILABLE, "operate of the unanswered breaker: temporarily-unavailable", f"{dae_name(L, r)} ({r})")
        c.check(OPERATE_TIMEOUT - 0.5 <= took <= OPERATE_TIMEOUT + 2.0,
                f"the Write response came after the operate timeout ({OPERATE_TIMEOUT:.0f} s)", f"{took:.2f} s")
        facts["late_write"] = (time.time() - took, time.time())
        expect_write("A", ICC1, "Brk8_Cmd", L.MmsValue_newFloat(1.0), TYPE,
                     "the association still answers at once (a wrong type)")

    # -------------------------------------------------------------------- 6
    with c.step("rights: BLT_ICC1 may read Brk3_Cmd, not select or operate it"):
        expect_read("A", ICC1, "Brk3_Cmd", 0, "read ICC1/Brk3_Cmd succeeds (0)")
        d = read("A", ICC1, "Brk3_Cmd_SBO")
        c.check(denied(d, DENIED), "select (read Brk3_Cmd_SBO): object-access-denied", d)
        expect_write("A", ICC1, "Brk3_Cmd", i16(1), DENIED, "operate (write Brk3_Cmd): object-access-denied")

    # -------------------------------------------------------------------- 7
    with c.step("tags: Brk1_Cmd_TAG owned by A; close-only; armed; Cap1_Cmd's local tag"):
        d = read("A", ICC1, "Brk1_Cmd_TAG")
        c.check(tag_read(d) == (TAG_NONE, False, ""), "ICC1/Brk1_Cmd_TAG reads {000, \"\"}", d)
        expect_write("A", ICC1, "Brk1_Cmd_TAG", tag_value(L, TAG_OPEN_AND_CLOSE, "crew on line"), OK,
                     "A tags Brk1_Cmd open-and-close inhibit (flags 01), \"crew on line\"")
        d = read("B", ICC1, "Brk1_Cmd_TAG")
        c.check(tag_read(d) == (TAG_OPEN_AND_CLOSE, False, "crew on line"), "B reads the tag {010, \"crew on line\"}", d)
        d = read("A", ICC1, "Brk1_Cmd_SBO")
        c.check(denied(d, DENIED), "select of the tagged device: object-access-denied", d)
        expect_write("B", ICC1, "Brk1_Cmd_TAG", tag_value(L, TAG_NONE, ""), DENIED,
                     "B cannot clear A's tag: object-access-denied")
        expect_write("A", ICC1, "Brk1_Cmd_TAG", tag_value(L, TAG_INVALID, "x"), VALUE,
                     "tag value 3 (invalid): object-value-invalid")
        expect_write("A", ICC1, "Brk1_Cmd_TAG", tag_value(L, TAG_CLOSE_ONLY, "close-only"), OK,
                     "A changes its tag to close-only inhibit (flags 10)")
        expect_read("A", ICC1, "Brk1_Cmd_SBO", 101, "select under close-only succeeds")
        d = read("A", ICC1, "Brk1_Cmd_TAG")
        c.check(tag_read(d) == (TAG_CLOSE_ONLY, True, "close-only"), "the tag shows the device armed (flags 101)", d)
        expect_write("A", ICC1, "Brk1_Cmd_TAG", tag_value(L, TAG_NONE, ""), UNAVAILABLE,
                     "a tag change while armed: temporarily-unavailable")
        expect_write("A", ICC1, "Brk1_Cmd", i16(1), DENIED, "close under close-only: object-access-denied")
        expect_read("A", ICC1, "Brk1_Cmd_SBO", 101, "select again")
        expect_write("A", ICC1, "Brk1_Cmd", i16(0), OK, "open under close-only succeeds")
        expect_write("A", ICC1, "Brk1_Cmd_TAG", tag_value(L, TAG_NONE, ""), OK, "A clears its tag (flags 00)")
        expect_read("A", ICC1, "Brk1_Cmd_SBO", 101, "the untagged device selects again")
        expect_write("A", ICC1, "Brk1_Cmd", i16(1), OK, "and closes")
        d = read("A", ICC1, "Cap1_Cmd_TAG")
        c.check(tag_read(d) == (TAG_CLOSE_ONLY, False, "capacitor bank maintenance"),
                "ICC1/Cap1_Cmd_TAG reads the local tag close-only, \"capacitor bank maintenance\"", d)
        expect_write("A", ICC1, "Cap1_Cmd_TAG", tag_value(L, TAG_NONE, ""), DENIED,
                     "no client may change the local tag: object-access-denied")
        expect_write("A", ICC1, "Cap1_Cmd", i16(1), DENIED, "close of Cap1_Cmd: object-access-denied")
        expect_write("A", ICC1, "Cap1_Cmd", i16(0), OK, "open of Cap1_Cmd succeeds")

    # -------------------------------------------------------------------- 8
    with c.step("information messages: IM_Transfer_Set (aa-specific) per association; ICC1 log, ICC2 notice, "
                "VCC bulletin"):
        # pyiec61850 has one InformationReport handler per process: ICC2's listener (D) runs in a
        # process of its own, so each handler sees exactly one association's reports.
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        inv_d = RAW_INVOKE_BASE + 1
        facts["raw"][inv_d] = "D: write IM_Transfer_Set = true"
        child = ctx.Process(target=icc2_listener, args=(port, inv_d, 2 * INFO_WAIT + 1.0, queue), daemon=True)
        child.start()
        try:
            hello = queue.get(timeout=30)
        except Exception as exc:  # noqa: BLE001 (queue.Empty or a dead child)
            hello = {"error": repr(exc)}
        c.check(hello.get("connected"), "D (1.1.1.997/12, BLT_ICC2, own process) associates",
                hello)
        c.check(hello.get("sent") == 0, f"D: the Write of aa-specific IM_Transfer_Set = true is sent (invoke id {inv_d})",
                hello.get("sent"))
        reps = Reports()
        facts["keep"].append(subscribe(L, cons["A"], reps))
        inv = RAW_INVOKE_BASE
        facts["raw"][inv] = "A: write IM_Transfer_Set = true"
        code = send_raw_mms(L, cons["A"], write_aa_boolean_pdu(inv, IM_TRANSFER_SET, True))
        c.check(code == 0, f"A: the Write of aa-specific IM_Transfer_Set = true is sent (invoke id {inv})",
                harness.mms_error_name(code))
        inv = RAW_INVOKE_BASE + 2
        facts["raw_read"] = inv
        code = send_raw_mms(L, cons["A"], read_aa_pdu(inv, IM_TRANSFER_SET))
        c.check(code == 0, f"A: a Read of IM_Transfer_Set is sent (invoke id {inv})", harness.mms_error_name(code))

        def have(scopes):
            return lambda ms: all(any(m["domain"] == s for m in ms) for s in scopes)

        got = reps.wait_for(have([ICC1, None]), INFO_WAIT)
        c.check(got, f"A receives an ICC1 message and a VCC message within {INFO_WAIT:.0f} s",
                [(m["domain"], m["buffer"]) for m in reps.messages()])

        def check_messages(who, ms, domain, buffer, info_ref, local_ref, text):
            ms = [m for m in ms if m["domain"] == domain]
            where = domain or "VCC"
            if not c.check(ms, f"{who}: a {where} message arrived", len(ms)):
                return
            m = ms[0]
            h = m["header"]
            n = h[2] if isinstance(h, list) and len(h) == 4 else None
            want = text.format(n=n).encode("ascii")
            c.check(m["buffer"] == buffer, f"{who}: the {where} message travels in {buffer}", m["buffer"])
            c.check(isinstance(h, list) and h[:2] == [info_ref, local_ref] and isinstance(n, int) and n >= 1,
                    f"{who}: {where} Info_Mess_Header is {{InfoReference {info_ref}, LocalReference {local_ref}, "
                    f"MessageId n >= 1, Size}}", h)
            c.check(isinstance(h, list) and len(h) == 4 and h[3] == len(want) == len(m["data"] or b""),
                    f"{who}: {where} Size = {len(want)} = the octets in the buffer", (h, m["data"]))
            c.check(m["data"] == want, f"{who}: {where} buffer is byte for byte {want!r}", m["data"])

        check_messages("A", reps.messages(), ICC1, "Info_Buff_256", 10, 1, "ICC1 operations log entry {n}")
        check_messages("A", reps.messages(), None, "Info_Buff_1024", 1, 0, "FreeTase2 VCC bulletin {n}")
        a_items = reps.snapshot()
        c.check(a_items and all(e["domain"] in (ICC1, None) for e in a_items),
                "A's reports name only ICC1 and VCC objects (never ICC2)", sorted({str(e["domain"]) for e in a_items}))
        a_ids = [m["header"][2] for m in reps.messages() if m["domain"] == ICC1]
        c.check(a_ids == sorted(a_ids) and len(set(a_ids)) == len(a_ids), "ICC1 MessageIds increase", a_ids)

        # Disable: no more messages to A; D still gets its own.
        inv = RAW_INVOKE_BASE + 3
        facts["raw"][inv] = "A: write IM_Transfer_Set = false"
        code = send_raw_mms(L, cons["A"], write_aa_boolean_pdu(inv, IM_TRANSFER_SET, False))
        c.check(code == 0, f"A: IM_Transfer_Set = false is sent (invoke id {inv})", harness.mms_error_name(code))
        time.sleep(0.3)
        t_off = time.time()
        time.sleep(INFO_WAIT - 1.0)
        late = [m for m in reps.messages() if m["t"] > t_off]
        c.check(not late, f"A receives nothing in the {INFO_WAIT - 1.0:.0f} s after IM_Transfer_Set = false",
                [(m["domain"], m["data"]) for m in late])

        try:
            done = queue.get(timeout=2 * INFO_WAIT + 30)
        except Exception as exc:  # noqa: BLE001
            done = {"error": repr(exc), "items": []}
        child.join(10)
        d_msgs = Reports._pair(done.get("items", []))
        c.check(have([ICC2, None])(d_msgs), "D receives an ICC2 message and a VCC message",
                [(m["domain"], m["buffer"]) for m in d_msgs] or done)
        check_messages("D", d_msgs, ICC2, "Info_Buff_1024", 20, 0, "ICC2 notice {n}")
        check_messages("D", d_msgs, None, "Info_Buff_1024", 1, 0, "FreeTase2 VCC bulletin {n}")
        d_items = done.get("items", [])
        c.check(d_items and not any(e["domain"] == ICC1 or (e["octets"] or b"").startswith(b"ICC1") for e in d_items),
                "D never receives ICC1's operations log", sorted({str(e["domain"]) for e in d_items}))
        c.check(any(m["t"] > t_off and m["domain"] == ICC2 for m in d_msgs),
                "D keeps receiving ICC2's notices after A disabled its own messages",
                [(m["t"] - t_off, m["domain"]) for m in d_msgs])
        c.check(done.get("concluded") == 0, "D concludes", done.get("concluded"))

    for who, con in cons.items():
        L.MmsConnection_conclude(con, err)
        c.check(L.MmsError_getValue(err) == 0, f"association {who} concludes", harness.mms_error_name(L.MmsError_getValue(err)))
        L.MmsConnection_destroy(con)
    facts["keep"].clear()
    return facts


# ------------------------------------------------------------------------------------------------
# tshark


def capture_checks(res: harness.Results, pcap: Path, port: int, facts: dict) -> None:
    c: Checks = facts.get("checks") or Checks(res)
    with c.step("tshark: the whole capture, the hand-encoded requests, the information reports on the wire"):
        harness.tshark_checks(c, pcap, port, side="server")
        bad = harness.tshark_read(pcap, port, ["-Y", '_ws.malformed || _ws.expert.severity >= "Warning"'])
        # libiec61850's client sometimes closes its socket right after its A-RELEASE request,
        # without waiting for the answer (its FIN follows the request at once): our
        # Release-Response then meets a closed socket and its kernel answers with a reset. That
        # reset, and only it, is the peer's teardown race, not a fault on the wire; our own
        # frames are judged above without exception.
        def stream_frames(flt: str) -> list[tuple[int, str]]:
            out = harness.tshark_read(pcap, port, ["-Y", flt, "-T", "fields", "-e", "frame.number", "-e", "tcp.stream"])
            return [(int(a), b.strip()) for a, b in (ln.split("\t") for ln in out.splitlines() if "\t" in ln)]

        first_fin: dict[str, int] = {}
        for n, stream in stream_frames(f"tcp.dstport=={port} && tcp.flags.fin==1"):
            first_fin.setdefault(stream, n)
        excused = {str(n) for n, stream in stream_frames(
            f'tcp.dstport=={port} && tcp.flags.reset==1 && tcp.len==0 && _ws.expert.severity >= "Warning"')
            if first_fin.get(stream, n) < n}
        kept = [ln for ln in bad.splitlines() if ln.split()[:1] and ln.split()[0] not in excused]
        if excused:
            res.note(f"libiec61850's client reset its own closed socket after its FIN (frames {sorted(excused)})")
        c.check(not kept, "tshark: nothing malformed / no expert>=Warning in the whole capture (both sides)",
                "\n" + "\n".join(kept))
        srv = f"tcp.srcport=={port}"

        def frames(flt: str, *fields: str) -> list[list[str]]:
            out = harness.tshark_read(pcap, port, ["-Y", flt, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
                                                   "-E", "aggregator=;", "-e", "frame.time_epoch",
                                                   *[x for f in fields for x in ("-e", f)]])
            return [ln.split("|") for ln in out.splitlines() if ln.strip()]

        for inv, what in sorted(facts.get("raw", {}).items()):
            n = harness.tshark_count(pcap, port, f"{srv} && mms.invokeID=={inv} && mms.success_element")
            c.check(n == 1, f"the server answered {what} (invoke id {inv}) with success", n)
        inv = facts.get("raw_read")
        if inv is not None:
            rows = frames(f"{srv} && mms.invokeID=={inv} && mms.confirmedServiceResponse==4", "mms.boolean")
            c.check(rows and rows[0][1] in ("1", "True", "true"), f"the Read of IM_Transfer_Set (invoke id {inv}) "
                                                                   "answers true", rows)

        # Information reports: streams, names, header integers and the octets.
        rows = frames(f"{srv} && mms.informationReport_element && mms.listOfVariable", "tcp.stream", "mms.domainId",
                      "mms.itemId", "mms.vmd_specific", "mms.integer", "mms.data.octet-string")
        info = [r for r in rows if "Info_Mess_Header" in (r[3] + r[4])]
        c.check(len(info) >= 4, "tshark sees the information reports (listOfVariable)", len(info))
        by_stream: dict = {}
        bad_bytes = []
        texts = {"ICC1": "ICC1 operations log entry {n}", "ICC2": "ICC2 notice {n}", "VCC": "FreeTase2 VCC bulletin {n}"}
        refs_of = {"ICC1": [10, 1], "ICC2": [20, 0], "VCC": [1, 0]}
        for r in info:
            _, stream, domains, items, vmd, ints, octs = r
            dom = set(d for d in domains.split(";") if d)
            by_stream.setdefault(stream, set()).update(dom or {"VCC"})
            ints = [int(x) for x in ints.split(";") if x]
            datas = [bytes.fromhex(o.replace(":", "")) for o in octs.split(";")] if octs else []
            # A frame may carry several reports (TCP coalesces what the server queued together, e.g.
            # a VCC bulletin and an ICC message): four header integers and one octet string each, in
            # frame order; the names, two per report, in the domain-specific then the VMD list.
            names = [x for x in items.split(";") + vmd.split(";") if x]
            n = len(datas)
            ok = n >= 1 and len(ints) == 4 * n and len(names) == 2 * n and len(dom) <= 1
            scopes = sorted(dom) + ["VCC"]
            for k in range(n if ok else 0):
                hdr, data = ints[4 * k:4 * k + 4], datas[k]
                ok = ok and any(hdr[:2] == refs_of[sc] and data == texts[sc].format(n=hdr[2]).encode()
                                and hdr[3] == len(data) for sc in scopes)
                ok = ok and names[2 * k] == "Info_Mess_Header" and names[2 * k + 1].startswith("Info_Buff_")
            if not ok:
                bad_bytes.append(r)
        c.check(info and not bad_bytes, "every information report carries {InfoReference, LocalReference, MessageId, "
                                        "Size} and exactly Size octets of its text (tshark)", bad_bytes[:3])
        mixed = {s: d for s, d in by_stream.items() if {"ICC1", "ICC2"} <= d}
        c.check(not mixed, "no association received both ICC1's and ICC2's messages (tshark)", by_stream)
        c.check(sum(1 for d in by_stream.values() if "ICC1" in d) == 1 and sum(1 for d in by_stream.values() if "ICC2" in d) == 1,
                "ICC1's log went to one association, ICC2's notice to another", by_stream)
        c.check(len(by_stream) == 2, "only the two associations that wrote IM_Transfer_Set = true (A and D) received "
                                     "information messages; B and C none (tshark)", by_stream)
        late = facts.get("late_write")
        if late:
            rows = frames(f"{srv} && mms.confirmedServiceResponse==5 && mms.failure", "mms.failure")
            c.check(any(r[1] == "2" and late[0] + OPERATE_TIMEOUT - 0.5 <= float(r[0]) <= late[1] + 0.5 for r in rows),
                    "the late Write-Response of Brk8_Cmd carries temporarily-unavailable (2) (tshark)", rows[-3:])


def main() -> None:
    res = harness.serve_and_check(__doc__, "TASE.2 blocks 4+5: libiec61850 MmsConnection -> tase2 server",
                                  "tase2_blocks45", session, capture_checks)
    print(f"SUMMARY blocks 4+5: {res.passed}/{res.passed + res.failed} checks passed", flush=True)
    res.finish()


if __name__ == "__main__":
    main()
