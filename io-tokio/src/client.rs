//! An async MMS client over tokio: a driver task owns the core [`tase2_core::client::Client`] and the
//! socket; each method sends a command over a bounded channel and awaits its answer.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::sync::{Arc, OnceLock};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use tase2_core::assoc::{ApiError, AssocError, AssociationConfig, Event, Negotiated, RequestError};
use tase2_core::client::Client as Core;
use tase2_core::mms::{
    AccessResult, ConfirmedRequest, ConfirmedResponse, Data, DataAccessError,
    DefineNamedVariableListRequest, DeleteNamedVariableListRequest, DeleteScope,
    GetNameListRequest, IdentifyResponse, InformationReport, ObjectClass, ObjectName, ObjectScope,
    ReadRequest, TypeDescription, UnconfirmedService, VariableAccessSpecification, VariableSpec,
    WriteRequest, WriteResult,
};
use tase2_core::std_clock as clock;

/// Commands queued for the driver before a method waits for room.
const COMMAND_QUEUE: usize = 64;
/// InformationReports queued for [`Client::next_report`]; when full, the socket is not read until
/// it drains (back-pressure, never a drop).
const REPORT_QUEUE: usize = 1024;

/// Why a client call failed.
#[derive(Debug)]
pub enum Error {
    /// The socket failed.
    Io(io::Error),
    /// The association failed or was refused.
    Association(AssocError),
    /// The server answered with an error, a reject, or not at all.
    Request(RequestError),
    /// The call was not allowed now (e.g. too many outstanding requests).
    Api(ApiError),
    /// The server refused access to one variable.
    Access(DataAccessError),
    /// The server answered with a response of the wrong kind.
    UnexpectedResponse,
    /// The association is gone: `None` after an orderly release, otherwise why it failed (the
    /// same cause the association reported when it closed).
    Closed(Option<AssocError>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O: {e}"),
            // A refusal already reads "association refused by ...".
            Error::Association(e @ AssocError::Refused(_)) => write!(f, "{e}"),
            Error::Association(e) => write!(f, "association failed: {e}"),
            Error::Request(e) => write!(f, "{e}"),
            Error::Api(e) => write!(f, "{e}"),
            Error::Access(e) => write!(f, "access refused: {e}"),
            Error::UnexpectedResponse => f.write_str("the server answered another service"),
            Error::Closed(None) => f.write_str("association released"),
            Error::Closed(Some(e)) => write!(f, "association closed: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Association(e) | Error::Closed(Some(e)) => Some(e),
            Error::Request(e) => Some(e),
            Error::Api(e) => Some(e),
            Error::Access(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ApiError> for Error {
    /// A command refused because the association is gone is [`Error::Closed`] with the sticky
    /// cause; any other refusal stays [`Error::Api`].
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Closed(cause) => Error::Closed(cause),
            e => Error::Api(e),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

type ReplyResult = Result<ConfirmedResponse, Error>;
type Reply = oneshot::Sender<ReplyResult>;

/// Why the association ended, set by the driver task before it drops its channels.
type ClosedCause = Arc<OnceLock<Option<AssocError>>>;

/// [`Error::Closed`] with the cause the driver recorded.
fn gone(closed: &ClosedCause) -> Error {
    Error::Closed(closed.get().cloned().flatten())
}

enum Cmd {
    Request(ConfirmedRequest, Reply),
    Unconfirmed(UnconfirmedService, oneshot::Sender<Result<(), Error>>),
    Conclude(oneshot::Sender<Result<(), Error>>),
}

/// A connected MMS client.
///
/// InformationReports the server sends wait for [`Client::next_report`] in a bounded queue: **when
/// it is full the socket is not read** until it drains, so answers wait behind unread reports.
pub struct Client {
    tx: mpsc::Sender<Cmd>,
    reports: mpsc::Receiver<InformationReport>,
    negotiated: Negotiated,
    closed: ClosedCause,
}

impl Client {
    /// Connect to `addr` and complete the association handshake.
    pub async fn connect(
        addr: impl tokio::net::ToSocketAddrs,
        config: AssociationConfig,
    ) -> Result<Client, Error> {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        Client::over(rd, wr, config).await
    }

    /// Connect to `addr` over TLS (secure ICCP, IEC 62351-4), then associate. A refused TLS
    /// handshake is an [`Error::Io`] of kind `PermissionDenied` saying why.
    #[cfg(feature = "tls")]
    pub async fn connect_tls(
        addr: &str,
        tls: &crate::tls::ClientTls,
        config: AssociationConfig,
    ) -> Result<Client, Error> {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        let tls = crate::tls::handshake(tls, stream, addr).await?;
        let (rd, wr) = tokio::io::split(tls);
        Client::over(rd, wr, config).await
    }

    async fn over<R, W>(rd: R, wr: W, config: AssociationConfig) -> Result<Client, Error>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let (rtx, reports) = mpsc::channel(REPORT_QUEUE);
        let (ready_tx, ready_rx) = oneshot::channel();
        let closed = ClosedCause::default();
        tokio::spawn(drive(
            rd,
            wr,
            Core::new(config, clock::now()),
            rx,
            rtx,
            ready_tx,
            closed.clone(),
        ));
        let negotiated = ready_rx.await.map_err(|_| gone(&closed))??;
        Ok(Client {
            tx,
            reports,
            negotiated,
            closed,
        })
    }

    /// What MMS Initiate negotiated.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// Send any confirmed request and await its response.
    pub async fn request(&self, request: ConfirmedRequest) -> Result<ConfirmedResponse, Error> {
        self.start(request).await?.await.map_err(|_| self.gone())?
    }

    /// [`Error::Closed`] with the cause the driver recorded.
    fn gone(&self) -> Error {
        gone(&self.closed)
    }

    async fn settle(&self, rx: Result<oneshot::Receiver<ReplyResult>, Error>) -> ReplyResult {
        rx?.await.map_err(|_| self.gone())?
    }

    async fn start(
        &self,
        request: ConfirmedRequest,
    ) -> Result<oneshot::Receiver<ReplyResult>, Error> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Request(request, tx))
            .await
            .map_err(|_| self.gone())?;
        Ok(rx)
    }

    /// Send several confirmed requests, keeping as many outstanding as Initiate allowed
    /// (`max_serv_outstanding_calling`); the answers come back in request order.
    pub async fn request_many(
        &self,
        requests: impl IntoIterator<Item = ConfirmedRequest>,
    ) -> Vec<Result<ConfirmedResponse, Error>> {
        let window = usize::from(self.negotiated.max_serv_outstanding_calling.max(1));
        let mut waiting = VecDeque::new();
        let mut answers = Vec::new();
        for req in requests {
            if waiting.len() >= window {
                if let Some(rx) = waiting.pop_front() {
                    answers.push(self.settle(rx).await);
                }
            }
            waiting.push_back(self.start(req).await);
        }
        for rx in waiting {
            answers.push(self.settle(rx).await);
        }
        answers
    }

    /// Send an unconfirmed PDU (e.g. the InformationReport that acknowledges a critical TASE.2
    /// report); returns once it is queued for the socket.
    pub async fn send_unconfirmed(&self, service: UnconfirmedService) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Unconfirmed(service, tx))
            .await
            .map_err(|_| self.gone())?;
        rx.await.map_err(|_| self.gone())?
    }

    /// Identify the server.
    pub async fn identify(&self) -> Result<IdentifyResponse, Error> {
        match self.request(ConfirmedRequest::Identify).await? {
            ConfirmedResponse::Identify(i) => Ok(i),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// Every name of `class` in `scope`, following moreFollows across as many requests as needed.
    pub async fn get_name_list(
        &self,
        object_class: ObjectClass,
        scope: ObjectScope,
    ) -> Result<Vec<String>, Error> {
        let mut names = Vec::new();
        let mut continue_after = None;
        loop {
            let req = GetNameListRequest {
                object_class,
                scope: scope.clone(),
                continue_after,
            };
            let ConfirmedResponse::GetNameList(page) =
                self.request(ConfirmedRequest::GetNameList(req)).await?
            else {
                return Err(Error::UnexpectedResponse);
            };
            continue_after = page.identifiers.last().cloned();
            names.extend(page.identifiers);
            if !page.more_follows || continue_after.is_none() {
                return Ok(names);
            }
        }
    }

    /// The server's domains.
    pub async fn domain_names(&self) -> Result<Vec<String>, Error> {
        self.get_name_list(ObjectClass::Domain, ObjectScope::Vmd)
            .await
    }

    /// Variable names of a domain, or of the VMD with `None`.
    pub async fn variable_names(&self, domain: Option<&str>) -> Result<Vec<String>, Error> {
        let scope = domain.map_or(ObjectScope::Vmd, |d| ObjectScope::Domain(d.into()));
        self.get_name_list(ObjectClass::NamedVariable, scope).await
    }

    /// Read several variables; one result each.
    pub async fn read_many(&self, names: &[ObjectName]) -> Result<Vec<AccessResult>, Error> {
        let variables =
            VariableAccessSpecification::ListOfVariable(names.iter().cloned().map(spec).collect());
        match self
            .request(ConfirmedRequest::Read(ReadRequest {
                specification_with_result: false,
                variables,
            }))
            .await?
        {
            ConfirmedResponse::Read(r) => Ok(r.results),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// Read one variable.
    pub async fn read(&self, name: &ObjectName) -> Result<Data, Error> {
        match self.read_many(std::slice::from_ref(name)).await?.pop() {
            Some(AccessResult::Success(d)) => Ok(d),
            Some(AccessResult::Failure(e)) => Err(Error::Access(e)),
            None => Err(Error::UnexpectedResponse),
        }
    }

    /// Write one variable.
    pub async fn write(&self, name: &ObjectName, value: Data) -> Result<(), Error> {
        self.write_spec(spec(name.clone()), value).await
    }

    /// Write one variable given by a full specification (e.g. with an alternate access that
    /// selects one component: `tase2_core::tase2::client::component`).
    pub async fn write_spec(&self, variable: VariableSpec, value: Data) -> Result<(), Error> {
        let variables = VariableAccessSpecification::ListOfVariable(vec![variable]);
        match self
            .request(ConfirmedRequest::Write(WriteRequest {
                variables,
                data: vec![value],
            }))
            .await?
        {
            ConfirmedResponse::Write(r) => match r.first() {
                Some(WriteResult::Success) => Ok(()),
                Some(WriteResult::Failure(e)) => Err(Error::Access(*e)),
                None => Err(Error::UnexpectedResponse),
            },
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// The type of a variable (GetVariableAccessAttributes).
    pub async fn get_type(&self, name: &ObjectName) -> Result<TypeDescription, Error> {
        match self
            .request(ConfirmedRequest::GetVariableAccessAttributes(name.clone()))
            .await?
        {
            ConfirmedResponse::GetVariableAccessAttributes(a) => Ok(a.type_description),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// Define a named variable list.
    pub async fn define_list(
        &self,
        name: &ObjectName,
        members: &[ObjectName],
    ) -> Result<(), Error> {
        let req = DefineNamedVariableListRequest {
            name: name.clone(),
            variables: members.iter().cloned().map(spec).collect(),
        };
        match self
            .request(ConfirmedRequest::DefineNamedVariableList(req))
            .await?
        {
            ConfirmedResponse::DefineNamedVariableList => Ok(()),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// Read every member of a named variable list.
    pub async fn read_list(&self, name: &ObjectName) -> Result<Vec<AccessResult>, Error> {
        let variables = VariableAccessSpecification::VariableListName(name.clone());
        match self
            .request(ConfirmedRequest::Read(ReadRequest {
                specification_with_result: false,
                variables,
            }))
            .await?
        {
            ConfirmedResponse::Read(r) => Ok(r.results),
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// The members of a named variable list.
    pub async fn list_members(&self, name: &ObjectName) -> Result<Vec<ObjectName>, Error> {
        match self
            .request(ConfirmedRequest::GetNamedVariableListAttributes(
                name.clone(),
            ))
            .await?
        {
            ConfirmedResponse::GetNamedVariableListAttributes(a) => {
                Ok(a.variables.into_iter().map(|v| v.name).collect())
            }
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// Delete a named variable list; true if it was deleted.
    pub async fn delete_list(&self, name: &ObjectName) -> Result<bool, Error> {
        let req = DeleteNamedVariableListRequest {
            scope: DeleteScope::Specific,
            names: vec![name.clone()],
            domain: None,
        };
        match self
            .request(ConfirmedRequest::DeleteNamedVariableList(req))
            .await?
        {
            ConfirmedResponse::DeleteNamedVariableList { number_deleted, .. } => {
                Ok(number_deleted == 1)
            }
            _ => Err(Error::UnexpectedResponse),
        }
    }

    /// The next InformationReport from the server; `None` once the association is gone.
    pub async fn next_report(&mut self) -> Option<InformationReport> {
        self.reports.recv().await
    }

    /// Orderly release: Conclude, ACSE release, then the socket closes.
    pub async fn conclude(self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Conclude(tx))
            .await
            .map_err(|_| self.gone())?;
        rx.await.map_err(|_| self.gone())?
    }
}

fn spec(name: ObjectName) -> VariableSpec {
    VariableSpec {
        name,
        alternate_access: None,
    }
}

/// The driver task: socket, core client, commands and timer in one loop.
async fn drive<R, W>(
    mut rd: R,
    mut wr: W,
    mut core: Core,
    mut rx: mpsc::Receiver<Cmd>,
    reports: mpsc::Sender<InformationReport>,
    ready: oneshot::Sender<Result<Negotiated, Error>>,
    closed: ClosedCause,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut ready = Some(ready);
    let mut pending: HashMap<u32, Reply> = HashMap::new();
    let mut concluding: Option<oneshot::Sender<Result<(), Error>>> = None;
    // Reports not yet in the channel: while any wait, the socket is not read.
    let mut outbox: VecDeque<InformationReport> = VecDeque::new();
    let mut inbuf = vec![0u8; 16 * 1024];
    let mut out = Vec::new();
    let mut commands_open = true;
    loop {
        // Flush and dispatch everything the core has for us.
        while core.poll_transmit(&mut out) > 0 {}
        if !out.is_empty() {
            // flush: TLS may hold records until told (a no-op on TCP).
            let written = match wr.write_all(&out).await {
                Ok(()) => wr.flush().await,
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                let _ = closed.set(Some(AssocError::TransportClosed));
                fail_all(&mut ready, &mut pending, &mut concluding, || {
                    Error::Io(io::Error::new(e.kind(), e.to_string()))
                });
                flush_reports(outbox, &reports).await;
                return;
            }
            out.clear();
        }
        while let Some(ev) = core.poll_event() {
            match ev {
                Event::Established(n) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(Ok(n));
                    }
                }
                Event::Response { invoke_id, result } => {
                    if let Some(reply) = pending.remove(&invoke_id) {
                        let _ = reply.send(result.map_err(Error::Request));
                    }
                }
                Event::Unconfirmed(UnconfirmedService::InformationReport(r)) => {
                    outbox.push_back(r);
                }
                Event::Closed(err) => {
                    let _ = closed.set(err.clone());
                    let cause = err.clone();
                    // The release's answer waits for the socket's orderly end: a caller
                    // that exits once `conclude` returns would otherwise close the socket
                    // with the server's last octets unread, and the kernel would reset it.
                    let concluded = concluding.take().map(|c| {
                        let r = match &err {
                            None => Ok(()),
                            Some(e) => Err(Error::Association(e.clone())),
                        };
                        (c, r)
                    });
                    if let Some(e) = err {
                        fail_all(&mut ready, &mut pending, &mut concluding, move || {
                            Error::Association(e.clone())
                        });
                    }
                    fail_all(&mut ready, &mut pending, &mut concluding, || {
                        Error::Closed(cause.clone())
                    });
                    crate::close::close(&mut rd, &mut wr).await;
                    if let Some((c, r)) = concluded {
                        let _ = c.send(r);
                    }
                    flush_reports(outbox, &reports).await;
                    return;
                }
                _ => {}
            }
        }
        while let Some(r) = outbox.pop_front() {
            match reports.try_send(r) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(r)) => {
                    outbox.push_front(r);
                    break;
                }
                // Nobody listens any more.
                Err(mpsc::error::TrySendError::Closed(_)) => outbox.clear(),
            }
        }
        let deadline = core.poll_timeout();
        let sleep = async {
            match deadline {
                Some(d) => {
                    tokio::time::sleep_until(tokio::time::Instant::from_std(clock::to_std(d))).await
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            read = rd.read(&mut inbuf), if outbox.is_empty() => match read {
                Ok(0) | Err(_) => core.handle_transport_closed(),
                Ok(n) => core.handle_input(clock::now(), &inbuf[..n]),
            },
            permit = reports.reserve(), if !outbox.is_empty() => match permit {
                Ok(p) => {
                    if let Some(r) = outbox.pop_front() {
                        p.send(r);
                    }
                }
                Err(_) => outbox.clear(),
            },
            cmd = rx.recv(), if commands_open => match cmd {
                Some(Cmd::Request(req, reply)) => match core.request(clock::now(), req) {
                    Ok(id) => { pending.insert(id, reply); }
                    Err(e) => { let _ = reply.send(Err(Error::from(e))); }
                },
                Some(Cmd::Unconfirmed(service, reply)) => {
                    let _ = reply.send(core.send_unconfirmed(service).map_err(Error::from));
                }
                Some(Cmd::Conclude(reply)) => match core.conclude(clock::now()) {
                    Ok(()) => concluding = Some(reply),
                    Err(e) => { let _ = reply.send(Err(Error::from(e))); }
                },
                // Every Client handle is gone: release politely, or abort if that is not possible.
                None => {
                    commands_open = false;
                    if core.conclude(clock::now()).is_err() {
                        core.abort();
                    }
                }
            },
            () = sleep => core.handle_timeout(clock::now()),
        }
    }
}

/// Hand the reports still waiting to the application (as long as it listens) before the driver
/// ends: reports that arrived before the close are not dropped.
async fn flush_reports(
    outbox: VecDeque<InformationReport>,
    reports: &mpsc::Sender<InformationReport>,
) {
    for r in outbox {
        if reports.send(r).await.is_err() {
            return;
        }
    }
}

fn fail_all(
    ready: &mut Option<oneshot::Sender<Result<Negotiated, Error>>>,
    pending: &mut HashMap<u32, Reply>,
    concluding: &mut Option<oneshot::Sender<Result<(), Error>>>,
    err: impl Fn() -> Error,
) {
    if let Some(r) = ready.take() {
        let _ = r.send(Err(err()));
    }
    for (_, reply) in pending.drain() {
        let _ = reply.send(Err(err()));
    }
    if let Some(c) = concluding.take() {
        let _ = c.send(Err(err()));
    }
}
