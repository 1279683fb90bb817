//! The browser path without a browser: WasmClient → WebSocket → proxy → TCP → MioServer.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tase2_core::mms::{Data, Float, TypeDescription};
use tase2_core::server::{ServerConfig, ServerEvent, Variable, Vmd};
use tase2_mio::MioServer;
use tase2_wasm::WasmClient;
use tase2_web_demo::proxy::{self, AllowList, ProxyConfig};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Send what the client has, then feed it WebSocket messages until it reports an event.
async fn next_event(client: &mut WasmClient, ws: &mut Ws) -> String {
    loop {
        while let Some(bytes) = client.poll_transmit() {
            ws.send(Message::binary(bytes)).await.unwrap();
        }
        if let Some(e) = client.poll_event() {
            return e;
        }
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("server answers in time");
        match msg {
            Some(Ok(Message::Binary(b))) => client.handle_input(now_ms(), &b),
            Some(Ok(Message::Close(_))) | None => client.handle_transport_closed(),
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("{e}"),
        }
    }
}

#[tokio::test]
async fn a_browser_client_reads_through_the_proxy_from_a_mio_server() {
    let mut vmd = Vmd::default();
    vmd.domain_mut("ICC1").variables.insert(
        "Voltage".into(),
        Variable::read_only(
            TypeDescription::FloatingPoint {
                format_width: 32,
                exponent_width: 8,
            },
            Data::Float(Float::F32(231.5)),
        ),
    );
    let mut server =
        MioServer::bind("127.0.0.1:0".parse().unwrap(), ServerConfig::default(), vmd).unwrap();
    let server_addr = server.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        server
            .run_until(|e| matches!(e, ServerEvent::Closed { .. }))
            .unwrap()
    });

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_addr = listener.local_addr().unwrap();
    let allow = AllowList::new([server_addr.to_string()]).unwrap();
    tokio::spawn(proxy::serve(listener, Arc::new(ProxyConfig::new(allow))));

    let mut req = format!("ws://{proxy_addr}/websockify")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("binary"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();

    let mut client = WasmClient::new("1.1.1.999", 12, "1.1.1.998", 12, now_ms()).unwrap();
    let e = next_event(&mut client, &mut ws).await;
    assert!(e.starts_with(r#"{"type":"established""#), "{e}");

    let id = client.identify(now_ms()).unwrap();
    let e = next_event(&mut client, &mut ws).await;
    assert!(
        e.starts_with(&format!(
            r#"{{"type":"response","invoke_id":{id},"ok":true,"service":"identify","summary":"FreeTase2 "#
        )),
        "{e}"
    );

    let id = client.read(now_ms(), "ICC1", "Voltage").unwrap();
    assert_eq!(
        next_event(&mut client, &mut ws).await,
        format!(
            r#"{{"type":"response","invoke_id":{id},"ok":true,"service":"read","summary":"1 results, 0 failed","result":{{"values":[231.5]}}}}"#
        )
    );

    client.conclude(now_ms()).unwrap();
    assert_eq!(
        next_event(&mut client, &mut ws).await,
        r#"{"type":"closed","error":null}"#
    );
    let last = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    assert!(
        matches!(last, ServerEvent::Closed { error: None, .. }),
        "{last:?}"
    );
}
