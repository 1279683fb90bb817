#!/usr/bin/env python3
"""Secure ICCP (TLS) interop with libiec61850 (pyiec61850-ng, built with TLS over mbedtls), both ways.

A. libiec61850's TLS client (``MmsConnection_createSecure``) against ``tase2 serve`` on the example
   TLS model (``examples/tls/serve-tls.toml``: mutual authentication, CRL, and a bilateral table
   that binds 1.1.1.999/12 to the certificate ``iccp-client-1``), once over TLS 1.2 and once over
   TLS 1.3: associate, read ``ICC1/Gen1_MW``, conclude. Then the refusals: an expired, a revoked, an
   unknown CA's certificate (each refused in the handshake, with a line in the server's log), a
   valid certificate that the table does not bind (refused at association: authentication-failure)
   and a plain-TCP client on the TLS port.
B. Our client (``tase2 read``, ``tase2 browse``) against libiec61850's TLS IedServer
   (``IedServer_createWithTlsSupport``), TLS 1.2 and 1.3; a certificate of another CA is refused.

Each good session runs under a capture with ``SSLKEYLOGFILE`` set for our side; tshark decrypts it
with the key log (``-o tls.keylog_file:F -d tcp.port==P,tls``), must see a TLS 1.2 or 1.3
ServerHello as asked, must decode MMS inside, and must find nothing malformed and no expert info
of severity Warning or above on our side.

Certificates come from ``scripts/make-test-certs.sh`` (openssl) into a temporary folder.
libiec61850 1.6 drops a TLS 1.3 connection when a NewSessionTicket arrives after the handshake
(mbedtls 3 returns MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET from its read and libiec61850 treats
it as an error), so part A runs ``tase2 serve --tls13-tickets 0``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import REPO_ROOT  # noqa: E402

EXAMPLE = REPO_ROOT / "examples" / "tls" / "serve-tls.toml"


def make_certs() -> Path:
    d = harness.tmpdir() / "certs"
    subprocess.run(["bash", str(REPO_ROOT / "scripts" / "make-test-certs.sh"), str(d)], check=True,
                   stdout=subprocess.DEVNULL)
    return d


def tls_config(L, certs: Path, cert: str | None, version: int, client: bool):
    tls = L.TLSConfiguration_create()
    if client:
        L.TLSConfiguration_setClientMode(tls)
    if cert is not None:
        L.TLSConfiguration_setOwnCertificateFromFile(tls, str(certs / f"{cert}.pem"))
        L.TLSConfiguration_setOwnKeyFromFile(tls, str(certs / f"{cert}.key"), None)
    L.TLSConfiguration_addCACertificateFromFile(tls, str(certs / "ca.pem"))
    L.TLSConfiguration_setChainValidation(tls, True)
    L.TLSConfiguration_setAllowOnlyKnownCertificates(tls, False)
    L.TLSConfiguration_setMinTlsVersion(tls, version)
    L.TLSConfiguration_setMaxTlsVersion(tls, version)
    return tls


def libiec_tls_session(L, port: int, certs: Path, cert: str, version: int, read: bool):
    """Connect libiec61850's TLS client; read Gen1_MW if ``read``. Returns (connected, value type)."""
    tls = tls_config(L, certs, cert, version, client=True)
    con = L.MmsConnection_createSecure(tls)
    L.MmsConnection_setRequestTimeout(con, 5000)
    L.MmsConnection_setConnectTimeout(con, 5000)
    iso = L.MmsConnection_getIsoConnectionParameters(con)
    L.IsoConnectionParameters_setLocalApTitle(iso, harness.CLIENT_AP_TITLE, harness.AE_QUALIFIER)
    L.IsoConnectionParameters_setRemoteApTitle(iso, harness.SERVER_AP_TITLE, harness.AE_QUALIFIER)
    err = L.MmsError_create()
    ok = L.MmsConnection_connect(con, err, "127.0.0.1", port) and L.MmsError_getValue(err) == 0
    kind = None
    if ok and read:
        v = L.MmsConnection_readVariable(con, err, "ICC1", "Gen1_MW")
        if v is not None and L.MmsError_getValue(err) == 0:
            kind = L.MmsValue_getTypeString(v)
        L.MmsConnection_conclude(con, err)
    L.MmsConnection_destroy(con)
    return ok, kind


def tshark_tls(pcap: Path, port: int, keys: Path, args: list[str]) -> str:
    cmd = [harness.tshark_bin(), "-r", str(pcap), "-o", f"tls.keylog_file:{keys}",
           "-d", f"tcp.port=={port},tls", "-d", f"tls.port=={port},tpkt", *args]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"tshark failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def tshark_tls_count(pcap: Path, port: int, keys: Path, flt: str) -> int:
    out = tshark_tls(pcap, port, keys, ["-Y", flt, "-T", "fields", "-e", "frame.number"])
    return len([ln for ln in out.splitlines() if ln.strip()])


def check_capture(res, pcap: Path, port: int, keys: Path, version: str, side: str) -> None:
    """The decrypted capture: the TLS version asked for, MMS inside, nothing wrong on our side."""
    ours = f"tcp.srcport=={port}" if side == "server" else f"tcp.dstport=={port}"
    if version == "1.3":
        hello = "tls.handshake.type==2 && tls.handshake.extensions.supported_version==0x0304"
    else:
        hello = "tls.handshake.type==2 && tls.handshake.version==0x0303 && !tls.handshake.extensions.supported_version"
    hellos = tshark_tls_count(pcap, port, keys, "tls.handshake.type==2")
    res.check(hellos >= 1 and tshark_tls_count(pcap, port, keys, hello) == hellos,
              f"tshark: every ServerHello is TLS {version}", hellos)
    res.check(keys.exists() and keys.stat().st_size > 0, f"TLS {version}: SSLKEYLOGFILE written", keys)
    mms = tshark_tls_count(pcap, port, keys, f"{ours} && mms")
    res.check(mms >= 2, f"tshark decrypts TLS {version} with the key log: MMS from our {side}", mms)
    acse = tshark_tls_count(pcap, port, keys, "acse")
    res.check(acse >= 2, f"tshark: ACSE association inside TLS {version}", acse)
    # Pure ACKs are left out: on a loaded machine the loopback retransmits, and the D-SACK or
    # duplicate ACK that follows is the kernel's, not ours (a reset is still judged, ours at the
    # teardown too: our client reads the server's alert or close_notify and its FIN before it
    # closes the socket).
    bad = tshark_tls(pcap, port, keys, ["-Y", f'{ours} && (_ws.malformed || _ws.expert.severity >= "Warning")'
                                              ' && !(tcp.len==0 && tcp.flags.reset==0)'])
    res.check(bad.strip() == "", f"tshark: nothing malformed, no expert>=Warning from our {side} (TLS {version})",
              "\n" + bad)
    print("INFO capture summary:\n" + tshark_tls(pcap, port, keys, ["-Y", "tcp.len>0"]), flush=True)


def part_a(res, args, L, certs: Path) -> None:
    """libiec61850's TLS client against tase2 serve."""
    tls_args = ["--config", str(EXAMPLE), "--tls-cert", str(certs / "server.pem"),
                "--tls-key", str(certs / "server.key"), "--tls-ca", str(certs / "ca.pem"),
                "--tls-crl", str(certs / "crl.pem"), "--tls13-tickets", "0"]
    versions = (("1.2", L.TLS_VERSION_TLS_1_2), ("1.3", L.TLS_VERSION_TLS_1_3))
    for name, version in versions:
        keys = Path(args.capture_dir) / f"tls_serve_{name}.keys"
        if keys.exists():
            keys.unlink()
        pcap = harness.capture_path(args.capture_dir, f"tls_libiec61850_client_{name}")
        log = Path(args.capture_dir) / f"tls_serve_{name}.server.log"
        server = harness.Tase2Server(args.tase2, args.port, extra_args=tls_args, log_path=log)
        os.environ["SSLKEYLOGFILE"] = str(keys)
        cap = harness.Capture(args.port, pcap)
        cap.start()
        try:
            up = res.check(server.start(), f"tase2 serve over TLS listens on {args.port}")
        finally:
            del os.environ["SSLKEYLOGFILE"]
        if not up:
            cap.stop()
            server.stop()
            continue
        ok, kind = libiec_tls_session(L, args.port, certs, "client", version, read=True)
        res.check(ok, f"libiec61850 TLS {name} client (certificate iccp-client-1) associates")
        res.check(kind == "structure", f"libiec61850 reads ICC1/Gen1_MW over TLS {name}", kind)
        time.sleep(0.3)
        cap.stop()
        # The refusals, outside the capture (their alerts are not ours to judge).
        for cert, why in (("expired", "expired"), ("revoked", "revoked"), ("rogue", "unknown CA"),
                          ("client2", "authentication-failure")):
            ok, _ = libiec_tls_session(L, args.port, certs, cert, version, read=False)
            res.check(not ok, f"TLS {name}: a client with the {cert} certificate is refused")
        plain, _ = harness.mms_connect(args.port, attempts=1)
        res.check(plain is None, f"TLS {name}: a plain-TCP libiec61850 client is refused")
        if plain is not None:
            L.MmsConnection_destroy(plain)
        time.sleep(0.3)
        server.stop()
        text = log.read_text(errors="replace")
        for cert, why in (("expired", "expired"), ("revoked", "revoked"), ("rogue", "unknown CA"),
                          ("client2", "authentication-failure"), ("plain", "plain TCP")):
            res.check(why in text, f"TLS {name}: tase2 serve says why it refused the {cert} client", why)
        res.check("bilateral table BLT_ICC1" in text, f"TLS {name}: the bound certificate got its table")
        check_capture(res, pcap, args.port, keys, name, "server")


def part_b(res, args, L, certs: Path) -> None:
    """Our client against libiec61850's TLS IedServer."""
    versions = (("1.2", L.TLS_VERSION_TLS_1_2), ("1.3", L.TLS_VERSION_TLS_1_3))
    port = harness.free_port()
    for name, version in versions:
        tls = tls_config(L, certs, "server", version, client=False)
        m = L.IedModel_create("TEST")
        ld = L.LogicalDevice_createEx("LD0", m, "ICC1")
        ln = L.LogicalNode_create("GGIO1", ld)
        L.CDC_MV_create("AnIn1", L.toModelNode(ln), 0, False)
        s = L.IedServer_createWithTlsSupport(m, tls)
        L.IedServer_start(s, port)
        if not res.check(L.IedServer_isRunning(s), f"libiec61850 TLS {name} IedServer listens on {port}"):
            continue
        keys = Path(args.capture_dir) / f"tls_client_{name}.keys"
        if keys.exists():
            keys.unlink()
        pcap = harness.capture_path(args.capture_dir, f"tls_client_vs_iedserver_{name}")
        tls_opts = ["--tls-ca", str(certs / "ca.pem"), "--tls-cert", str(certs / "client.pem"),
                    "--tls-key", str(certs / "client.key"), "--tls-versions", name]
        env = dict(os.environ, SSLKEYLOGFILE=str(keys))
        with harness.Capture(port, pcap):
            r = subprocess.run([args.tase2, "read", f"127.0.0.1:{port}", "ICC1/GGIO1$MX$AnIn1$mag$f", *tls_opts],
                               capture_output=True, text=True, env=env, timeout=30)
            res.check(r.returncode == 0 and "GGIO1$MX$AnIn1$mag$f" in r.stdout,
                      f"tase2 read over TLS {name} from libiec61850's IedServer", r.stdout + r.stderr)
            r = subprocess.run([args.tase2, "browse", f"127.0.0.1:{port}", *tls_opts],
                               capture_output=True, text=True, env=env, timeout=30)
            res.check(r.returncode == 0 and "ICC1" in r.stdout, f"tase2 browse over TLS {name}",
                      r.stdout + r.stderr)
        rogue = ["--tls-ca", str(certs / "ca.pem"), "--tls-cert", str(certs / "rogue.pem"),
                 "--tls-key", str(certs / "rogue.key"), "--tls-versions", name]
        r = subprocess.run([args.tase2, "identify", f"127.0.0.1:{port}", *rogue], capture_output=True, text=True,
                           timeout=30)
        res.check(r.returncode != 0, f"TLS {name}: libiec61850 refuses our client with another CA's certificate",
                  r.stderr)
        L.IedServer_stop(s)
        L.IedServer_destroy(s)
        check_capture(res, pcap, port, keys, name, "client")


def main() -> None:
    args = harness.common_args(__doc__.splitlines()[0])
    res = harness.Results("test_tls_libiec61850")
    L = harness.libiec()
    if not res.check(getattr(L, "CONFIG_MMS_SUPPORT_TLS", 0) == 1, "pyiec61850-ng is built with TLS"):
        res.finish()
    certs = make_certs()
    part_a(res, args, L, certs)
    part_b(res, args, L, certs)
    res.finish()


if __name__ == "__main__":
    main()
