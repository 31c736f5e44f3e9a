//! Tests of `depix::sandbox` over raw HTTP/1.1 on loopback TCP connections.
#![cfg(feature = "sandbox")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use depix::sandbox::{
    Action, FaultKind, FaultMix, LedgerEntry, Listener, Sandbox, SandboxBuilder, WebhookKind,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

/// Generous bound for waits that only a broken sandbox would reach.
const PATIENCE: Duration = Duration::from_secs(10);

/// One parsed HTTP response.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "body is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw HTTP/1.1 connection.
struct Conn {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect to the sandbox");
        stream
            .set_read_timeout(Some(PATIENCE))
            .expect("set read timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone the stream"));
        Conn {
            writer: stream,
            reader,
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write the request");
    }

    fn send(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: sandbox\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        self.send_raw(&bytes);
    }

    /// Reads one response, or `None` if the server closed the connection first.
    fn read(&mut self) -> Option<Reply> {
        let mut reply = self.read_head()?;
        // Interim (1xx) responses have no body and no Content-Length.
        if reply.status < 200 {
            return Some(reply);
        }
        reply.body = vec![0; content_length(&reply)];
        self.reader
            .read_exact(&mut reply.body)
            .expect("read the body");
        Some(reply)
    }

    /// Reads the status line and headers of one response, leaving its body unread, or
    /// returns `None` if the server closed the connection first.
    fn read_head(&mut self) -> Option<Reply> {
        let mut status_line = String::new();
        match self.reader.read_line(&mut status_line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }

        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("malformed status line {status_line:?}"));

        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("read a header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("header with a colon");
            headers.push((name.to_string(), value.trim().to_string()));
        }

        Some(Reply {
            status,
            headers,
            body: Vec::new(),
        })
    }

    /// Reads every byte until the server closes the connection.
    fn read_to_close(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        self.reader
            .read_to_end(&mut rest)
            .expect("read until the connection closes");
        rest
    }

    fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        self.send(method, target, headers, body);
        self.read().expect("an answer before the connection closed")
    }

    /// Returns whether the server closed the connection (end of stream or reset) without a
    /// response.
    fn is_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.reader.read(&mut byte), Ok(0) | Err(_))
    }
}

fn content_length(reply: &Reply) -> usize {
    reply
        .header("content-length")
        .expect("every final response has Content-Length")
        .parse()
        .expect("numeric Content-Length")
}

fn api_addr(sandbox: &Sandbox) -> String {
    let url = sandbox.base_url();
    url.trim_start_matches("http://")
        .trim_end_matches("/api/")
        .to_string()
}

/// Splits `http://host:port/path?query` into the address and the target.
fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let slash = rest.find('/').expect("a URL with a path");
    (rest[..slash].to_string(), rest[slash..].to_string())
}

/// One API call on a fresh connection, with the sandbox's bearer token.
struct Call<'a> {
    sandbox: &'a Sandbox,
    method: &'a str,
    path: String,
    nonce: Option<&'a str>,
    mode: Option<&'a str>,
    body: Vec<u8>,
}

impl<'a> Call<'a> {
    fn new(sandbox: &'a Sandbox, method: &'a str, path: &str) -> Self {
        Call {
            sandbox,
            method,
            path: path.to_string(),
            nonce: None,
            mode: None,
            body: Vec::new(),
        }
    }

    fn nonce(mut self, nonce: &'a str) -> Self {
        self.nonce = Some(nonce);
        self
    }

    fn mode(mut self, mode: &'a str) -> Self {
        self.mode = Some(mode);
        self
    }

    fn body(mut self, body: Value) -> Self {
        self.body = serde_json::to_vec(&body).expect("serialize the body");
        self
    }

    fn headers(&self) -> Vec<(&'a str, String)> {
        let mut headers = vec![("Authorization", format!("Bearer {}", self.sandbox.token()))];
        if let Some(nonce) = self.nonce {
            headers.push(("X-Nonce", nonce.to_string()));
        }
        if let Some(mode) = self.mode {
            headers.push(("X-Async", mode.to_string()));
        }
        headers
    }

    fn send_on(&self, conn: &mut Conn) {
        let headers = self.headers();
        let borrowed: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        conn.send(self.method, &self.path, &borrowed, &self.body);
    }

    fn run(&self) -> Reply {
        let mut conn = Conn::open(&api_addr(self.sandbox));
        self.send_on(&mut conn);
        conn.read().expect("an answer before the connection closed")
    }
}

fn deposit<'a>(sandbox: &'a Sandbox, nonce: &'a str, cents: i64) -> Call<'a> {
    Call::new(sandbox, "POST", "/api/deposit")
        .nonce(nonce)
        .body(json!({ "amountInCents": cents }))
}

fn get_url(url: &str, headers: &[(&str, &str)]) -> Reply {
    let (addr, target) = split_url(url);
    Conn::open(&addr).request("GET", &target, headers, b"")
}

fn start(builder: SandboxBuilder) -> Sandbox {
    builder.start().expect("start the sandbox")
}

/// Polls the ledger until it has `count` entries, panicking after [`PATIENCE`].
fn wait_for_ledger(sandbox: &Sandbox, count: usize) -> Vec<LedgerEntry> {
    let started = Instant::now();
    loop {
        let ledger = sandbox.ledger();
        if ledger.len() >= count {
            return ledger;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "ledger still has {} entries, expected {count}",
            ledger.len()
        );
        thread::sleep(Duration::from_millis(10));
    }
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

const XML_AUTH_REJECTED: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>InvalidAuthenticationInfo</Code><Message>Authorization header not allowed</Message></Error>";

#[test]
fn ping_returns_sync_envelope_and_headers() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let reply = Call::new(&sandbox, "GET", "/api/ping").run();

    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let nonce = reply.header("x-nonce").expect("X-Nonce header");
    assert!(is_lower_hex(nonce, 32), "generated nonce {nonce:?}");
    let request_id = reply.header("x-request-id").expect("X-Request-ID header");
    assert_eq!(request_id.len(), 36);
    assert_eq!(&request_id[14..15], "4", "UUID version in {request_id}");
    let date = reply.header("date").expect("Date header");
    assert!(date.ends_with(" GMT"), "Date {date:?}");

    let body = reply.json();
    assert_eq!(body["async"], false);
    assert_eq!(body["response"]["msg"], "Pong!");
    let claims = &body["response"]["claims_for_token_debug"];
    assert_eq!(claims["env"], "sandbox");
    assert_eq!(claims["sub"], "sandbox_partner");
    let iat = claims["iat"].as_i64().expect("iat is an integer");
    assert_eq!(claims["exp"].as_i64(), Some(iat + 86_400));
}

#[test]
fn given_nonce_is_echoed() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let reply = Call::new(&sandbox, "GET", "/api/ping")
        .nonce("my-nonce")
        .run();
    assert_eq!(reply.header("x-nonce"), Some("my-nonce"));
}

#[test]
fn wrong_or_missing_token_is_401_without_job() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let addr = api_addr(&sandbox);
    let body = br#"{"amountInCents":100}"#;
    let cases: [&[(&str, &str)]; 3] = [
        &[("X-Nonce", "n1")],
        &[("X-Nonce", "n1"), ("Authorization", "Bearer wrong")],
        &[("X-Nonce", "n1"), ("Authorization", "Basic sandbox-token")],
    ];
    for headers in cases {
        let reply = Conn::open(&addr).request("POST", "/api/deposit", headers, body);
        assert_eq!(reply.status, 401, "headers {headers:?}");
        assert_eq!(
            reply.json(),
            json!({"response": {"errorMessage": "invalid or missing bearer token"}, "async": false})
        );
        assert_eq!(reply.header("x-nonce"), Some("n1"));
    }
    assert!(sandbox.ledger().is_empty());

    // No job was bound to the nonce, so another body with it is not a reuse.
    let reply = deposit(&sandbox, "n1", 200).run();
    assert_eq!(reply.status, 200);
}

#[test]
fn custom_token_is_required() {
    let sandbox = start(Sandbox::builder().token("other"));
    assert_eq!(sandbox.token(), "other");
    let reply = Call::new(&sandbox, "GET", "/api/ping").run();
    assert_eq!(reply.status, 200);
    let default_token = Conn::open(&api_addr(&sandbox)).request(
        "GET",
        "/api/ping",
        &[("Authorization", "Bearer sandbox-token")],
        b"",
    );
    assert_eq!(default_token.status, 401);
}

#[test]
fn sync_deposit_creates_one_ledger_entry() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let reply = deposit(&sandbox, "dep-1", 12_345).mode("false").run();

    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["async"], false);
    let response = &body["response"];
    let id = response["id"].as_str().expect("id is a string");
    assert!(is_lower_hex(id, 32), "id {id:?}");
    let copy_paste = response["qrCopyPaste"].as_str().expect("qrCopyPaste");
    assert!(copy_paste.starts_with("00020126"), "{copy_paste}");
    assert!(copy_paste.contains(id));
    assert_eq!(
        response["qrImageUrl"],
        format!("{}/qr/{id}.png", sandbox.result_origin())
    );

    let ledger = sandbox.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].id, id);
    assert_eq!(ledger[0].nonce, "dep-1");
    assert_eq!(ledger[0].amount_in_cents, 12_345);
    assert_eq!(ledger[0].request_body, br#"{"amountInCents":12345}"#);

    let image = get_url(response["qrImageUrl"].as_str().expect("URL"), &[]);
    assert_eq!(image.status, 200);
    assert_eq!(image.header("content-type"), Some("image/png"));
    assert!(image.body.starts_with(b"\x89PNG"));
}

#[test]
fn deposit_status_returns_status_object() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let created = deposit(&sandbox, "dep-1", 500).run().json();
    let id = created["response"]["id"].as_str().expect("id").to_string();

    let reply = Call::new(&sandbox, "GET", &format!("/api/deposit-status?id={id}")).run();
    assert_eq!(reply.status, 200);
    let status = &reply.json()["response"];
    assert_eq!(status["qrId"], id.as_str());
    assert_eq!(status["status"], "pending");
    assert_eq!(status["valueInCents"], 500);
    let expiration = status["expiration"].as_str().expect("expiration");
    assert!(expiration.ends_with("-03:00"), "{expiration}");
    assert_eq!(expiration.len(), "2026-12-04T17:35:41-03:00".len());
    assert_eq!(status["pixKey"].as_str().map(str::len), Some(36));
}

#[test]
fn deposit_status_errors() {
    let sandbox = Sandbox::start().expect("start the sandbox");

    let unknown = Call::new(&sandbox, "GET", "/api/deposit-status?id=ffff").run();
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json(), json!({}));

    let missing = Call::new(&sandbox, "GET", "/api/deposit-status").run();
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.json()["response"]["errorMessage"],
        "missing query parameter id"
    );
}

#[test]
fn update_and_remove_deposit_fields() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    deposit(&sandbox, "dep-1", 500).run();
    let id = sandbox.ledger()[0].id.clone();
    let path = format!("/api/deposit-status?id={id}");

    sandbox.update_deposit(&id, json!({"status": "depix_sent", "blockchainTxID": null}));
    sandbox.remove_deposit_field(&id, "pixKey");
    let status = Call::new(&sandbox, "GET", &path).run().json()["response"].clone();

    assert_eq!(status["status"], "depix_sent");
    assert_eq!(status.get("blockchainTxID"), Some(&Value::Null));
    assert_eq!(status.get("pixKey"), None);
    assert_eq!(status["valueInCents"], 500);
}

#[test]
fn same_nonce_twice_creates_one_deposit() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let first = deposit(&sandbox, "dep-1", 700).run().json();
    let second = deposit(&sandbox, "dep-1", 700).run().json();

    assert_eq!(first["response"]["id"], second["response"]["id"]);
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn nonce_reuse_with_other_request_is_422() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    deposit(&sandbox, "dep-1", 700).run();

    let other_body = deposit(&sandbox, "dep-1", 701).run();
    assert_eq!(other_body.status, 422);
    assert_eq!(
        other_body.json()["response"]["errorMessage"],
        "X-Nonce reused with a different request"
    );
    let other_path = Call::new(&sandbox, "GET", "/api/ping").nonce("dep-1").run();
    assert_eq!(other_path.status, 422);
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn sync_timeout_is_503_and_discards() {
    let sandbox = start(
        Sandbox::builder()
            .processing_time(Duration::from_millis(400))
            .sync_window(Duration::from_millis(200)),
    );
    let reply = deposit(&sandbox, "dep-1", 100).mode("false").run();
    assert_eq!(reply.status, 503);
    assert_eq!(
        reply.json()["response"]["errorMessage"],
        "sync mode timed out; the request was discarded"
    );

    // Well past the discarded job's processing time, still nothing was created.
    thread::sleep(Duration::from_millis(600));
    assert!(sandbox.ledger().is_empty());

    // The same nonce starts a fresh job.
    sandbox.set_processing_time(Duration::ZERO);
    let retry = deposit(&sandbox, "dep-1", 100).mode("false").run();
    assert_eq!(retry.status, 200);
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn auto_falls_back_to_async_then_sync() {
    let sandbox = start(
        Sandbox::builder()
            .processing_time(Duration::from_millis(1000))
            .sync_window(Duration::from_millis(100)),
    );
    let queued = deposit(&sandbox, "dep-1", 900).run();
    assert_eq!(queued.status, 202);
    assert_eq!(queued.header("x-nonce"), Some("dep-1"));
    let envelope = queued.json();
    assert_eq!(envelope["async"], true);
    let expiration = envelope["expiration"].as_str().expect("expiration");
    assert!(
        expiration.ends_with('Z') && expiration.len() == 24,
        "{expiration}"
    );
    let url = envelope["urlResponse"]
        .as_str()
        .expect("urlResponse")
        .to_string();
    let prefix = format!(
        "{}/api-response/dep-1?sv=2025-01-01&sig=",
        sandbox.result_origin()
    );
    assert!(url.starts_with(&prefix), "{url}");

    let early = get_url(&url, &[]);
    assert_eq!(early.status, 404);
    assert_eq!(early.header("content-type"), Some("application/xml"));
    assert!(early.text().contains("<Code>BlobNotFound</Code>"));

    let ledger = wait_for_ledger(&sandbox, 1);
    let done = get_url(&url, &[]);
    assert_eq!(done.status, 200);
    assert_eq!(done.header("content-type"), Some("application/json"));
    let bare = done.json();
    assert_eq!(bare["id"], ledger[0].id.as_str());
    assert!(bare.get("async").is_none(), "bare object, not an envelope");

    let repeat = deposit(&sandbox, "dep-1", 900).run();
    assert_eq!(repeat.status, 200);
    assert_eq!(repeat.json()["response"]["id"], ledger[0].id.as_str());
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn auto_repeat_waits_again_for_job() {
    let sandbox = start(
        Sandbox::builder()
            .processing_time(Duration::from_millis(400))
            .sync_window(Duration::from_millis(200)),
    );
    let first = deposit(&sandbox, "dep-1", 900).run();
    assert_eq!(first.status, 202);

    let mut statuses = Vec::new();
    while statuses.last() != Some(&200) {
        assert!(statuses.len() < 50, "no sync response after {statuses:?}");
        statuses.push(deposit(&sandbox, "dep-1", 900).run().status);
    }
    assert!(
        statuses.iter().all(|s| *s == 202 || *s == 200),
        "{statuses:?}"
    );
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn async_mode_answers_202_even_when_done() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let reply = deposit(&sandbox, "dep-1", 300).mode("true").run();
    assert_eq!(reply.status, 202);

    let ledger = wait_for_ledger(&sandbox, 1);
    let url = reply.json()["urlResponse"]
        .as_str()
        .expect("urlResponse")
        .to_string();
    let result = get_url(&url, &[]);
    assert_eq!(result.status, 200);
    assert_eq!(result.json()["id"], ledger[0].id.as_str());

    let again = deposit(&sandbox, "dep-1", 300).mode("true").run();
    assert_eq!(again.status, 202);
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn invalid_amount_is_api_error() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    for (nonce, body) in [
        ("a", json!({"amountInCents": 0})),
        ("b", json!({"amountInCents": 10_000_001})),
        ("c", json!({"amountInCents": 1.5})),
        ("d", json!({"amount": 100})),
    ] {
        let reply = Call::new(&sandbox, "POST", "/api/deposit")
            .nonce(nonce)
            .body(body)
            .run();
        assert_eq!(reply.status, 400, "nonce {nonce}");
        assert_eq!(
            reply.json(),
            json!({"response": {"errorMessage": "amountInCents out of range"}, "async": false})
        );
    }
    let queued = deposit(&sandbox, "e", 0).mode("true").run().json();
    let url = queued["urlResponse"].as_str().expect("urlResponse");
    let result = get_url(url, &[]);
    assert_eq!(result.status, 200);
    assert_eq!(
        result.json(),
        json!({"errorMessage": "amountInCents out of range"})
    );
    assert!(sandbox.ledger().is_empty());
}

#[test]
fn request_errors_are_answered_at_once() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let addr = api_addr(&sandbox);
    let auth = format!("Bearer {}", sandbox.token());

    let not_json = Conn::open(&addr).request(
        "POST",
        "/api/deposit",
        &[("Authorization", &auth), ("X-Nonce", "n")],
        b"amount=1",
    );
    assert_eq!(not_json.status, 400);
    assert_eq!(
        not_json.json()["response"]["errorMessage"],
        "invalid JSON body"
    );

    let unknown = Call::new(&sandbox, "GET", "/api/nothing").nonce("n").run();
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json()["response"]["errorMessage"],
        "unknown endpoint"
    );

    let wrong_method = Call::new(&sandbox, "POST", "/api/ping").nonce("n").run();
    assert_eq!(wrong_method.status, 405);

    let bad_mode = Call::new(&sandbox, "GET", "/api/ping")
        .nonce("n")
        .mode("maybe")
        .run();
    assert_eq!(bad_mode.status, 400);

    // None of these bound the nonce to a job.
    assert_eq!(deposit(&sandbox, "n", 100).run().status, 200);
}

#[test]
fn expired_job_creates_nothing() {
    let sandbox = start(
        Sandbox::builder()
            .processing_time(Duration::from_millis(500))
            .async_lifetime(Duration::from_millis(200)),
    );
    let reply = deposit(&sandbox, "dep-1", 100).mode("true").run();
    assert_eq!(reply.status, 202);
    let url = reply.json()["urlResponse"]
        .as_str()
        .expect("urlResponse")
        .to_string();

    thread::sleep(Duration::from_millis(700));
    assert!(sandbox.ledger().is_empty());
    assert_eq!(get_url(&url, &[]).status, 404);

    sandbox.set_processing_time(Duration::ZERO);
    let retry = deposit(&sandbox, "dep-1", 100).run();
    assert_eq!(retry.status, 200);
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn results_listener_guards() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let queued = deposit(&sandbox, "dep-1", 100).mode("true").run().json();
    let url = queued["urlResponse"]
        .as_str()
        .expect("urlResponse")
        .to_string();
    wait_for_ledger(&sandbox, 1);

    let with_auth = get_url(&url, &[("Authorization", "Bearer sandbox-token")]);
    assert_eq!(with_auth.status, 400);
    assert_eq!(with_auth.header("content-type"), Some("application/xml"));
    assert_eq!(with_auth.text(), XML_AUTH_REJECTED);

    let (base, _) = url.split_once("&sig=").expect("sig parameter");
    let bad_sig = get_url(&format!("{base}&sig=00"), &[]);
    assert_eq!(bad_sig.status, 403);
    assert!(bad_sig.text().contains("<Code>AuthenticationFailed</Code>"));
    let no_sig = get_url(base, &[]);
    assert_eq!(no_sig.status, 403);

    let sig = url.split_once("&sig=").expect("sig parameter").1;
    let unknown = get_url(
        &format!("{}/api-response/nobody?sig={sig}", sandbox.result_origin()),
        &[],
    );
    assert_eq!(unknown.status, 404);

    assert_eq!(get_url(&url, &[]).status, 200);
}

#[test]
fn nonce_is_percent_encoded_in_url() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let reply = deposit(&sandbox, "a/b c%", 100).mode("true").run();
    let url = reply.json()["urlResponse"]
        .as_str()
        .expect("urlResponse")
        .to_string();
    assert!(url.contains("/api-response/a%2Fb%20c%25?"), "{url}");
    wait_for_ledger(&sandbox, 1);
    assert_eq!(get_url(&url, &[]).status, 200);
}

#[test]
fn force_async_first_applies_to_every_mode() {
    let sandbox = start(Sandbox::builder().force_async_first(1));
    assert_eq!(deposit(&sandbox, "auto", 100).run().status, 202);
    assert_eq!(deposit(&sandbox, "auto", 100).run().status, 200);

    let forced_sync = deposit(&sandbox, "sync", 100).mode("false").run();
    assert_eq!(forced_sync.status, 202, "forced, not discarded");
    assert_eq!(
        deposit(&sandbox, "sync", 100).mode("false").run().status,
        200
    );
    assert_eq!(sandbox.ledger().len(), 2);
}

#[test]
fn force_async_counts_down_per_nonce() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.force_async("dep-1", 2);
    let statuses: Vec<u16> = (0..3)
        .map(|_| deposit(&sandbox, "dep-1", 100).run().status)
        .collect();
    assert_eq!(statuses, [202, 202, 200]);
    assert_eq!(deposit(&sandbox, "other", 100).run().status, 200);
    assert_eq!(sandbox.ledger().len(), 2);
}

#[test]
fn action_respond_skips_everything() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.push_action(Action::json(500, json!({"error": "boom"})));
    // No bearer token: the action applies before the check.
    let reply = Conn::open(&api_addr(&sandbox)).request(
        "POST",
        "/api/deposit",
        &[("X-Nonce", "dep-1")],
        br#"{"amountInCents":100}"#,
    );
    assert_eq!(reply.status, 500);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json(), json!({"error": "boom"}));
    assert!(sandbox.ledger().is_empty());
    assert_eq!(sandbox.requests().len(), 1);

    // The action was used up, and no job was bound to the nonce.
    assert_eq!(deposit(&sandbox, "dep-1", 200).run().status, 200);
}

#[test]
fn action_close_answers_nothing() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.push_action(Action::Close);
    let mut conn = Conn::open(&api_addr(&sandbox));
    deposit(&sandbox, "dep-1", 100).send_on(&mut conn);
    assert!(conn.is_closed());
    assert!(sandbox.ledger().is_empty());
    assert_eq!(sandbox.requests().len(), 1, "recorded though not handled");
}

#[test]
fn action_process_then_close_still_deposits() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.push_action(Action::ProcessThenClose);
    let mut conn = Conn::open(&api_addr(&sandbox));
    deposit(&sandbox, "dep-1", 100).send_on(&mut conn);
    assert!(conn.is_closed());
    let ledger = sandbox.ledger();
    assert_eq!(ledger.len(), 1);

    let retry = deposit(&sandbox, "dep-1", 100).run();
    assert_eq!(retry.json()["response"]["id"], ledger[0].id.as_str());
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn action_process_then_respond_replaces_answer() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.push_action(Action::ProcessThenRespond {
        status: 502,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: b"<h1>bad gateway</h1>".to_vec(),
    });
    let reply = deposit(&sandbox, "dep-1", 100).run();
    assert_eq!(reply.status, 502);
    assert_eq!(reply.text(), "<h1>bad gateway</h1>");
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn action_delay_then_handles() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let delay = Duration::from_millis(300);
    sandbox.push_action(Action::Delay(delay));
    let started = Instant::now();
    let reply = deposit(&sandbox, "dep-1", 100).run();
    assert!(started.elapsed() >= delay, "responded before the delay");
    assert_eq!(reply.status, 200);
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn actions_apply_in_order_one_per_request() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.push_action(Action::json(500, json!({})));
    sandbox.push_action(Action::json(429, json!({})));
    let statuses: Vec<u16> = (0..3)
        .map(|_| Call::new(&sandbox, "GET", "/api/ping").run().status)
        .collect();
    assert_eq!(statuses, [500, 429, 200]);
}

#[test]
fn result_action_applies_to_results_listener() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let queued = deposit(&sandbox, "dep-1", 100).mode("true").run().json();
    let url = queued["urlResponse"]
        .as_str()
        .expect("urlResponse")
        .to_string();
    wait_for_ledger(&sandbox, 1);

    sandbox.push_result_action(Action::json(503, json!({})));
    assert_eq!(get_url(&url, &[]).status, 503);
    assert_eq!(get_url(&url, &[]).status, 200);
    // The API listener's queue is separate.
    assert_eq!(Call::new(&sandbox, "GET", "/api/ping").run().status, 200);
}

#[test]
fn requests_record_both_listeners_and_connections() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let mut conn = Conn::open(&api_addr(&sandbox));
    let call = deposit(&sandbox, "dep-1", 100).mode("true");
    call.send_on(&mut conn);
    let queued = conn.read().expect("first answer").json();
    Call::new(&sandbox, "GET", "/api/ping").send_on(&mut conn);
    assert_eq!(conn.read().expect("second answer").status, 200);
    wait_for_ledger(&sandbox, 1);
    get_url(queued["urlResponse"].as_str().expect("urlResponse"), &[]);

    let requests = sandbox.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].listener, Listener::Api);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/api/deposit");
    assert_eq!(requests[0].header("X-NONCE"), Some("dep-1"));
    assert_eq!(requests[0].header("x-async"), Some("true"));
    assert_eq!(requests[0].body, br#"{"amountInCents":100}"#);
    assert!(
        requests[0]
            .headers
            .iter()
            .all(|(name, _)| name == &name.to_lowercase())
    );
    assert_eq!(
        requests[1].connection, requests[0].connection,
        "keep-alive reuse"
    );
    assert_eq!(requests[2].listener, Listener::Results);
    assert_ne!(requests[2].connection, requests[0].connection);
    assert!(requests[2].path.starts_with("/api-response/dep-1?sv="));
}

#[test]
fn connection_close_is_honoured() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let mut conn = Conn::open(&api_addr(&sandbox));
    let auth = format!("Bearer {}", sandbox.token());
    let reply = conn.request(
        "GET",
        "/api/ping",
        &[("Authorization", &auth), ("Connection", "close")],
        b"",
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(conn.is_closed());
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let mut conn = Conn::open(&api_addr(&sandbox));
    Call::new(&sandbox, "GET", "/api/ping")
        .nonce("p1")
        .send_on(&mut conn);
    Call::new(&sandbox, "GET", "/api/ping")
        .nonce("p2")
        .send_on(&mut conn);
    assert_eq!(conn.read().expect("first").header("x-nonce"), Some("p1"));
    assert_eq!(conn.read().expect("second").header("x-nonce"), Some("p2"));
}

#[test]
fn malformed_requests_are_rejected() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let addr = api_addr(&sandbox);

    let mut chunked = Conn::open(&addr);
    chunked.send_raw(b"POST /api/deposit HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert_eq!(chunked.read().expect("an answer").status, 411);

    let mut too_big = Conn::open(&addr);
    too_big.send_raw(b"POST /api/deposit HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n");
    assert_eq!(too_big.read().expect("an answer").status, 413);

    let mut garbage = Conn::open(&addr);
    garbage.send_raw(b"hello\r\n\r\n");
    let rejected = garbage.read().expect("an answer");
    assert_eq!(rejected.status, 400);
    assert_eq!(rejected.header("content-type"), Some("application/json"));
    assert!(rejected.header("date").is_some());
    assert!(rejected.header("x-request-id").is_some());
    assert!(garbage.is_closed());

    assert!(sandbox.requests().is_empty());
}

#[test]
fn expect_continue_gets_interim_response() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let mut conn = Conn::open(&api_addr(&sandbox));
    let auth = format!("Authorization: Bearer {}\r\n", sandbox.token());
    let head = format!(
        "POST /api/deposit HTTP/1.1\r\n{auth}Expect: 100-continue\r\nContent-Length: 21\r\n\r\n"
    );
    conn.send_raw(head.as_bytes());
    let interim = conn.read().expect("an interim response");
    assert_eq!(interim.status, 100);

    conn.send_raw(br#"{"amountInCents":100}"#);
    assert_eq!(conn.read().expect("the final response").status, 200);
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn sandbox_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sandbox>();
}

#[test]
fn drop_stops_listeners_and_waiting_calls() {
    let sandbox = start(
        Sandbox::builder()
            .processing_time(Duration::from_secs(60))
            .sync_window(Duration::from_secs(60)),
    );
    let addr = api_addr(&sandbox);
    let results = split_url(&(sandbox.result_origin() + "/")).0;
    let mut waiting = Conn::open(&addr);
    deposit(&sandbox, "dep-1", 100).send_on(&mut waiting);
    let mut idle = Conn::open(&addr);
    while sandbox.requests().is_empty() {
        thread::sleep(Duration::from_millis(5));
    }

    let started = Instant::now();
    drop(sandbox);
    assert!(
        started.elapsed() < PATIENCE / 2,
        "drop waited for the sync window"
    );
    assert!(waiting.is_closed());
    assert!(idle.is_closed());
    assert!(TcpStream::connect(&addr).is_err());
    assert!(TcpStream::connect(&results).is_err());
}

/// Sends a call in async mode and returns its urlResponse result once the job is done.
fn async_result(call: Call<'_>) -> Reply {
    let queued = call.mode("true").run();
    assert_eq!(queued.status, 202, "{}", queued.text());
    let url = queued.json()["urlResponse"]
        .as_str()
        .expect("urlResponse")
        .to_string();
    let started = Instant::now();
    loop {
        let result = get_url(&url, &[]);
        if result.status != 404 {
            return result;
        }
        assert!(started.elapsed() < PATIENCE, "job never done: {url}");
        thread::sleep(Duration::from_millis(10));
    }
}

fn list<'a>(sandbox: &'a Sandbox, query: &str) -> Call<'a> {
    Call::new(sandbox, "GET", &format!("/api/deposits?{query}"))
}

fn error_message(reply: &Reply) -> String {
    reply.json()["response"]["errorMessage"]
        .as_str()
        .unwrap_or_else(|| panic!("no errorMessage in {}", reply.text()))
        .to_string()
}

fn row_ids(rows: &Value) -> Vec<String> {
    rows.as_array()
        .expect("rows are an array")
        .iter()
        .map(|row| row["qrId"].as_str().expect("qrId").to_string())
        .collect()
}

#[test]
fn deposits_list_caps_at_200_sorted() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let base = datetime!(2026-03-20 12:00 UTC);
    // 1,000 deposits at 500 distinct times, inserted newest first, two per time.
    let mut expected = Vec::new();
    for i in (0..1_000).rev() {
        let created_at = base + time::Duration::seconds(i / 2);
        let id = sandbox.insert_deposit(created_at, 100 + i, "pending");
        expected.push((created_at, id));
    }
    expected.sort();

    let reply = list(&sandbox, "start=2026-03-20&end=2026-03-21").run();
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["async"], false);
    let rows = &body["response"];
    let ids = row_ids(rows);
    assert_eq!(ids.len(), 200);
    let first_200: Vec<String> = expected
        .iter()
        .take(200)
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(ids, first_200, "ascending by time, ties by id");
    assert_eq!(
        rows[0],
        json!({"qrId": first_200[0], "status": "pending", "bankTxId": null})
    );
}

#[test]
fn deposits_list_date_bounds_at_brasilia_midnight() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let before = sandbox.insert_deposit(datetime!(2026-03-20 02:59:59 UTC), 100, "pending");
    let first = sandbox.insert_deposit(datetime!(2026-03-20 03:00 UTC), 100, "pending");
    let last = sandbox.insert_deposit(datetime!(2026-03-21 02:59:59.999 UTC), 100, "pending");
    let after = sandbox.insert_deposit(datetime!(2026-03-21 03:00 UTC), 100, "pending");

    let rows = list(&sandbox, "start=2026-03-20&end=2026-03-21")
        .run()
        .json()["response"]
        .clone();
    assert_eq!(row_ids(&rows), [first.clone(), last.clone()]);

    let whole = list(&sandbox, "start=2026-03-19&end=2026-03-22")
        .run()
        .json()["response"]
        .clone();
    assert_eq!(row_ids(&whole), [before, first, last, after]);
}

#[test]
fn deposits_list_rfc3339_bounds() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let early = sandbox.insert_deposit(datetime!(2026-03-20 10:00 UTC), 100, "pending");
    let middle = sandbox.insert_deposit(datetime!(2026-03-20 10:00:00.5 UTC), 100, "pending");
    let late = sandbox.insert_deposit(datetime!(2026-03-20 11:00 UTC), 100, "pending");

    // 12:00:00.5+02:00 is 10:00:00.5 UTC: start is inclusive, end exclusive.
    let query = "start=2026-03-20T12:00:00.5%2B02:00&end=2026-03-20T08:00:00-03:00";
    let rows = list(&sandbox, query).run().json()["response"].clone();
    assert_eq!(row_ids(&rows), [middle.as_str()]);

    let zulu = "start=2026-03-20T10:00:00Z&end=2026-03-20T11:00:00.001Z";
    let rows = list(&sandbox, zulu).run().json()["response"].clone();
    assert_eq!(row_ids(&rows), [early, middle, late]);
}

#[test]
fn deposits_list_status_filter_and_bank_tx() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let at = datetime!(2026-03-20 12:00 UTC);
    let pending = sandbox.insert_deposit(at, 100, "pending");
    let sent = sandbox.insert_deposit(at + time::Duration::SECOND, 200, "pending");
    sandbox.set_deposit_status(&sent, "depix_sent");
    sandbox.update_deposit(&sent, json!({"bankTxId": "fitbank_E1"}));
    let odd = sandbox.insert_deposit(at + time::Duration::MINUTE, 300, "some_new_status");

    let all = list(&sandbox, "start=2026-03-20&end=2026-03-21")
        .run()
        .json()["response"]
        .clone();
    assert_eq!(
        all,
        json!([
            {"qrId": pending, "status": "pending", "bankTxId": null},
            {"qrId": sent, "status": "depix_sent", "bankTxId": "fitbank_E1"},
            {"qrId": odd, "status": "some_new_status", "bankTxId": null},
        ])
    );

    let only_sent = list(
        &sandbox,
        "start=2026-03-20&end=2026-03-21&status=depix_sent",
    )
    .run();
    assert_eq!(row_ids(&only_sent.json()["response"]), [sent]);
    let unknown = list(
        &sandbox,
        "start=2026-03-20&end=2026-03-21&status=some_new_status",
    )
    .run();
    assert_eq!(row_ids(&unknown.json()["response"]), [odd]);
    let none = list(&sandbox, "start=2026-03-20&end=2026-03-21&status=expired").run();
    assert_eq!(none.json()["response"], json!([]));
    let empty_filter = list(&sandbox, "start=2026-03-20&end=2026-03-21&status=").run();
    assert_eq!(row_ids(&empty_filter.json()["response"]).len(), 3);
}

#[test]
fn deposits_list_parameter_errors() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let cases = [
        ("end=2026-03-21", "missing query parameter start"),
        ("start=2026-03-20", "missing query parameter end"),
        ("start=&end=2026-03-21", "missing query parameter start"),
        (
            "start=yesterday&end=2026-03-21",
            "invalid query parameter start",
        ),
        (
            "start=2026-03-20&end=2026-02-30",
            "invalid query parameter end",
        ),
        // An unencoded + decodes to a space, as in any query string.
        (
            "start=2026-03-20T00:00:00+00:00&end=2026-03-21",
            "invalid query parameter start",
        ),
        (
            "start=2026-03-21&end=2026-03-21",
            "end must be later than start",
        ),
        (
            "start=2026-03-21&end=2026-03-20",
            "end must be later than start",
        ),
    ];
    for (query, expected) in cases {
        let reply = list(&sandbox, query).nonce("list-1").run();
        assert_eq!(reply.status, 400, "{query}");
        let message = error_message(&reply);
        assert!(message.contains(expected), "{query}: {message}");
    }
    // None of them bound the nonce to a job.
    let valid = list(&sandbox, "start=2026-03-20&end=2026-03-21")
        .nonce("list-1")
        .run();
    assert_eq!(valid.status, 200);
}

#[test]
fn deposits_list_includes_api_deposits_async() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let before = OffsetDateTime::now_utc() - time::Duration::MINUTE;
    deposit(&sandbox, "dep-1", 500).run();
    let after = OffsetDateTime::now_utc() + time::Duration::MINUTE;
    let id = sandbox.ledger()[0].id.clone();

    let query = format!(
        "start={}&end={}",
        before.unix_timestamp_nanos() / 1_000_000_000,
        after.unix_timestamp_nanos() / 1_000_000_000
    );
    // Unix seconds are not a valid bound.
    assert_eq!(list(&sandbox, &query).run().status, 400);

    let format = time::format_description::well_known::Rfc3339;
    let query = format!(
        "start={}&end={}",
        before.format(&format).expect("format"),
        after.format(&format).expect("format")
    );
    let result = async_result(list(&sandbox, &query));
    assert_eq!(result.status, 200);
    assert_eq!(
        result.json(),
        json!([{"qrId": id, "status": "pending", "bankTxId": null}]),
        "bare array through urlResponse"
    );
}

#[test]
fn user_info_defaults_and_records() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let unknown = Call::new(&sandbox, "GET", "/api/user-info?euid=EU000000000000001").run();
    assert_eq!(unknown.status, 200);
    let body = unknown.json();
    assert_eq!(body["async"], false);
    let info = &body["response"];
    assert_eq!(info["dailyVolumeInCents"], 0);
    assert_eq!(info["maxDailyInCents"], 50_000);
    assert_eq!(info["isBlocked"], false);

    let reset = info["dailyLimitResetTime"].as_str().expect("reset time");
    assert!(reset.ends_with("T00:00:00-03:00"), "{reset}");
    let format = time::format_description::well_known::Rfc3339;
    let reset = OffsetDateTime::parse(reset, &format).expect("RFC 3339");
    let now = OffsetDateTime::now_utc();
    assert!(reset > now, "reset {reset} is not after {now}");
    assert!(
        reset <= now + time::Duration::DAY,
        "reset {reset} is over a day away"
    );

    sandbox.set_user("EU000000000000001", 12_345, 100_000, true);
    let set = Call::new(&sandbox, "GET", "/api/user-info?euid=EU000000000000001").run();
    let info = &set.json()["response"];
    assert_eq!(info["dailyVolumeInCents"], 12_345);
    assert_eq!(info["maxDailyInCents"], 100_000);
    assert_eq!(info["isBlocked"], true);

    let other = Call::new(&sandbox, "GET", "/api/user-info?euid=EU000000000000002").run();
    assert_eq!(other.json()["response"]["isBlocked"], false);

    let missing = Call::new(&sandbox, "GET", "/api/user-info").run();
    assert_eq!(missing.status, 400);
    assert_eq!(error_message(&missing), "missing query parameter euid");
}

#[test]
fn user_info_bare_and_async() {
    let sandbox = start(Sandbox::builder().user_info_bare(true));
    sandbox.set_user("EU1", 10, 20, false);
    let bare = Call::new(&sandbox, "GET", "/api/user-info?euid=EU1").run();
    assert_eq!(bare.status, 200);
    let body = bare.json();
    assert_eq!(body["dailyVolumeInCents"], 10);
    assert_eq!(body["maxDailyInCents"], 20);
    assert!(body.get("response").is_none(), "no envelope: {body}");

    // Errors keep the envelope.
    let missing = Call::new(&sandbox, "GET", "/api/user-info?euid=").run();
    assert_eq!(error_message(&missing), "missing query parameter euid");

    let result = async_result(Call::new(&sandbox, "GET", "/api/user-info?euid=EU1"));
    assert_eq!(result.status, 200);
    assert_eq!(result.json()["maxDailyInCents"], 20);

    let enveloped = start(Sandbox::builder());
    let result = async_result(Call::new(&enveloped, "GET", "/api/user-info?euid=EU1"));
    assert_eq!(result.json()["maxDailyInCents"], 50_000);
}

fn pix2fa<'a>(sandbox: &'a Sandbox, nonce: &'a str, id: &str, code: &str) -> Call<'a> {
    Call::new(sandbox, "POST", "/api/pix2fa")
        .nonce(nonce)
        .body(json!({ "pixTwoFactorCode": code, "qrId": id }))
}

fn deposit_status(sandbox: &Sandbox, id: &str) -> Value {
    let reply = Call::new(sandbox, "GET", &format!("/api/deposit-status?id={id}")).run();
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["response"].clone()
}

#[test]
fn pix2fa_verifies_code() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let now = OffsetDateTime::now_utc();
    let plain = sandbox.insert_deposit(now, 100, "pending_pix2fa");
    let with_tx = sandbox.insert_deposit(now, 100, "pending_pix2fa");
    sandbox.update_deposit(&with_tx, json!({"bankTxId": "fitbank_E42"}));
    sandbox.set_pix2fa_code(&with_tx, "654321");

    let reply = pix2fa(&sandbox, "p1", &plain, "123456").mode("false").run();
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"response": {"message": format!("Transaction ID {plain} verified pix2FA code successfully.")}, "async": false})
    );
    assert_eq!(deposit_status(&sandbox, &plain)["status"], "depix_sent");

    let default_code = pix2fa(&sandbox, "p2", &with_tx, "123456").run();
    assert_eq!(default_code.status, 400);
    assert_eq!(error_message(&default_code), "invalid pix2FA code");
    assert_eq!(
        deposit_status(&sandbox, &with_tx)["status"],
        "pending_pix2fa"
    );

    let result = async_result(pix2fa(&sandbox, "p3", &with_tx, "654321"));
    assert_eq!(result.status, 200);
    assert_eq!(
        result.json(),
        json!({"message": "Transaction ID fitbank_E42 verified pix2FA code successfully."})
    );
    assert_eq!(deposit_status(&sandbox, &with_tx)["status"], "depix_sent");
}

#[test]
fn pix2fa_errors() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let pending = sandbox.insert_deposit(OffsetDateTime::now_utc(), 100, "pending");

    let unknown = pix2fa(&sandbox, "e1", "0123", "123456").run();
    assert_eq!(unknown.status, 404);
    assert_eq!(error_message(&unknown), "deposit 0123 not found");

    let not_waiting = pix2fa(&sandbox, "e2", &pending, "123456").run();
    assert_eq!(not_waiting.status, 400);
    assert_eq!(
        error_message(&not_waiting),
        "deposit is not waiting for a pix2FA code"
    );
    assert_eq!(deposit_status(&sandbox, &pending)["status"], "pending");

    let numeric = Call::new(&sandbox, "POST", "/api/pix2fa")
        .nonce("e3")
        .body(json!({"pixTwoFactorCode": 123456, "qrId": pending}))
        .run();
    assert_eq!(numeric.status, 400);
    assert_eq!(
        error_message(&numeric),
        "missing pixTwoFactorCode: expected a string"
    );

    let no_id = Call::new(&sandbox, "POST", "/api/pix2fa")
        .nonce("e4")
        .body(json!({"pixTwoFactorCode": "123456"}))
        .run();
    assert_eq!(error_message(&no_id), "missing qrId: expected a string");

    let array = Call::new(&sandbox, "POST", "/api/pix2fa")
        .nonce("e5")
        .body(json!(["123456"]))
        .run();
    assert_eq!(array.status, 400);
    assert_eq!(error_message(&array), "request body must be a JSON object");

    let async_error = async_result(pix2fa(&sandbox, "e6", "0123", "123456"));
    assert_eq!(async_error.status, 200);
    assert_eq!(
        async_error.json(),
        json!({"errorMessage": "deposit 0123 not found"})
    );
}

fn withdraw<'a>(sandbox: &'a Sandbox, nonce: &'a str, body: Value) -> Call<'a> {
    Call::new(sandbox, "POST", "/api/withdraw")
        .nonce(nonce)
        .body(body)
}

fn is_liquid_address(text: &str) -> bool {
    text.len() == 65
        && text.starts_with("lq1qq")
        && text[5..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[test]
fn withdraw_by_deposit_amount() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let body = json!({"pixKey": "key@example.com", "depositAmountInCents": 10_100});
    let reply = withdraw(&sandbox, "w1", body.clone()).mode("false").run();
    assert_eq!(reply.status, 200);
    let envelope = reply.json();
    assert_eq!(envelope["async"], false);
    let created = &envelope["response"];
    let id = created["withdrawalId"].as_str().expect("withdrawalId");
    assert!(is_lower_hex(id, 32), "{id}");
    let address = created["depositAddress"].as_str().expect("depositAddress");
    assert!(is_liquid_address(address), "{address}");
    assert_eq!(created["depositAmountInCents"], 10_100);
    assert_eq!(created["payoutAmountInCents"], 9_999);

    let entries = sandbox.withdrawals();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id, id);
    assert_eq!(entries[0].nonce, "w1");
    assert_eq!(entries[0].pix_key, "key@example.com");
    assert_eq!(entries[0].deposit_amount_in_cents, 10_100);
    assert_eq!(entries[0].payout_amount_in_cents, 9_999);
    assert_eq!(
        entries[0].request_body,
        serde_json::to_vec(&body).expect("JSON")
    );

    // A retry with the same nonce gets the same withdrawal.
    let retry = withdraw(&sandbox, "w1", body).run();
    assert_eq!(retry.json()["response"], *created);
    assert_eq!(sandbox.withdrawals().len(), 1);
}

#[test]
fn withdraw_by_payout_amount_async() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let cases = [(1, 101), (9_900, 10_000), (9_901, 10_002), (9_999, 10_100)];
    for (payout, deposit) in cases {
        let nonce = format!("w-{payout}");
        let body = json!({"pixKey": "key", "payoutAmountInCents": payout});
        let result = async_result(withdraw(&sandbox, &nonce, body));
        assert_eq!(result.status, 200);
        let created = result.json();
        assert_eq!(created["depositAmountInCents"], deposit, "payout {payout}");
        assert_eq!(created["payoutAmountInCents"], payout, "payout {payout}");
    }
    assert_eq!(sandbox.withdrawals().len(), cases.len());
}

#[test]
fn withdraw_errors() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let both = "exactly one of depositAmountInCents and payoutAmountInCents is required";
    let too_small = "amount too small";
    let cases = [
        (json!({"pixKey": "k"}), both),
        (
            json!({"pixKey": "k", "depositAmountInCents": 500, "payoutAmountInCents": 400}),
            both,
        ),
        (
            json!({"pixKey": "k", "depositAmountInCents": null, "payoutAmountInCents": null}),
            both,
        ),
        (json!({"depositAmountInCents": 500}), "missing pixKey"),
        (
            json!({"pixKey": "", "depositAmountInCents": 500}),
            "missing pixKey",
        ),
        (
            json!({"pixKey": 7, "depositAmountInCents": 500}),
            "missing pixKey",
        ),
        (
            json!({"pixKey": "k", "depositAmountInCents": 100}),
            too_small,
        ),
        (
            json!({"pixKey": "k", "depositAmountInCents": -500}),
            too_small,
        ),
        (json!({"pixKey": "k", "payoutAmountInCents": 0}), too_small),
        (
            json!({"pixKey": "k", "payoutAmountInCents": i64::MAX}),
            "payoutAmountInCents is too large",
        ),
        (
            json!({"pixKey": "k", "depositAmountInCents": 5.5}),
            "depositAmountInCents must be an integer",
        ),
        (
            json!({"pixKey": "k", "payoutAmountInCents": "500"}),
            "payoutAmountInCents must be an integer",
        ),
    ];
    for (i, (body, expected)) in cases.into_iter().enumerate() {
        let nonce = format!("bad-{i}");
        let reply = withdraw(&sandbox, &nonce, body.clone()).run();
        assert_eq!(reply.status, 400, "{body}");
        let message = error_message(&reply);
        assert!(message.starts_with(expected), "{body}: {message}");
    }
    assert!(sandbox.withdrawals().is_empty());

    let wrong_method = Call::new(&sandbox, "GET", "/api/withdraw").run();
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow"), Some("POST"));
}

#[test]
fn withdraw_status_and_updates() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let before = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("valid");
    let body = json!({"pixKey": "key", "depositAmountInCents": 20_000});
    let created = withdraw(&sandbox, "w1", body).run().json()["response"].clone();
    let after = OffsetDateTime::now_utc();
    let id = created["withdrawalId"].as_str().expect("id").to_string();
    let path = format!("/api/withdraw-status?id={id}");

    let reply = Call::new(&sandbox, "GET", &path).run();
    assert_eq!(reply.status, 200);
    let status = reply.json()["response"].clone();
    assert_eq!(status["id"], id.as_str());
    assert_eq!(status["pixKey"], "key");
    assert_eq!(status["status"], "unsent");
    assert_eq!(status["depositAddress"], created["depositAddress"]);
    assert_eq!(status["depositAmountInCents"], 20_000);
    assert_eq!(status["payoutAmountInCents"], 19_800);

    let expiration = status["expiration"].as_str().expect("expiration");
    assert_eq!(
        expiration.len(),
        "2026-03-21T02:47:14Z".len(),
        "{expiration}"
    );
    assert!(expiration.ends_with('Z'), "{expiration}");
    let format = time::format_description::well_known::Rfc3339;
    let expiration = OffsetDateTime::parse(expiration, &format).expect("RFC 3339");
    let validity = time::Duration::minutes(20);
    assert!(expiration >= before + validity, "{expiration}");
    assert!(expiration <= after + validity, "{expiration}");

    sandbox.update_withdrawal(&id, json!({"status": "sent", "payoutTxId": "E123"}));
    let updated = async_result(Call::new(&sandbox, "GET", &path));
    assert_eq!(updated.status, 200);
    let updated = updated.json();
    assert_eq!(updated["status"], "sent");
    assert_eq!(updated["payoutTxId"], "E123");
    assert_eq!(updated["pixKey"], "key");

    let unknown = Call::new(&sandbox, "GET", "/api/withdraw-status?id=nope").run();
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json(), json!({}));
    let missing = Call::new(&sandbox, "GET", "/api/withdraw-status").run();
    assert_eq!(missing.status, 400);
    assert_eq!(error_message(&missing), "missing query parameter id");
}

#[test]
#[should_panic(expected = "no withdrawal with id")]
fn update_unknown_withdrawal_panics() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.update_withdrawal("nope", json!({"status": "sent"}));
}

#[test]
#[should_panic(expected = "no deposit with id")]
fn set_status_of_unknown_deposit_panics() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.set_deposit_status("nope", "expired");
}

#[test]
fn inserted_deposit_is_in_ledger() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let created_at = datetime!(2026-03-20 12:00 UTC);
    let id = sandbox.insert_deposit(created_at, 4_200, "under_review");
    let ledger = sandbox.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].id, id);
    assert_eq!(ledger[0].nonce, "");
    assert_eq!(ledger[0].amount_in_cents, 4_200);
    assert!(ledger[0].request_body.is_empty());

    let status = deposit_status(&sandbox, &id);
    assert_eq!(status["status"], "under_review");
    assert_eq!(status["valueInCents"], 4_200);
    assert_eq!(status["expiration"], "2026-03-20T09:20:00-03:00");

    sandbox.set_deposit_status(&id, "brand_new_status");
    assert_eq!(deposit_status(&sandbox, &id)["status"], "brand_new_status");
}

/// One request the webhook receiver read.
#[derive(Debug, Clone)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }
}

/// A webhook receiver on 127.0.0.1 that responds to every request with one status.
///
/// It records a request before responding, so the record is there once a synchronous
/// delivery has returned.
struct Receiver {
    addr: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(status: u16) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let addr = listener.local_addr().expect("receiver address").to_string();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        // The thread ends with the test process; it only ever serves loopback connections.
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                Receiver::serve(stream, status, &log);
            }
        });
        Receiver { addr, received }
    }

    fn serve(stream: TcpStream, status: u16, log: &Mutex<Vec<Received>>) {
        stream
            .set_read_timeout(Some(PATIENCE))
            .expect("set read timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            return;
        }

        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() || line.trim_end().is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("header with a colon");
            headers.push((name.to_string(), value.trim().to_string()));
        }
        let mut received = Received {
            request_line: request_line.trim_end().to_string(),
            headers,
            body: Vec::new(),
        };
        let length: usize = received
            .header("content-length")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        received.body = vec![0; length];
        reader
            .read_exact(&mut received.body)
            .expect("read the body");

        log.lock().expect("receiver log").push(received);
        let response = format!("HTTP/1.1 {status} Whatever\r\nContent-Length: 0\r\n\r\n");
        let _ = (&stream).write_all(response.as_bytes());
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("receiver log").clone()
    }
}

fn with_webhook(receiver: &Receiver) -> SandboxBuilder {
    Sandbox::builder().webhook(receiver.url("/hooks/depix?tag=1"), "s3cret-0123456789")
}

#[test]
fn pay_deposit_sends_deposit_webhook() {
    let receiver = Receiver::start(200);
    let sandbox = start(with_webhook(&receiver));
    let id = sandbox.insert_deposit(OffsetDateTime::now_utc(), 1_500, "pending");
    let other = sandbox.insert_deposit(OffsetDateTime::now_utc(), 2_500, "pending");

    sandbox.pay_deposit(&id);

    let status = deposit_status(&sandbox, &id);
    assert_eq!(status["status"], "depix_sent");
    assert_eq!(status["payerName"], "PAYER NAME");
    assert_eq!(status["payerTaxNumber"], "00000000000");
    assert_eq!(status["payerEUID"], "EU000000000000000");
    let bank_tx = status["bankTxId"].as_str().expect("bankTxId").to_string();
    assert!(bank_tx.starts_with("fitbank_E"), "{bank_tx}");
    let chain_tx = status["blockchainTxID"].as_str().expect("blockchainTxID");
    assert!(is_lower_hex(chain_tx, 64), "{chain_tx}");

    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].request_line, "POST /hooks/depix?tag=1 HTTP/1.1");
    assert_eq!(received[0].header("content-type"), Some("application/json"));
    assert_eq!(
        received[0].header("authorization"),
        Some("Basic s3cret-0123456789")
    );
    let mut expected = status.clone();
    expected["webhookType"] = json!("deposit");
    assert_eq!(received[0].json(), expected);

    let deliveries = sandbox.webhook_deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].kind, WebhookKind::Deposit);
    assert_eq!(deliveries[0].kind.as_str(), "deposit");
    assert_eq!(deliveries[0].status, Some(200));
    assert_eq!(deliveries[0].body, received[0].body);

    // Paying again keeps the transaction ids; another deposit gets its own.
    sandbox.pay_deposit(&id);
    assert_eq!(deposit_status(&sandbox, &id)["bankTxId"], bank_tx.as_str());
    sandbox.pay_deposit(&other);
    assert_ne!(
        deposit_status(&sandbox, &other)["bankTxId"],
        bank_tx.as_str()
    );
    assert_eq!(sandbox.webhook_deliveries().len(), 3);
}

#[test]
fn expire_and_refund_send_webhooks() {
    let receiver = Receiver::start(204);
    let sandbox = start(with_webhook(&receiver));
    let expiring = sandbox.insert_deposit(OffsetDateTime::now_utc(), 100, "pending");
    let refunding = sandbox.insert_deposit(OffsetDateTime::now_utc(), 200, "depix_sent");

    sandbox.expire_deposit(&expiring);
    sandbox.refund_deposit(&refunding);
    sandbox.set_deposit_status(&expiring, "canceled");

    assert_eq!(deposit_status(&sandbox, &refunding)["status"], "refunded");
    let bodies: Vec<Value> = receiver.received().iter().map(Received::json).collect();
    assert_eq!(bodies.len(), 2, "set_deposit_status sends no webhook");
    assert_eq!(bodies[0]["qrId"], expiring.as_str());
    assert_eq!(bodies[0]["status"], "expired");
    assert_eq!(bodies[0]["webhookType"], "deposit");
    assert_eq!(bodies[1]["qrId"], refunding.as_str());
    assert_eq!(bodies[1]["status"], "refunded");
    let statuses: Vec<Option<u16>> = sandbox
        .webhook_deliveries()
        .iter()
        .map(|delivery| delivery.status)
        .collect();
    assert_eq!(statuses, [Some(204), Some(204)]);
}

#[test]
fn set_withdraw_status_sends_webhook() {
    let receiver = Receiver::start(200);
    let sandbox = start(with_webhook(&receiver));
    let body = json!({"pixKey": "key", "payoutAmountInCents": 5_000});
    withdraw(&sandbox, "w1", body).run();
    let id = sandbox.withdrawals()[0].id.clone();

    sandbox.set_withdraw_status(&id, "sent");

    let reply = Call::new(&sandbox, "GET", &format!("/api/withdraw-status?id={id}")).run();
    let status = reply.json()["response"].clone();
    assert_eq!(status["status"], "sent");
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let mut expected = status.clone();
    expected["webhookType"] = json!("withdraw");
    assert_eq!(received[0].json(), expected);
    assert_eq!(sandbox.webhook_deliveries()[0].kind, WebhookKind::Withdraw);
}

#[test]
fn deliver_med_sends_med_webhook() {
    let receiver = Receiver::start(200);
    let sandbox = start(with_webhook(&receiver));
    let id = sandbox.insert_deposit(OffsetDateTime::now_utc(), 100, "pending");
    sandbox.pay_deposit(&id);
    let paid = deposit_status(&sandbox, &id);

    sandbox.deliver_med(&id);

    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let med = received[1].json();
    assert_eq!(med["webhookType"], "med");
    assert_eq!(med["qrId"], id.as_str());
    assert_eq!(med["bankTxId"], paid["bankTxId"]);
    assert_eq!(med["blockchainTxID"], paid["blockchainTxID"]);
    assert_eq!(med["euid"], "EU000000000000000");
    assert_eq!(med["name"], "PAYER NAME");
    assert_eq!(med["partnerId"], "sandbox_partner");
    assert_eq!(med["principalValueInCents"], "100", "a JSON string");
    assert_eq!(med["taxNumber"], "00000000000");
    let report = med["creationDateReport"]
        .as_str()
        .expect("creationDateReport");
    assert!(report.ends_with("-03:00"), "{report}");
    assert_eq!(med.as_object().expect("an object").len(), 10, "{med}");
    assert_eq!(sandbox.webhook_deliveries()[1].kind, WebhookKind::Med);
    assert_eq!(deposit_status(&sandbox, &id), paid, "MED changes nothing");
}

#[test]
fn failed_deliveries_are_recorded_once() {
    let failing = Receiver::start(500);
    let sandbox = start(with_webhook(&failing));
    let id = sandbox.insert_deposit(OffsetDateTime::now_utc(), 100, "pending");
    sandbox.expire_deposit(&id);
    let deliveries = sandbox.webhook_deliveries();
    assert_eq!(deliveries.len(), 1, "no retry");
    assert_eq!(deliveries[0].status, Some(500));
    assert_eq!(failing.received().len(), 1);

    // A loopback port with no listener: bind one, note its port, close it.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let unreachable = start(
        Sandbox::builder().webhook(format!("http://127.0.0.1:{port}/"), "s-0123456789abcdef"),
    );
    let id = unreachable.insert_deposit(OffsetDateTime::now_utc(), 100, "pending");
    unreachable.expire_deposit(&id);
    assert_eq!(deposit_status(&unreachable, &id)["status"], "expired");
    let deliveries = unreachable.webhook_deliveries();
    assert_eq!(deliveries.len(), 1, "no retry");
    assert_eq!(deliveries[0].status, None);
}

#[test]
fn webhook_duplicates_sends_twice() {
    let receiver = Receiver::start(200);
    let sandbox = start(with_webhook(&receiver).webhook_duplicates(true));
    let id = sandbox.insert_deposit(OffsetDateTime::now_utc(), 100, "pending");
    sandbox.pay_deposit(&id);
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].body, received[1].body);
    assert_eq!(sandbox.webhook_deliveries().len(), 2);
}

#[test]
fn localhost_webhook_url_is_loopback() {
    let receiver = Receiver::start(200);
    let port = receiver
        .addr
        .rsplit_once(':')
        .expect("a port")
        .1
        .to_string();
    let url = format!("http://localhost:{port}/hook");
    let sandbox = start(Sandbox::builder().webhook(url, "s-0123456789abcdef"));
    let id = sandbox.insert_deposit(OffsetDateTime::now_utc(), 100, "pending");
    sandbox.expire_deposit(&id);
    assert_eq!(sandbox.webhook_deliveries()[0].status, Some(200));
    let received = receiver.received();
    assert_eq!(
        received[0].header("host"),
        Some(format!("localhost:{port}").as_str())
    );
}

#[test]
fn non_loopback_webhook_url_is_rejected() {
    // These URLs are only parsed: start() rejects them before binding or connecting.
    for url in [
        "http://example.com/hook",
        "http://192.0.2.1:8080/hook",
        "http://127.0.0.1.example.com/",
        "http://127.0.0.1:80@example.com/",
        "https://127.0.0.1:8443/hook",
        "http://[::1]:8080/",
    ] {
        let error = Sandbox::builder()
            .webhook(url, "s-0123456789abcdef")
            .start()
            .expect_err(url);
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{url}");
        assert!(error.to_string().contains("127.0.0.1"), "{error}");
    }
    let builder = Sandbox::builder().webhook("http://127.0.0.1:1/", "s3cret-0123456789");
    assert!(
        !format!("{builder:?}").contains("s3cret-0123456789"),
        "secret in Debug"
    );
}

#[test]
fn short_webhook_secret_is_rejected() {
    let error = Sandbox::builder()
        .webhook("http://127.0.0.1:1/", "fifteen-chars-x")
        .start()
        .expect_err("a 15-character secret");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("at least 16"), "{error}");
}

#[test]
fn controls_without_webhook_deliver_nothing() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let id = sandbox.insert_deposit(OffsetDateTime::now_utc(), 100, "pending");
    sandbox.pay_deposit(&id);
    sandbox.deliver_med(&id);
    assert_eq!(deposit_status(&sandbox, &id)["status"], "depix_sent");
    assert!(sandbox.webhook_deliveries().is_empty());
}

#[test]
#[should_panic(expected = "deliver_med: no deposit with id")]
fn med_for_unknown_deposit_panics() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.deliver_med("nope");
}

#[test]
#[should_panic(expected = "set_withdraw_status: no withdrawal with id")]
fn withdraw_status_of_unknown_id_panics() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.set_withdraw_status("nope", "sent");
}

/// Drops the sandbox and asserts that it stopped well before [`PATIENCE`], so a test of an
/// action that waits on shutdown fails instead of hanging.
fn drop_promptly(sandbox: Sandbox) {
    let started = Instant::now();
    drop(sandbox);
    assert!(
        started.elapsed() < PATIENCE / 2,
        "drop waited for a scripted action"
    );
}

/// Sends a deposit on a fresh connection and returns the connection, unread.
fn send_deposit(sandbox: &Sandbox, nonce: &str) -> Conn {
    let mut conn = Conn::open(&api_addr(sandbox));
    deposit(sandbox, nonce, 100).send_on(&mut conn);
    conn
}

#[test]
fn action_reset_mid_body_after_work() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.push_action(Action::ResetMidBody { after: 10 });
    let mut conn = send_deposit(&sandbox, "dep-1");

    let head = conn.read_head().expect("a response head");
    assert_eq!(head.status, 200);
    let rest = conn.read_to_close();
    assert_eq!(rest.len(), 10, "body bytes before the close");
    assert!(
        content_length(&head) > 10,
        "Content-Length is the full body"
    );

    let ledger = sandbox.ledger();
    assert_eq!(ledger.len(), 1, "the work was done");
    let retry = deposit(&sandbox, "dep-1", 100).run();
    assert_eq!(retry.json()["response"]["id"], ledger[0].id.as_str());
    assert_eq!(sandbox.ledger().len(), 1);
}

#[test]
fn action_truncated_body_is_cut() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.push_action(Action::ProcessThenRespondTruncated { cut: 5 });
    let mut conn = send_deposit(&sandbox, "dep-1");
    let head = conn.read_head().expect("a response head");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("x-nonce"), Some("dep-1"));
    let rest = conn.read_to_close();
    assert_eq!(rest, br#"{"asy"#);
    assert_eq!(sandbox.ledger().len(), 1);

    // A cut past the end still leaves the body one byte short.
    sandbox.push_action(Action::ProcessThenRespondTruncated { cut: usize::MAX });
    let mut conn = send_deposit(&sandbox, "dep-1");
    let head = conn.read_head().expect("a response head");
    let rest = conn.read_to_close();
    assert_eq!(rest.len(), content_length(&head) - 1);
    assert!(serde_json::from_slice::<Value>(&rest).is_err());
}

#[test]
fn action_delay_headers_after_work() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let delay = Duration::from_millis(300);
    sandbox.push_action(Action::DelayHeaders(delay));
    let started = Instant::now();
    let reply = deposit(&sandbox, "dep-1", 100).run();
    assert!(started.elapsed() >= delay, "responded before the delay");
    assert_eq!(reply.status, 200);

    // The work is done before the wait, and shutdown cuts the wait short.
    sandbox.push_action(Action::DelayHeaders(Duration::from_secs(60)));
    let mut waiting = send_deposit(&sandbox, "dep-2");
    wait_for_ledger(&sandbox, 2);
    drop_promptly(sandbox);
    assert!(waiting.is_closed());
}

#[test]
fn action_trickle_writes_whole_response() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let every = Duration::from_millis(20);
    sandbox.push_action(Action::Trickle { chunk: 64, every });
    let mut conn = Conn::open(&api_addr(&sandbox));
    let started = Instant::now();
    let reply = conn.request(
        "GET",
        "/api/ping",
        &[("Authorization", &format!("Bearer {}", sandbox.token()))],
        b"",
    );
    let elapsed = started.elapsed();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["response"]["msg"], "Pong!");
    // The head alone is longer than 64 bytes, so there were at least three pieces.
    assert!(elapsed >= 2 * every, "all pieces came at once: {elapsed:?}");

    // The connection stays usable.
    Call::new(&sandbox, "GET", "/api/ping").send_on(&mut conn);
    assert_eq!(conn.read().expect("a second answer").status, 200);

    // Shutdown stops a slow trickle.
    sandbox.push_action(Action::Trickle {
        chunk: 1,
        every: Duration::from_secs(60),
    });
    let mut slow = Conn::open(&api_addr(&sandbox));
    Call::new(&sandbox, "GET", "/api/ping").send_on(&mut slow);
    let mut first = [0u8; 1];
    slow.reader.read_exact(&mut first).expect("the first piece");
    assert_eq!(&first, b"H");
    drop_promptly(sandbox);
    assert!(slow.is_closed());
}

#[test]
fn action_black_hole_hangs_until_drop() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.push_action(Action::BlackHole);
    let mut hung = send_deposit(&sandbox, "dep-1");
    while sandbox.requests().is_empty() {
        thread::sleep(Duration::from_millis(5));
    }
    hung.writer
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("set read timeout");
    let mut byte = [0u8; 1];
    let error = hung
        .reader
        .read(&mut byte)
        .expect_err("no byte and no close from a black hole");
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{error}"
    );

    // Other connections are served, and the black-holed request created nothing.
    assert_eq!(Call::new(&sandbox, "GET", "/api/ping").run().status, 200);
    assert!(sandbox.ledger().is_empty());
    assert_eq!(sandbox.requests()[0].header("x-nonce"), Some("dep-1"));

    drop_promptly(sandbox);
    hung.writer
        .set_read_timeout(Some(PATIENCE))
        .expect("set read timeout");
    assert!(hung.is_closed());
}

#[test]
fn action_nonce_echo_wrong_or_missing() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.push_action(Action::WrongNonceEcho("other-nonce".into()));
    sandbox.push_action(Action::NoNonceEcho);

    let wrong = deposit(&sandbox, "dep-1", 100).run();
    assert_eq!(wrong.status, 200);
    assert_eq!(wrong.header("x-nonce"), Some("other-nonce"));
    assert_eq!(
        wrong
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("x-nonce"))
            .count(),
        1
    );
    assert_eq!(
        sandbox.ledger()[0].nonce,
        "dep-1",
        "the work used the real nonce"
    );

    let missing = deposit(&sandbox, "dep-2", 100).run();
    assert_eq!(missing.status, 200);
    assert_eq!(missing.header("x-nonce"), None);
    assert!(missing.header("x-request-id").is_some());
    assert_eq!(sandbox.ledger().len(), 2);
}

#[test]
fn action_close_idle_after_limit() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let addr = api_addr(&sandbox);

    sandbox.push_action(Action::CloseIdleAfter(Duration::from_millis(100)));
    let mut idle = Conn::open(&addr);
    Call::new(&sandbox, "GET", "/api/ping").send_on(&mut idle);
    let reply = idle.read().expect("the answer");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("connection"), None, "no advance notice");
    assert!(idle.is_closed());

    sandbox.push_action(Action::CloseIdleAfter(Duration::ZERO));
    let mut at_once = Conn::open(&addr);
    Call::new(&sandbox, "GET", "/api/ping").send_on(&mut at_once);
    assert_eq!(at_once.read().expect("the answer").status, 200);
    assert!(at_once.is_closed());

    // A request that arrives within the limit keeps the connection open.
    sandbox.push_action(Action::CloseIdleAfter(PATIENCE));
    let mut busy = Conn::open(&addr);
    Call::new(&sandbox, "GET", "/api/ping").send_on(&mut busy);
    assert_eq!(busy.read().expect("the first answer").status, 200);
    Call::new(&sandbox, "GET", "/api/ping").send_on(&mut busy);
    assert_eq!(busy.read().expect("the second answer").status, 200);
    let requests = sandbox.requests();
    let last_two = &requests[requests.len() - 2..];
    assert_eq!(last_two[0].connection, last_two[1].connection);
}

#[test]
fn action_constructors_respond_without_job() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let at = datetime!(2026-12-04 20:35:41.861 UTC);
    sandbox.push_action(Action::html(502, "<h1>Bad Gateway</h1>"));
    sandbox.push_action(Action::empty(504));
    sandbox.push_action(Action::retry_after_seconds(503, 1));
    sandbox.push_action(Action::retry_after_date(429, at));

    let html = deposit(&sandbox, "dep-1", 100).run();
    assert_eq!(html.status, 502);
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(html.text(), "<h1>Bad Gateway</h1>");

    let empty = deposit(&sandbox, "dep-1", 100).run();
    assert_eq!(empty.status, 504);
    assert_eq!(empty.header("content-length"), Some("0"));
    assert!(empty.body.is_empty());

    let seconds = deposit(&sandbox, "dep-1", 100).run();
    assert_eq!(seconds.status, 503);
    assert_eq!(seconds.header("retry-after"), Some("1"));
    assert_eq!(seconds.json()["async"], false);
    assert!(!error_message(&seconds).is_empty());

    let date = deposit(&sandbox, "dep-1", 100).run();
    assert_eq!(date.status, 429);
    assert_eq!(
        date.header("retry-after"),
        Some("Fri, 04 Dec 2026 20:35:41 GMT")
    );
    assert!(!error_message(&date).is_empty());

    assert!(sandbox.ledger().is_empty());
}

#[test]
fn action_oversized_streams_exact_length() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let bytes = 3 * 1024 * 1024 + 7;
    sandbox.push_action(Action::oversized(200, bytes));
    let reply = deposit(&sandbox, "dep-1", 100).run();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body.len(), bytes);
    let body = reply.json();
    assert_eq!(body["async"], false);
    assert!(sandbox.ledger().is_empty());

    // A client that stops reading does not keep the sandbox from stopping.
    sandbox.push_action(Action::oversized(200, 256 * 1024 * 1024));
    let mut stalled = send_deposit(&sandbox, "dep-2");
    assert_eq!(stalled.read_head().expect("a response head").status, 200);
    drop_promptly(sandbox);
}

/// What a client sees of one call sent with `Connection: close`, in a form two runs can
/// compare: the status, the headers that faults change, and whether the body was complete.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Closed,
    Response {
        status: u16,
        nonce: Option<String>,
        retry_after: bool,
        complete: bool,
    },
}

/// Sends a deposit with `Connection: close` and returns what came back, with the body.
fn observe(sandbox: &Sandbox, nonce: &str) -> (Seen, Option<Reply>) {
    let mut conn = Conn::open(&api_addr(sandbox));
    let auth = format!("Bearer {}", sandbox.token());
    let headers = [
        ("Authorization", auth.as_str()),
        ("X-Nonce", nonce),
        ("Connection", "close"),
    ];
    conn.send(
        "POST",
        "/api/deposit",
        &headers,
        br#"{"amountInCents":100}"#,
    );
    let Some(mut head) = conn.read_head() else {
        return (Seen::Closed, None);
    };
    head.body = conn.read_to_close();
    let seen = Seen::Response {
        status: head.status,
        nonce: head.header("x-nonce").map(str::to_string),
        retry_after: head.header("retry-after").is_some(),
        complete: head.body.len() == content_length(&head),
    };
    (seen, Some(head))
}

/// Sends `count` deposits to a fresh sandbox with this mix and returns what each call saw.
fn run_mix(mix: FaultMix, count: usize) -> (Vec<Seen>, Vec<(FaultKind, u64)>) {
    let sandbox = start(Sandbox::builder().fault_mix(mix));
    let seen = (0..count)
        .map(|index| observe(&sandbox, &format!("dep-{index}")).0)
        .collect();
    (seen, sandbox.fault_counts())
}

#[test]
fn fault_mix_repeats_for_same_seed() {
    let mix = FaultMix::new(42).rate(0.5);
    let (first, first_counts) = run_mix(mix.clone(), 30);
    let (second, second_counts) = run_mix(mix, 30);
    assert_eq!(first, second);
    assert_eq!(first_counts, second_counts);

    let injected: u64 = first_counts.iter().map(|(_, count)| count).sum();
    assert!(injected > 0, "no fault in 30 calls at rate 0.5");
    assert!(injected < 30, "every call got a fault at rate 0.5");
    let kinds: Vec<FaultKind> = first_counts.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(kinds, FaultKind::ALL);

    let (other, _) = run_mix(FaultMix::new(43).rate(0.5), 30);
    assert_ne!(first, other, "another seed gave the same faults");
}

#[test]
fn fault_mix_each_kind_as_documented() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    for (index, kind) in FaultKind::ALL.into_iter().enumerate() {
        sandbox.set_fault_mix(Some(FaultMix::new(9).rate(1.0).kinds(&[kind])));
        let before = sandbox.ledger().len();
        let nonce = format!("dep-{index}");
        let (seen, reply) = observe(&sandbox, &nonce);
        // Processing time is zero, so a handled request has created its deposit by now.
        let created = sandbox.ledger().len() - before;

        let (status, complete) = match &seen {
            Seen::Closed => (0, false),
            Seen::Response {
                status, complete, ..
            } => (*status, *complete),
        };
        let reply = reply.unwrap_or(Reply {
            status: 0,
            headers: Vec::new(),
            body: Vec::new(),
        });
        let expected_created = match kind {
            FaultKind::CloseBeforeProcessing
            | FaultKind::Html502
            | FaultKind::Unavailable503
            | FaultKind::Unavailable503RetryAfter
            | FaultKind::RateLimited429Seconds
            | FaultKind::RateLimited429Date => 0,
            _ => 1,
        };
        assert_eq!(created, expected_created, "deposits created under {kind:?}");

        match kind {
            FaultKind::CloseBeforeProcessing | FaultKind::CloseAfterProcessing => {
                assert_eq!(seen, Seen::Closed, "{kind:?}");
            }
            FaultKind::ResetMidBody | FaultKind::TruncatedJson => {
                assert_eq!(status, 200, "{kind:?}");
                assert!(!complete, "{kind:?} sent the whole body");
            }
            FaultKind::Html502 => {
                assert_eq!(status, 502);
                assert!(reply.text().contains("502 Bad Gateway"));
                assert!(reply.header("date").is_some());
            }
            FaultKind::Empty504 => {
                assert_eq!(status, 504);
                assert!(reply.body.is_empty());
            }
            FaultKind::Unavailable503 => {
                assert_eq!(status, 503);
                assert_eq!(reply.header("retry-after"), None);
                assert!(!error_message(&reply).is_empty());
            }
            FaultKind::Unavailable503RetryAfter | FaultKind::RateLimited429Seconds => {
                assert!(status == 503 || status == 429, "{kind:?} gave {status}");
                assert_eq!(reply.header("retry-after"), Some("1"), "{kind:?}");
            }
            FaultKind::RateLimited429Date => {
                assert_eq!(status, 429);
                let date = parse_http_date(reply.header("date").expect("Date header"));
                let retry_at =
                    parse_http_date(reply.header("retry-after").expect("Retry-After header"));
                assert_eq!(retry_at - date, time::Duration::SECOND);
            }
            FaultKind::DelayHeaders | FaultKind::Trickle => {
                assert_eq!(status, 200, "{kind:?}");
                assert!(complete, "{kind:?}");
                assert_eq!(reply.header("x-nonce"), Some(nonce.as_str()));
            }
            FaultKind::WrongNonceEcho => {
                assert_eq!(status, 200);
                let echoed = reply.header("x-nonce").expect("X-Nonce header");
                assert!(echoed.starts_with("wrong-"), "echoed {echoed:?}");
            }
            FaultKind::ForcedAsync => {
                assert_eq!(status, 202);
                assert_eq!(reply.json()["async"], true);
            }
            other => panic!("no expectation for {other:?}"),
        }
    }
    let counts = sandbox.fault_counts();
    assert!(counts.iter().all(|(_, count)| *count == 1), "{counts:?}");
}

#[test]
fn fault_mix_spares_scripts_and_results() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    let queued = deposit(&sandbox, "dep-1", 100).mode("true").run().json();
    let url = queued["urlResponse"]
        .as_str()
        .expect("urlResponse")
        .to_string();
    wait_for_ledger(&sandbox, 1);

    let only_503 = FaultMix::new(1)
        .rate(1.0)
        .kinds(&[FaultKind::Unavailable503]);
    sandbox.set_fault_mix(Some(only_503));
    assert_eq!(get_url(&url, &[]).status, 200, "results listener");
    sandbox.push_action(Action::json(418, json!({})));
    assert_eq!(Call::new(&sandbox, "GET", "/api/ping").run().status, 418);
    assert_eq!(Call::new(&sandbox, "GET", "/api/ping").run().status, 503);

    sandbox.set_fault_mix(Some(FaultMix::new(1).kinds(&[])));
    assert_eq!(Call::new(&sandbox, "GET", "/api/ping").run().status, 200);
    sandbox.set_fault_mix(None);
    assert_eq!(Call::new(&sandbox, "GET", "/api/ping").run().status, 200);

    let counts = sandbox.fault_counts();
    let injected: Vec<_> = counts.iter().filter(|(_, count)| *count > 0).collect();
    assert_eq!(injected, [&(FaultKind::Unavailable503, 1)]);
}

/// Parses an IMF-fixdate such as `Fri, 04 Dec 2026 20:35:41 GMT`.
fn parse_http_date(text: &str) -> OffsetDateTime {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(text, format)
        .unwrap_or_else(|error| panic!("invalid HTTP date {text:?}: {error}"))
        .assume_utc()
}

fn parse_rfc3339(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|error| panic!("invalid RFC 3339 time {text:?}: {error}"))
}

/// Asserts that `at` lies in `[earliest, latest]` widened by 1 s, because some formats drop
/// subseconds.
fn assert_between(
    what: &str,
    at: OffsetDateTime,
    earliest: OffsetDateTime,
    latest: OffsetDateTime,
) {
    let second = time::Duration::SECOND;
    assert!(
        earliest - second <= at && at <= latest + second,
        "{what} {at} is not within [{earliest}, {latest}]"
    );
}

#[test]
fn clock_offset_shifts_dates_and_expirations() {
    let lifetime = Duration::from_secs(60);
    for minutes in [5, -5] {
        let offset = time::Duration::minutes(minutes);
        let sandbox = start(
            Sandbox::builder()
                .async_lifetime(lifetime)
                .clock_offset(offset),
        );
        let before = OffsetDateTime::now_utc() + offset;
        let queued = deposit(&sandbox, "dep-1", 100).mode("true").run();
        let done = deposit(&sandbox, "dep-2", 100).run();
        let after = OffsetDateTime::now_utc() + offset;

        let date = parse_http_date(queued.header("date").expect("Date header"));
        assert_between("Date", date, before, after);
        let expiration = parse_rfc3339(
            queued.json()["expiration"]
                .as_str()
                .expect("expiration in the envelope"),
        );
        assert_between(
            "envelope expiration",
            expiration,
            before + lifetime,
            after + lifetime,
        );

        // Deadlines still run on the real clock, so the sync call is done at once.
        assert_eq!(done.status, 200, "{}", done.text());
        let id = done.json()["response"]["id"]
            .as_str()
            .expect("deposit id")
            .to_string();
        let status = deposit_status(&sandbox, &id);
        let deposit_expiration =
            parse_rfc3339(status["expiration"].as_str().expect("deposit expiration"));
        let validity = time::Duration::minutes(20);
        assert_between(
            "deposit expiration",
            deposit_expiration,
            before + validity,
            after + validity,
        );
    }
}

#[test]
fn set_clock_offset_moves_date_header() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    for minutes in [-5, 5, 0] {
        let offset = time::Duration::minutes(minutes);
        sandbox.set_clock_offset(offset);
        let before = OffsetDateTime::now_utc() + offset;
        let reply = Call::new(&sandbox, "GET", "/api/ping").run();
        let after = OffsetDateTime::now_utc() + offset;
        let date = parse_http_date(reply.header("date").expect("Date header"));
        assert_between("Date", date, before, after);
    }

    // A fault's made-up response uses the same clock.
    let offset = time::Duration::minutes(-5);
    sandbox.set_clock_offset(offset);
    let only_429 = [FaultKind::RateLimited429Date];
    sandbox.set_fault_mix(Some(FaultMix::new(5).rate(1.0).kinds(&only_429)));
    let before = OffsetDateTime::now_utc() + offset;
    let reply = Call::new(&sandbox, "GET", "/api/ping").run();
    let after = OffsetDateTime::now_utc() + offset;
    assert_eq!(reply.status, 429);
    let date = parse_http_date(reply.header("date").expect("Date header"));
    assert_between("Date of a fault", date, before, after);
}

#[test]
#[should_panic(expected = "clock offset")]
fn clock_offset_out_of_range_panics() {
    let sandbox = Sandbox::start().expect("start the sandbox");
    sandbox.set_clock_offset(time::Duration::days(365 * 20_000));
}
