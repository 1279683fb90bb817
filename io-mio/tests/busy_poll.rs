//! The opt-in busy-poll (`MioServer::set_busy_poll`): reads are answered as usual, the loop
//! polls without waiting for the window after input, and waits again once the link is quiet.
//! The loop thread's CPU time is the kernel's (`/proc/self/task/*/stat`, 10 ms ticks); the
//! margins are an order of magnitude apart, so a busy machine does not blur them.

#![cfg(target_os = "linux")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::{AccessResult, Data, Float, ObjectName, TypeDescription};
use tase2_core::server::{ServerConfig, Variable, Vmd};
use tase2_mio::{MioClient, MioServer};

/// User plus system time in ms of this process's thread named `name`.
fn thread_cpu_ms(name: &str) -> u64 {
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = task.unwrap().path();
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        if comm.trim() == name {
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
            // Fields after the parenthesised name: utime and stime are the 12th and 13th.
            let f: Vec<u64> = stat[stat.rfind(')').unwrap() + 2..]
                .split_whitespace()
                .skip(11)
                .take(2)
                .map(|v| v.parse().unwrap())
                .collect();
            return (f[0] + f[1]) * 10;
        }
    }
    panic!("no thread {name}")
}

#[test]
fn busy_poll_spins_after_input_and_waits_when_quiet() {
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
    let mut server =
        MioServer::bind("127.0.0.1:0".parse().unwrap(), ServerConfig::default(), vmd).unwrap();
    let window = Duration::from_secs(1);
    server.set_busy_poll(Some(window));
    let addr = server.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let loop_thread = thread::Builder::new()
        .name("mio-busy-poll".into())
        .spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                server.run_once(Some(Duration::from_millis(50))).unwrap();
            }
        })
        .unwrap();
    let config = AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    );
    let mut client = MioClient::connect(addr, config).unwrap();
    let read = |client: &mut MioClient| {
        let r = client.read(&[ObjectName::domain("ICC1", "P")]).unwrap();
        assert_eq!(r, [AccessResult::Success(Data::Float(Float::F32(42.5)))]);
    };
    for _ in 0..100 {
        read(&mut client);
    }
    let cpu = || thread_cpu_ms("mio-busy-poll");

    // Within the window the loop polls without waiting: on its CPU most of the time.
    let before = cpu();
    thread::sleep(Duration::from_millis(500));
    let spinning = cpu() - before;
    assert!(
        spinning >= 50,
        "{spinning} ms of CPU in 500 ms of the window"
    );

    // Quiet for longer than the window: it waits in `poll` again.
    thread::sleep(window);
    let before = cpu();
    thread::sleep(Duration::from_millis(500));
    let idle = cpu() - before;
    assert!(idle <= 20, "{idle} ms of CPU in 500 ms after the window");

    // Input is answered as usual and opens the window again.
    read(&mut client);
    let before = cpu();
    thread::sleep(Duration::from_millis(500));
    let again = cpu() - before;
    assert!(again >= 50, "{again} ms of CPU in 500 ms after new input");

    stop.store(true, Ordering::Relaxed);
    loop_thread.join().unwrap();
}
