//! A webhook receiver for Eulen's Pix2DePix API, listening on 127.0.0.1 only.
//!
//! ```text
//! cargo run --example webhook_receiver -- [PORT] [--once N]
//! ```
//!
//! PORT defaults to 0, which lets the system choose a free port. `--once N` exits after N
//! requests that got status 200. The secret comes from `DEPIX_WEBHOOK_SECRET`. When it is
//! unset, the receiver generates a secret for this run and prints it, so you can send test
//! requests.
//!
//! Each request gets 405 unless it is a POST, 401 without the right `Authorization`
//! header, 413 for a body over 1 MiB, 400 for a body that is not a valid event, and 200
//! otherwise, including repeats and unknown `webhookType` values. The receiver prints one
//! line per request and never contacts another host.
//!
//! NOTE: this serves one request at a time and sets no read timeout, so a slow client
//! delays the others. After a 413, tiny_http 0.12 still reads and discards the rest of the
//! declared body, into a buffer as large as that rest. Eulen expects the 200 within 15
//! seconds, so a production receiver responds from a thread pool behind a proxy that limits
//! body size and time.

use std::collections::HashSet;
use std::error::Error;
use std::io::{self, Read};

use depix::webhook::{DedupeKey, Event, MAX_BODY_BYTES, WebhookSecret};
use tiny_http::{Method, Request, Response, Server};

const USAGE: &str = "usage: webhook_receiver [PORT] [--once N]
  PORT       TCP port on 127.0.0.1 to listen on (default 0: chosen by the system)
  --once N   exit after N requests that got status 200
  The secret comes from DEPIX_WEBHOOK_SECRET (at least 16 characters).";

fn main() {
    if let Err(error) = run() {
        eprintln!("webhook_receiver: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn Error + Send + Sync>> {
    let options = Options::parse(std::env::args().skip(1))?;
    let secret = load_secret()?;
    let server = Server::http(("127.0.0.1", options.port))?;
    match server.server_addr().to_ip() {
        Some(address) => println!("listening on http://{address}/"),
        None => println!("listening on {:?}", server.server_addr()),
    }
    let mut receiver = Receiver::new(secret);
    serve(&server, &mut receiver, options.once)?;
    println!("stopped after {} accepted requests", receiver.accepted);
    Ok(())
}

/// Command-line options.
struct Options {
    port: u16,
    once: Option<usize>,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            port: 0,
            once: None,
        };
        while let Some(arg) = args.next() {
            if arg == "--help" || arg == "-h" {
                println!("{USAGE}");
                std::process::exit(0);
            } else if arg == "--once" {
                let count = args
                    .next()
                    .ok_or(format!("--once needs a count\n{USAGE}"))?;
                let count = count.parse().map_err(|_| {
                    format!("invalid --once count {count:?}: expected a whole number")
                })?;
                options.once = Some(count);
            } else {
                options.port = arg
                    .parse()
                    .map_err(|_| format!("invalid port {arg:?}: expected 0 to 65535\n{USAGE}"))?;
            }
        }
        Ok(options)
    }
}

/// Reads `DEPIX_WEBHOOK_SECRET`, or generates a secret for this run when it is unset.
fn load_secret() -> Result<WebhookSecret, Box<dyn Error + Send + Sync>> {
    match std::env::var("DEPIX_WEBHOOK_SECRET") {
        Ok(text) => Ok(WebhookSecret::new(text)?),
        Err(std::env::VarError::NotPresent) => {
            let mut bytes = [0u8; 16];
            getrandom::getrandom(&mut bytes)
                .map_err(|error| format!("failed to generate a secret: {error}"))?;
            let text: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
            // Printed because a generated secret exists nowhere else. A secret from the
            // environment is never printed.
            println!("DEPIX_WEBHOOK_SECRET is unset; generated a secret for this run: {text}");
            Ok(WebhookSecret::new(text)?)
        }
        Err(error) => Err(format!("invalid DEPIX_WEBHOOK_SECRET: {error}").into()),
    }
}

/// The receiver's state: the secret and the keys of the events already processed.
pub struct Receiver {
    secret: WebhookSecret,
    /// Keys of processed events. A production receiver stores them in its database, in the
    /// same transaction as the effect of the event, so repeats are skipped across restarts.
    seen: HashSet<DedupeKey>,
    /// Requests that got status 200, repeats included.
    pub accepted: usize,
}

/// The response status for one request and the line printed for it.
pub struct Reply {
    pub status: u16,
    pub line: String,
}

impl Reply {
    fn new(status: u16, line: String) -> Reply {
        Reply { status, line }
    }
}

impl Receiver {
    pub fn new(secret: WebhookSecret) -> Receiver {
        Receiver {
            secret,
            seen: HashSet::new(),
            accepted: 0,
        }
    }

    /// Returns whether an event with this key was processed.
    pub fn has_seen(&self, key: &DedupeKey) -> bool {
        self.seen.contains(key)
    }

    /// Checks, reads and decodes one request. Slow work belongs after the response, such as
    /// on a queue, because Eulen waits at most 15 seconds for it.
    pub fn handle(&mut self, request: &mut Request) -> Reply {
        if *request.method() != Method::Post {
            let line = format!(
                "rejected {} {}: only POST is accepted",
                request.method(),
                request.url()
            );
            return Reply::new(405, line);
        }
        let authorization = request
            .headers()
            .iter()
            .find(|header| header.field.equiv("Authorization"))
            .map(|header| header.value.as_str());
        if !self.secret.verify(authorization) {
            let line = "rejected request: missing or wrong Authorization header".to_owned();
            return Reply::new(401, line);
        }
        if let Some(length) = request
            .body_length()
            .filter(|&length| length > MAX_BODY_BYTES)
        {
            let line =
                format!("rejected body: Content-Length {length} exceeds {MAX_BODY_BYTES} bytes");
            return Reply::new(413, line);
        }

        // One byte over the limit is enough to tell a chunked body that is too long.
        let mut body = Vec::new();
        let limit = MAX_BODY_BYTES as u64 + 1;
        if let Err(error) = request.as_reader().take(limit).read_to_end(&mut body) {
            return Reply::new(400, format!("failed to read body: {error}"));
        }
        if body.len() > MAX_BODY_BYTES {
            let line = format!("rejected body: longer than {MAX_BODY_BYTES} bytes");
            return Reply::new(413, line);
        }

        let event = match Event::from_slice(&body) {
            Ok(event) => event,
            Err(error) => return Reply::new(400, format!("rejected body: {error}")),
        };
        self.accepted += 1;
        if let Some(key) = event.dedupe_key() {
            if self.seen.contains(&key) {
                return Reply::new(200, format!("skipped repeat of {key}"));
            }
            self.seen.insert(key);
        }
        Reply::new(200, describe(&event))
    }
}

/// Responds to requests until `once` of them got status 200, or forever without `once`.
pub fn serve(server: &Server, receiver: &mut Receiver, once: Option<usize>) -> io::Result<()> {
    if once == Some(0) {
        return Ok(());
    }
    for mut request in server.incoming_requests() {
        let reply = receiver.handle(&mut request);
        println!("{} {}", reply.status, reply.line);
        let response = Response::from_string(reply.line).with_status_code(reply.status);
        if let Err(error) = request.respond(response) {
            eprintln!("failed to send the {} response: {error}", reply.status);
        }
        if once.is_some_and(|count| receiver.accepted >= count) {
            break;
        }
    }
    Ok(())
}

/// Formats one line about a new event, without payer names or tax numbers.
fn describe(event: &Event) -> String {
    let cents = |amount: Option<depix::Cents>| match amount {
        Some(amount) => format!("R$ {amount}"),
        None => "no amount".to_owned(),
    };
    match event {
        Event::Deposit(deposit) => format!(
            "deposit {} is {} ({})",
            deposit.qr_id,
            deposit.status,
            cents(deposit.value_in_cents)
        ),
        Event::Withdraw(withdraw) => format!(
            "withdraw {} is {} (payout {})",
            withdraw.id,
            withdraw.status,
            cents(withdraw.payout_amount_in_cents)
        ),
        Event::Med(med) => format!(
            "med claim against deposit {} ({})",
            med.qr_id,
            cents(med.principal_value_in_cents)
        ),
        Event::Unknown { webhook_type, .. } => {
            format!("accepted unknown webhookType {webhook_type:?} without processing it")
        }
        other => format!(
            "accepted {} webhook without processing it",
            other.webhook_type()
        ),
    }
}
