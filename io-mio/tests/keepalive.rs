//! TCP keepalive on the server's accepted sockets: on by default (probes after 60 s idle), off
//! when asked. The server's own socket is not reachable from here, so the test reads the
//! kernel's view of it: Linux lists every TCP socket in `/proc/net/tcp` with the timer it has
//! armed (`tr` 2 is the keepalive timer) and when it fires (`tm->when`, in clock ticks).

#![cfg(target_os = "linux")]

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use tase2_core::server::{ServerConfig, Vmd};
use tase2_mio::{MioServer, KEEPALIVE_IDLE};

/// Clock ticks per second of `/proc/net/tcp`'s `tm->when` (`USER_HZ`, 100 on Linux).
const USER_HZ: u64 = 100;

/// The timer (`tr`) and its time to fire of the socket bound to `local` and connected to `remote`.
fn timer_of(local: SocketAddr, remote: SocketAddr) -> Option<(u8, Duration)> {
    let text = std::fs::read_to_string("/proc/net/tcp").ok()?;
    // `0100007F:1F90`: the IPv4 address as a little-endian hex word, then the port in hex.
    let key = |a: SocketAddr| match a {
        SocketAddr::V4(a) => format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(a.ip().octets()),
            a.port()
        ),
        SocketAddr::V6(_) => String::new(),
    };
    let (l, r) = (key(local), key(remote));
    text.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || f[1] != l || f[2] != r {
            return None;
        }
        let (tr, when) = f[5].split_once(':')?;
        let tr = u8::from_str_radix(tr, 16).ok()?;
        let when = u64::from_str_radix(when, 16).ok()?;
        Some((tr, Duration::from_millis(when * 1000 / USER_HZ)))
    })
}

/// Serve with `keepalive` (`None`: the default), connect one idle client, let the server accept
/// it and return the server socket's timer.
fn accepted_timer(keepalive: Option<Option<Duration>>) -> (u8, Duration) {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    // The client never associates: a long handshake deadline keeps its socket open however slow
    // reading /proc/net/tcp gets (thousands of TIME_WAIT sockets after the load tests).
    let config = ServerConfig {
        handshake_timeout: Duration::from_secs(120),
        ..ServerConfig::default()
    };
    let mut server = MioServer::bind(addr, config, Vmd::default()).unwrap();
    if let Some(k) = keepalive {
        server.set_keepalive(k);
    }
    let addr = server.local_addr().unwrap();
    let client = TcpStream::connect(addr).unwrap();
    let me = client.local_addr().unwrap();
    let mut last = (0, Duration::ZERO);
    let mut seen = 0;
    for _ in 0..50 {
        server.run_once(Some(Duration::from_millis(20))).unwrap();
        if let Some(t) = timer_of(addr, me) {
            last = t;
            seen += 1;
            // Armed; or accepted and seen without a timer for long enough.
            if t.0 == 2 || (keepalive == Some(None) && seen >= 10 && server.open_sockets() == 1) {
                break;
            }
        }
    }
    assert_eq!(server.open_sockets(), 1, "the server accepted the client");
    last
}

#[test]
fn accepted_sockets_have_keepalive_by_default() {
    let (timer, when) = accepted_timer(None);
    assert_eq!(timer, 2, "the keepalive timer is armed");
    assert!(
        when <= KEEPALIVE_IDLE && when >= KEEPALIVE_IDLE - Duration::from_secs(10),
        "it fires after the idle time: {when:?}"
    );
}

#[test]
fn keepalive_follows_the_setting() {
    let (timer, when) = accepted_timer(Some(Some(Duration::from_secs(25))));
    assert_eq!(timer, 2);
    assert!(
        when <= Duration::from_secs(25) && when >= Duration::from_secs(15),
        "{when:?}"
    );
    let (timer, _) = accepted_timer(Some(None));
    assert_eq!(timer, 0, "no timer armed without keepalive");
}
