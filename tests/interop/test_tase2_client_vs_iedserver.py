"""Interop (b): our ``tase2`` client against libiec61850's IedServer (pyiec61850-ng).

Runs the client commands a user would run — identify, browse (GetNameList at VMD and domain scope),
read, type (GetVariableAccessAttributes) and a named variable list define / members / read / delete
cycle — against libiec61850's server, checks what they print, and checks with tshark that every byte our
client sent decodes cleanly.
"""

import subprocess
import sys
import time
import traceback
from pathlib import Path

import harness

HERE = Path(__file__).resolve().parent
ANIN = "ICC1/GGIO1$MX$AnIn1$mag$f"
IND = "ICC1/GGIO1$ST$Ind1$stVal"


def run(res: harness.Results, tase2: str, port: int, *args: str) -> str:
    cmd = [tase2, *args[:1], f"127.0.0.1:{port}", *args[1:]]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    res.check(p.returncode == 0, f"tase2 {' '.join(args)} exits 0", p.stderr.strip())
    print(p.stdout, end="", flush=True)
    return p.stdout


def session(res: harness.Results, tase2: str, port: int) -> None:
    out = run(res, tase2, port, "identify")
    res.check("vendor " in out and "model " in out, "identify prints vendor and model", out)

    out = run(res, tase2, port, "browse")
    res.check("ICC1:" in out, "browse lists domain ICC1", out)
    res.check("ICC1/GGIO1$MX$AnIn1$mag$f" in out, "browse lists GGIO1$MX$AnIn1$mag$f", out)
    res.check("VMD: variables not listed by the server" in out,
              "browse reports libiec61850's refusal to list VMD variables and goes on", out)

    out = run(res, tase2, port, "read", ANIN, IND, "ICC1/GGIO1$MX$AnIn1", "ICC1/Nope")
    res.check(f"{ANIN} = 0" in out, "AnIn1.mag.f reads as a float 0", out)
    res.check(f"{IND} = false" in out, "Ind1.stVal reads as boolean false", out)
    res.check("ICC1/GGIO1$MX$AnIn1 = {" in out, "the AnIn1 MX structure reads as a structure", out)
    res.check("ICC1/Nope: object-non-existent" in out, "a missing variable reads as object-non-existent", out)

    out = run(res, tase2, port, "type", ANIN, "ICC1/GGIO1$MX$AnIn1")
    res.check("FloatingPoint { format_width: 32, exponent_width: 8 }" in out, "GVAA of mag.f is FLOAT32", out)
    res.check("Structure" in out and 'Some("mag")' in out, "GVAA of AnIn1 is a structure with mag", out)

    # libiec61850 accepts domain list names of the form LN$name only.
    out = run(res, tase2, port, "list", "cycle", "ICC1/GGIO1$DSX", ANIN, IND)
    res.check("defined ICC1/GGIO1$DSX with 2 members" in out, "DefineNamedVariableList accepted", out)
    res.check(out.count(ANIN) >= 2 and out.count(IND) >= 2, "members listed and read back", out)
    res.check("ICC1/GGIO1$DSX deleted" in out, "DeleteNamedVariableList deleted it", out)


def main() -> None:
    args = harness.common_args(__doc__.splitlines()[0])
    res = harness.Results("tase2 client -> libiec61850 IedServer")
    pcap = harness.capture_path(args.capture_dir, "tase2_client_iedserver")
    with harness.Capture(args.port, pcap):
        peer = subprocess.Popen([sys.executable, str(HERE / "iedserver.py"), str(args.port)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = peer.stdout.readline().strip() == "READY" and harness.wait_listening(args.port, proc=peer)
        if res.check(ready, f"libiec61850 IedServer listens on 127.0.0.1:{args.port}"):
            try:
                session(res, args.tase2, args.port)
            except Exception as exc:
                traceback.print_exc()
                res.check(False, "client session ran to the end", repr(exc))
        time.sleep(0.3)
        peer.terminate()
        peer.wait(5)
    if ready:
        harness.tshark_checks(res, pcap, args.port, side="client")
    res.note(f"capture: {pcap}")
    res.finish()


if __name__ == "__main__":
    main()
