//! The opt-in busy-poll (`Server::set_busy_poll`): reads are answered as usual, the server
//! thread spins for the window after input, and it sleeps again once the link is quiet. The
//! thread's CPU time is the kernel's (`/proc/self/task/*/stat`, 10 ms ticks); the margins are an
//! order of magnitude apart, so a busy machine does not blur them.

#![cfg(target_os = "linux")]

use std::time::Duration;

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::{Data, Float, ObjectName, TypeDescription};
use tase2_core::server::{ServerConfig, Variable, Vmd};
use tase2_tokio::{Client, Server};

/// User plus system time of the server's thread, in ms (`None` if it is not found).
fn server_thread_cpu_ms() -> Option<u64> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
        if comm.trim() != "tase2-server" {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        // After the command name in parentheses: state is field 3, utime 14, stime 15.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
        return Some(ticks * 10);
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_poll_spins_after_input_and_sleeps_when_quiet() {
    let mut vmd = Vmd::default();
    vmd.domain_mut("ICC1").variables.insert(
        "P".into(),
        Variable::read_only(
            TypeDescription::FloatingPoint {
                format_width: 32,
                exponent_width: 8,
            },
            Data::Float(Float::F32(42.5)),
        ),
    );
    let mut server = Server::bind("127.0.0.1:0", ServerConfig::default(), vmd)
        .await
        .unwrap();
    let window = Duration::from_secs(1);
    server.set_busy_poll(Some(window));
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run());
    let config = AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    );
    let client = Client::connect(addr, config).await.unwrap();
    for _ in 0..100 {
        let v = client.read(&ObjectName::domain("ICC1", "P")).await.unwrap();
        assert_eq!(v, Data::Float(Float::F32(42.5)));
    }

    // Within the window after the last input the thread keeps polling: it is on its CPU most
    // of the time (at least a tenth of it even on a crowded machine).
    let before = server_thread_cpu_ms().expect("the server thread");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let spinning = server_thread_cpu_ms().unwrap() - before;
    assert!(
        spinning >= 50,
        "{spinning} ms of CPU in 500 ms of the window"
    );

    // Quiet for longer than the window: the thread sleeps (a spinning one would take ~500 ms).
    tokio::time::sleep(window).await;
    let before = server_thread_cpu_ms().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = server_thread_cpu_ms().unwrap() - before;
    assert!(idle <= 20, "{idle} ms of CPU in 500 ms after the window");

    // And input wakes it as usual, with the window open again.
    let v = client.read(&ObjectName::domain("ICC1", "P")).await.unwrap();
    assert_eq!(v, Data::Float(Float::F32(42.5)));
    let before = server_thread_cpu_ms().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = server_thread_cpu_ms().unwrap() - before;
    assert!(again >= 50, "{again} ms of CPU in 500 ms after new input");
    client.conclude().await.unwrap();
}
