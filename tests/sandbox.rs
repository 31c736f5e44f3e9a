//! Tests of `depix::sandbox` over raw HTTP/1.1 on loopback TCP connections.
#![cfg(feature = "sandbox")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use depix::sandbox::{Action, LedgerEntry, Listener, Sandbox, SandboxBuilder};
use serde_json::{Value, json};

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

        let mut reply = Reply {
            status,
            headers,
            body: Vec::new(),
        };
        // Interim (1xx) responses have no body and no Content-Length.
        if status < 200 {
            return Some(reply);
        }
        let length: usize = reply
            .header("content-length")
            .expect("every final response has Content-Length")
            .parse()
            .expect("numeric Content-Length");
        reply.body = vec![0; length];
        self.reader
            .read_exact(&mut reply.body)
            .expect("read the body");
        Some(reply)
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
    path: &'a str,
    nonce: Option<&'a str>,
    mode: Option<&'a str>,
    body: Vec<u8>,
}

impl<'a> Call<'a> {
    fn new(sandbox: &'a Sandbox, method: &'a str, path: &'a str) -> Self {
        Call {
            sandbox,
            method,
            path,
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
        conn.send(self.method, self.path, &borrowed, &self.body);
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

    let unknown = Call::new(&sandbox, "GET", "/api/withdraw").nonce("n").run();
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
