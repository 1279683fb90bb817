//! A MioServer on a thread and MioClients talking to it over 127.0.0.1.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use tase2_core::acse::AssociateResult;
use tase2_core::assoc::{AssocError, AssociationConfig, RefusalReason};
use tase2_core::mms::{
    AccessResult, ConfirmedResponse, Data, DataAccessError, Float, ObjectName, StructComponent,
    TypeDescription, TypeSpecification,
};
use tase2_core::server::{ServerConfig, ServerEvent, Variable, Vmd};
use tase2_mio::{ClientError, MioClient, MioServer};

fn version() -> Data {
    Data::Structure(vec![Data::Integer(2000), Data::Integer(8)])
}

fn model() -> Vmd {
    let mut vmd = Vmd::default();
    let int16 = || TypeSpecification::Description(TypeDescription::Integer(16));
    vmd.variables.insert(
        "TASE2_Version".into(),
        Variable::read_only(
            TypeDescription::Structure {
                packed: false,
                components: vec![
                    StructComponent {
                        name: Some("Major".into()),
                        type_spec: int16(),
                    },
                    StructComponent {
                        name: Some("Minor".into()),
                        type_spec: int16(),
                    },
                ],
            },
            version(),
        ),
    );
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
    // One large value: its read response spans several TPDUs and socket writes.
    vmd.domain_mut("ICC1").variables.insert(
        "Samples".into(),
        Variable::read_only(
            TypeDescription::Array {
                packed: false,
                number_of_elements: 8000,
                element_type: Box::new(TypeSpecification::Description(TypeDescription::Integer(
                    32,
                ))),
            },
            Data::Array((0..8000).map(|n| Data::Integer(n * 1000)).collect()),
        ),
    );
    vmd
}

fn client_config() -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

/// Start a server on a free port; it runs until `closes` associations have ended and returns every
/// event it saw.
fn spawn_server(closes: usize) -> (SocketAddr, thread::JoinHandle<Vec<ServerEvent>>) {
    let mut server = MioServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        ServerConfig::default(),
        model(),
    )
    .unwrap();
    let addr = server.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let mut seen = Vec::new();
        let mut left = closes;
        server
            .run_until(|e| {
                seen.push(e.clone());
                if matches!(e, ServerEvent::Closed { .. }) {
                    left -= 1;
                }
                left == 0
            })
            .unwrap();
        // Flush the last bytes (the release response) before the server goes away.
        for _ in 0..10 {
            if server.open_sockets() == 0 {
                break;
            }
            server.run_once(Some(Duration::from_millis(50))).unwrap();
        }
        assert_eq!(server.open_sockets(), 0, "sockets left open");
        seen
    });
    (addr, handle)
}

#[test]
fn identify_read_and_conclude_over_loopback() {
    let (addr, server) = spawn_server(1);
    let mut client = MioClient::connect(addr, client_config()).unwrap();
    assert!(client.client().is_established());

    let id = client.identify().unwrap();
    assert_eq!(id.vendor_name, "FreeTase2");
    assert_eq!(id.model_name, "tase2");

    let results = client
        .read(&[
            ObjectName::vmd("TASE2_Version"),
            ObjectName::domain("ICC1", "Voltage"),
            ObjectName::domain("ICC1", "Missing"),
        ])
        .unwrap();
    assert_eq!(
        results,
        vec![
            AccessResult::Success(version()),
            AccessResult::Success(Data::Float(Float::F32(231.5))),
            AccessResult::Failure(DataAccessError::OBJECT_NON_EXISTENT),
        ]
    );

    client.conclude().unwrap();
    assert!(client.client().is_closed());

    let events = server.join().unwrap();
    let ServerEvent::Associated { peer, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(peer.calling.ae_qualifier, Some(12));
    assert!(
        matches!(events.last(), Some(ServerEvent::Closed { error: None, .. })),
        "{events:?}"
    );
}

#[test]
fn a_response_larger_than_one_tpdu_arrives_whole() {
    let (addr, server) = spawn_server(1);
    let mut client = MioClient::connect(addr, client_config()).unwrap();
    let results = client
        .read(&[ObjectName::domain("ICC1", "Samples")])
        .unwrap();
    let [AccessResult::Success(Data::Array(items))] = &results[..] else {
        panic!("{results:?}")
    };
    assert_eq!(items.len(), 8000);
    assert_eq!(items[7999], Data::Integer(7_999_000));
    client.conclude().unwrap();
    server.join().unwrap();
}

#[test]
fn requests_on_a_second_association_work_after_the_first_one_left() {
    let (addr, server) = spawn_server(2);
    let mut first = MioClient::connect(addr, client_config()).unwrap();
    let mut second = MioClient::connect(addr, client_config()).unwrap();
    drop(first.identify().unwrap());
    // The first one goes away without a release: the server sees the transport close.
    drop(first);
    let r = second.request(|c, now| c.status(now)).unwrap();
    assert!(matches!(r, ConfirmedResponse::Status(_)), "{r:?}");
    second.conclude().unwrap();
    let events = server.join().unwrap();
    let closes: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Closed { error, .. } => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(closes, vec![Some(AssocError::TransportClosed), None]);
}

#[test]
fn garbage_gets_the_connection_closed_and_the_server_keeps_serving() {
    let (addr, server) = spawn_server(2);
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // A TPKT header with version 9: framing is lost, the server must drop the connection.
    raw.write_all(&[9, 0, 0, 8, 1, 2, 3, 4]).unwrap();
    let mut rest = Vec::new();
    raw.read_to_end(&mut rest).unwrap();

    let mut client = MioClient::connect(addr, client_config()).unwrap();
    assert_eq!(client.identify().unwrap().vendor_name, "FreeTase2");
    client.conclude().unwrap();
    let events = server.join().unwrap();
    assert!(
        matches!(
            &events[0],
            ServerEvent::Closed {
                error: Some(AssocError::Tpkt(_)),
                ..
            }
        ),
        "{events:?}"
    );
}

#[test]
fn connecting_to_a_closed_port_is_an_io_error() {
    // Bind then drop a listener to get a port that refuses.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    match MioClient::connect(addr, client_config()) {
        Err(ClientError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_client_that_reads_late_still_gets_every_pipelined_response() {
    use tase2_core::assoc::Event;
    use tase2_core::client::Client;

    // Enough answers (~8 MB) to overflow loopback socket buffers, so the server has to keep
    // unsent bytes and wait for WRITABLE.
    const REQUESTS: u16 = 200;
    let mut config = ServerConfig::default();
    config.association.max_serv_outstanding_calling = REQUESTS;
    let mut server = MioServer::bind("127.0.0.1:0".parse().unwrap(), config, model()).unwrap();
    let addr = server.local_addr().unwrap();
    let server = thread::spawn(move || {
        server
            .run_until(|e| matches!(e, ServerEvent::Closed { .. }))
            .unwrap()
    });

    // A plain blocking socket and the core client, pumped by hand.
    let mut sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut cfg = client_config();
    cfg.max_serv_outstanding_calling = REQUESTS;
    let mut client = Client::new(cfg, tase2_mio::clock::now());
    let mut buf = vec![0u8; 65536];
    let mut pump = |client: &mut Client, sock: &mut TcpStream| {
        let mut out = Vec::new();
        client.poll_transmit(&mut out);
        sock.write_all(&out).unwrap();
        let n = sock.read(&mut buf).unwrap();
        assert!(n > 0, "server closed");
        client.handle_input(tase2_mio::clock::now(), &buf[..n]);
    };
    while !client.is_established() {
        pump(&mut client, &mut sock);
    }
    let name = [ObjectName::domain("ICC1", "Samples")];
    let ids: Vec<u32> = (0..REQUESTS)
        .map(|_| client.read(tase2_mio::clock::now(), &name).unwrap())
        .collect();
    let mut out = Vec::new();
    client.poll_transmit(&mut out);
    sock.write_all(&out).unwrap();
    // Let the server fill the socket buffers and wait for writability before we read anything.
    thread::sleep(Duration::from_millis(300));
    let mut answered = Vec::new();
    while answered.len() < ids.len() {
        pump(&mut client, &mut sock);
        while let Some(e) = client.poll_event() {
            if let Event::Response { invoke_id, result } = e {
                let Ok(ConfirmedResponse::Read(r)) = result else {
                    panic!("{result:?}")
                };
                assert!(
                    matches!(&r.results[0], AccessResult::Success(Data::Array(a)) if a.len() == 8000)
                );
                answered.push(invoke_id);
            }
        }
    }
    assert_eq!(answered, ids);
    drop(sock);
    assert_eq!(
        server.join().unwrap(),
        ServerEvent::Closed {
            id: tase2_core::server::ConnectionId(1),
            error: Some(AssocError::TransportClosed)
        }
    );
}

#[test]
fn connections_beyond_the_association_limit_are_refused_with_a_transient_aare() {
    let config = ServerConfig {
        max_associations: 1,
        ..ServerConfig::default()
    };
    let mut server = MioServer::bind("127.0.0.1:0".parse().unwrap(), config, model()).unwrap();
    let addr = server.local_addr().unwrap();
    // Serve until the first association's orderly release (the refused one closes before).
    let server = thread::spawn(move || {
        server
            .run_until(|e| matches!(e, ServerEvent::Closed { error: None, .. }))
            .unwrap()
    });
    let mut first = MioClient::connect(addr, client_config()).unwrap();
    match MioClient::connect(addr, client_config()) {
        // The client learns why: the AARE says rejected-transient (a limit, try later).
        Err(ClientError::Closed(Some(AssocError::Refused(RefusalReason::Acse {
            result: AssociateResult::RejectedTransient,
            ..
        })))) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(first.identify().unwrap().vendor_name, "FreeTase2");
    first.conclude().unwrap();
    assert!(matches!(
        server.join().unwrap(),
        ServerEvent::Closed { error: None, .. }
    ));
}
