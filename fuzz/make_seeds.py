#!/usr/bin/env python3
"""Regenerate fuzz/seeds/<layer>/ from the libiec61850 frames in tests/data/libiec61850/*.hex.

Each .hex file is one TPKT packet. The seed for a layer is the part of the packet that layer decodes:

  ber           the PPDU (nested BER down to the MMS data), as for presentation
  tpkt          the whole packet
  cotp          the TPDU (after the 4-octet TPKT header)
  session       the SPDUs (after the 3-octet COTP DT header; CR / CC packets have none)
  presentation  the PPDU (the session user data)
  acse          the PPDU of connect / release packets, and the ACSE APDU each carries
  mms           the MMS PDU of every packet (in a P-DATA PDV, or in the AARQ / AARE user-information)
  association   a chunk length octet (0: all at once), then the client's packets up to some point

Usage: python3 fuzz/make_seeds.py [DATA_DIR]   (default: tests/data/libiec61850 of this repository)
"""

import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"
LAYERS = ["ber", "tpkt", "cotp", "session", "presentation", "acse", "mms", "association"]


def tlvs(b):
    """Split BER bytes into (first identifier octet, content, raw) triples (definite lengths only)."""
    out, i = [], 0
    while i < len(b):
        start, tag = i, b[i]
        i += 1
        if tag & 0x1F == 0x1F:
            while b[i] & 0x80:
                i += 1
            i += 1
        n = b[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(b[i : i + k], "big")
            i += k
        out.append((tag, b[i : i + n], b[start : i + n]))
        i += n
    return out


def child(b, tag):
    return next((c for t, c, _ in tlvs(b) if t == tag), None)


def session_user_data(s):
    """The user data of the SPDU(s) in s: PGI 193 of CN / AC / FN / DN, or what follows GT + DT."""

    def li(b, i):
        if b[i] == 0xFF:
            return int.from_bytes(b[i + 1 : i + 3], "big"), i + 3
        return b[i], i + 1

    si = s[0]
    n, i = li(s, 1)
    params, after = s[i : i + n], s[i + n :]
    if si == 1:
        if not params and after[:1] == b"\x01":
            n, i = li(after, 1)
            return after[i + n :]
        return after
    j = 0
    while j < len(params):
        code = params[j]
        n, k = li(params, j + 1)
        if code in (193, 194):
            return params[k : k + n]
        j = k + n
    return None


def pdv_apdus(user_data):
    """The APDUs of fully-encoded user data ([APPLICATION 1] SEQUENCE OF PDV-list)."""
    return [child(pdv, 0xA0) for t, pdv, _ in tlvs(user_data) if t == 0x30]


def ppdu_user_data(ppdu):
    """The fully-encoded user data of a CP / CPA (inside normal-mode-parameters) or of P-DATA."""
    top = tlvs(ppdu)[0]
    if top[0] == 0x31:
        return child(child(top[1], 0xA2), 0x61)
    return top[1] if top[0] == 0x61 else None


def mms_in_acse(apdu):
    """The MMS PDU inside an AARQ / AARE user-information [30] EXTERNAL single-ASN1-type [0]."""
    ui = child(tlvs(apdu)[0][1], 0xBE)
    ext = ui and child(ui, 0x28)
    return ext and child(ext, 0xA0)


def main():
    data_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests/data/libiec61850"
    seeds = {layer: {} for layer in LAYERS}
    for path in sorted(data_dir.glob("*.hex")):
        name = path.stem
        frame = bytes.fromhex(path.read_text().strip())
        seeds["tpkt"][name] = frame
        tpdu = frame[4:]
        seeds["cotp"][name] = tpdu
        if tpdu[1] & 0xF0 != 0xF0:
            continue  # CR / CC: no session layer
        spdu = tpdu[3:]
        seeds["session"][name] = spdu
        ppdu = session_user_data(spdu)
        seeds["presentation"][name] = ppdu
        seeds["ber"][name] = ppdu
        user_data = ppdu_user_data(ppdu)
        for k, apdu in enumerate(pdv_apdus(user_data)):
            pdv_name = name if k == 0 else f"{name}_{k}"
            inner = tlvs(apdu)[0][0]
            if tpdu[3] == 1:  # P-DATA: MMS
                seeds["mms"][pdv_name] = apdu
            else:  # connect / release: ACSE
                seeds["acse"][name] = ppdu
                seeds["acse"][f"{pdv_name}_apdu"] = apdu
                mms = inner in (0x60, 0x61) and mms_in_acse(apdu)
                if mms:
                    seeds["mms"][pdv_name] = mms
    c2s = [f for n, f in seeds["tpkt"].items() if "_c2s_" in n]
    for chunk in (0, 1, 7, 64, 255):
        seeds["association"][f"c2s_all_chunk{chunk}"] = bytes([chunk]) + b"".join(c2s)
    seeds["association"]["c2s_connect_only"] = b"\x00" + b"".join(c2s[:2])
    seeds["association"]["c2s_connect_identify"] = b"\x00" + b"".join(c2s[:3])
    for layer, files in seeds.items():
        d = SEEDS / layer
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        for name, b in files.items():
            (d / name).write_bytes(b)
        print(f"{layer}: {len(files)} seeds")


if __name__ == "__main__":
    main()
