//! The `tase2` command-line tool: serve a model, or talk to a server as a client.

mod control;
mod pcap;
mod replay;
mod serve;
mod show;
mod tls;
mod watch;
mod watch_failover;

// The model loader is a library target, shared with the replay tests.
use tase2_cli::{config, model, sim};

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tase2_core::assoc::{AssociationConfig, InvalidTpduSize};
use tase2_core::ber::ObjectIdentifier;
use tase2_core::cotp::TpduSize;
use tase2_core::mms::{
    AccessResult, ConfirmedRequest, ConfirmedResponse, ObjectName, ReadRequest,
    VariableAccessSpecification,
};
use tase2_tokio::tase2::{Tase2Client, Tase2Options};
use tase2_tokio::RecordFile;

/// FreeTase2: an ICCP / TASE.2 (IEC 60870-6) server and client.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Protocol diagnostics of the stack on stderr: -v info (deviations accepted), -vv debug
    /// (associations, rejects, timeouts), -vvv trace (every TPDU). RUST_LOG (e.g.
    /// `RUST_LOG=tase2_core=debug`) sets the filter in full; without either, only warnings.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a TASE.2 model: the TOML file of --config, else the embedded default model (VCC
    /// objects, domains ICC1 and ICC2 with bilateral tables, simulated grid points).
    Serve(serve::ServeArgs),
    /// Write a recording as a pcapng of synthesised Ethernet/IPv4/TCP frames (client 10.0.0.1,
    /// server 10.0.0.2:102), for Wireshark or tshark to decode as TPKT / COTP / MMS.
    ExportPcap(pcap::ExportPcapArgs),
    /// Make a recording of one side of the TCP connections to a server port in a pcap or pcapng
    /// capture; --check feeds a captured client's octets through our server.
    ImportPcap(pcap::ImportPcapArgs),
    /// Identify a server.
    Identify {
        #[command(flatten)]
        remote: Remote,
        #[command(flatten)]
        record: Record,
    },
    /// What a TASE.2 server offers: version, features, domains, typed variables.
    ///
    /// TASE2_Version, Supported_Features, the domains the server shows this client with their
    /// Bilateral_Table_ID and data sets, and every variable with its TASE.2 type.
    Browse {
        #[command(flatten)]
        remote: Remote,
        #[command(flatten)]
        record: Record,
    },
    /// Read variables named `DOMAIN/NAME` (or `/NAME` for VMD scope).
    ///
    /// Points are shown typed: value, flags and timestamp as their type carries them.
    Read {
        #[command(flatten)]
        remote: Remote,
        #[command(flatten)]
        record: Record,
        /// Variables to read.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Show the MMS type of variables (GetVariableAccessAttributes).
    Type {
        #[command(flatten)]
        remote: Remote,
        #[command(flatten)]
        record: Record,
        /// Variables, `DOMAIN/NAME` or `/NAME`.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Named variable lists (data sets): define, read, show members, delete.
    List {
        #[command(flatten)]
        remote: Remote,
        #[command(flatten)]
        record: Record,
        /// What to do.
        #[arg(value_enum)]
        action: ListAction,
        /// The list, `DOMAIN/NAME` or `/NAME`.
        list: String,
        /// Members, for `define`.
        members: Vec<String>,
    },
    /// Watch points live through a DS transfer set, and information messages.
    ///
    /// Defines a data set, reserves and starts a DS transfer set on it and prints its reports;
    /// enables information messages (unless --no-info) and prints each one received; on Ctrl-C
    /// or after --duration stops it, deletes the data set and concludes.
    Watch {
        #[command(flatten)]
        remote: Remote,
        #[command(flatten)]
        record: Record,
        #[command(flatten)]
        args: watch::WatchArgs,
    },
    /// Operate a device (TASE.2 block 5): a command, a discrete or a real setpoint.
    ///
    /// The device's MMS type (GetVariableAccessAttributes) decides how VALUE is read: INT16 takes
    /// a command word or an integer, FLOAT32 a number. With --sbo the device is selected first
    /// (its CheckBackID is printed). A refusal prints the typed error and exits with code 1.
    Operate {
        #[command(flatten)]
        remote: Remote,
        #[command(flatten)]
        record: Record,
        #[command(flatten)]
        args: control::OperateArgs,
    },
    /// Show a device's tag, or set it with --set (and --reason).
    Tag {
        #[command(flatten)]
        remote: Remote,
        #[command(flatten)]
        record: Record,
        #[command(flatten)]
        args: control::TagArgs,
    },
    /// Replay a recording into a fresh client session or server and check every octet.
    ///
    /// The recorded object is rebuilt from the file (a server from the model it embeds) and fed
    /// the recorded inputs on the recorded clock. On success one line sums it up; where the
    /// output differs the report names the time, connection and entry, decodes both PDUs layer by
    /// layer with the first differing field, and shows both frames in hex. With --timeline the
    /// recording is printed one line per PDU with its TASE.2 meaning instead. Exit code 1: the
    /// replay diverged; 2: the file cannot be read or the object cannot be rebuilt.
    Replay(replay::ReplayArgs),
}

/// What `tase2 list` does.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ListAction {
    /// DefineNamedVariableList with the given members.
    Define,
    /// Read every member.
    Read,
    /// Show the members (GetNamedVariableListAttributes).
    Members,
    /// DeleteNamedVariableList.
    Delete,
    /// Define, read, show members and delete, on one association.
    Cycle,
}

/// Where to connect and as whom.
#[derive(Args)]
struct Remote {
    /// Server address, host:port.
    addr: String,
    /// Our AP-title.
    #[arg(long, default_value = "1.1.1.999")]
    local_ap_title: String,
    /// Our AE-qualifier.
    #[arg(long, default_value_t = 12)]
    local_ae: i64,
    /// The server's AP-title.
    #[arg(long, default_value = "1.1.1.998")]
    remote_ap_title: String,
    /// The server's AE-qualifier.
    #[arg(long, default_value_t = 12)]
    remote_ae: i64,
    /// COTP TPDU size to propose, in octets: 128, 256, 512, 1024 or 2048 (ISO 8073 class 0
    /// allows no more). Smaller sizes suit peers with small buffers; MMS PDUs are segmented.
    #[arg(long, default_value_t = 2048, value_parser = tpdu_size)]
    tpdu_size: usize,
    #[command(flatten)]
    tls: tls::TlsArgs,
}

/// Recording the client session (every client command: identify, browse, read, type, list, watch,
/// operate, tag).
#[derive(Args)]
struct Record {
    /// Record the client session into FILE (created or truncated): every octet, timer and
    /// command, replayable octet for octet (`tase2_core::record::replay_session`). Keep it as
    /// private as a capture: its header holds the association configuration.
    #[arg(long, value_name = "FILE")]
    record: Option<std::path::PathBuf>,
}

/// A TPDU size class 0 allows (X.224 §13.3.4 (b)).
fn tpdu_size(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|_| format!("not a number: {s}"))?;
    match TpduSize::from_bytes(n) {
        Some(size) if size.is_class0() => Ok(n),
        _ => Err(InvalidTpduSize(n).to_string()),
    }
}

fn oid(s: &str) -> Result<ObjectIdentifier, String> {
    s.parse()
        .map_err(|_| format!("not an object identifier: {s}"))
}

fn parse_name(s: &str) -> Result<ObjectName, String> {
    match s.split_once('/') {
        Some(("", item)) => Ok(ObjectName::vmd(item)),
        Some((domain, item)) => Ok(ObjectName::domain(domain, item)),
        None => Err(format!("expected DOMAIN/NAME or /NAME, got {s}")),
    }
}

fn association(r: &Remote) -> Result<AssociationConfig, String> {
    let mut config = AssociationConfig::with_ap_titles(
        (oid(&r.local_ap_title)?, r.local_ae),
        (oid(&r.remote_ap_title)?, r.remote_ae),
    );
    config
        .set_tpdu_size(r.tpdu_size)
        .map_err(|e| e.to_string())?;
    Ok(config)
}

/// A TASE.2 client that does not insist on `TASE2_Version`: `browse` and `read` also work on plain
/// MMS servers.
async fn connect_tase2(r: &Remote, record: &Record, command: &str) -> Result<Tase2Client, String> {
    let options = Tase2Options {
        read_version: false,
        record: record
            .record
            .as_ref()
            .map(|p| RecordFile::new(p).producer(serve::producer(command))),
        ..Tase2Options::default()
    };
    match r.tls.client()? {
        Some(settings) => {
            let tls = tase2_tokio::tls::ClientTls::from_settings(&settings)
                .map_err(|e| format!("TLS: {e}"))?;
            Tase2Client::connect_tls(&r.addr, &tls, association(r)?, options)
                .await
                .map_err(|e| e.to_string())
        }
        None => Tase2Client::connect_with(&r.addr, association(r)?, options)
            .await
            .map_err(|e| {
                let e = e.to_string();
                // 0x15, 0x16: a TLS alert or handshake record where a TPKT header belongs.
                if e.contains("TPKT version 21") || e.contains("TPKT version 22") {
                    format!("{e} (the server speaks TLS: give --tls-ca, --tls-cert and --tls-key)")
                } else {
                    e
                }
            }),
    }
}

/// `tase2 browse`: discovery, printed. Works on plain MMS servers too (TASE.2 objects missing).
async fn browse(c: &mut Tase2Client) -> Result<(), String> {
    let d = c.discover().await.map_err(|e| e.to_string())?;
    match (d.version, d.edition) {
        (Some((a, b)), Some(e)) => println!("TASE2_Version: {a}.{b} (edition {e:?})"),
        (Some((a, b)), None) => println!("TASE2_Version: {a}.{b} (unknown edition)"),
        (None, _) => println!("TASE2_Version: not readable (not a TASE.2 server?)"),
    }
    if let Some(f) = d.features {
        let blocks: Vec<String> = (1..=12)
            .filter(|&n| f.has_block(n))
            .map(|n| n.to_string())
            .collect();
        if blocks.is_empty() {
            println!("Supported_Features: no block");
        } else {
            println!("Supported_Features: blocks {}", blocks.join(", "));
        }
    }
    let print_vars = |vars: &[tase2_tokio::tase2::VariableInfo]| {
        let width = vars
            .iter()
            .map(|v| show::name(&v.name).len())
            .max()
            .unwrap_or(0);
        for v in vars {
            let t = match (v.tase2_type_name(), &v.type_description) {
                (Some(t), _) => {
                    let alt: Vec<&str> = v
                        .alternative_point_types()
                        .iter()
                        .map(|p| p.name())
                        .collect();
                    if alt.is_empty() {
                        t.to_string()
                    } else {
                        format!("{t} (or {}: same MMS type)", alt.join(", "))
                    }
                }
                (None, Some(td)) => show::mms_type(td),
                (None, None) => "?".into(),
            };
            println!("  {:<width$}  {t}", show::name(&v.name));
        }
    };
    // Some servers (libiec61850) refuse to list VMD-scope variables; that is not fatal.
    match &d.vcc {
        Ok(vars) => {
            println!("VMD: {} variables", vars.len());
            print_vars(vars);
        }
        Err(e) => println!("VMD: variables not listed by the server ({e})"),
    }
    for dom in &d.domains {
        println!("{}: {} variables", dom.name, dom.variables.len());
        if let Some(id) = &dom.table_id {
            println!("  Bilateral_Table_ID: {id}");
        }
        if !dom.data_sets.is_empty() {
            println!("  data sets: {}", dom.data_sets.join(", "));
        }
        print_vars(&dom.variables);
    }
    Ok(())
}

/// `tase2 read`: one Read; points typed, anything else as MMS data.
async fn read(c: &mut Tase2Client, names: &[ObjectName]) -> Result<(), String> {
    let types = c.learn_types(names).await;
    let results = c.read_many(names).await.map_err(|e| e.to_string())?;
    for ((n, t), r) in names.iter().zip(types).zip(results) {
        match r {
            AccessResult::Success(d) => match t.and_then(|t| Some((t, t.decode_data(&d)?))) {
                Some((t, v)) => {
                    println!("{} = {}  ({})", show::name(n), show::point(t, &v), t.name())
                }
                None => println!("{} = {}", show::name(n), show::data(&d)),
            },
            AccessResult::Failure(e) => println!("{}: {e}", show::name(n)),
        }
    }
    Ok(())
}

fn show_results(names: &[ObjectName], results: Vec<AccessResult>) {
    for (n, r) in names.iter().zip(results) {
        match r {
            AccessResult::Success(d) => println!("{} = {}", show::name(n), show::data(&d)),
            AccessResult::Failure(e) => println!("{}: {e}", show::name(n)),
        }
    }
}

async fn list(
    c: &Tase2Client,
    action: ListAction,
    name: &ObjectName,
    members: &[ObjectName],
) -> Result<(), String> {
    let e = |e: tase2_tokio::tase2::Error| e.to_string();
    match action {
        ListAction::Define => {
            c.define_data_set(name, members).await.map_err(e)?;
            println!(
                "defined {} with {} members",
                show::name(name),
                members.len()
            );
        }
        ListAction::Read => {
            let m = c.data_set_members(name).await.map_err(e)?;
            let read = ConfirmedRequest::Read(ReadRequest {
                specification_with_result: false,
                variables: VariableAccessSpecification::VariableListName(name.clone()),
            });
            match c.request(read).await.map_err(e)? {
                ConfirmedResponse::Read(r) => show_results(&m, r.results),
                _ => return Err("the server answered Read with another service".into()),
            }
        }
        ListAction::Members => {
            for m in c.data_set_members(name).await.map_err(e)? {
                println!("{}", show::name(&m));
            }
        }
        ListAction::Delete => {
            let deleted = c.delete_data_set(name).await.map_err(e)?;
            println!(
                "{} {}",
                show::name(name),
                if deleted { "deleted" } else { "not deleted" }
            );
        }
        ListAction::Cycle => {
            for a in [
                ListAction::Define,
                ListAction::Members,
                ListAction::Read,
                ListAction::Delete,
            ] {
                Box::pin(list(c, a, name, members)).await?;
            }
        }
    }
    Ok(())
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Replay(args) => match replay::run(&args) {
            0 => Ok(()),
            code => std::process::exit(code),
        },
        Command::ExportPcap(args) => pcap::run_export(&args),
        Command::ImportPcap(args) => pcap::run_import(&args),
        Command::Identify { remote, record } => {
            let c = connect_tase2(&remote, &record, "identify").await?;
            let result = match c.request(ConfirmedRequest::Identify).await {
                Ok(ConfirmedResponse::Identify(i)) => {
                    println!(
                        "vendor {}\nmodel {}\nrevision {}",
                        i.vendor_name, i.model_name, i.revision
                    );
                    Ok(())
                }
                Ok(_) => Err("the server answered Identify with another service".to_string()),
                Err(e) => Err(e.to_string()),
            };
            c.conclude().await.map_err(|e| e.to_string())?;
            result
        }
        Command::Browse { remote, record } => {
            let mut c = connect_tase2(&remote, &record, "browse").await?;
            let result = browse(&mut c).await;
            c.conclude().await.map_err(|e| e.to_string())?;
            result
        }
        Command::Read {
            remote,
            record,
            names,
        } => {
            let names = names
                .iter()
                .map(|n| parse_name(n))
                .collect::<Result<Vec<_>, _>>()?;
            let mut c = connect_tase2(&remote, &record, "read").await?;
            let result = read(&mut c, &names).await;
            c.conclude().await.map_err(|e| e.to_string())?;
            result
        }
        Command::Watch {
            remote,
            record,
            args,
        } if !args.backup.is_empty() => {
            let record = record
                .record
                .as_ref()
                .map(|p| RecordFile::new(p).producer(serve::producer("watch")));
            watch_failover::watch(&remote.addr, association(&remote)?, &args, false, record).await
        }
        Command::Watch {
            remote,
            record,
            args,
        } => {
            if args.fail_back.is_some() {
                return Err("--fail-back needs --backup".into());
            }
            let mut c = connect_tase2(&remote, &record, "watch").await?;
            // The server's edition decides the transfer set layout.
            c.version()
                .await
                .map_err(|e| format!("not a TASE.2 server? {e}"))?;
            let result = watch::watch(&mut c, &args).await;
            let concluded = c.conclude().await.map_err(|e| e.to_string());
            result.and(concluded)
        }
        Command::Operate {
            remote,
            record,
            args,
        } => {
            let device = parse_name(&args.device)?;
            let c = connect_tase2(&remote, &record, "operate").await?;
            let result = control::operate(&c, &device, &args).await;
            c.conclude().await.map_err(|e| e.to_string())?;
            println!("{}", result?);
            Ok(())
        }
        Command::Tag {
            remote,
            record,
            args,
        } => {
            let device = parse_name(&args.device)?;
            let c = connect_tase2(&remote, &record, "tag").await?;
            let result = control::tag(&c, &device, &args).await;
            c.conclude().await.map_err(|e| e.to_string())?;
            println!("{}", result?);
            Ok(())
        }
        Command::Type {
            remote,
            record,
            names,
        } => {
            let names = names
                .iter()
                .map(|n| parse_name(n))
                .collect::<Result<Vec<_>, _>>()?;
            let c = connect_tase2(&remote, &record, "type").await?;
            let mut result = Ok(());
            for n in &names {
                let request = ConfirmedRequest::GetVariableAccessAttributes(n.clone());
                match c.request(request).await {
                    Ok(ConfirmedResponse::GetVariableAccessAttributes(a)) => {
                        println!("{}: {:?}", show::name(n), a.type_description)
                    }
                    Ok(_) => {
                        result = Err("the server answered with another service".to_string());
                        break;
                    }
                    Err(e) => {
                        result = Err(e.to_string());
                        break;
                    }
                }
            }
            c.conclude().await.map_err(|e| e.to_string())?;
            result
        }
        Command::List {
            remote,
            record,
            action,
            list: name,
            members,
        } => {
            let name = parse_name(&name)?;
            let members = members
                .iter()
                .map(|n| parse_name(n))
                .collect::<Result<Vec<_>, _>>()?;
            let c = connect_tase2(&remote, &record, "list").await?;
            let r = list(&c, action, &name, &members).await;
            c.conclude().await.map_err(|e| e.to_string())?;
            r
        }
    }
}

/// Diagnostics of the stack (`tracing`) on stderr. RUST_LOG, else warnings only, so that the
/// output of every command is unchanged by default; each -v raises the `tase2_core` target one level.
fn init_tracing(verbose: u8) {
    use std::io::IsTerminal;
    use tracing_subscriber::filter::{EnvFilter, LevelFilter};
    let mut filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::WARN.into())
        .from_env_lossy();
    let level = match verbose {
        0 => None,
        1 => Some("tase2_core=info"),
        2 => Some("tase2_core=debug"),
        _ => Some("tase2_core=trace"),
    };
    if let Some(directive) = level.and_then(|d| d.parse().ok()) {
        filter = filter.add_directive(directive);
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

// One thread: the endpoint task and the socket tasks hand bytes to each other without waking another
// thread, which halves the server's CPU per request (measured with `cargo xtask bench`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tase2: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tpdu_size_takes_class0_sizes_only() {
        assert_eq!(tpdu_size("2048"), Ok(2048));
        assert_eq!(tpdu_size("128"), Ok(128));
        assert!(tpdu_size("8192").unwrap_err().contains("2048"));
        assert!(tpdu_size("1000").is_err());
        assert!(tpdu_size("big").is_err());
    }

    #[test]
    fn client_commands_take_tpdu_size_and_verbosity() {
        let cli = Cli::try_parse_from(["tase2", "-vv", "identify", "h:102", "--tpdu-size", "1024"])
            .unwrap();
        assert_eq!(cli.verbose, 2);
        let Command::Identify { remote: r, .. } = cli.command else {
            panic!()
        };
        assert_eq!(r.tpdu_size, 1024);
        let cli = Cli::try_parse_from(["tase2", "read", "h:102", "D/x", "-v"]).unwrap();
        assert_eq!(cli.verbose, 1);
        let Command::Read { remote, .. } = cli.command else {
            panic!()
        };
        assert_eq!(remote.tpdu_size, 2048, "the class 0 maximum by default");
        assert!(
            Cli::try_parse_from(["tase2", "identify", "h:102", "--tpdu-size", "8192"]).is_err()
        );
    }

    #[test]
    fn import_pcap_takes_a_side_and_a_connection_from_one() {
        let cli = Cli::try_parse_from([
            "tase2",
            "import-pcap",
            "c.pcapng",
            "--server-port",
            "102",
            "--side",
            "client",
            "--connection",
            "2",
            "-o",
            "c.rec",
        ]);
        assert!(matches!(cli.map(|c| c.command), Ok(Command::ImportPcap(_))));
        let no_port = Cli::try_parse_from(["tase2", "import-pcap", "c.pcapng", "-o", "x"]);
        assert!(no_port.is_err(), "the server port is required");
        let zero = [
            "tase2",
            "import-pcap",
            "c",
            "--server-port",
            "1",
            "--connection",
            "0",
        ];
        assert!(
            Cli::try_parse_from(zero).is_err(),
            "connections count from 1"
        );
        let bad_side = [
            "tase2",
            "import-pcap",
            "c",
            "--server-port",
            "1",
            "--side",
            "both",
        ];
        assert!(Cli::try_parse_from(bad_side).is_err());
        let export = Cli::try_parse_from(["tase2", "export-pcap", "a.rec", "b.pcapng"]);
        assert!(matches!(
            export.map(|c| c.command),
            Ok(Command::ExportPcap(_))
        ));
    }
}
