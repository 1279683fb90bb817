//! Connect to a TASE.2 / MMS server, identify it, list its domains and read a point.
//!
//! ```sh
//! cargo run -p tase2-cli -- serve --listen 127.0.0.1:10102 &
//! cargo run -p tase2-tokio --example client -- 127.0.0.1:10102
//! ```

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::ObjectName;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:10102".into());
    // Who we are (calling) and whom we call: the bilateral agreement's AP-titles and AE-qualifiers.
    let config =
        AssociationConfig::with_ap_titles(("1.1.1.999".parse()?, 12), ("1.1.1.998".parse()?, 12));
    let client = tase2_tokio::Client::connect(&addr, config).await?;
    println!("negotiated: {:?}", client.negotiated());

    let id = client.identify().await?;
    println!(
        "server: {} {} {}",
        id.vendor_name, id.model_name, id.revision
    );

    for domain in client.domain_names().await? {
        let names = client.variable_names(Some(&domain)).await?;
        println!("{domain}: {} variables", names.len());
        if let Some(first) = names.first() {
            let value = client
                .read(&ObjectName::domain(domain.clone(), first.clone()))
                .await?;
            println!("  {first} = {value:?}");
        }
    }
    client.conclude().await?;
    Ok(())
}
