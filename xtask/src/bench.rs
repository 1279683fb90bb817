//! `cargo xtask bench`: the criterion benches, the load comparison against libiec61850 and the
//! report fan-out.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::setup::Setup;
use crate::util::*;

mod tls;

/// Options of `cargo xtask bench`.
pub(crate) struct BenchOpts {
    /// Requested read depth; clamped to what both servers negotiate.
    depth: u16,
    /// Measured seconds per load run.
    seconds: f64,
    /// Associations the load client runs in parallel, each with `depth` reads in flight.
    connections: u16,
    /// Load runs per server (alternating); the median of each is reported.
    rounds: usize,
    /// CPU placement of the server and the load client.
    pin: Pin,
    /// The load client polls without sleeping (`tase2-load --spin`).
    spin: bool,
    /// Our server busy-polls this many microseconds after input (`tase2 serve --busy-poll`).
    busy_poll_us: u64,
    /// Skip the criterion benches.
    no_criterion: bool,
    /// Skip the load comparison.
    no_load: bool,
    /// Skip the report fan-out.
    no_fanout: bool,
    /// Skip the one-shot replay figures (an hour of a 1,000-point RBE link).
    no_replay: bool,
    /// Skip the TLS figures (TLS against plain, handshake time).
    no_tls: bool,
    /// Skip the 1,000-association report latency.
    no_latency: bool,
    /// Simulated seconds of the fan-out's 10 % run.
    fanout_seconds: u32,
    /// Rounds over every point of the fan-out's saturating run.
    fanout_rounds: u32,
    /// Extra arguments for the criterion benches (after `--`).
    criterion_args: Vec<String>,
}

impl BenchOpts {
    /// Parses `[--depth N] [--seconds S] [--connections N] [--rounds N] [--pin MODE] [--spin]
    /// [--busy-poll US]
    /// [--no-criterion] [--no-load] [--no-fanout | --fanout-only] [--no-replay] [--no-latency]
    /// [--no-tls | --tls-only] [--fanout-seconds S] [--fanout-rounds N] [-- ARGS...]`.
    fn parse(args: &[String]) -> Result<BenchOpts, String> {
        let mut o = BenchOpts {
            depth: 10,
            seconds: 10.0,
            connections: 1,
            rounds: 1,
            pin: Pin::None,
            spin: false,
            busy_poll_us: 0,
            no_criterion: false,
            no_load: false,
            no_fanout: false,
            no_replay: false,
            no_tls: false,
            no_latency: false,
            fanout_seconds: 60,
            fanout_rounds: 10,
            criterion_args: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = |what: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{what} needs a value"))
            };
            match a.as_str() {
                "--depth" => {
                    o.depth = value("--depth")?
                        .parse()
                        .ok()
                        .filter(|d| *d > 0)
                        .ok_or("--depth needs a positive integer")?
                }
                "--seconds" => {
                    o.seconds = value("--seconds")?
                        .parse()
                        .ok()
                        .filter(|s: &f64| *s > 0.0 && s.is_finite())
                        .ok_or("--seconds needs a positive number")?
                }
                "--connections" => {
                    o.connections = positive(&value("--connections")?, "--connections")?
                }
                "--rounds" => o.rounds = positive(&value("--rounds")?, "--rounds")?,
                "--pin" => {
                    o.pin = match value("--pin")?.as_str() {
                        "none" => Pin::None,
                        "same" => Pin::Same,
                        "split" => Pin::Split,
                        other => {
                            return Err(format!("--pin takes none, same or split, not {other}"))
                        }
                    }
                }
                "--no-criterion" => o.no_criterion = true,
                "--spin" => o.spin = true,
                "--busy-poll" => {
                    o.busy_poll_us = value("--busy-poll")?
                        .parse()
                        .map_err(|_| "--busy-poll needs microseconds (an integer)")?
                }
                "--no-load" => o.no_load = true,
                "--no-fanout" => o.no_fanout = true,
                "--no-replay" => o.no_replay = true,
                "--no-tls" => o.no_tls = true,
                "--tls-only" => {
                    o.no_criterion = true;
                    o.no_load = true;
                    o.no_fanout = true;
                    o.no_replay = true;
                    o.no_latency = true;
                    o.no_tls = false;
                }
                "--no-latency" => o.no_latency = true,
                "--fanout-only" => {
                    o.no_criterion = true;
                    o.no_load = true;
                    o.no_fanout = false;
                    o.no_replay = true;
                    o.no_tls = true;
                    o.no_latency = true;
                }
                "--fanout-seconds" => {
                    o.fanout_seconds = positive(&value("--fanout-seconds")?, "--fanout-seconds")?
                }
                "--fanout-rounds" => {
                    o.fanout_rounds = positive(&value("--fanout-rounds")?, "--fanout-rounds")?
                }
                "--" => {
                    o.criterion_args = it.cloned().collect();
                    break;
                }
                other => return Err(format!("unknown bench option {other}")),
            }
        }
        let given = |flag: &str| args.iter().take_while(|a| *a != "--").any(|a| a == flag);
        if given("--no-fanout") && given("--fanout-only") {
            return Err("--no-fanout and --fanout-only exclude each other".into());
        }
        Ok(o)
    }
}

/// Where the servers and the load client may run (through `taskset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pin {
    /// Wherever the scheduler puts them (the default).
    None,
    /// Server and client share CPU 0: no cross-CPU wake-ups, so the figure follows CPU cost.
    Same,
    /// Server on CPU 1, client on CPU 0: every round trip crosses CPUs.
    Split,
}

impl Pin {
    /// The CPU list for the server, the one for the client; `None` when not pinned.
    fn cpus(self) -> Option<(&'static str, &'static str)> {
        match self {
            Pin::None => None,
            Pin::Same => Some(("0", "0")),
            Pin::Split => Some(("1", "0")),
        }
    }

    /// A command running `program`, under `taskset -c CPUS` when pinned.
    fn command(cpus: Option<&str>, program: &Path) -> Command {
        match cpus {
            Some(c) => {
                let mut cmd = Command::new("taskset");
                cmd.arg("-c").arg(c).arg(program);
                cmd
            }
            None => Command::new(program),
        }
    }

    /// Its name in reports.
    fn name(self) -> &'static str {
        match self {
            Pin::None => "not pinned",
            Pin::Same => "server and client pinned to CPU 0",
            Pin::Split => "server pinned to CPU 1, client to CPU 0",
        }
    }
}

/// CPU time a process has used so far (all threads), split as the kernel accounts it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cpu {
    /// In the process itself.
    pub(crate) user: std::time::Duration,
    /// In the kernel on its behalf (its syscalls, and on loopback TCP the receiving side's
    /// protocol work that its `send` runs).
    pub(crate) system: std::time::Duration,
}

impl Cpu {
    /// Microseconds per operation from `before` to `self`, (user + system, user, system);
    /// `None` without operations.
    pub(crate) fn per_op_since(self, before: Cpu, ops: f64) -> Option<(f64, f64, f64)> {
        if ops <= 0.0 {
            return None;
        }
        let us = |a: std::time::Duration, b: std::time::Duration| {
            a.saturating_sub(b).as_secs_f64() * 1e6 / ops
        };
        let (u, s) = (us(self.user, before.user), us(self.system, before.system));
        Some((u + s, u, s))
    }
}

/// CPU time a process has used so far; `None` if unreadable.
pub(crate) fn process_cpu(pid: u32) -> Option<Cpu> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let user: u64 = f.get(11)?.parse().ok()?;
    let system: u64 = f.get(12)?.parse().ok()?;
    let hz: u64 = output(Command::new("getconf").arg("CLK_TCK"))
        .and_then(|s| s.trim().parse().ok())
        .filter(|h| *h > 0)
        .unwrap_or(100);
    let d = |ticks: u64| std::time::Duration::from_micros(ticks * 1_000_000 / hz);
    Some(Cpu {
        user: d(user),
        system: d(system),
    })
}

/// The variable our server is read through: a FLOAT32 of the default model.
pub(crate) const BENCH_OURS_ITEM: &str = "Setpoint_Real";

/// The same shape in libiec61850's IedServer model (a FLOAT32 under `GGIO1.AnIn1.mag.f`).
pub(crate) const BENCH_IED_ITEM: &str = "GGIO1$MX$AnIn1$mag$f";

/// The domain of both variables.
pub(crate) const BENCH_DOMAIN: &str = "ICC1";

/// The target ratio of the issue: our server at least this many times libiec61850's reads/s.
pub(crate) const BENCH_TARGET_RATIO: f64 = 5.0;

/// The issue's target for our server's CPU time (user + system) per read, in microseconds.
pub(crate) const BENCH_TARGET_CPU_US: f64 = 1.0;

/// `cargo xtask bench`: the criterion benches of the core (when there are any), then the same Rust
/// load client (`tase2-load`, pipelined reads) against our `tase2 serve` and against libiec61850's
/// IedServer, one after the other; prints reads/s of each and the ratio and writes them to
/// `build/bench/results.txt`.
pub(crate) fn bench(root: &Path, args: &[String]) -> Res {
    let opts = BenchOpts::parse(args)?;
    let started = std::time::SystemTime::now();
    let target = target_dir(root);
    let mut report = String::new();

    if !opts.no_criterion {
        let benches = core_bench_names(root);
        if benches.is_empty() {
            println!("bench: tase2-core has no benches yet; skipping criterion");
        } else {
            let mut cmd = Command::new(cargo());
            cmd.args(["bench", "-p", "tase2-core"]);
            // Name each bench target: the lib's libtest harness would reject criterion's options.
            for b in &benches {
                cmd.args(["--bench", b]);
            }
            cmd.args(["--", "--warm-up-time", "1", "--measurement-time", "3"])
                .args(&opts.criterion_args);
            run(&mut cmd)?;
            let figures = criterion_figures(&target.join("criterion"), started);
            if !figures.is_empty() {
                report.push_str("criterion (tase2-core, mean time per iteration):\n");
                let width = figures.iter().map(|(id, _)| id.len()).max().unwrap_or(0);
                for (id, ns) in &figures {
                    let _ = writeln!(report, "  {id:<width$}  {:>12}", human_ns(*ns));
                }
                report.push('\n');
            }
        }
    }

    if !opts.no_load {
        report.push_str(&load_comparison(root, &target, &opts)?);
    }

    if !opts.no_tls {
        if !report.is_empty() {
            report.push('\n');
        }
        report.push_str(&tls::tls_comparison(root, &target, &opts)?);
    }

    if !opts.no_fanout {
        if !report.is_empty() {
            report.push('\n');
        }
        report.push_str(&report_fanout(&opts)?);
    }

    if !opts.no_replay {
        if !report.is_empty() {
            report.push('\n');
        }
        report.push_str(&replay_hour()?);
    }

    if !opts.no_latency {
        if !report.is_empty() {
            report.push('\n');
        }
        report.push_str(&association_latency()?);
    }

    let dir = root.join("build").join("bench");
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let file = dir.join("results.txt");
    fs::write(&file, &report).map_err(|e| format!("{}: {e}", file.display()))?;
    println!("\n{report}(written to {})", file.display());
    Ok(())
}

/// The bench targets of `core/`: `[[bench]]` names in its manifest and `core/benches/*.rs` stems.
pub(crate) fn core_bench_names(root: &Path) -> Vec<String> {
    let core = root.join("core");
    let mut names: Vec<String> = Vec::new();
    if let Ok(manifest) = fs::read_to_string(core.join("Cargo.toml")) {
        let mut in_bench = false;
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                in_bench = line == "[[bench]]";
            } else if in_bench {
                if let Some(v) = line
                    .strip_prefix("name")
                    .map(str::trim_start)
                    .and_then(|l| l.strip_prefix('='))
                {
                    names.push(v.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    if let Ok(dir) = fs::read_dir(core.join("benches")) {
        for p in dir.filter_map(|e| e.ok().map(|e| e.path())) {
            if p.extension().is_some_and(|e| e == "rs") {
                if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                    names.push(stem.to_string());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// `(benchmark id, mean ns)` of every criterion result under `dir` written since `since`.
pub(crate) fn criterion_figures(dir: &Path, since: std::time::SystemTime) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if !p.is_dir() {
                continue;
            }
            if p.file_name().is_some_and(|n| n == "new") {
                let est = p.join("estimates.json");
                let fresh = fs::metadata(&est)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t >= since);
                let id = fs::read_to_string(p.join("benchmark.json"))
                    .ok()
                    .and_then(|j| json_string_field(&j, "full_id"));
                let mean = fs::read_to_string(&est)
                    .ok()
                    .and_then(|j| json_mean_estimate(&j));
                if let (true, Some(id), Some(mean)) = (fresh, id, mean) {
                    out.push((id, mean));
                }
            } else if p.file_name().is_some_and(|n| n != "report") {
                stack.push(p);
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `mean.point_estimate` of a criterion `estimates.json`.
pub(crate) fn json_mean_estimate(json: &str) -> Option<f64> {
    let mean = &json[json.find("\"mean\"")?..];
    let pat = "\"point_estimate\":";
    let rest = mean[mean.find(pat)? + pat.len()..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A duration in nanoseconds with a readable unit.
pub(crate) fn human_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.3} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// A server process under test; killed on drop if still running.
pub(crate) struct BenchServer {
    /// What it is, for messages.
    name: &'static str,
    /// The process.
    child: std::process::Child,
    /// Its stdin, held open (libiec61850's wrapper stops when it closes).
    stdin: Option<std::process::ChildStdin>,
    /// The port it listens on.
    port: u16,
}

impl BenchServer {
    /// Its process id (`taskset` execs the server, so it is the server's own).
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Spawns `cmd` (stdout piped) and waits until a stdout line contains `ready`.
    fn start(
        name: &'static str,
        cmd: &mut Command,
        port: u16,
        ready: &'static str,
    ) -> Result<BenchServer, String> {
        use std::io::BufRead;
        use std::process::Stdio;
        show(cmd);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        // Keeps draining stdout after the ready line so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let server = BenchServer {
            name,
            child,
            stdin,
            port,
        };
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains(ready) => {
                    println!("bench: {name} ready on port {port}");
                    return Ok(server);
                }
                Ok(_) => {}
                Err(_) => return Err(format!("{name} did not print `{ready}` in time")),
            }
        }
    }

    /// Stops the server: closes its stdin, sends SIGINT, waits up to 5 s, then kills it.
    fn stop(mut self) {
        self.stdin = None;
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                println!("bench: {} stopped", self.name);
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        println!("bench: {} did not stop in 5 s; killing it", self.name);
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The two servers of the comparison.
#[derive(Clone, Copy)]
pub(crate) enum Peer {
    /// `tase2 serve`.
    Ours,
    /// libiec61850's IedServer through `tests/interop/iedserver.py`.
    Libiec61850,
}

impl Peer {
    /// The item read from it (domain [`BENCH_DOMAIN`]).
    fn item(self) -> &'static str {
        match self {
            Peer::Ours => BENCH_OURS_ITEM,
            Peer::Libiec61850 => BENCH_IED_ITEM,
        }
    }

    /// Starts it on a free port, on `cpus` when given.
    /// `busy_poll_us` is ours only (`tase2 serve --busy-poll`).
    fn start(
        self,
        root: &Path,
        tase2: &Path,
        cpus: Option<&str>,
        busy_poll_us: u64,
    ) -> Result<BenchServer, String> {
        let port = free_port()?;
        match self {
            Peer::Ours => BenchServer::start(
                "tase2 serve",
                Pin::command(cpus, tase2)
                    .arg("serve")
                    .arg("--listen")
                    .arg(format!("127.0.0.1:{port}"))
                    .arg("--busy-poll")
                    .arg(busy_poll_us.to_string()),
                port,
                "tase2 serving",
            ),
            Peer::Libiec61850 => BenchServer::start(
                "libiec61850 IedServer",
                Pin::command(cpus, &venv_python(root))
                    .arg("-u")
                    .arg(root.join("tests").join("interop").join("iedserver.py"))
                    .arg(port.to_string()),
                port,
                "READY",
            ),
        }
    }
}

/// Runs `tase2-load ARGS` against `127.0.0.1:port` (on `cpus` when given) and returns its stdout.
pub(crate) fn load_client(
    load: &Path,
    cpus: Option<&str>,
    port: u16,
    item: &str,
    extra: &[String],
) -> Result<String, String> {
    let mut cmd = Pin::command(cpus, load);
    cmd.arg(format!("127.0.0.1:{port}"))
        .args(["--domain", BENCH_DOMAIN, "--item", item])
        .args(extra);
    show(&cmd);
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", load.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{stdout}");
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "tase2-load failed ({}): {}",
            out.status,
            stdout.trim()
        ))
    }
}

/// The number after `key` in a `key value key value` line of `text`.
pub(crate) fn field(text: &str, key: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        while let Some(w) = words.next() {
            if w == key {
                return words.next()?.parse().ok();
            }
        }
        None
    })
}

/// The median of some figures (the mean of the middle two for an even count).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Builds `tase2` and `tase2-load` optimised and returns their paths.
pub(crate) fn load_binaries(target: &Path) -> Result<(PathBuf, PathBuf), String> {
    run(Command::new(cargo()).args([
        "build",
        "--release",
        "-p",
        "tase2-cli",
        "-p",
        "tase2-tests",
        "--bins",
    ]))?;
    let release = target.join("release");
    let (tase2, load) = (release.join("tase2"), release.join("tase2-load"));
    for b in [&tase2, &load] {
        if !b.exists() {
            return Err(format!("{} not built", b.display()));
        }
    }
    Ok((tase2, load))
}

/// The load comparison part of `cargo xtask bench`; returns the report text.
pub(crate) fn load_comparison(
    root: &Path,
    target: &Path,
    opts: &BenchOpts,
) -> Result<String, String> {
    let loadavg = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    if !venv_python(root).exists() {
        println!("bench: build/venv missing; running setup first");
        Setup::new(root).run()?;
    }
    let (tase2, load) = load_binaries(target)?;
    let cpus = opts.pin.cpus();
    if cpus.is_some() {
        if !on_path("taskset") {
            return Err("--pin needs taskset (Debian util-linux)".into());
        }
        if opts.pin == Pin::Split && std::thread::available_parallelism().map_or(1, |n| n.get()) < 2
        {
            return Err("--pin split needs two CPUs".into());
        }
    }
    let (server_cpus, client_cpus) = (cpus.map(|c| c.0), cpus.map(|c| c.1));

    // One depth for both: the smallest of the request and what each server negotiates. Ours
    // alone is also run at the depth it negotiates itself, when that is deeper.
    let mut depth = opts.depth;
    let mut own_depth = opts.depth;
    for peer in [Peer::Ours, Peer::Libiec61850] {
        let server = peer.start(root, &tase2, server_cpus, opts.busy_poll_us)?;
        let probe = load_client(
            &load,
            client_cpus,
            server.port,
            peer.item(),
            &["--probe".into(), "--depth".into(), opts.depth.to_string()],
        )?;
        server.stop();
        let allowed = field(&probe, "max_serv_outstanding_calling")
            .ok_or("the probe printed no max_serv_outstanding_calling")?;
        depth = depth.min(allowed as u16);
        if let Peer::Ours = peer {
            own_depth = own_depth.min(allowed as u16);
        }
    }
    println!(
        "bench: depth {depth} for both servers (asked {}); ours alone also at {own_depth}",
        opts.depth
    );

    let args = |depth: u16| {
        let mut a = vec![
            "--depth".to_string(),
            depth.to_string(),
            "--seconds".to_string(),
            opts.seconds.to_string(),
            "--connections".to_string(),
            opts.connections.to_string(),
        ];
        if opts.spin {
            a.push("--spin".to_string());
        }
        a
    };
    // One run: reads/s and server CPU microseconds per read (all, user, system).
    let once = |peer: Peer, depth: u16| -> Result<(f64, (f64, f64, f64)), String> {
        let server = peer.start(root, &tase2, server_cpus, opts.busy_poll_us)?;
        let cpu_before = process_cpu(server.pid());
        let r = load_client(&load, client_cpus, server.port, peer.item(), &args(depth));
        let cpu_after = process_cpu(server.pid());
        server.stop();
        let r = r?;
        let rate = field(&r, "reads/s").ok_or("tase2-load printed no reads/s")?;
        let ok = field(&r, "ok").unwrap_or(0.0);
        let cpu_per_read = match (cpu_before, cpu_after) {
            (Some(a), Some(b)) => b.per_op_since(a, ok),
            _ => None,
        }
        .unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        Ok((rate, cpu_per_read))
    };
    // Per run: reads/s and server CPU per read, one entry a round, alternating.
    let (mut ours, mut theirs, mut own) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=opts.rounds {
        println!("\nbench: round {round}/{}", opts.rounds);
        ours.push(once(Peer::Ours, depth)?);
        theirs.push(once(Peer::Libiec61850, depth)?);
        if own_depth > depth {
            own.push(once(Peer::Ours, own_depth)?);
        }
    }
    // The median of each figure on its own (user and system may come from different rounds).
    let summary = |v: &[(f64, (f64, f64, f64))]| {
        (
            median(v.iter().map(|r| r.0).collect()),
            (
                median(v.iter().map(|r| r.1 .0).collect()),
                median(v.iter().map(|r| r.1 .1).collect()),
                median(v.iter().map(|r| r.1 .2).collect()),
            ),
        )
    };
    let (ours, ours_cpu) = summary(&ours);
    let (theirs, theirs_cpu) = summary(&theirs);
    let ratio = if theirs > 0.0 { ours / theirs } else { 0.0 };
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    let mut text = String::new();
    let _ = writeln!(
        text,
        "load (tase2-load, Read of one FLOAT32, {} association(s) x depth {depth}, {} s after 1 s \
         warm-up, median of {} run(s), {}):",
        opts.connections,
        opts.seconds,
        opts.rounds,
        {
            let mut how = opts.pin.name().to_string();
            if opts.spin {
                how.push_str(", load client spinning");
            }
            if opts.busy_poll_us > 0 {
                let _ = write!(how, ", tase2 serve --busy-poll {}", opts.busy_poll_us);
            }
            how
        }
    );
    let line = |text: &mut String, who: &str, item: &str, rate: f64, cpu: (f64, f64, f64)| {
        let (all, user, system) = cpu;
        let _ = writeln!(
            text,
            "  {who} {BENCH_DOMAIN}/{item:<24} {rate:>10.0} reads/s  server CPU {all:>6.2} µs/read \
             (user {user:.2}, system {system:.2})"
        );
    };
    line(
        &mut text,
        "ours        tase2 serve           ",
        BENCH_OURS_ITEM,
        ours,
        ours_cpu,
    );
    line(
        &mut text,
        "libiec61850 IedServer (1.6.1)     ",
        BENCH_IED_ITEM,
        theirs,
        theirs_cpu,
    );
    let _ = writeln!(
        text,
        "  ratio ours/libiec61850 {ratio:.2} (target >= {BENCH_TARGET_RATIO}: {})",
        met(ratio >= BENCH_TARGET_RATIO)
    );
    let _ = writeln!(
        text,
        "  server CPU per read libiec61850/ours {:.2}; ours {:.2} µs at depth {depth} (target <= \
         {BENCH_TARGET_CPU_US}: {})",
        theirs_cpu.0 / ours_cpu.0,
        ours_cpu.0,
        met(ours_cpu.0 <= BENCH_TARGET_CPU_US)
    );
    if !own.is_empty() {
        // The kernel's work per batch (one recv, one send, one wake-up) divides by the depth, so
        // ours is also shown at the depth it negotiates, not only at libiec61850's.
        let (own_rate, own_cpu) = summary(&own);
        let who = format!("ours alone at depth {own_depth:<2}     ");
        line(&mut text, &who, BENCH_OURS_ITEM, own_rate, own_cpu);
        let _ = writeln!(
            text,
            "  server CPU per read ours {:.2} µs at depth {own_depth}, the depth tase2 serve \
             negotiates (target <= {BENCH_TARGET_CPU_US}: {})",
            own_cpu.0,
            met(own_cpu.0 <= BENCH_TARGET_CPU_US)
        );
    }
    let _ = writeln!(
        text,
        "  cpus {}, load average before: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(text)
}

/// The issue's fan-out target: point updates encoded per second per core.
pub(crate) const FANOUT_TARGET_PER_CORE: f64 = 2_000_000.0;

/// The fields of the `fanout NAME:` line of the fan-out bench's output.
pub(crate) fn fanout_line<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("fanout {name}:");
    text.lines().find(|l| l.starts_with(&prefix))
}

/// A count with thousands separators.
pub(crate) fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The report fan-out part of `cargo xtask bench` (`core/benches/report_fanout.rs` in its one-shot
/// mode); returns the report text.
pub(crate) fn report_fanout(opts: &BenchOpts) -> Result<String, String> {
    let loadavg = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut cmd = Command::new(cargo());
    cmd.args([
        "bench",
        "-p",
        "tase2-core",
        "--bench",
        "report_fanout",
        "--",
        "--fanout-report",
        "--seconds",
        &opts.fanout_seconds.to_string(),
        "--rounds",
        &opts.fanout_rounds.to_string(),
    ]);
    show(&cmd);
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{stdout}");
    if !out.status.success() {
        return Err(format!("the report fan-out bench failed ({})", out.status));
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "report fan-out (tase2-core, sans-IO, virtual clock; 20 ICC domains x 5,000 points, 20 \
         associations each with an RBE transfer set over its 5,000 points; server side timed: \
         update_many + report encoding + poll_transmit; every report decoded by its client):"
    );
    for (name, what) in [
        (
            "ten_percent",
            format!("10 % changing/s ({} simulated s)", opts.fanout_seconds),
        ),
        (
            "saturating",
            format!("saturating ({} rounds x 100,000)", opts.fanout_rounds),
        ),
    ] {
        let line = fanout_line(&stdout, name)
            .ok_or_else(|| format!("the fan-out bench printed no `fanout {name}:` line"))?;
        let get =
            |key: &str| field(line, key).ok_or_else(|| format!("`fanout {name}:` has no {key}"));
        let (updates, decoded) = (get("updates")?, get("decoded")?);
        if updates != decoded {
            return Err(format!(
                "fan-out {name}: {updates} updates but {decoded} point values decoded"
            ));
        }
        let per_cpu = get("updates_per_cpu_s")?;
        let _ = writeln!(
            text,
            "  {what:<36} {:>11} updates/s of server CPU ({:>11}/s wall), {:>6.1} ns CPU/update, \
             {:.1} octets/update; target >= {} per core: {}",
            thousands(per_cpu),
            thousands(get("updates_per_wall_s")?),
            get("cpu_ns_per_update")?,
            get("octets_per_update")?,
            thousands(FANOUT_TARGET_PER_CORE),
            if per_cpu >= FANOUT_TARGET_PER_CORE {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    if let Some(l) = fanout_line(&stdout, "ten_percent_load") {
        let _ = writeln!(text, "  {}", l.trim_start_matches("fanout ").trim());
    }
    let _ = writeln!(
        text,
        "  cpus {}, load average before: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(text)
}

/// Runs `cargo bench -p PACKAGE --bench BENCH -- ARG` (its stderr shown as it comes) and returns
/// its stdout, printed as well; `what` names it in the error when it fails.
fn bench_stdout(package: &str, bench: &str, arg: &str, what: &str) -> Result<String, String> {
    let mut cmd = Command::new(cargo());
    cmd.args(["bench", "-p", package, "--bench", bench, "--", arg]);
    show(&cmd);
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{stdout}");
    if !out.status.success() {
        return Err(format!("{what} failed ({})", out.status));
    }
    Ok(stdout)
}

/// The replay figures of `cargo xtask bench`: an hour-long recording of a 1,000-point RBE link
/// (made on the core's simulator), both sides replayed (`core/benches/replay_hour.rs`).
pub(crate) fn replay_hour() -> Result<String, String> {
    let stdout = bench_stdout(
        "tase2-core",
        "replay_hour",
        "--replay-report",
        "the replay bench",
    )?;
    let mut text = String::from(
        "replay (tase2-core record::replay / replay_session of one simulated hour; target: well \
         under 1 s per side):\n",
    );
    for side in ["setup", "server", "client"] {
        let prefix = format!("replay {side}:");
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&prefix))
            .ok_or_else(|| format!("the replay bench printed no `{prefix}` line"))?;
        let _ = writeln!(text, "  {line}");
    }
    Ok(text)
}

/// The report latency of 1,000 associations, each with an RBE transfer set, under the tokio and
/// the mio driver (`tests/benches/association_latency.rs`: the load test's scenario, optimised
/// and with more rounds).
pub(crate) fn association_latency() -> Result<String, String> {
    let stdout = bench_stdout(
        "tase2-tests",
        "association_latency",
        "20",
        "the association latency bench",
    )?;
    let mut text = String::from(
        "report latency (1,000 associations, one RBE transfer set of 10 points each, 20 rounds \
         of changes; update to report decoded, clients in the same process):\n",
    );
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("latency "))
        .collect();
    if lines.is_empty() {
        return Err("the association latency bench printed no `latency` line".into());
    }
    for line in lines {
        let _ = writeln!(text, "  {line}");
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_helpers() {
        let est = r#"{"mean":{"confidence_interval":{"lower_bound":1.0},"point_estimate":1234.5,"standard_error":2.0},"median":{"point_estimate":9.0}}"#;
        assert_eq!(json_mean_estimate(est), Some(1234.5));
        let out = "noise\nreads/s 41234 depth 5 ok 9 errors 0\n";
        assert_eq!(field(out, "reads/s"), Some(41234.0));
        assert_eq!(field(out, "depth"), Some(5.0));
        assert_eq!(field(out, "nope"), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(human_ns(1500.0), "1.500 µs");
    }

    #[test]
    fn bench_options() {
        let a: Vec<String> = ["--depth", "4", "--no-load", "--", "--quick"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = BenchOpts::parse(&a).unwrap();
        assert_eq!((o.depth, o.no_load, o.no_criterion), (4, true, false));
        assert!(!o.spin);
        assert!(BenchOpts::parse(&["--spin".into()]).unwrap().spin);
        assert_eq!(o.busy_poll_us, 0);
        let b = BenchOpts::parse(&["--busy-poll".into(), "50".into()]).unwrap();
        assert_eq!(b.busy_poll_us, 50);
        assert!(BenchOpts::parse(&["--busy-poll".into(), "x".into()]).is_err());
        assert_eq!(o.criterion_args, vec!["--quick".to_string()]);
        assert!(BenchOpts::parse(&["--depth".into(), "0".into()]).is_err());
        assert!(BenchOpts::parse(&["--bogus".into()]).is_err());
        let o = BenchOpts::parse(&[
            "--fanout-only".into(),
            "--fanout-seconds".into(),
            "5".into(),
        ])
        .unwrap();
        assert!(o.no_criterion && o.no_load && !o.no_fanout);
        assert_eq!((o.fanout_seconds, o.fanout_rounds), (5, 10));
        assert!(BenchOpts::parse(&["--no-fanout".into(), "--fanout-only".into()]).is_err());
        assert!(BenchOpts::parse(&["--fanout-rounds".into(), "0".into()]).is_err());
    }

    #[test]
    fn fanout_helpers() {
        let out = "fanout setup: x\nfanout ten_percent: updates 10 decoded 10 updates_per_cpu_s \
                   2500000 verdict met\nfanout saturating: updates 7\n";
        let l = fanout_line(out, "ten_percent").unwrap();
        assert_eq!(field(l, "updates_per_cpu_s"), Some(2_500_000.0));
        assert_eq!(
            field(fanout_line(out, "saturating").unwrap(), "updates"),
            Some(7.0)
        );
        assert_eq!(fanout_line(out, "nope"), None);
        assert_eq!(thousands(2_000_000.0), "2,000,000");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
    }
}
