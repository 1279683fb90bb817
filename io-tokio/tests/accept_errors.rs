//! An accept error is transient: a server out of file descriptors (EMFILE) logs it, pauses and
//! accepts again once descriptors are free, serving the connection that waited.
//!
//! The test re-runs itself in a child process with a low descriptor limit (`ulimit -n`), so that
//! filling the descriptor table is quick and touches no other test.

#![cfg(unix)]

use std::fs::File;
use std::process::Command;
use std::time::Duration;

use tase2_core::assoc::AssociationConfig;
use tase2_core::server::{ServerConfig, Vmd};
use tase2_tokio::{Client, Server};

const CHILD: &str = "TASE2_TOKIO_EMFILE_CHILD";
const EMFILE: i32 = 24;

#[test]
fn an_accept_error_pauses_the_server_and_it_accepts_again() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" an_accept_error_pauses_the_server_and_it_accepts_again --exact --nocapture --test-threads 1")
        .arg(exe)
        .env(CHILD, "1")
        .output()
        .expect("run sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
    assert!(text.contains("descriptor table full"), "{text}");
}

fn child() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = Server::bind("127.0.0.1:0", ServerConfig::default(), Vmd::default())
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let running = tokio::spawn(server.run());
        let config = AssociationConfig::with_ap_titles(
            ("1.1.1.999".parse().unwrap(), 12),
            ("1.1.1.998".parse().unwrap(), 12),
        );
        // The server runs on a thread of its own, whose runtime needs descriptors of its own
        // (epoll, eventfd): let it start, and serve once, before the table is filled.
        let first = Client::connect(addr, config.clone()).await.unwrap();
        first.identify().await.unwrap();
        first.conclude().await.unwrap();

        // Fill the descriptor table, then free one for the client's socket: the server then has
        // none left to accept it with.
        let mut files = Vec::new();
        loop {
            match File::open("/dev/null") {
                Ok(f) => files.push(f),
                Err(e) if e.raw_os_error() == Some(EMFILE) => break,
                Err(e) => panic!("{e}"),
            }
        }
        files.pop();
        let client = tokio::spawn(Client::connect(addr, config));
        // The server meets EMFILE on every try meanwhile.
        tokio::time::sleep(Duration::from_millis(350)).await;
        let probe = File::open("/dev/null");
        assert!(probe.is_err(), "descriptors left: the test proves nothing");
        println!("descriptor table full for 350 ms; freeing it");
        assert!(
            !running.is_finished(),
            "the server ended on an accept error"
        );
        files.clear();

        let client = tokio::time::timeout(Duration::from_secs(5), client)
            .await
            .expect("accepted once descriptors are free")
            .unwrap()
            .expect("associated");
        client.identify().await.unwrap();
        client.conclude().await.unwrap();
        assert!(!running.is_finished());
    });
}
