#!/usr/bin/env python3
"""Interop (d): TASE.2 conformance blocks 1 and 2, driven by libiec61850's raw MmsConnection.

libiec61850 (pyiec61850-ng) knows nothing of TASE.2: it is used here as a plain MMS client, so every
TASE.2 rule below is checked against what our ``tase2 serve`` (default embedded model) puts on the
wire, decoded by a stack other people wrote, and every byte the server sends is judged by tshark.

The flow (each check is printed as ``PASS|FAIL <step>.<n> ...``):

1. associate as 1.1.1.999/12 (bilateral table BLT_ICC1, domain ICC1; the connect is retried for the
   known libiec61850 quirk); VMD ``TASE2_Version`` = {2000, 8}; ``Supported_Features`` has blocks 1
   and 2; ``ICC1/Bilateral_Table_ID`` = "BLT_ICC1";
2. ICC scoping: GetNameList of domains is [ICC1] only; ``ICC2/Bilateral_Table_ID`` is unreadable;
   GetNameList of ICC2's variables fails; ICC1 lists the standard objects, the transfer sets and the
   grid points, and the predefined data set ``DS_Grid``;
3. every ``Sample_<Type>`` point (ICC1 and VMD) has the data shape (Read) and the type
   (GetVariableAccessAttributes) of its indication-point type (the protection-event samples: Read agrees
   with GetVariableAccessAttributes); ``Gen1_MW`` is {FLOAT32, INT32, BIT STRING(8)};
4. DefineNamedVariableList ``ICC1/DS_Test`` (three report variables and five grid points); a list with a
   member of ICC2 or an unknown member is refused;
5. Read ``Next_DSTransfer_Set`` reserves a transfer set: ObjectName {1, "ICC1", "DSTransfer_Set_<n>"};
   further reads name each of the 8 once, then the exhausted pool answers temporarily-unavailable;
6. Write the whole 13-component DSTransferSet (DS_Test, IntegrityCheck 5, integrity + object change,
   RBE, Status true) and read it back; malformed writes (3 components, Interval -1 through a component
   write, an unknown data set, a data set of ICC2) are refused and the transfer set keeps its value;
   a second association of the same client can neither read nor stop it (and gets none of its reports);
7. RBE InformationReports (listOfVariable, one handler call per variable in libiec61850) carry
   ``Transfer_Set_Name``, ``Transfer_Set_Time_Stamp``, ``DSConditions_Detected`` (object change) and
   changed grid points of the right types whose values match Reads of the same points; full
   (integrity) reports are named by ``ICC1/DS_Test``, which libiec61850 drops, so tshark counts them;
8. stop the transfer set (component write of Status = false, or the whole structure), no report follows,
   delete ``DS_Test``;
9. other associations: 1.1.1.997/12 sees only ICC2 (BLT_ICC2); a new 1.1.1.999/12 association finds
   the transfer sets the first one reserved free again; an unknown AP-title (1.1.1.996/12) is
   refused at association with calling-AP-title-not-recognized;
10. tshark: nothing malformed on the server side, every payload decoded, the reports and refusals
   are where the flow says they are.

Usage: test_tase2_blocks12.py --tase2 PATH --port N [--capture-dir DIR] [--no-server]
"""

from __future__ import annotations

import math
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
ICC2_AP_TITLE = "1.1.1.997"
UNKNOWN_AP_TITLE = "1.1.1.996"
DS_TEST = "DS_Test"
REPORT_VARIABLES = ["Transfer_Set_Name", "Transfer_Set_Time_Stamp", "DSConditions_Detected"]
DS_TEST_POINTS = ["Gen1_MW", "Gen2_MW", "Line1_MW", "Brk1", "Tap1"]
DS_TEST_MEMBERS = REPORT_VARIABLES + DS_TEST_POINTS
GRID_POINTS = ["Gen1_MW", "Gen2_MW", "Line1_MW", "Line2_MW", "Load1_MW", "Freq_Hz", "Brk1", "Brk2", "Tap1"]
ICC_STANDARD = ["Bilateral_Table_ID", "Next_DSTransfer_Set", "Transfer_Set_Name", "Transfer_Set_Time_Stamp",
                "DSConditions_Detected", "Event_Code_Detected", "Transfer_Report_ACK", "Transfer_Report_NACK"]
TRANSFER_SETS = [f"DSTransfer_Set_{i}" for i in range(1, 9)]

# DSConditions bits (bit 0 is the first, most significant bit of the BIT STRING)
COND_INTERVAL, COND_INTEGRITY, COND_CHANGE, COND_OPERATOR, COND_EXTERNAL = range(5)
INTEGRITY_CHECK = 5  # seconds
RBE_WINDOW = 4.0  # seconds of report collection
RUN_FOR = INTEGRITY_CHECK + 2.0  # the transfer set runs at least this long (one integrity period + slack)
QUIET_AFTER_STOP = INTEGRITY_CHECK + 0.5  # no report of any kind may come in this time after the stop


# ------------------------------------------------------------------------------------------------
# numbered checks


class Checks:
    """Numbers the checks ``<step>.<n>`` on top of ``harness.Results``; an exception inside a step is
    a FAIL of that step and the test goes on."""

    def __init__(self, res: harness.Results):
        self.res = res
        self.step_no = 0
        self.n = 0

    def step(self, title: str) -> "Checks":
        self.step_no += 1
        self.n = 0
        print(f"---- {self.step_no}. {title}", flush=True)
        return self

    def check(self, cond: bool, what: str, detail: object = "") -> bool:
        self.n += 1
        return self.res.check(cond, f"{self.step_no}.{self.n} {what}", detail)

    def note(self, text: str) -> None:
        self.res.note(f"{self.step_no}: {text}")

    def __enter__(self) -> "Checks":
        return self

    def __exit__(self, et, e, tb) -> bool:
        if e is not None:
            traceback.print_exception(et, e, tb)
            self.check(False, "step ran without exception", repr(e))
        return True


# ------------------------------------------------------------------------------------------------
# values and types


def dae_name(L, code: int) -> str:
    """Symbolic name of a libiec61850 MmsDataAccessError value (-1 is success)."""
    for n in dir(L):
        if n.startswith("DATA_ACCESS_ERROR_") and getattr(L, n) == code:
            return n[len("DATA_ACCESS_ERROR_"):].lower().replace("_", "-")
    return str(code)


def data_shape(L, v):
    """The shape of an MmsValue as data carries it: "float", "int", "uint", "bool", "vstring",
    ("bits", size), or a list of component shapes."""
    if v is None:
        return None
    t = L.MmsValue_getType(v)
    if t in (L.MMS_STRUCTURE, L.MMS_ARRAY):
        return [data_shape(L, L.MmsValue_getElement(v, i)) for i in range(L.MmsValue_getArraySize(v))]
    if t == L.MMS_BIT_STRING:
        return ("bits", L.MmsValue_getBitStringSize(v))
    return {L.MMS_INTEGER: "int", L.MMS_UNSIGNED: "uint", L.MMS_FLOAT: "float", L.MMS_BOOLEAN: "bool",
            L.MMS_VISIBLE_STRING: "vstring", L.MMS_DATA_ACCESS_ERROR: "access-error"}.get(t, L.MmsValue_getTypeString(v))


def spec_type(L, spec):
    """A GetVariableAccessAttributes answer as ("float", 32) / ("int", 16) / ("uint", 16) /
    ("bits", 8) / ("vstring", 32) / ("bool",) / ("struct", [(name, type), ...])."""
    t = L.MmsVariableSpecification_getType(spec)
    size = L.MmsVariableSpecification_getSize(spec)
    if t == L.MMS_STRUCTURE:
        comps = []
        for i in range(max(0, size)):
            c = L.MmsVariableSpecification_getChildSpecificationByIndex(spec, i)
            comps.append((L.MmsVariableSpecification_getName(c), spec_type(L, c)))
        return ("struct", comps)
    names = {L.MMS_FLOAT: "float", L.MMS_INTEGER: "int", L.MMS_UNSIGNED: "uint", L.MMS_BIT_STRING: "bits",
             L.MMS_VISIBLE_STRING: "vstring", L.MMS_BOOLEAN: "bool"}
    if t == L.MMS_BOOLEAN:
        return ("bool",)
    return (names.get(t, f"type{t}"), size)


def type_to_data_shape(t):
    """The data shape a value of type ``t`` (as spec_type writes it) has."""
    if t[0] == "struct":
        return [type_to_data_shape(c) for _, c in t[1]]
    if t[0] == "bits":
        return ("bits", t[1])
    return t[0]


# The indication point types of IEC 60870-6-802 (TASE2.md "Indication points").
FLOAT32, INT32, INT16, UINT16, FLAGS = ("float", 32), ("int", 32), ("int", 16), ("uint", 16), ("bits", 8)
TS_EXT = ("struct", [("GMTBasedS", INT32), ("Milliseconds", INT16)])
VALUE_TYPE = {"Real": FLOAT32, "Discrete": INT32, "StateSupplemental": FLAGS}
FAMILIES = ["Real", "State", "Discrete", "StateSupplemental"]
FORMS = ["", "Q", "QTimeTag", "Extended", "QTimeTagExtended"]
PROTECTION_EVENT_SAMPLES = ["Sample_SingleProtectionEvent", "Sample_PackedProtectionEvent"]


def point_type(family: str, form: str):
    """The MMS type of Data_<family><form>."""
    if family == "State":
        comps = {
            "": None, "Q": None,
            "QTimeTag": [("TimeStamp", INT32), ("Flags", FLAGS)],
            "Extended": [("TimeStamp", INT32), ("Flags", FLAGS), ("COV", UINT16)],
            "QTimeTagExtended": [("TimeStamp", TS_EXT), ("Flags", FLAGS)],
        }[form]
        return FLAGS if comps is None else ("struct", comps)
    v = VALUE_TYPE[family]
    comps = {
        "": None,
        "Q": [("Value", v), ("Flags", FLAGS)],
        "QTimeTag": [("Value", v), ("TimeStamp", INT32), ("Flags", FLAGS)],
        "Extended": [("Value", v), ("TimeStamp", INT32), ("Flags", FLAGS), ("COV", UINT16)],
        "QTimeTagExtended": [("Value", v), ("TimeStamp", TS_EXT), ("Flags", FLAGS)],
    }[form]
    return v if comps is None else ("struct", comps)


# Spellings of the families and forms in point names: MMS names have at most 32 characters, so
# "Sample_StateSupplementalQTimeTagExtended" (40) must be abbreviated somehow.
FAMILY_SPELLINGS = [("StateSupplemental", "StateSupplemental"), ("StateSuppl", "StateSupplemental"),
                    ("StateSupp", "StateSupplemental"), ("StateSup", "StateSupplemental"),
                    ("StSupp", "StateSupplemental"), ("StSup", "StateSupplemental"), ("Real", "Real"),
                    ("Discrete", "Discrete"), ("Disc", "Discrete"), ("State", "State")]
FORM_SPELLINGS = {"": "", "Q": "Q", "QTimeTag": "QTimeTag", "QTT": "QTimeTag", "Extended": "Extended",
                  "Ext": "Extended", "QTimeTagExtended": "QTimeTagExtended", "QTimeTagExt": "QTimeTagExtended",
                  "QTTExt": "QTimeTagExtended", "QTTExtended": "QTimeTagExtended"}


def parse_sample_name(name: str):
    """``Sample_<Family><Form>`` -> (family, form), or None."""
    if not name.startswith("Sample_"):
        return None
    rest = name[len("Sample_"):]
    for spelling, family in FAMILY_SPELLINGS:
        if rest.startswith(spelling) and rest[len(spelling):] in FORM_SPELLINGS:
            return family, FORM_SPELLINGS[rest[len(spelling):]]
    return None


def type_str(t) -> str:
    if t[0] == "struct":
        return "{" + ", ".join(f"{n} {type_str(c)}" for n, c in t[1]) + "}"
    if t[0] == "bool":
        return "BOOLEAN"
    return {"float": "FLOAT", "int": "INT", "uint": "UNSIGNED", "bits": "BITSTRING", "vstring": "VSTRING"}.get(
        t[0], t[0]) + f"{t[1]}"


# The grid points of the default model and their types.
GRID_TYPES = {
    "Gen1_MW": point_type("Real", "QTimeTag"), "Gen2_MW": point_type("Real", "QTimeTag"),
    "Line1_MW": point_type("Real", "QTimeTag"), "Line2_MW": point_type("Real", "QTimeTag"),
    "Load1_MW": point_type("Real", "QTimeTag"), "Freq_Hz": point_type("Real", "Q"),
    "Brk1": point_type("State", "QTimeTag"), "Brk2": point_type("State", "QTimeTag"),
    "Tap1": point_type("Discrete", "QTimeTag"),
}


def bit(bits_value, n: int) -> bool:
    """Bit n (0 = first) of a harness.describe_value() bit string."""
    return isinstance(bits_value, tuple) and bits_value[0] == "bits" and bool(bits_value[2] & (1 << n))


def plausible_point(name: str, d) -> str:
    """"" when the described value of grid point ``name`` is plausible, else why not."""
    if name in ("Brk1", "Brk2"):
        ts, flags = d
        state = (1 if bit(flags, 0) else 0) << 1 | (1 if bit(flags, 1) else 0)
        if state not in (1, 2):
            return f"breaker state bits {state:02b} (want 01 off or 10 on)"
        return ""
    value = d[0]
    if isinstance(value, float) and not math.isfinite(value):
        return f"value {value} not finite"
    return ""


def objname(L, scope: int, domain: str, name: str):
    """The TASE.2 ObjectName value {Scope, DomainName, Name}."""
    s = L.MmsValue_createEmptyStructure(3)
    L.MmsValue_setElement(s, 0, L.MmsValue_newUnsignedFromUint32(scope))
    L.MmsValue_setElement(s, 1, L.MmsValue_newVisibleString(domain))
    L.MmsValue_setElement(s, 2, L.MmsValue_newVisibleString(name))
    return s


def bitstring(L, size: int, bits: list[int]):
    v = L.MmsValue_newBitString(size)
    for b in bits:
        L.MmsValue_setBitStringBit(v, b, True)
    return v


def ts_value(L, ds_domain: str, ds_name: str, status: bool, interval: int = 0, conds=(COND_INTEGRITY, COND_CHANGE)):
    """A whole 2000.08 DSTransferSet value (13 components)."""
    comps = [
        objname(L, 1, ds_domain, ds_name),
        L.MmsValue_newIntegerFromInt32(0),  # StartTime: now
        L.MmsValue_newIntegerFromInt32(interval),  # Interval
        L.MmsValue_newIntegerFromInt32(0),  # TLE
        L.MmsValue_newIntegerFromInt32(0),  # BufferTime
        L.MmsValue_newIntegerFromInt32(INTEGRITY_CHECK),  # IntegrityCheck
        bitstring(L, 5, list(conds)),  # DSConditionsRequested
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


def ts_expected(ds_domain: str, ds_name: str, status: bool, interval: int = 0, conds=(COND_INTEGRITY, COND_CHANGE)):
    """What harness.describe_value() of a transfer set written with ts_value() must give."""
    return [[1, ds_domain, ds_name], 0, interval, 0, 0, INTEGRITY_CHECK, ("bits", 5, sum(1 << c for c in conds)),
            False, False, True, False, status, 0]


# ------------------------------------------------------------------------------------------------
# reports


class Reports:
    """Every InformationReport handler call of libiec61850, in arrival order."""

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


def make_handler(L, reports: Reports):
    """An InformationReportHandler director subclass that copies each call into ``reports``."""

    class Handler(L.InformationReportHandler):
        def trigger(self) -> None:  # runs on libiec61850's receive thread
            entry = {"t": time.time(), "domain": self.getDomainName(), "name": self.getVariableListName(),
                     "is_list": bool(self.getIsVariableListName()), "value": None, "shape": None}
            try:
                v = self.getMmsValue()
                entry["value"] = harness.describe_value(L, v)
                entry["shape"] = data_shape(L, v)
            except Exception as exc:  # never let an exception cross into C
                entry["error"] = repr(exc)
            reports.add(entry)

    return Handler()


# ------------------------------------------------------------------------------------------------
# the session


def session(res: harness.Results, port: int) -> dict:
    """The flow of the module docstring (steps 1-9). Returns facts for the capture checks (step 10)."""
    L = harness.libiec()
    c = Checks(res)
    facts: dict = {"checks": c}
    err = L.MmsError_create()

    def ok(what: str) -> bool:
        code = L.MmsError_getValue(err)
        return c.check(code == 0, what, harness.mms_error_name(code))

    def failed(what: str, accept: tuple = ()) -> bool:
        """The last call failed (MmsError != 0), with one of ``accept`` if given."""
        code = L.MmsError_getValue(err)
        good = code != 0 and (not accept or code in accept)
        return c.check(good, what, harness.mms_error_name(code))

    def read(domain, name):
        v = L.MmsConnection_readVariable(con, err, domain, name)
        return v, L.MmsError_getValue(err)

    # -------------------------------------------------------------------- 1
    with c.step("associate as 1.1.1.999/12; TASE2_Version, Supported_Features, Bilateral_Table_ID"):
        con, retries = harness.mms_connect(port, res=res)
        if not c.check(con is not None, "libiec61850 connects as 1.1.1.999/12 -> 1.1.1.998/12",
                       f"after {retries} retries"):
            return facts
        v, code = read(None, "TASE2_Version")
        c.check(code == 0 and harness.describe_value(L, v) == [2000, 8], "VMD TASE2_Version = {2000, 8}",
                (harness.mms_error_name(code), harness.describe_value(L, v)))
        v, code = read(None, "Supported_Features")
        d = harness.describe_value(L, v)
        c.check(code == 0 and isinstance(d, tuple) and d[0] == "bits" and d[1] == 12,
                "VMD Supported_Features is a BIT STRING(12)", (harness.mms_error_name(code), d))
        c.check(bit(d, 0) and bit(d, 1), "Supported_Features has bits 0 and 1 (blocks 1 and 2)", d)
        v, code = read(ICC1, "Bilateral_Table_ID")
        c.check(code == 0 and harness.describe_value(L, v) == "BLT_ICC1", "ICC1/Bilateral_Table_ID = \"BLT_ICC1\"",
                (harness.mms_error_name(code), harness.describe_value(L, v)))

    # -------------------------------------------------------------------- 2
    with c.step("ICC scope: only ICC1 is visible to BLT_ICC1"):
        domains = harness.ll_strings(L.MmsConnection_getDomainNames(con, err))
        ok("GetNameList(domains) succeeds")
        c.check(domains == [ICC1], "domains are exactly [ICC1] (never ICC2)", domains)
        v, code = read(ICC2, "Bilateral_Table_ID")
        d = harness.describe_value(L, v)
        denied = (L.DATA_ACCESS_ERROR_OBJECT_NONE_EXISTENT, L.DATA_ACCESS_ERROR_OBJECT_ACCESS_DENIED)
        c.check((isinstance(d, tuple) and d[0] == "access-error" and d[1] in denied)
                or code in (L.MMS_ERROR_ACCESS_OBJECT_NON_EXISTENT, L.MMS_ERROR_ACCESS_OBJECT_ACCESS_DENIED),
                "read ICC2/Bilateral_Table_ID fails with object-non-existent or object-access-denied",
                (harness.mms_error_name(code), d))
        names2 = L.MmsConnection_getDomainVariableNames(con, err, ICC2)
        failed("GetNameList(variables of ICC2) fails")
        c.check(not harness.ll_strings(names2), "no ICC2 variable name is returned", harness.ll_strings(names2))
        names = harness.ll_strings(L.MmsConnection_getDomainVariableNames(con, err, ICC1))
        ok("GetNameList(variables of ICC1) succeeds")
        facts["icc1_names"] = names
        missing = [n for n in ICC_STANDARD + TRANSFER_SETS + GRID_POINTS if n not in names]
        c.check(not missing, "ICC1 lists the standard objects, DSTransfer_Set_1..8 and the grid points",
                f"missing {missing}")
        lists = harness.ll_strings(L.MmsConnection_getDomainVariableListNames(con, err, ICC1))
        ok("GetNameList(variable lists of ICC1) succeeds")
        c.check("DS_Grid" in lists, "ICC1 has the predefined data set DS_Grid", lists)
        vmd = harness.ll_strings(L.MmsConnection_getVMDVariableNames(con, err))
        ok("GetNameList(VMD variables) succeeds")
        facts["vmd_names"] = vmd
        c.check("TASE2_Version" in vmd and "Supported_Features" in vmd,
                "VMD lists TASE2_Version and Supported_Features", vmd)

    # -------------------------------------------------------------------- 3
    with c.step("point types: every Sample_<Type> (ICC1 and VCC), Gen1_MW"):
        for scope, names in ((ICC1, facts.get("icc1_names", [])), (None, facts.get("vmd_names", []))):
            where = scope or "VMD"
            samples = [n for n in names if n.startswith("Sample_")]
            events = [n for n in samples if n in PROTECTION_EVENT_SAMPLES]
            parsed = {n: parse_sample_name(n) for n in samples if n not in events}
            unknown = [n for n, p in parsed.items() if p is None]
            c.check(not unknown, f"{where}: every Sample_ name names an indication point type "
                                 f"(or a protection event)", unknown)
            covered = {p for p in parsed.values() if p is not None}
            absent = [f"{f}{m}" for f in FAMILIES for m in FORMS if (f, m) not in covered]
            c.check(not absent, f"{where}: a Sample_ point for each of the 20 types "
                                f"({len(samples)} Sample_ names)", f"missing {absent}")
            bad_data, bad_type = [], []
            for n, p in parsed.items():
                if p is None:
                    continue
                want = point_type(*p)
                v, code = read(scope, n)
                shape = data_shape(L, v) if code == 0 else f"error {harness.mms_error_name(code)}"
                if shape != type_to_data_shape(want):
                    bad_data.append((n, shape, type_to_data_shape(want)))
                else:
                    d = harness.describe_value(L, v)
                    x = d[0] if isinstance(d, list) else d
                    if isinstance(x, float) and not math.isfinite(x):
                        bad_data.append((n, "not finite", x))
                spec = L.MmsConnection_getVariableAccessAttributes(con, err, scope, n)
                got = spec_type(L, spec) if spec is not None and L.MmsError_getValue(err) == 0 else \
                    f"error {harness.mms_error_name(L.MmsError_getValue(err))}"
                if got != want:
                    bad_type.append((n, got if isinstance(got, str) else type_str(got), type_str(want)))
            c.check(not bad_data, f"{where}: every Sample_ point reads with the data shape of its type",
                    bad_data)
            c.check(not bad_type, f"{where}: every Sample_ point's GetVariableAccessAttributes is its type",
                    bad_type)
            # Protection events are no indication points and TASE2.md gives no layout for them: their
            # Read must agree with their GetVariableAccessAttributes, and they are structures.
            bad = []
            for n in events:
                v, code = read(scope, n)
                spec = L.MmsConnection_getVariableAccessAttributes(con, err, scope, n)
                got = spec_type(L, spec) if spec is not None and L.MmsError_getValue(err) == 0 else None
                shape = data_shape(L, v) if code == 0 else None
                if got is None or shape is None or got[0] != "struct" or shape != type_to_data_shape(got):
                    bad.append((n, shape, got and type_str(got)))
                else:
                    c.note(f"{where}/{n}: {type_str(got)} = {harness.describe_value(L, v)}")
            if events:
                c.check(not bad, f"{where}: the protection-event Sample_ points {events} read with the "
                                 f"structure their GetVariableAccessAttributes gives", bad)
        bad = []
        for n, want in GRID_TYPES.items():
            v, code = read(ICC1, n)
            shape = data_shape(L, v) if code == 0 else f"error {harness.mms_error_name(code)}"
            why = plausible_point(n, harness.describe_value(L, v)) if shape == type_to_data_shape(want) else ""
            if shape != type_to_data_shape(want) or why:
                bad.append((n, shape, why))
        c.check(not bad, "grid points Gen1_MW..Tap1 read with their types and plausible values", bad)
        v, code = read(ICC1, "Gen1_MW")
        c.check(code == 0 and data_shape(L, v) == ["float", "int", ("bits", 8)],
                "Gen1_MW is a structure {FLOAT, INTEGER, BIT STRING(8)}", (harness.describe_value(L, v), data_shape(L, v)))
        spec = L.MmsConnection_getVariableAccessAttributes(con, err, ICC1, "Gen1_MW")
        got = spec_type(L, spec) if spec is not None else None
        c.check(got == GRID_TYPES["Gen1_MW"], "Gen1_MW's type is {Value FLOAT32, TimeStamp INT32, Flags BITSTRING8}",
                got and type_str(got))

    # -------------------------------------------------------------------- 4
    keep_alive: list = []  # libiec61850 keeps the char pointers of access specifications

    def define(name: str, members: list[tuple[str, str]]) -> int:
        specs = L.LinkedList_create()
        for dom, item in members:
            keep_alive.extend((dom, item))
            L.LinkedList_add(specs, L.MmsVariableAccessSpecification_create(dom, item))
        L.MmsConnection_defineNamedVariableList(con, err, ICC1, name, specs)
        return L.MmsError_getValue(err)

    with c.step("DefineNamedVariableList ICC1/DS_Test; bad members are refused"):
        code = define(DS_TEST, [(ICC1, m) for m in DS_TEST_MEMBERS])
        c.check(code == 0, f"define ICC1/{DS_TEST} = {DS_TEST_MEMBERS} succeeds", harness.mms_error_name(code))
        v = L.MmsConnection_readNamedVariableListValues(con, err, ICC1, DS_TEST, False)
        d = harness.describe_value(L, v)
        ok(f"read of ICC1/{DS_TEST} succeeds")
        c.check(isinstance(d, list) and len(d) == len(DS_TEST_MEMBERS), f"{DS_TEST} reads {len(DS_TEST_MEMBERS)} values", d)
        code = define("DS_Bad_ICC2", [(ICC1, "Gen1_MW"), (ICC2, "Gen1_MW")])
        c.check(code != 0, "define ICC1/DS_Bad_ICC2 with the member ICC2/Gen1_MW is refused",
                harness.mms_error_name(code))
        code = define("DS_Bad_Unknown", [(ICC1, "Gen1_MW"), (ICC1, "No_Such_Point")])
        c.check(code != 0, "define ICC1/DS_Bad_Unknown with the member ICC1/No_Such_Point is refused",
                harness.mms_error_name(code))
        lists = harness.ll_strings(L.MmsConnection_getDomainVariableListNames(con, err, ICC1))
        c.check(DS_TEST in lists and "DS_Bad_ICC2" not in lists and "DS_Bad_Unknown" not in lists,
                f"ICC1 lists {DS_TEST} and none of the refused lists", lists)

    # -------------------------------------------------------------------- 5
    ts_name = None
    with c.step("Read Next_DSTransfer_Set reserves a transfer set"):
        v, code = read(ICC1, "Next_DSTransfer_Set")
        d = harness.describe_value(L, v)
        good = (code == 0 and isinstance(d, list) and len(d) == 3 and d[0] == 1 and d[1] == ICC1
                and isinstance(d[2], str) and d[2].startswith("DSTransfer_Set_"))
        c.check(good, "Next_DSTransfer_Set = {Scope 1, DomainName ICC1, Name DSTransfer_Set_<n>}",
                (harness.mms_error_name(code), d))
        c.check(data_shape(L, v) == ["uint", "vstring", "vstring"],
                "Next_DSTransfer_Set is {UNSIGNED, VisibleString, VisibleString}", data_shape(L, v))
        if good:
            ts_name = d[2]
            facts["ts_name"] = ts_name
            c.note(f"reserved ICC1/{ts_name}")
            v2, code = read(ICC1, "Next_DSTransfer_Set")
            d2 = harness.describe_value(L, v2)
            c.check(code == 0 and isinstance(d2, list) and len(d2) == 3 and d2[2] != ts_name,
                    "a second read reserves another transfer set", d2)
            # Exhaust the pool: the reads name the remaining sets once each, then the server answers
            # temporarily-unavailable.
            got = [ts_name, d2[2] if isinstance(d2, list) and len(d2) == 3 else None]
            last = None
            for _ in range(len(TRANSFER_SETS) + 1):
                v3, code = read(ICC1, "Next_DSTransfer_Set")
                last = harness.describe_value(L, v3)
                if not (code == 0 and isinstance(last, list) and len(last) == 3):
                    break
                got.append(last[2])
            c.check(sorted(got) == sorted(TRANSFER_SETS), "reads of Next_DSTransfer_Set name each of the 8 "
                                                          "transfer sets once", got)
            c.check(last == ("access-error", L.DATA_ACCESS_ERROR_TEMPORARILY_UNAVAILABLE),
                    "with the pool exhausted, Next_DSTransfer_Set answers temporarily-unavailable", last)
    if ts_name is None:
        L.MmsConnection_conclude(con, err)
        L.MmsConnection_destroy(con)
        return facts

    # -------------------------------------------------------------------- 6
    reports = Reports()
    handler = make_handler(L, reports)
    subscriber = L.InformationReportSubscriber()
    subscriber.setMmsConnection(con)
    subscriber.setEventHandler(handler)
    handler.__disown__()  # the subscriber owns (and deletes) the handler
    facts["subscriber"] = subscriber  # alive as long as the connection
    expected = ts_expected(ICC1, DS_TEST, True)
    with c.step(f"write ICC1/{ts_name} (13 components, Status true); malformed writes, and writes of "
                f"another association, are refused"):
        c.check(bool(subscriber.subscribe()), "InformationReportSubscriber subscribed")
        before = harness.describe_value(L, read(ICC1, ts_name)[0])
        c.note(f"{ts_name} after the reservation: {before}")
        t0 = time.time()
        r = L.MmsConnection_writeVariable(con, err, ICC1, ts_name, ts_value(L, ICC1, DS_TEST, True))
        facts["start_time"] = t0
        c.check(L.MmsError_getValue(err) == 0 and r == L.DATA_ACCESS_ERROR_SUCCESS,
                "write of the whole DSTransferSet (DS_Test, integrity 5 s, integrity + change, RBE, Status true) succeeds",
                (harness.mms_error_name(L.MmsError_getValue(err)), r))
        v, code = read(ICC1, ts_name)
        c.check(code == 0 and harness.describe_value(L, v) == expected, f"{ts_name} reads back what was written",
                (harness.describe_value(L, v), expected))
        c.check(data_shape(L, v) == [["uint", "vstring", "vstring"], "int", "int", "int", "int", "int", ("bits", 5),
                                     "bool", "bool", "bool", "bool", "bool", "int"],
                f"{ts_name} has the 13-component 2000.08 DSTransferSet shape", data_shape(L, v))
        spec = L.MmsConnection_getVariableAccessAttributes(con, err, ICC1, ts_name)
        if spec is not None and L.MmsError_getValue(err) == 0:
            got = spec_type(L, spec)
            want_names = ["DataSetName", "StartTime", "Interval", "TLE", "BufferTime", "IntegrityCheck",
                          "DSConditionsRequested", "BlockData", "Critical", "RBE", "AllChangesReported", "Status",
                          "EventCodeRequested"]
            c.check(got[0] == "struct" and [n for n, _ in got[1]] == want_names,
                    f"{ts_name}'s type has the 13 DSTransferSet component names", type_str(got))
        else:
            c.check(False, f"GetVariableAccessAttributes {ts_name} succeeds",
                    harness.mms_error_name(L.MmsError_getValue(err)))

        # malformed writes: each is refused with the DataAccessError the server should pick, and none
        # may change the running transfer set
        short = L.MmsValue_createEmptyStructure(3)
        L.MmsValue_setElement(short, 0, objname(L, 1, ICC1, DS_TEST))
        L.MmsValue_setElement(short, 1, L.MmsValue_newIntegerFromInt32(0))
        L.MmsValue_setElement(short, 2, L.MmsValue_newIntegerFromInt32(0))
        refused = facts.setdefault("refused", [])
        bad_writes = [
            ("write of a 3-component structure", "type-inconsistent",
             lambda: L.MmsConnection_writeVariable(con, err, ICC1, ts_name, short)),
            ("component write Interval = -1", "object-value-invalid",
             lambda: L.MmsConnection_writeVariableComponent(con, err, ICC1, ts_name, "Interval",
                                                            L.MmsValue_newIntegerFromInt32(-1))),
            ("component write RBE = INTEGER 1", "type-inconsistent",
             lambda: L.MmsConnection_writeVariableComponent(con, err, ICC1, ts_name, "RBE",
                                                            L.MmsValue_newIntegerFromInt32(1))),
            ("write naming the unknown data set ICC1/No_Such_DS", "object-value-invalid",
             lambda: L.MmsConnection_writeVariable(con, err, ICC1, ts_name, ts_value(L, ICC1, "No_Such_DS", True))),
            ("write naming ICC2/DS_Grid (another client's domain)", "object-value-invalid",
             lambda: L.MmsConnection_writeVariable(con, err, ICC1, ts_name, ts_value(L, ICC2, "DS_Grid", True))),
        ]
        for what, want, fn in bad_writes:
            r = fn()
            code = L.MmsError_getValue(err)
            refused.append(r)
            c.check(r not in (L.DATA_ACCESS_ERROR_SUCCESS, L.DATA_ACCESS_ERROR_NO_RESPONSE),
                    f"{what} is refused", (dae_name(L, r), harness.mms_error_name(code)))
            if dae_name(L, r) != want:
                c.note(f"{what}: refused with {dae_name(L, r)} (expected {want})")
        v, code = read(ICC1, ts_name)
        c.check(code == 0 and harness.describe_value(L, v) == expected, f"{ts_name} keeps its value after the refused writes",
                (harness.describe_value(L, v), expected))
        v, code = read(None, "TASE2_Version")
        c.check(code == 0 and harness.describe_value(L, v) == [2000, 8], "the association is alive after the refused writes",
                harness.mms_error_name(code))

        # A second association of the same client (same bilateral table) may not touch a transfer
        # set the first one reserved, and must not receive its reports.
        other, retries = harness.mms_connect(port, res=res)
        if c.check(other is not None, "a second association as 1.1.1.999/12 connects", f"after {retries} retries"):
            facts["other"] = other
            other_reports = Reports()
            h2 = make_handler(L, other_reports)
            sub2 = L.InformationReportSubscriber()
            sub2.setMmsConnection(other)
            sub2.setEventHandler(h2)
            h2.__disown__()
            sub2.subscribe()
            facts["other_sub"], facts["other_reports"] = sub2, other_reports
            e2 = L.MmsError_create()
            v = L.MmsConnection_readVariable(other, e2, ICC1, ts_name)
            d = harness.describe_value(L, v)
            c.check((isinstance(d, tuple) and d[0] == "access-error") or L.MmsError_getValue(e2) != 0,
                    f"the second association cannot read {ts_name} (reserved by the first)", d)
            r = L.MmsConnection_writeVariableComponent(other, e2, ICC1, ts_name, "Status", L.MmsValue_newBoolean(False))
            c.check(r not in (L.DATA_ACCESS_ERROR_SUCCESS, L.DATA_ACCESS_ERROR_NO_RESPONSE),
                    f"the second association cannot stop {ts_name}", dae_name(L, r))
            refused.append(r)
            v, code = read(ICC1, ts_name)
            c.check(code == 0 and harness.describe_value(L, v) == expected, f"{ts_name} is still running as written",
                    harness.describe_value(L, v))

    # -------------------------------------------------------------------- 7
    with c.step(f"RBE reports of {ts_name} for ~{RBE_WINDOW:.0f} s; Reads match reported values"):
        reads: dict[str, list] = {n: [] for n in DS_TEST_POINTS}
        t0 = facts["start_time"]
        # Read the points twice while reports keep coming, then collect to the end of the window.
        for when in (RBE_WINDOW / 2, RBE_WINDOW - 1.0):
            time.sleep(max(0.0, t0 + when - time.time()))
            for n in DS_TEST_POINTS:
                v, code = read(ICC1, n)
                if code == 0:
                    reads[n].append(harness.describe_value(L, v))
        time.sleep(max(0.0, t0 + RBE_WINDOW - time.time()))
        items = reports.snapshot()
        facts["rbe_items"] = len(items)
        c.note(f"{len(items)} handler calls in {time.time() - t0:.1f} s; names "
               f"{sorted({e['name'] for e in items})}")
        c.check(all(not e.get("error") for e in items), "every report value decoded in the handler",
                [e for e in items if e.get("error")][:3])
        c.check(all(not e["is_list"] for e in items),
                "libiec61850 delivered only listOfVariable reports (full reports are named by ICC1/DS_Test and dropped)",
                [e for e in items if e["is_list"]][:3])
        c.check(all(e["domain"] == ICC1 for e in items), "every reported variable is in domain ICC1",
                sorted({e["domain"] for e in items}))
        strays = sorted({e["name"] for e in items if e["name"] not in DS_TEST_MEMBERS})
        c.check(not strays, f"reports carry only members of {DS_TEST}", strays)

        names = [e for e in items if e["name"] == "Transfer_Set_Name"]
        c.check(len(names) >= 1, "reports carry Transfer_Set_Name", len(names))
        bad = [e["value"] for e in names if e["value"] != [1, ICC1, ts_name]]
        c.check(names and not bad, f"Transfer_Set_Name = {{1, ICC1, {ts_name}}} in every report", bad[:3])

        stamps = [e for e in items if e["name"] == "Transfer_Set_Time_Stamp"]
        c.check(len(stamps) >= 1, "reports carry Transfer_Set_Time_Stamp", len(stamps))
        bad = [(e["value"], e["t"]) for e in stamps if not (isinstance(e["value"], int) and e["shape"] == "int"
                                                            and abs(e["value"] - e["t"]) <= 5)]
        c.check(stamps and not bad, "Transfer_Set_Time_Stamp is an INTEGER within 5 s of the arrival time",
                bad[:3])

        conds = [e for e in items if e["name"] == "DSConditions_Detected"]
        c.check(len(conds) >= 1, "reports carry DSConditions_Detected", len(conds))
        c.check(conds and all(e["shape"] == ("bits", 5) for e in conds), "DSConditions_Detected is a BIT STRING(5)",
                sorted({str(e["shape"]) for e in conds}))
        c.check(any(bit(e["value"], COND_CHANGE) for e in conds), "an RBE report has DSConditions_Detected bit 2 (object change)",
                [e["value"] for e in conds][:5])
        c.check(all(not bit(e["value"], b) for e in conds for b in (COND_INTERVAL, COND_OPERATOR, COND_EXTERNAL)),
                "no report claims a condition that was not requested (interval, operator, external)",
                [e["value"] for e in conds][:5])

        pts = [e for e in items if e["name"] in DS_TEST_POINTS]
        changed = sorted({e["name"] for e in pts})
        c.check(len(pts) >= 1, "RBE reports carry changed grid points", changed)
        bad = [(e["name"], e["shape"]) for e in pts if e["shape"] != type_to_data_shape(GRID_TYPES[e["name"]])]
        c.check(pts and not bad, "every reported grid point has the data shape of its type", bad[:3])
        bad = [(e["name"], e["value"], plausible_point(e["name"], e["value"])) for e in pts
               if e["shape"] == type_to_data_shape(GRID_TYPES[e["name"]]) and plausible_point(e["name"], e["value"])]
        c.check(not bad, "every reported grid point value is plausible (finite, breaker state 01 or 10)", bad[:3])
        # RBE: a report carries a point only when it changed, so consecutive reported values of a
        # point differ.
        repeats = []
        for n in changed:
            vals = [e["value"] for e in pts if e["name"] == n]
            repeats += [(n, a) for a, b in zip(vals, vals[1:]) if a == b]
        c.check(not repeats, "RBE: no point is reported twice in a row with the same value", repeats[:3])
        # Same Value and Flags, only a new TimeStamp: the server's COV counter does not count these as
        # changes, yet RBE reports them (an observation for the log, not a check).
        restamps = []
        for n in changed:
            vals = [e["value"] for e in pts if e["name"] == n]
            strip = (lambda d: [x for i, x in enumerate(d) if i != 1]) if n != "Brk1" else (lambda d: d[1:])
            restamps += [(n, a, b) for a, b in zip(vals, vals[1:]) if a != b and strip(a) == strip(b)]
        if restamps:
            c.note(f"RBE reported {len(restamps)} updates that changed only the TimeStamp, e.g. {restamps[:2]}")
        # Reads against reports: a value read while the transfer set runs was set by the server after
        # the start (the points change every second), so an RBE report carried it, before or after the read.
        time.sleep(1.2)
        pts = [e for e in reports.snapshot() if e["name"] in DS_TEST_POINTS]
        matched, unmatched = [], []
        for n, vals in reads.items():
            reported = [e["value"] for e in pts if e["name"] == n]
            for r_ in vals:
                (matched if r_ in reported else unmatched).append((n, r_))
        c.note(f"Reads matched by a reported value: {len(matched)}, not matched: {len(unmatched)} {unmatched[:4]}")
        c.check(len(matched) >= 1, "at least one Read of a grid point equals a value an RBE report carried",
                {"reads": reads, "reported": [(e["name"], e["value"]) for e in pts][-10:]})
        moving = [n for n in ("Gen1_MW", "Gen2_MW", "Line1_MW") if n in changed]
        c.check(len(moving) >= 1, "at least one simulated MW point changed and was reported", changed)
        deleted = L.MmsConnection_deleteNamedVariableList(con, err, ICC1, DS_TEST)
        code = L.MmsError_getValue(err)
        c.check(code != 0 or not deleted, f"deleting {DS_TEST} while {ts_name} reports it is refused",
                (harness.mms_error_name(code), deleted))
        other = facts.pop("other", None)
        if other is not None:
            got = facts["other_reports"].snapshot()
            c.check(not got, "the second association received none of the first one's reports",
                    [(e["name"], e["value"]) for e in got][:5])
            e2 = L.MmsError_create()
            L.MmsConnection_conclude(other, e2)
            c.check(L.MmsError_getValue(e2) == 0, "the second association concludes",
                    harness.mms_error_name(L.MmsError_getValue(e2)))
            L.MmsConnection_destroy(other)
            facts.pop("other_sub", None)

    # -------------------------------------------------------------------- 8
    with c.step(f"stop {ts_name} (Status false); no report follows; delete {DS_TEST}"):
        time.sleep(max(0.0, facts["start_time"] + RUN_FOR - time.time()))  # one integrity period has passed
        t_stop = time.time()
        r = L.MmsConnection_writeVariableComponent(con, err, ICC1, ts_name, "Status", L.MmsValue_newBoolean(False))
        if r == L.DATA_ACCESS_ERROR_SUCCESS and L.MmsError_getValue(err) == 0:
            c.check(True, "component write Status = false succeeds")
            facts["stop_by"] = "component"
        else:
            c.note(f"component write Status = false refused ({r}, {harness.mms_error_name(L.MmsError_getValue(err))}); "
                   "writing the whole structure")
            t_stop = time.time()
            r = L.MmsConnection_writeVariable(con, err, ICC1, ts_name, ts_value(L, ICC1, DS_TEST, False))
            c.check(r == L.DATA_ACCESS_ERROR_SUCCESS and L.MmsError_getValue(err) == 0,
                    "write of the whole DSTransferSet with Status false succeeds", r)
            facts["stop_by"] = "structure"
        facts["stop_time"] = t_stop
        t_done = time.time()
        v, code = read(ICC1, ts_name)
        d = harness.describe_value(L, v)
        c.check(code == 0 and isinstance(d, list) and len(d) == 13 and d[11] is False, f"{ts_name} reads Status false", d)
        c.check(isinstance(d, list) and d[:11] == expected[:11],
                "the other components keep their values", (d, expected))
        time.sleep(QUIET_AFTER_STOP)
        late = [e for e in reports.snapshot() if e["t"] > t_done + 0.3]
        c.check(not late, f"no report arrives in the {QUIET_AFTER_STOP:.1f} s after the stop",
                [(e["name"], e["value"]) for e in late][:5])
        facts["quiet_until"] = time.time()
        deleted = L.MmsConnection_deleteNamedVariableList(con, err, ICC1, DS_TEST)
        ok(f"delete ICC1/{DS_TEST} succeeds")
        c.check(bool(deleted), f"the server reports {DS_TEST} deleted", deleted)
        lists = harness.ll_strings(L.MmsConnection_getDomainVariableListNames(con, err, ICC1))
        c.check(DS_TEST not in lists and "DS_Grid" in lists, f"{DS_TEST} is gone, DS_Grid stays", lists)
        L.MmsConnection_conclude(con, err)
        ok("conclude succeeds")
        L.MmsConnection_destroy(con)
        sub = facts.pop("subscriber", None)
        del sub

    # -------------------------------------------------------------------- 9
    with c.step("other associations: 1.1.1.997/12 sees only ICC2; reservations end with the association; "
                "an unknown AP-title is refused"):
        con2, retries = harness.mms_connect(port, res=res, local_ap_title=ICC2_AP_TITLE)
        if c.check(con2 is not None, "libiec61850 connects as 1.1.1.997/12", f"after {retries} retries"):
            con = con2
            domains = harness.ll_strings(L.MmsConnection_getDomainNames(con, err))
            c.check(domains == [ICC2], "domains are exactly [ICC2]", domains)
            v, code = read(ICC2, "Bilateral_Table_ID")
            c.check(code == 0 and harness.describe_value(L, v) == "BLT_ICC2", "ICC2/Bilateral_Table_ID = \"BLT_ICC2\"",
                    (harness.mms_error_name(code), harness.describe_value(L, v)))
            v, code = read(ICC1, "Bilateral_Table_ID")
            d = harness.describe_value(L, v)
            c.check((isinstance(d, tuple) and d[0] == "access-error") or code != 0,
                    "read ICC1/Bilateral_Table_ID fails for BLT_ICC2", (harness.mms_error_name(code), d))
            v, code = read(ICC2, "Next_DSTransfer_Set")
            d = harness.describe_value(L, v)
            c.check(code == 0 and isinstance(d, list) and len(d) == 3 and d[1] == ICC2,
                    "ICC2/Next_DSTransfer_Set names a transfer set of ICC2", d)
            L.MmsConnection_conclude(con, err)
            ok("conclude succeeds")
            L.MmsConnection_destroy(con)
        # The first association reserved all of ICC1's transfer sets; its end frees them.
        con4, retries = harness.mms_connect(port, res=res)
        if c.check(con4 is not None, "libiec61850 connects again as 1.1.1.999/12", f"after {retries} retries"):
            con = con4
            v, code = read(ICC1, "Next_DSTransfer_Set")
            d = harness.describe_value(L, v)
            c.check(code == 0 and isinstance(d, list) and len(d) == 3 and d[1] == ICC1,
                    "the ended association's transfer sets are free again (Next_DSTransfer_Set answers)", d)
            L.MmsConnection_conclude(con, err)
            ok("conclude succeeds")
            L.MmsConnection_destroy(con)
        facts["unknown_time"] = time.time()
        con3, _ = harness.mms_connect(port, attempts=1, local_ap_title=UNKNOWN_AP_TITLE)
        c.check(con3 is None, f"association as {UNKNOWN_AP_TITLE}/12 is refused")
        if con3 is not None:
            L.MmsConnection_abort(con3, err)
            L.MmsConnection_destroy(con3)
        facts["unknown_refused"] = con3 is None
    return facts


# ------------------------------------------------------------------------------------------------
# tshark


def capture_checks(res: harness.Results, pcap: Path, port: int, facts: dict) -> None:
    c: Checks = facts.get("checks") or Checks(res)
    with c.step("tshark: the server side of the capture"):
        harness.tshark_checks(c, pcap, port, side="server")  # numbered through Checks.check
        srv = f"tcp.srcport=={port}"

        def frames(flt: str, *fields: str) -> list[list[str]]:
            out = harness.tshark_read(pcap, port, ["-Y", flt, "-T", "fields", "-E", "separator=|",
                                                   "-e", "frame.time_epoch", *[x for f in fields for x in ("-e", f)]])
            return [ln.split("|") for ln in out.splitlines() if ln.strip()]

        full = frames(f"{srv} && mms.informationReport_element && mms.variableListName", "mms.domainId", "mms.itemId",
                      "mms.listOfAccessResult", "mms.AccessResult", "mms.data_bit-string")
        rbe = frames(f"{srv} && mms.informationReport_element && mms.listOfVariable")
        ports = sorted(set(harness.tshark_read(pcap, port, ["-Y", f"{srv} && mms.informationReport_element", "-T",
                                                            "fields", "-e", "tcp.dstport"]).split()))
        c.check(len(ports) == 1, "every report went to one connection (the owner of the transfer set)", ports)
        c.note(f"server sent {len(full)} full (data set) reports and {len(rbe)} listOfVariable reports")
        t0, t_stop = facts.get("start_time"), facts.get("stop_time")
        if t0 is not None and t_stop is not None:
            in_run = [f for f in full if t0 <= float(f[0]) <= t_stop]
            c.check(len(in_run) >= 1, f"at least one full (integrity) report while the transfer set ran "
                                      f"({t_stop - t0:.1f} s, IntegrityCheck {INTEGRITY_CHECK} s)", len(in_run))
            first = min((float(f[0]) - t0 for f in in_run), default=None)
            c.check(first is not None and first <= INTEGRITY_CHECK + 1.0,
                    f"the first full report comes within {INTEGRITY_CHECK + 1} s of the start", first)
            bad = [f for f in in_run if f[1:3] != [ICC1, DS_TEST]]
            c.check(in_run and not bad, f"full reports name the data set ICC1/{DS_TEST}", bad[:3])
            n = len(DS_TEST_MEMBERS)
            bad = [f for f in in_run if f[3] != str(n) or f[4].split(",") != ["1"] * n]
            c.check(in_run and not bad, f"full reports carry {n} access results, all success", bad[:3])
            # DSConditions_Detected is the data set's third member and its first BIT STRING:
            # 01000 (integrity, bit 1) in an integrity report under RBE.
            bad = [f for f in in_run if f[5].split(",")[0] != "40"]
            c.check(in_run and not bad, "full reports have DSConditions_Detected = integrity (bit 1) only", bad[:3])
            c.check(len([f for f in rbe if t0 <= float(f[0]) <= t_stop]) >= 1,
                    "RBE reports are listOfVariable reports (tshark)", len(rbe))
            late = [f for f in full + rbe if float(f[0]) > t_stop + 0.5]
            c.check(not late, "no report of any kind after the stop (tshark)", late[:3])
        else:
            c.check(False, "the transfer set ran (start and stop times known)", facts.get("ts_name"))
        refused = facts.get("refused", [])
        if refused:
            codes = [int(f[1]) for f in frames(f"{srv} && mms.confirmedServiceResponse==5 && mms.Write_Response_item==0",
                                                 "mms.failure") if f[1]]
            c.check(len(codes) >= len(refused), f"the server answered the {len(refused)} malformed writes with "
                                                f"Write-Response failures (tshark)", codes)
        if facts.get("unknown_refused"):
            n = harness.tshark_count(pcap, port, f"{srv} && acse.aare_element && acse.result==1 && acse.service_user==3")
            c.check(n == 1, "the unknown AP-title got an AARE rejected-permanent, calling-AP-title-not-recognized", n)


def main() -> None:
    harness.serve_and_check(__doc__, "TASE.2 blocks 1+2: libiec61850 MmsConnection -> tase2 server",
                            "tase2_blocks12", session, capture_checks).finish()


if __name__ == "__main__":
    main()
