//! Our client against our server over real loopback sockets.

use tase2_core::assoc::AssociationConfig;
use tase2_core::mms::{
    AccessResult, Data, DataAccessError, Float, ObjectName, TypeDescription,
    VariableAccessSpecification,
};
use tase2_core::server::{NamedVariableList, ServerConfig, ServerEvent, Variable, Vmd};
use tase2_tokio::{Client, Error, Server};

fn model() -> Vmd {
    let mut vmd = Vmd::default();
    let f32t = TypeDescription::FloatingPoint {
        format_width: 32,
        exponent_width: 8,
    };
    vmd.variables.insert(
        "Trigger".into(),
        Variable::writable(TypeDescription::Boolean, Data::Boolean(false)),
    );
    let d = vmd.domain_mut("ICC1");
    for n in 0..300 {
        d.variables.insert(
            format!("P{n:03}"),
            Variable::read_only(f32t.clone(), Data::Float(Float::F32(n as f32))),
        );
    }
    d.variables.insert(
        "Setpoint".into(),
        Variable::writable(f32t, Data::Float(Float::F32(0.0))),
    );
    d.lists.insert(
        "DS".into(),
        NamedVariableList {
            members: vec![
                ObjectName::domain("ICC1", "P001"),
                ObjectName::domain("ICC1", "P002"),
            ],
            deletable: false,
        },
    );
    vmd
}

fn config() -> AssociationConfig {
    AssociationConfig::with_ap_titles(
        ("1.1.1.999".parse().unwrap(), 12),
        ("1.1.1.998".parse().unwrap(), 12),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_and_server_over_tcp() {
    let mut server = Server::bind("127.0.0.1:0", ServerConfig::default(), model())
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    // A write of Trigger=true answers with a report of ICC1/DS to that client.
    server.on_event(|ep, now, ev| {
        if let ServerEvent::Written { id, name, .. } = ev {
            if *name == ObjectName::vmd("Trigger") {
                ep.report_list(now, *id, &ObjectName::domain("ICC1", "DS"))
                    .unwrap();
            }
        }
    });
    tokio::spawn(server.run());

    let mut client = Client::connect(addr, config()).await.unwrap();
    assert_eq!(client.identify().await.unwrap().vendor_name, "FreeTase2");
    assert_eq!(client.domain_names().await.unwrap(), ["ICC1"]);
    let names = client.variable_names(Some("ICC1")).await.unwrap();
    assert_eq!(names.len(), 301, "all pages of GetNameList are followed");
    assert_eq!(
        client
            .read(&ObjectName::domain("ICC1", "P042"))
            .await
            .unwrap(),
        Data::Float(Float::F32(42.0))
    );
    match client.read(&ObjectName::domain("ICC1", "Nope")).await {
        Err(Error::Access(e)) => assert_eq!(e, DataAccessError::OBJECT_NON_EXISTENT),
        other => panic!("{other:?}"),
    }
    let sp = ObjectName::domain("ICC1", "Setpoint");
    client
        .write(&sp, Data::Float(Float::F32(7.5)))
        .await
        .unwrap();
    assert_eq!(
        client.read(&sp).await.unwrap(),
        Data::Float(Float::F32(7.5))
    );
    assert!(matches!(
        client.write(&sp, Data::Boolean(true)).await,
        Err(Error::Access(DataAccessError::TYPE_INCONSISTENT))
    ));

    client
        .write(&ObjectName::vmd("Trigger"), Data::Boolean(true))
        .await
        .unwrap();
    let report = client.next_report().await.unwrap();
    assert_eq!(
        report.variables,
        VariableAccessSpecification::VariableListName(ObjectName::domain("ICC1", "DS"))
    );
    assert_eq!(
        report.results,
        vec![
            AccessResult::Success(Data::Float(Float::F32(1.0))),
            AccessResult::Success(Data::Float(Float::F32(2.0)))
        ]
    );

    client.conclude().await.unwrap();
}

#[tokio::test]
async fn connecting_to_a_closed_port_is_an_io_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    assert!(matches!(
        Client::connect(addr, config()).await,
        Err(Error::Io(_))
    ));
}

#[tokio::test]
async fn requests_after_the_server_hung_up_name_the_cause() {
    use tase2_core::assoc::{AssocError, Association, Event};
    use tase2_core::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (hang_up, hung_up) = tokio::sync::oneshot::channel::<()>();
    // A bare core server association: accept the association, then drop the socket on cue.
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let now = Instant::ZERO;
        let mut a = Association::server(AssociationConfig::default(), now);
        let (mut buf, mut out) = (vec![0; 4096], Vec::new());
        while !a.is_established() {
            let n = s.read(&mut buf).await.unwrap();
            a.handle_input(now, &buf[..n]);
            while let Some(e) = a.poll_event() {
                if let Event::AssociateIndication(_) = e {
                    a.accept().unwrap();
                }
            }
            while a.poll_transmit(&mut out) > 0 {}
            s.write_all(&out).await.unwrap();
            out.clear();
        }
        let _ = hung_up.await;
    });
    let mut client = Client::connect(addr, config()).await.unwrap();
    hang_up.send(()).unwrap();
    // The driver ends (dropping the report channel) once it has seen the close.
    assert!(client.next_report().await.is_none());
    let err = client.identify().await.unwrap_err();
    assert!(
        matches!(err, Error::Closed(Some(AssocError::TransportClosed))),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "association closed: transport closed");
}

/// An association the server application aborts (`Endpoint::abort` in a command) ends at once on
/// the client's side: the server sends its ABORT and closes the socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_from_the_server_application_reaches_the_client() {
    let mut server = Server::bind("127.0.0.1:0", ServerConfig::default(), model())
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let (tx, mut associated) = tokio::sync::mpsc::unbounded_channel();
    server.on_event(move |_, _, ev| {
        if let ServerEvent::Associated { id, .. } = ev {
            let _ = tx.send(*id);
        }
    });
    let handle = server.handle();
    tokio::spawn(server.run());
    let mut client = Client::connect(addr, config()).await.unwrap();
    let id = associated.recv().await.unwrap();
    assert!(handle.command(move |ep, now| ep.abort(now, id)).await);
    // The client sends nothing (one that only receives reports): the server's ABORT alone must
    // end it.
    let report = tokio::time::timeout(std::time::Duration::from_secs(5), client.next_report())
        .await
        .expect("the client did not hear of the abort");
    assert!(report.is_none(), "{report:?}");
    let read = client.read(&ObjectName::domain("ICC1", "P001")).await;
    assert!(read.is_err(), "{read:?}");
}
