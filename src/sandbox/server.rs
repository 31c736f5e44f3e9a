//! Accept loops, one thread per connection, and the scripted actions applied per request.

use std::io::{self, BufReader};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;

use super::format::{http_date, uuid_v4};
use super::http::{ReadError, Request, Response, read_request, write_response};
use super::routes;
use super::shared::Shared;
use super::{Action, Listener};

/// How long an idle connection stays open before its thread ends.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long writing one response may block before the connection is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether the connection stays open after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    KeepOpen,
    Close,
}

/// Starts the thread that accepts connections on `listener` until shutdown.
pub(crate) fn spawn_accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    kind: Listener,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("depix-sandbox-{kind:?}-accept").to_lowercase())
        .spawn(move || accept_loop(&shared, &listener, kind))
}

/// Starts the thread that performs jobs when they fall due.
pub(crate) fn spawn_scheduler(shared: Arc<Shared>) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("depix-sandbox-scheduler".into())
        .spawn(move || shared.run_scheduler())
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener, kind: Listener) {
    for stream in listener.incoming() {
        // `Sandbox::drop` wakes this loop by connecting once after setting the flag.
        if shared.is_shutting_down() {
            break;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(error) => {
                log::warn!("sandbox {kind:?} listener failed to accept a connection: {error}");
                continue;
            }
        };
        let started = shared.start_connection(stream, |id, stream| {
            let shared = Arc::clone(shared);
            thread::Builder::new()
                .name(format!("depix-sandbox-connection-{id}"))
                .spawn(move || serve_connection(&shared, stream, kind, id))
        });
        if let Err(error) = started {
            log::warn!("sandbox {kind:?} listener failed to start a connection thread: {error}");
        }
    }
    log::debug!("sandbox {kind:?} listener stopped");
}

fn serve_connection(shared: &Shared, stream: TcpStream, kind: Listener, id: u64) {
    if let Err(error) = serve_requests(shared, &stream, kind, id) {
        log::debug!("sandbox connection {id} on the {kind:?} listener ended: {error}");
    }
    shared.end_connection(id);
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn serve_requests(shared: &Shared, stream: &TcpStream, kind: Listener, id: u64) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    while !shared.is_shutting_down() {
        let request = match read_request(&mut reader, &mut writer) {
            Ok(request) => request,
            Err(ReadError::Disconnected) => return Ok(()),
            Err(ReadError::Invalid { status, message }) => {
                log::debug!("sandbox connection {id} sent an invalid request: {message}");
                return write_response(&mut writer, &protocol_error(status, &message), true);
            }
        };
        shared.record(kind, id, &request);
        if serve_request(shared, &mut writer, kind, &request)? == Flow::Close {
            return Ok(());
        }
    }
    Ok(())
}

/// Builds the response to a request that could not be read, on either listener.
///
/// It has no `X-Nonce` header, because the request's headers may not have been parsed.
fn protocol_error(status: u16, message: &str) -> Response {
    let body = json!({ "response": { "errorMessage": message }, "async": false });
    Response::json(status, &body)
        .with_header("Date", http_date(OffsetDateTime::now_utc()))
        .with_header("X-Request-ID", uuid_v4())
}

/// Applies the next scripted action for this listener, if any, to one request.
fn serve_request(
    shared: &Shared,
    writer: &mut &TcpStream,
    kind: Listener,
    request: &Request,
) -> io::Result<Flow> {
    let handle = || match kind {
        Listener::Api => routes::handle_api(shared, request),
        Listener::Results => routes::handle_results(shared, request),
    };
    let response = match shared.next_action(kind) {
        None => handle(),
        Some(Action::Delay(duration)) => {
            shared.sleep(duration);
            handle()
        }
        Some(Action::Close) => return Ok(Flow::Close),
        Some(Action::ProcessThenClose) => {
            handle();
            return Ok(Flow::Close);
        }
        Some(Action::Respond {
            status,
            headers,
            body,
        }) => Response {
            status,
            headers,
            body,
        },
        Some(Action::ProcessThenRespond {
            status,
            headers,
            body,
        }) => {
            handle();
            Response {
                status,
                headers,
                body,
            }
        }
    };
    if shared.is_shutting_down() {
        return Ok(Flow::Close);
    }
    let close = request.wants_close() || response.closes();
    write_response(writer, &response, close)?;
    Ok(if close { Flow::Close } else { Flow::KeepOpen })
}
