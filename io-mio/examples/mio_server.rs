//! A TASE.2 / MMS server on a mio loop with one changing value.
//!
//! ```text
//! cargo run -p tase2-mio --example mio_server -- 127.0.0.1:10102
//! cargo run -p tase2-mio --example mio_client -- 127.0.0.1:10102
//! ```
//!
//! It serves a VMD-scope `TASE2_Version` and, in domain `ICC1`, a `Voltage` that changes every
//! second and a writable `Setpoint`. It prints what clients do.

use std::time::{Duration, Instant};

use tase2_core::mms::{
    Data, Float, ObjectName, StructComponent, TypeDescription, TypeSpecification,
};
use tase2_core::server::{ServerConfig, ServerEvent, Variable, Vmd};
use tase2_mio::MioServer;

fn model() -> Vmd {
    let f32_type = TypeDescription::FloatingPoint {
        format_width: 32,
        exponent_width: 8,
    };
    let int16 = |name: &str| StructComponent {
        name: Some(name.into()),
        type_spec: TypeSpecification::Description(TypeDescription::Integer(16)),
    };
    let mut vmd = Vmd::default();
    vmd.variables.insert(
        "TASE2_Version".into(),
        Variable::read_only(
            TypeDescription::Structure {
                packed: false,
                components: vec![int16("MajorVersionNumber"), int16("MinorVersionNumber")],
            },
            Data::Structure(vec![Data::Integer(2000), Data::Integer(8)]),
        ),
    );
    let icc = vmd.domain_mut("ICC1");
    icc.variables.insert(
        "Voltage".into(),
        Variable::read_only(f32_type.clone(), Data::Float(Float::F32(230.0))),
    );
    icc.variables.insert(
        "Setpoint".into(),
        Variable::writable(f32_type, Data::Float(Float::F32(0.0))),
    );
    vmd
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:10102".into());
    let addr = addr
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut server = MioServer::bind(addr, ServerConfig::default(), model())?;
    println!("serving on {}", server.local_addr()?);

    let voltage = ObjectName::domain("ICC1", "Voltage");
    let start = Instant::now();
    let mut next_tick = start + Duration::from_secs(1);
    loop {
        server.run_once(Some(next_tick.saturating_duration_since(Instant::now())))?;
        while let Some(event) = server.poll_event() {
            match event {
                ServerEvent::Associated { id, peer } => println!(
                    "{id:?}: associated with AP-title {:?}, AE-qualifier {:?}",
                    peer.calling.ap_title, peer.calling.ae_qualifier
                ),
                other => println!("{other:?}"),
            }
        }
        if Instant::now() >= next_tick {
            next_tick += Duration::from_secs(1);
            // A slow wave around 230 V; clients see it on their next read.
            let t = start.elapsed().as_secs_f32();
            let v = 230.0 + 5.0 * (t / 10.0).sin();
            // `set_value` rather than `model_mut().set_value`: the change is recordable.
            server.endpoint_mut().set_value(
                tase2_mio::clock::now(),
                &voltage,
                Data::Float(Float::F32(v)),
            );
        }
    }
}
