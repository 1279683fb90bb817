//! Connect, identify, read two variables and release.
//!
//! ```text
//! cargo run -p tase2-mio --example mio_client -- 127.0.0.1:10102
//! ```

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;
use tase2_mio::MioClient;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:10102".into())
        .parse()?;
    let config =
        AssociationConfig::with_ap_titles(("1.1.1.999".parse()?, 12), ("1.1.1.998".parse()?, 12));
    let mut client = MioClient::connect(addr, config)?;
    println!("associated: {:?}", client.negotiated());
    let id = client.identify()?;
    println!("{} {} {}", id.vendor_name, id.model_name, id.revision);
    let names = [
        ObjectName::vmd("TASE2_Version"),
        ObjectName::domain("ICC1", "Voltage"),
    ];
    for (name, result) in names.iter().zip(client.read(&names)?) {
        println!("{name} = {result:?}");
    }
    client.conclude()?;
    println!("released");
    Ok(())
}
