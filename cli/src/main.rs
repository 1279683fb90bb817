//! The `tase2` command-line tool: serve a model, or talk to a server as a client.

mod config;
mod model;
mod serve;
mod sim;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tase2_core::assoc::AssociationConfig;
use tase2_core::ber::ObjectIdentifier;
use tase2_core::mms::{AccessResult, Data, ObjectName};
use tase2_tokio::Client;

/// FreeTase2: an ICCP / TASE.2 (IEC 60870-6) server and client.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a TASE.2 model: the TOML file of --config, else the embedded default model (VCC
    /// objects, domains ICC1 and ICC2 with bilateral tables, simulated grid points).
    Serve(serve::ServeArgs),
    /// Identify a server.
    Identify(Remote),
    /// List a server's domains and the variables of each.
    Browse(Remote),
    /// Read variables named `DOMAIN/NAME` (or `/NAME` for VMD scope).
    Read {
        #[command(flatten)]
        remote: Remote,
        /// Variables to read.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Show the MMS type of variables (GetVariableAccessAttributes).
    Type {
        #[command(flatten)]
        remote: Remote,
        /// Variables, `DOMAIN/NAME` or `/NAME`.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Named variable lists (data sets): define, read, show members, delete.
    List {
        #[command(flatten)]
        remote: Remote,
        /// What to do.
        #[arg(value_enum)]
        action: ListAction,
        /// The list, `DOMAIN/NAME` or `/NAME`.
        list: String,
        /// Members, for `define`.
        members: Vec<String>,
    },
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

fn show(d: &Data) -> String {
    match d {
        Data::Structure(v) | Data::Array(v) => {
            let inner: Vec<String> = v.iter().map(show).collect();
            format!("{{{}}}", inner.join(", "))
        }
        Data::Float(f) => format!("{}", f.to_f64()),
        Data::Integer(i) => i.to_string(),
        Data::Unsigned(u) => u.to_string(),
        Data::Boolean(b) => b.to_string(),
        Data::VisibleString(s) | Data::MmsString(s) => format!("{s:?}"),
        Data::BitString(b) => (0..b.bits)
            .map(|i| if b.get(i) { '1' } else { '0' })
            .collect(),
        other => format!("{other:?}"),
    }
}

async fn connect(r: &Remote) -> Result<Client, String> {
    let config = AssociationConfig::with_ap_titles(
        (oid(&r.local_ap_title)?, r.local_ae),
        (oid(&r.remote_ap_title)?, r.remote_ae),
    );
    Client::connect(&r.addr, config)
        .await
        .map_err(|e| e.to_string())
}

fn show_results(names: &[ObjectName], results: Vec<AccessResult>) {
    for (n, r) in names.iter().zip(results) {
        match r {
            AccessResult::Success(d) => println!("{} = {}", display_name(n), show(&d)),
            AccessResult::Failure(e) => println!("{}: {e:?}", display_name(n)),
        }
    }
}

fn display_name(n: &ObjectName) -> String {
    match n {
        ObjectName::VmdSpecific(i) => format!("/{i}"),
        ObjectName::DomainSpecific { domain, item } => format!("{domain}/{item}"),
        ObjectName::AaSpecific(i) => format!("@{i}"),
    }
}

async fn list(
    c: &Client,
    action: ListAction,
    name: &ObjectName,
    members: &[ObjectName],
) -> Result<(), String> {
    let e = |e: tase2_tokio::Error| e.to_string();
    match action {
        ListAction::Define => {
            c.define_list(name, members).await.map_err(e)?;
            println!(
                "defined {} with {} members",
                display_name(name),
                members.len()
            );
        }
        ListAction::Read => {
            let m = c.list_members(name).await.map_err(e)?;
            show_results(&m, c.read_list(name).await.map_err(e)?);
        }
        ListAction::Members => {
            for m in c.list_members(name).await.map_err(e)? {
                println!("{}", display_name(&m));
            }
        }
        ListAction::Delete => {
            let deleted = c.delete_list(name).await.map_err(e)?;
            println!(
                "{} {}",
                display_name(name),
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
        Command::Identify(r) => {
            let c = connect(&r).await?;
            let i = c.identify().await.map_err(|e| e.to_string())?;
            println!(
                "vendor {}\nmodel {}\nrevision {}",
                i.vendor_name, i.model_name, i.revision
            );
            c.conclude().await.map_err(|e| e.to_string())
        }
        Command::Browse(r) => {
            let c = connect(&r).await?;
            // Some servers (libiec61850) refuse to list VMD-scope variables; that is not fatal.
            match c.variable_names(None).await {
                Ok(vmd) => {
                    println!("VMD: {} variables", vmd.len());
                    for v in vmd {
                        println!("  /{v}");
                    }
                }
                Err(e) => println!("VMD: variables not listed by the server ({e})"),
            }
            for d in c.domain_names().await.map_err(|e| e.to_string())? {
                let vars = c
                    .variable_names(Some(&d))
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{d}: {} variables", vars.len());
                for v in vars {
                    println!("  {d}/{v}");
                }
            }
            c.conclude().await.map_err(|e| e.to_string())
        }
        Command::Read { remote, names } => {
            let names = names
                .iter()
                .map(|n| parse_name(n))
                .collect::<Result<Vec<_>, _>>()?;
            let c = connect(&remote).await?;
            let results = c.read_many(&names).await.map_err(|e| e.to_string())?;
            show_results(&names, results);
            c.conclude().await.map_err(|e| e.to_string())
        }
        Command::Type { remote, names } => {
            let names = names
                .iter()
                .map(|n| parse_name(n))
                .collect::<Result<Vec<_>, _>>()?;
            let c = connect(&remote).await?;
            for n in &names {
                let t = c.get_type(n).await.map_err(|e| e.to_string())?;
                println!("{}: {t:?}", display_name(n));
            }
            c.conclude().await.map_err(|e| e.to_string())
        }
        Command::List {
            remote,
            action,
            list: name,
            members,
        } => {
            let name = parse_name(&name)?;
            let members = members
                .iter()
                .map(|n| parse_name(n))
                .collect::<Result<Vec<_>, _>>()?;
            let c = connect(&remote).await?;
            let r = list(&c, action, &name, &members).await;
            c.conclude().await.map_err(|e| e.to_string())?;
            r
        }
    }
}

// One thread: the endpoint task and the socket tasks hand bytes to each other without waking another
// thread, which halves the server's CPU per request (measured with `cargo xtask bench`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tase2: {e}");
            ExitCode::FAILURE
        }
    }
}
