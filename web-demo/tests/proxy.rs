//! The proxy between a WebSocket client and local TCP servers on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tase2_web_demo::proxy::{self, AllowList, ProxyConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A TCP server that echoes everything back.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

async fn start_proxy(allow: &[String]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Arc::new(ProxyConfig::new(AllowList::new(allow.to_vec()).unwrap()));
    tokio::spawn(proxy::serve(listener, config));
    addr
}

async fn connect(proxy: SocketAddr, query: &str, protocol: Option<&str>) -> Result<Ws, WsError> {
    let mut req = format!("ws://{proxy}/{query}")
        .into_client_request()
        .unwrap();
    if let Some(p) = protocol {
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_str(p).unwrap());
    }
    let (ws, response) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(req),
    )
    .await
    .expect("handshake in time")?;
    if protocol.is_some() {
        assert_eq!(
            response.headers().get("Sec-WebSocket-Protocol").unwrap(),
            "binary"
        );
    }
    Ok(ws)
}

async fn next_binary(ws: &mut Ws) -> Vec<u8> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message in time")
            .expect("stream open")
            .expect("no error");
        match msg {
            Message::Binary(b) => return b.to_vec(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn bytes_go_to_the_allowed_target_and_back() {
    let echo = echo_server().await;
    let proxy = start_proxy(&[echo.to_string()]).await;
    let mut ws = connect(proxy, "websockify", Some("binary")).await.unwrap();

    // A TPKT-looking frame split over two messages comes back as the same byte stream.
    ws.send(Message::binary(vec![3, 0, 0, 7])).await.unwrap();
    ws.send(Message::binary(vec![2, 0xf0, 0x80])).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 7 {
        got.extend(next_binary(&mut ws).await);
    }
    assert_eq!(got, [3, 0, 0, 7, 2, 0xf0, 0x80]);

    // A large message is relayed whole.
    let big: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
    ws.send(Message::binary(big.clone())).await.unwrap();
    let mut got = Vec::new();
    while got.len() < big.len() {
        got.extend(next_binary(&mut ws).await);
    }
    assert_eq!(got, big);
    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn the_target_parameter_picks_among_allowed_targets() {
    let first = echo_server().await;
    let second = echo_server().await;
    let proxy = start_proxy(&[first.to_string(), second.to_string()]).await;
    let query = format!("?target={}", second.to_string().replace(':', "%3A"));
    let mut ws = connect(proxy, &query, Some("binary")).await.unwrap();
    ws.send(Message::binary(b"ping".to_vec())).await.unwrap();
    assert_eq!(next_binary(&mut ws).await, b"ping");
    // Without a subprotocol offer the proxy still relays (modern websockify does too).
    let mut ws = connect(proxy, "", None).await.unwrap();
    ws.send(Message::binary(b"x".to_vec())).await.unwrap();
    assert_eq!(next_binary(&mut ws).await, b"x");
}

fn http_status(r: Result<Ws, WsError>) -> u16 {
    match r {
        Err(WsError::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("handshake should be refused"),
    }
}

#[tokio::test]
async fn targets_off_the_list_and_other_subprotocols_are_refused() {
    let echo = echo_server().await;
    let other = echo_server().await;
    let proxy = start_proxy(&[echo.to_string()]).await;
    let query = format!("?target={other}");
    assert_eq!(
        http_status(connect(proxy, &query, Some("binary")).await),
        403
    );
    assert_eq!(
        http_status(connect(proxy, "?target=%zz", Some("binary")).await),
        400
    );
    assert_eq!(http_status(connect(proxy, "", Some("base64")).await), 400);
}

#[tokio::test]
async fn an_unreachable_target_closes_the_websocket_with_an_error() {
    // A port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = start_proxy(&[dead.to_string()]).await;
    let mut ws = connect(proxy, "", Some("binary")).await.unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap();
    match msg {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.reason, "target unreachable"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_target_closing_closes_the_websocket() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(b"bye").await.unwrap();
        // Dropping `s` closes the connection.
    });
    let proxy = start_proxy(&[target.to_string()]).await;
    let mut ws = connect(proxy, "", Some("binary")).await.unwrap();
    assert_eq!(next_binary(&mut ws).await, b"bye");
    let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap();
    assert!(matches!(msg, Some(Ok(Message::Close(_))) | None), "{msg:?}");
}
