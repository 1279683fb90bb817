#!/usr/bin/env python3
"""Capture real libiec61850 MMS traffic and store every TPKT frame as a hex byte vector.

libiec61850's IedServer (model of PEERS.md: domain/LD ``ICC1``, ``GGIO1`` with ``AnIn1`` (MV) and
``Ind1`` (SPS)) runs on a loopback port; libiec61850's MmsConnection client (local AP title
1.1.1.999/12, remote 1.1.1.998/12) drives a session of services against it while tshark captures.
Every TCP payload is then split into TPKT frames per direction, in order, and written to
``OUT/NN_<c2s|s2c>_<what>.hex`` (lowercase hex, one frame per file). ``OUT/README.md`` gets a table
of the frames with tshark's key fields and ``OUT/decode.txt`` the full ``tshark -V`` decode.

Rerun with::

    build/venv/bin/python tests/interop/capture_libiec61850.py --out tests/data/libiec61850
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # keep tests/interop free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

DOMAIN = "ICC1"
NVL = "GGIO1$DS1"  # libiec61850's server only accepts data sets named LN$name
STRUCT_VAR = "GGIO1$MX$AnIn1"
FLOAT_VAR = "GGIO1$MX$AnIn1$mag$f"
DC_VAR = "GGIO1$DC$Ind1$d"
ST_VAR = "GGIO1$ST$Ind1$stVal"
MAX_DECODE_BYTES = 300_000


def run_session(port: int) -> list[str]:
    """Drive the client session; returns a log of what was done (for the README)."""
    L = harness.libiec()
    log: list[str] = []

    def step(text: str) -> None:
        print("  " + text, flush=True)
        log.append(text)

    con, retries = harness.mms_connect(port)
    if con is None:
        raise SystemExit("libiec61850 client could not connect")
    step(f"connect (AP titles 1.1.1.999/12 -> 1.1.1.998/12), retries {retries}")
    err = L.MmsError_create()

    ident = L.MmsConnection_identify(con, err)
    step(f"identify -> {ident.vendorName!r} {ident.modelName!r} {ident.revision!r}")

    step(f"getDomainNames -> {harness.ll_strings(L.MmsConnection_getDomainNames(con, err))}")
    step(f"getVMDVariableNames -> {harness.ll_strings(L.MmsConnection_getVMDVariableNames(con, err))} "
         f"(err {harness.mms_error_name(L.MmsError_getValue(err))})")
    names = harness.ll_strings(L.MmsConnection_getDomainVariableNames(con, err, DOMAIN))
    step(f"getDomainVariableNames({DOMAIN}) -> {len(names)} names")

    v = L.MmsConnection_readVariable(con, err, DOMAIN, STRUCT_VAR)
    step(f"readVariable {STRUCT_VAR} -> {L.MmsValue_getTypeString(v) if v else None}")
    v = L.MmsConnection_readVariable(con, err, DOMAIN, FLOAT_VAR)
    step(f"readVariable {FLOAT_VAR} -> {L.MmsValue_toFloat(v) if v else None}")
    v = L.MmsConnection_readVariable(con, err, DOMAIN, "GGIO1$MX$NoSuch")
    step(f"readVariable GGIO1$MX$NoSuch -> {L.MmsValue_getTypeString(v) if v else None} "
         f"(err {harness.mms_error_name(L.MmsError_getValue(err))})")

    spec = L.MmsConnection_getVariableAccessAttributes(con, err, DOMAIN, STRUCT_VAR)
    step(f"getVariableAccessAttributes {STRUCT_VAR} -> type {L.MmsVariableSpecification_getType(spec)} "
         f"size {L.MmsVariableSpecification_getSize(spec)}")

    r = L.MmsConnection_writeVariable(con, err, DOMAIN, FLOAT_VAR, L.MmsValue_newFloat(1.5))
    step(f"writeVariable {FLOAT_VAR} = 1.5 -> DataAccessError {r} (err {harness.mms_error_name(L.MmsError_getValue(err))})")
    r = L.MmsConnection_writeVariable(con, err, DOMAIN, DC_VAR, L.MmsValue_newVisibleString("hello"))
    step(f"writeVariable {DC_VAR} = 'hello' -> DataAccessError {r} (err {harness.mms_error_name(L.MmsError_getValue(err))})")

    specs = L.LinkedList_create()
    L.LinkedList_add(specs, L.MmsVariableAccessSpecification_create(DOMAIN, FLOAT_VAR))
    L.LinkedList_add(specs, L.MmsVariableAccessSpecification_create(DOMAIN, ST_VAR))
    L.MmsConnection_defineNamedVariableList(con, err, DOMAIN, NVL, specs)
    step(f"defineNamedVariableList {DOMAIN}/{NVL} [{FLOAT_VAR}, {ST_VAR}] -> "
         f"{harness.mms_error_name(L.MmsError_getValue(err))}")
    v = L.MmsConnection_readNamedVariableListValues(con, err, DOMAIN, NVL, False)
    step(f"readNamedVariableListValues {DOMAIN}/{NVL} -> {L.MmsValue_getTypeString(v) if v else None}")
    step(f"getDomainVariableListNames({DOMAIN}) -> "
         f"{harness.ll_strings(L.MmsConnection_getDomainVariableListNames(con, err, DOMAIN))}")
    ok = L.MmsConnection_deleteNamedVariableList(con, err, DOMAIN, NVL)
    step(f"deleteNamedVariableList {DOMAIN}/{NVL} -> {ok}")

    L.MmsConnection_conclude(con, err)
    step(f"conclude -> {harness.mms_error_name(L.MmsError_getValue(err))}")
    L.MmsConnection_destroy(con)
    return log


# --------------------------------------------------------------------------------------------
# frame extraction


def tshark_fields(pcap: Path, port: int, fields: list[str], display_filter: str) -> list[list[str]]:
    """Rows of ``-T fields`` output (tab separated, ``,`` between occurrences)."""
    args = ["-Y", display_filter, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        args += ["-e", f]
    out = harness.tshark_read(pcap, port, args)
    return [ln.split("\t") for ln in out.splitlines() if ln.strip()]


def split_tpkts(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each TPKT in a reassembled stream."""
    out = []
    i = 0
    while i + 4 <= len(data):
        if data[i] != 3:
            raise ValueError(f"not a TPKT header at offset {i}: {data[i:i + 4].hex()}")
        n = int.from_bytes(data[i + 2:i + 4], "big")
        if n < 4 or i + n > len(data):
            raise ValueError(f"bad/short TPKT at offset {i}: length {n}, have {len(data) - i}")
        out.append((i, n))
        i += n
    if i != len(data):
        raise ValueError(f"trailing {len(data) - i} bytes in stream")
    return out


def slug(text: str) -> str:
    """lower_snake_case of a name."""
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    s = re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower()
    return s


FIELDS = [
    "frame.number", "tcp.srcport", "_ws.col.Info", "cotp.type", "cotp.tpdu_size", "cotp.src-tsap", "cotp.dst-tsap",
    "ses.type", "pres.presentation_context_identifier", "pres.abstract_syntax_name",
    "acse.aarq_element", "acse.aare_element", "acse.rlrq_element", "acse.rlre_element", "acse.ap_title_form2",
    "acse.aso_qualifier_form2", "acse.result",
    "mms.initiate_RequestPDU_element", "mms.initiate_ResponsePDU_element", "mms.conclude_RequestPDU_element",
    "mms.confirmed_RequestPDU_element", "mms.confirmed_ResponsePDU_element", "mms.confirmed_ErrorPDU_element",
    "mms.unconfirmed_PDU_element", "mms.rejectPDU_element", "mms.invokeID", "mms.confirmedServiceRequest",
    "mms.confirmedServiceResponse", "mms.unconfirmedService", "mms.objectClass", "mms.domainSpecific",
    "mms.moreFollows", "mms.localDetailCalling", "mms.localDetailCalled", "mms.proposedMaxServOutstandingCalling",
    "mms.proposedMaxServOutstandingCalled", "mms.proposedDataStructureNestingLevel", "mms.success_element",
    "mms.failure", "mms.errorClass", "mms.access", "mms.definition", "mms.vendorName", "mms.modelName",
    "mms.revision", "mms.vmdSpecific_element", "mms.variableListName",
]


def value_strings() -> dict[str, dict[str, str]]:
    """tshark's own value strings (``tshark -G values``) for the fields used in names."""
    wanted = {"ses.type", "mms.confirmedServiceRequest", "mms.confirmedServiceResponse", "mms.objectClass",
              "mms.failure", "mms.errorClass", "mms.access", "mms.definition", "mms.unconfirmedService",
              "acse.result"}
    out: dict[str, dict[str, str]] = {k: {} for k in wanted}
    r = subprocess.run(["tshark", "-G", "values"], capture_output=True, text=True)
    for ln in r.stdout.splitlines():
        cols = ln.split("\t")
        if len(cols) >= 4 and cols[0] == "V" and cols[1] in wanted:
            out[cols[1]][cols[2]] = cols[3]
    return out


SPDU_SHORT = {"13": "cn", "14": "ac", "12": "rf", "9": "fn", "10": "dn", "1": "dt", "25": "ab", "8": "nf"}


def frame_rows(pcap: Path, port: int) -> dict[str, dict[str, str]]:
    """tshark's decoded fields for every payload frame, keyed by frame number."""
    rows = tshark_fields(pcap, port, FIELDS, "tcp.len>0")
    return {r[0]: dict(zip(FIELDS, r + [""] * (len(FIELDS) - len(r)))) for r in rows}


def vs(vals: dict[str, dict[str, str]], field: str, raw: str) -> str:
    """Names of the comma-separated values ``raw`` of ``field``."""
    return ",".join(vals.get(field, {}).get(x, x) for x in raw.split(",") if x)


def name_for(row: dict[str, str], vals: dict[str, dict[str, str]], req_service: dict[str, str]) -> str:
    """The ``what`` part of a file name, from what tshark decoded."""
    cotp = row["cotp.type"].split(",")[0]
    if cotp == "0x0e":
        return "cotp_cr"
    if cotp == "0x0d":
        return "cotp_cc"
    parts: list[str] = []
    ses = row["ses.type"].split(",")[0]
    if ses and ses != "1":
        parts.append("session_" + SPDU_SHORT.get(ses, "spdu" + ses))
    for k, n in (("acse.aarq_element", "aarq"), ("acse.aare_element", "aare"), ("acse.rlrq_element", "rlrq"),
                 ("acse.rlre_element", "rlre")):
        if row[k]:
            parts.append(n)
    info = row["_ws.col.Info"]
    inv = row["mms.invokeID"]
    if row["mms.initiate_RequestPDU_element"]:
        parts.append("initiate_req")
    elif row["mms.initiate_ResponsePDU_element"]:
        parts.append("initiate_resp")
    elif row["mms.conclude_RequestPDU_element"]:
        parts.append("mms_conclude_req")
    elif "conclude-ResponsePDU" in info:
        parts.append("mms_conclude_resp")
    elif row["mms.confirmed_RequestPDU_element"]:
        svc = vs(vals, "mms.confirmedServiceRequest", row["mms.confirmedServiceRequest"])
        what = slug(svc)
        if svc == "getNameList":
            what += "_" + slug(vs(vals, "mms.objectClass", row["mms.objectClass"]))
            if row["mms.objectClass"] != "9":  # not a list of domains: say the scope asked
                what += "_vmd" if row["mms.vmdSpecific_element"] else "_domain"
        elif svc == "read" and row["mms.variableListName"]:
            what += "_nvl"
        req_service[inv] = what
        parts.append(f"mms_{what}_req")
    elif row["mms.confirmed_ResponsePDU_element"]:
        svc = vs(vals, "mms.confirmedServiceResponse", row["mms.confirmedServiceResponse"])
        what = slug(svc)
        if svc in ("getNameList", "read"):
            what = req_service.get(inv, what)
        if row["mms.failure"] and svc in ("read", "write"):
            what += "_" + slug(vs(vals, "mms.failure", row["mms.failure"].split(",")[0]))
        parts.append(f"mms_{what}_resp")
    elif row["mms.confirmed_ErrorPDU_element"]:
        parts.append(f"mms_{req_service.get(inv, 'confirmed')}_error")
    elif row["mms.unconfirmed_PDU_element"]:
        parts.append("mms_" + slug(vs(vals, "mms.unconfirmedService", row["mms.unconfirmedService"]) or "unconfirmed"))
    elif row["mms.rejectPDU_element"]:
        parts.append("mms_reject")
    if not parts:
        parts.append(slug(info)[:40] or "unknown")
    return "_".join(parts)


def key_fields(row: dict[str, str], vals: dict[str, dict[str, str]], req_service: dict[str, str]) -> str:
    """A compact line of the protocol fields that matter, layer by layer."""
    p: list[str] = []
    cotp = row["cotp.type"].split(",")[0]
    p.append({"0x0e": "COTP CR", "0x0d": "COTP CC", "0x0f": "COTP DT"}.get(cotp, f"COTP {cotp}"))
    if row["cotp.tpdu_size"]:
        p.append(f"TPDU size {row['cotp.tpdu_size']}")
    if row["cotp.src-tsap"] or row["cotp.dst-tsap"]:
        p.append(f"src-TSAP {row['cotp.src-tsap']} dst-TSAP {row['cotp.dst-tsap']}")
    if row["ses.type"]:
        types = row["ses.type"].split(",")
        if types == ["1", "1"]:
            p.append("SPDU GT+DT")  # GIVE TOKENS and DATA TRANSFER share SI code 1
        else:
            p.append("SPDU " + "+".join(SPDU_SHORT.get(t, t).upper() for t in types))
    ctx = [x for x in row["pres.presentation_context_identifier"].split(",") if x]
    if ctx:
        p.append("pres-ctx " + ",".join(ctx))
    if row["pres.abstract_syntax_name"]:
        p.append("abstract syntaxes " + row["pres.abstract_syntax_name"])
    if row["acse.ap_title_form2"]:
        p.append("AP titles " + row["acse.ap_title_form2"])
    if row["acse.aso_qualifier_form2"]:
        p.append("AE qualifiers " + row["acse.aso_qualifier_form2"])
    if row["acse.result"]:
        p.append("ACSE result " + vs(vals, "acse.result", row["acse.result"]))
    for k, label in (("mms.localDetailCalling", "localDetailCalling"), ("mms.localDetailCalled", "localDetailCalled"),
                     ("mms.proposedMaxServOutstandingCalling", "maxServOutstandingCalling"),
                     ("mms.proposedMaxServOutstandingCalled", "maxServOutstandingCalled"),
                     ("mms.proposedDataStructureNestingLevel", "nestingLevel")):
        if row[k]:
            p.append(f"{label} {row[k]}")
    if row["mms.invokeID"]:
        p.append(f"invokeID {row['mms.invokeID']}")
    if row["mms.confirmedServiceRequest"]:
        p.append("service " + vs(vals, "mms.confirmedServiceRequest", row["mms.confirmedServiceRequest"]))
    if row["mms.confirmedServiceResponse"]:
        p.append("service " + vs(vals, "mms.confirmedServiceResponse", row["mms.confirmedServiceResponse"]))
    if row["mms.confirmed_ErrorPDU_element"]:
        p.append("error for " + req_service.get(row["mms.invokeID"], "?"))
    if row["mms.unconfirmedService"]:
        p.append("unconfirmed " + vs(vals, "mms.unconfirmedService", row["mms.unconfirmedService"]))
    if row["mms.objectClass"]:
        p.append("objectClass " + vs(vals, "mms.objectClass", row["mms.objectClass"]))
    if row["mms.domainSpecific"]:
        p.append("domainSpecific " + row["mms.domainSpecific"])
    if row["mms.moreFollows"]:
        p.append("moreFollows " + row["mms.moreFollows"])
    for k in ("mms.vendorName", "mms.modelName", "mms.revision"):
        if row[k]:
            p.append(f"{k[4:]} {row[k]}")
    if row["mms.success_element"]:
        p.append("success")
    if row["mms.failure"]:
        p.append("DataAccessError " + vs(vals, "mms.failure", row["mms.failure"]))
    if row["mms.errorClass"]:
        cls = vs(vals, "mms.errorClass", row["mms.errorClass"])
        detail = ""
        if row["mms.access"]:
            detail = " " + vs(vals, "mms.access", row["mms.access"])
        elif row["mms.definition"]:
            detail = " " + vs(vals, "mms.definition", row["mms.definition"])
        p.append(f"errorClass {cls}{detail}")
    return "; ".join(p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(harness.REPO_ROOT / "tests" / "data" / "libiec61850"))
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--pcap", default=str(harness.DEFAULT_CAPTURE_DIR / "libiec61850_capture.pcapng"))
    a = ap.parse_args()
    port = a.port or harness.free_port()
    out = Path(a.out)
    pcap = Path(a.pcap)
    L = harness.libiec()

    _model, server = harness.build_iedserver_model()
    with harness.Capture(port, pcap):
        L.IedServer_start(server, port)
        if not L.IedServer_isRunning(server):
            raise SystemExit(f"IedServer did not start on port {port}")
        print(f"IedServer on 127.0.0.1:{port}; session:", flush=True)
        log = run_session(port)
        time.sleep(0.5)
        L.IedServer_stop(server)
    L.IedServer_destroy(server)

    write_vectors(pcap, port, out, log)


def write_vectors(pcap: Path, port: int, out: Path, log: list[str]) -> None:
    """Split the capture into TPKT frames, write the hex files, README.md and decode.txt."""
    rows = tshark_fields(pcap, port, ["frame.number", "tcp.srcport", "tcp.seq", "tcp.payload"], "tcp.len>0")
    streams: dict[str, bytearray] = {"c2s": bytearray(), "s2c": bytearray()}
    owners: dict[str, list[tuple[int, str]]] = {"c2s": [], "s2c": []}  # (stream offset, frame number)
    order: list[tuple[str, str]] = []
    for frame_no, srcport, _seq, payload in rows:
        d = "s2c" if int(srcport) == port else "c2s"
        owners[d].append((len(streams[d]), frame_no))
        streams[d] += bytes.fromhex(payload.replace(":", ""))
        order.append((frame_no, d))

    # Each TPKT, tagged with the frame its first byte arrived in.
    tpkts: list[tuple[int, str, bytes, str]] = []  # (frame number, dir, bytes, frame)
    for d, data in streams.items():
        for off, n in split_tpkts(bytes(data)):
            fno = [f for o, f in owners[d] if o <= off][-1]
            tpkts.append((int(fno), d, bytes(data[off:off + n]), fno))
    tpkts.sort(key=lambda t: t[0])

    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.hex"):
        old.unlink()

    table: list[str] = []
    per_frame: dict[str, int] = {}
    rows = frame_rows(pcap, port)
    vals = value_strings()
    req_service: dict[str, str] = {}
    for idx, (_n, d, data, fno) in enumerate(tpkts, start=1):
        per_frame[fno] = per_frame.get(fno, 0) + 1
        row = rows[fno]
        what = name_for(row, vals, req_service)
        fname = f"{idx:02d}_{d}_{what}.hex"
        (out / fname).write_text(data.hex() + "\n")
        info = row["_ws.col.Info"]
        table.append(f"| `{fname}` | {fno} | {len(data)} | {md_escape(info)} | "
                     f"{md_escape(key_fields(row, vals, req_service))} |")
        print(f"  {fname}  <- frame {fno}: {info}", flush=True)

    multi = [f for f, c in per_frame.items() if c > 1]
    decode = harness.tshark_read(pcap, port, ["-V", "-O", "tpkt,cotp,ses,pres,acse,mms", "-Y", "tcp.len>0"])
    if len(decode.encode()) > MAX_DECODE_BYTES:
        decode = decode.encode()[:MAX_DECODE_BYTES].decode(errors="ignore") + "\n[... trimmed ...]\n"
    (out / "decode.txt").write_text(decode)
    # Time- and port-free one-line summary, so a rerun only changes decode.txt's TCP lines.
    summary = "\n".join(
        f"{fno:>4} {'s2c' if int(sp) == port else 'c2s'} {ln:>4} {proto:<5} {info}"
        for fno, sp, ln, proto, info in tshark_fields(
            pcap, port, ["frame.number", "tcp.srcport", "tcp.len", "_ws.col.Protocol", "_ws.col.Info"], "tcp.len>0"))
    tshark_version = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    write_readme(out, table, log, summary, tshark_version, multi)


def md_escape(s: str) -> str:
    """Make text safe inside a markdown table cell."""
    return s.replace("|", "\\|").replace("\n", " ").strip()


def write_readme(out: Path, table: list[str], log: list[str], summary: str, tshark_version: str,
                 multi: list[str]) -> None:
    """The README of the vector directory."""
    lines = [
        "# libiec61850 byte vectors",
        "",
        "Real traffic between libiec61850 1.6.1 (PyPI `pyiec61850-ng` 1.6.1.10) MmsConnection client and",
        "libiec61850's IedServer, captured on loopback with tshark. One file per TPKT frame, lowercase hex,",
        "named `NN_<dir>_<what>.hex`: `NN` is the order in the capture, `c2s` client to server, `s2c` server",
        "to client, `what` is derived from tshark's decode. These are facts about a third-party stack's bytes,",
        "for our decoders' unit tests and for encoder comparisons.",
        "",
        "Regenerate (overwrites the `.hex` files, this README and `decode.txt`):",
        "",
        "```",
        "build/venv/bin/python tests/interop/capture_libiec61850.py --out tests/data/libiec61850",
        "```",
        "",
        "Server model: IED `TEST`, logical device `LD0` with domain name `ICC1` (LogicalDevice_createEx),",
        "`GGIO1` with CDC_MV `AnIn1` and CDC_SPS `Ind1` (with its optional `d` description; the DC functional",
        "constraint is writable). Client AP title 1.1.1.999 AE-qualifier 12, server 1.1.1.998 AE-qualifier 12.",
        "The port is a random free one (it is not in any payload); every value is libiec61850's default, so a",
        "rerun produces byte-identical files.",
        "",
        f"Decoded with {tshark_version.rstrip('.')}; `decode.txt` is the full `tshark -V` decode of the payload frames.",
        "",
        "## Session",
        "",
    ]
    lines += [f"{i}. {md_escape(s)}" for i, s in enumerate(log, start=1)]
    lines += [
        "",
        "## Frames",
        "",
        "| file | frame | bytes | tshark summary | key fields (tshark decode) |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += table
    if multi:
        lines += ["", f"Frames carrying more than one TPKT: {', '.join(multi)}."]
    lines += ["", "## tshark one-line summary", "", "frame, direction, TCP payload bytes, protocol, info column:", "",
              "```", summary.rstrip(), "```", ""]
    (out / "README.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
