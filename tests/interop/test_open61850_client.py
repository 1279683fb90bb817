#!/usr/bin/env python3
"""Interop (c): the open61850 MMS client (pure Python, PyPI ``open61850``) against our ``tase2 serve``.

Starts a tshark capture and ``tase2 serve --listen 127.0.0.1:PORT``, then with
``open61850.mms.MmsClient``: associates (AP titles 1.1.1.999/12 -> 1.1.1.998/12), lists the domains,
the VMD variables and ICC1's variables (open61850 follows moreFollows itself), reads ``ICC1/Point_0002``
and the VMD ``TASE2_Version``, asks the type of ``ICC1/Point_0002`` (GetVariableAccessAttributes) and
the members of ``ICC1/DS_Predefined``, then closes. open61850 has no Conclude: it closes the TCP
connection, which our server must take calmly. The tshark checks of PEERS.md run on the server side.

Usage: test_open61850_client.py --tase2 PATH --port N [--capture-dir DIR] [--no-server]
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

sys.dont_write_bytecode = True  # keep tests/interop free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def session(res: harness.Results, port: int) -> None:
    from open61850.data import BitStringData, FloatData, IntData, StructureData
    from open61850.mms import (
        OBJECT_CLASS_DOMAIN,
        OBJECT_CLASS_NAMED_VARIABLE,
        OBJECT_CLASS_NAMED_VARIABLE_LIST,
        AssociationParameters,
        MmsClient,
        ObjectName,
    )
    from open61850.mms.types import PrimitiveType, StructureType

    params = AssociationParameters(
        calling_ap_title=(1, 1, 1, 999), calling_ae_qualifier=harness.AE_QUALIFIER,
        called_ap_title=(1, 1, 1, 998), called_ae_qualifier=harness.AE_QUALIFIER,
    )
    try:
        client = MmsClient.connect("127.0.0.1", port, timeout=5.0, association=params)
    except Exception as exc:
        res.check(False, "open61850 associates with AP titles 1.1.1.999/12 -> 1.1.1.998/12", repr(exc))
        return
    res.check(True, "open61850 associates with AP titles 1.1.1.999/12 -> 1.1.1.998/12")
    a = client.association
    if a is not None:
        res.note(f"negotiated: max PDU {a.max_pdu_size}, outstanding {a.max_outstanding_calling}/"
                 f"{a.max_outstanding_called}, nesting {a.nesting_level}, version {a.version}")

    def step(name, fn):
        print(f"---- {name}", flush=True)
        try:
            fn()
        except Exception as exc:
            traceback.print_exc()
            res.check(False, f"{name}: no exception", repr(exc))

    with client:
        def domains():
            d = client.get_name_list(OBJECT_CLASS_DOMAIN)
            res.check(d == ["ICC1"], "domains are [ICC1] (bilateral table BLT_ICC1 hides ICC2)", d)

        def vmd_names():
            n = client.get_name_list(OBJECT_CLASS_NAMED_VARIABLE)
            want = ["TASE2_Version", "Supported_Features", "Report_Trigger"]
            res.check(all(w in n for w in want), "VMD variables include TASE2_Version, Supported_Features, Report_Trigger", n)

        def icc1_names():
            n = client.get_name_list(OBJECT_CLASS_NAMED_VARIABLE, "ICC1")
            res.note(f"ICC1 has {len(n)} variable names")
            missing = [f"Point_{i:04d}" for i in range(1, 401) if f"Point_{i:04d}" not in n]
            missing += [x for x in ("Bilateral_Table_ID", "Setpoint_Real", "Setpoint_Discrete", "Nested") if x not in n]
            res.check(not missing, "ICC1 lists Point_0001..Point_0400 and the other variables", missing[:5])
            res.check(len(set(n)) == len(n), "ICC1 names have no duplicates", len(n) - len(set(n)))

        def icc1_lists():
            n = client.get_name_list(OBJECT_CLASS_NAMED_VARIABLE_LIST, "ICC1")
            res.check("DS_Predefined" in n, "ICC1 variable lists include DS_Predefined", n)

        def read_point():
            v = client.read(ObjectName("Point_0002", "ICC1"))
            ok = (isinstance(v, StructureData) and len(v.members) == 3
                  and isinstance(v.members[0], FloatData) and v.members[0].value == 3.0 and not v.members[0].double
                  and isinstance(v.members[1], IntData) and v.members[1].value == 1700000002
                  and isinstance(v.members[2], BitStringData) and v.members[2].value == b"\x00"
                  and v.members[2].unused_bits == 0)
            res.check(ok, "Point_0002 = {float32 3.0, int 1700000002, bit-string(8) 00}", v)

        def read_version():
            v = client.read(ObjectName("TASE2_Version"))
            ok = isinstance(v, StructureData) and [getattr(m, "value", None) for m in v.members] == [2000, 8]
            res.check(ok, "VMD TASE2_Version = {2000, 8}", v)

        def get_type():
            t = client.get_type(ObjectName("Point_0002", "ICC1"))
            want = StructureType([("Value", PrimitiveType("float", 32)), ("TimeStamp", PrimitiveType("integer", 32)),
                                  ("Flags", PrimitiveType("bit-string", 8))])
            res.check(t == want, "type of Point_0002 is {Value float 32, TimeStamp integer 32, Flags bit-string 8}", t)

        def data_set_members():
            m = client.get_data_set_members(ObjectName("DS_Predefined", "ICC1"))
            want = [ObjectName(f"Point_{i:04d}", "ICC1") for i in range(1, 6)]
            res.check(m == want, "DS_Predefined members are ICC1/Point_0001..0005", m)

        step("get_name_list domains", domains)
        step("get_name_list VMD variables", vmd_names)
        step("get_name_list ICC1 variables", icc1_names)
        step("get_name_list ICC1 variable lists", icc1_lists)
        step("read ICC1/Point_0002", read_point)
        step("read TASE2_Version", read_version)
        step("get_type ICC1/Point_0002", get_type)
        step("get_data_set_members ICC1/DS_Predefined", data_set_members)
        res.check(client.is_connected, "connection still up after all requests")


def main() -> None:
    harness.serve_and_check(__doc__, "open61850 client -> tase2 server", "open61850_client", session,
                            lambda res, pcap, port, _facts: harness.tshark_checks(res, pcap, port, side="server")
                            ).finish()


if __name__ == "__main__":
    main()
