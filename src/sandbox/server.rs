//! Accept loops, one thread per connection, and the scripted actions and random faults
//! applied per request.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;

use super::actions::write_oversized_body;
use super::faults::Plan;
use super::format::{http_date, uuid_v4};
use super::http::{
    ReadError, Request, Response, encode_head, encode_response, read_request, write_response,
};
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
    /// Keep it open only if the next request starts arriving within this duration.
    CloseIfIdle(Duration),
}

impl Flow {
    fn after(close: bool) -> Flow {
        if close { Flow::Close } else { Flow::KeepOpen }
    }
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
                return write_response(
                    &mut writer,
                    &protocol_error(status, &message, shared.now_utc()),
                    true,
                );
            }
        };
        shared.record(kind, id, &request);
        match serve_request(shared, &mut writer, kind, &request)? {
            Flow::KeepOpen => {}
            Flow::Close => return Ok(()),
            Flow::CloseIfIdle(limit) => {
                if !next_request_arrives(&mut reader, stream, limit)? {
                    log::debug!("sandbox closed idle connection {id} after {limit:?}");
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Builds the response to a request that could not be read, on either listener.
///
/// It has no `X-Nonce` header, because the request's headers may not have been parsed.
fn protocol_error(status: u16, message: &str, now: OffsetDateTime) -> Response {
    let body = json!({ "response": { "errorMessage": message }, "async": false });
    Response::json(status, &body)
        .with_header("Date", http_date(now))
        .with_header("X-Request-ID", uuid_v4())
}

/// Serves one request: applies the next scripted action for this listener if one is
/// queued, else a fault if the mix draws one, else handles it as usual.
fn serve_request(
    shared: &Shared,
    writer: &mut &TcpStream,
    kind: Listener,
    request: &Request,
) -> io::Result<Flow> {
    let handle_forcing = |force_async| match kind {
        Listener::Api => routes::handle_api(shared, request, force_async),
        Listener::Results => routes::handle_results(shared, request),
    };
    let handle = || handle_forcing(false);
    if let Some(action) = shared.next_action(kind) {
        return apply_action(shared, writer, request, action, handle);
    }
    let Some(fault) = shared.draw_fault(kind) else {
        return finish(shared, writer, request, &handle());
    };
    log::debug!(
        "sandbox injected the fault {:?} into {} {}",
        fault.kind,
        request.method,
        request.target
    );
    match fault.plan(shared.now_utc()) {
        Plan::Act(action) => apply_action(shared, writer, request, action, handle),
        Plan::Trickle { pieces, every } => {
            let response = handle();
            let close = request.wants_close() || response.closes();
            let chunk = encode_response(&response, close).len().div_ceil(pieces);
            write_trickled(shared, writer, request, &response, chunk, every)
        }
        Plan::ForceAsync => finish(shared, writer, request, &handle_forcing(true)),
    }
}

fn apply_action(
    shared: &Shared,
    writer: &mut &TcpStream,
    request: &Request,
    action: Action,
    handle: impl Fn() -> Response,
) -> io::Result<Flow> {
    let response = match action {
        Action::Delay(duration) => {
            shared.sleep(duration);
            handle()
        }
        Action::Close => return Ok(Flow::Close),
        Action::ProcessThenClose => {
            handle();
            return Ok(Flow::Close);
        }
        Action::Respond {
            status,
            headers,
            body,
        } => Response {
            status,
            headers,
            body,
        },
        Action::ProcessThenRespond {
            status,
            headers,
            body,
        } => {
            handle();
            Response {
                status,
                headers,
                body,
            }
        }
        Action::ResetMidBody { after: body_bytes }
        | Action::ProcessThenRespondTruncated { cut: body_bytes } => {
            return write_cut(shared, writer, request, &handle(), body_bytes);
        }
        Action::DelayHeaders(duration) => {
            let response = handle();
            shared.sleep(duration);
            response
        }
        Action::Trickle { chunk, every } => {
            return write_trickled(shared, writer, request, &handle(), chunk, every);
        }
        Action::BlackHole => {
            shared.wait_for_shutdown();
            return Ok(Flow::Close);
        }
        Action::WrongNonceEcho(nonce) => handle()
            .without_header("X-Nonce")
            .with_header("X-Nonce", nonce),
        Action::NoNonceEcho => handle().without_header("X-Nonce"),
        Action::CloseIdleAfter(limit) => {
            let flow = finish(shared, writer, request, &handle())?;
            return Ok(match flow {
                Flow::KeepOpen => Flow::CloseIfIdle(limit),
                other => other,
            });
        }
        Action::Oversized { status, bytes } => {
            return write_oversized(shared, writer, request, status, bytes);
        }
    };
    finish(shared, writer, request, &response)
}

/// Writes a response unless the sandbox is shutting down, and returns whether the
/// connection stays open.
fn finish(
    shared: &Shared,
    writer: &mut &TcpStream,
    request: &Request,
    response: &Response,
) -> io::Result<Flow> {
    if shared.is_shutting_down() {
        return Ok(Flow::Close);
    }
    let close = request.wants_close() || response.closes();
    write_response(writer, response, close)?;
    Ok(Flow::after(close))
}

/// Writes the head and at most `body_bytes` bytes of the body, always one byte short of the
/// whole body, so the connection closes before `Content-Length` is reached.
fn write_cut(
    shared: &Shared,
    writer: &mut &TcpStream,
    request: &Request,
    response: &Response,
    body_bytes: usize,
) -> io::Result<Flow> {
    if shared.is_shutting_down() {
        return Ok(Flow::Close);
    }
    let close = request.wants_close() || response.closes();
    let written_body = body_bytes.min(response.body.len().saturating_sub(1));
    let mut bytes = encode_head(response, close);
    bytes.extend_from_slice(&response.body[..written_body]);
    writer.write_all(&bytes)?;
    writer.flush()?;
    Ok(Flow::Close)
}

/// Writes the encoded response in `chunk`-byte pieces with `every` between them.
fn write_trickled(
    shared: &Shared,
    writer: &mut &TcpStream,
    request: &Request,
    response: &Response,
    chunk: usize,
    every: Duration,
) -> io::Result<Flow> {
    let close = request.wants_close() || response.closes();
    let bytes = encode_response(response, close);
    for (index, piece) in bytes.chunks(chunk.max(1)).enumerate() {
        if index > 0 {
            shared.sleep(every);
        }
        if shared.is_shutting_down() {
            return Ok(Flow::Close);
        }
        writer.write_all(piece)?;
        writer.flush()?;
    }
    Ok(Flow::after(close))
}

/// Writes the response of [`Action::Oversized`], streaming its body.
fn write_oversized(
    shared: &Shared,
    writer: &mut &TcpStream,
    request: &Request,
    status: u16,
    bytes: usize,
) -> io::Result<Flow> {
    if shared.is_shutting_down() {
        return Ok(Flow::Close);
    }
    let close = request.wants_close();
    let head = Response {
        status,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Content-Length".into(), bytes.to_string()),
        ],
        body: Vec::new(),
    };
    writer.write_all(&encode_head(&head, close))?;
    write_oversized_body(writer, bytes, || shared.is_shutting_down())?;
    if shared.is_shutting_down() {
        return Ok(Flow::Close);
    }
    Ok(Flow::after(close))
}

/// Waits up to `limit` for the next request to start arriving, and returns whether it did.
///
/// A request already buffered counts as arrived. A peer that closed, or a read error,
/// counts as not arrived.
fn next_request_arrives(
    reader: &mut BufReader<TcpStream>,
    stream: &TcpStream,
    limit: Duration,
) -> io::Result<bool> {
    if !reader.buffer().is_empty() {
        return Ok(true);
    }
    if limit.is_zero() {
        return Ok(false);
    }
    stream.set_read_timeout(Some(limit))?;
    let arrived = reader.fill_buf().is_ok_and(|bytes| !bytes.is_empty());
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    Ok(arrived)
}
