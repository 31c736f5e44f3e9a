//! A loopback fake of the Pix2DePix API, for tests, examples and users' own tests.
//!
//! [`Sandbox::start`] binds two listeners on `127.0.0.1` with ports chosen by the system: the
//! API under [`Sandbox::base_url`], and a second origin ([`Sandbox::result_origin`]) that
//! serves the `urlResponse` results of async calls and the deposits' QR images. Every call
//! goes through a job queue keyed by `X-Nonce`, as on the real API, so tests can exercise the
//! sync, async and auto modes, retries with the same nonce, and scripted failures.
//!
//! ```
//! use std::time::Duration;
//! use depix::sandbox::{Action, Sandbox};
//!
//! let sandbox = Sandbox::builder()
//!     .processing_time(Duration::from_millis(400))
//!     .sync_window(Duration::from_millis(200))
//!     .start()?;
//! // Point the client at `sandbox.base_url()` with `sandbox.token()`, then, for example,
//! // make the next API request fail once with a 500:
//! sandbox.push_action(Action::json(500, serde_json::json!({ "error": "boom" })));
//! // ... run the client ...
//! for deposit in sandbox.ledger() {
//!     println!("deposit {} for nonce {}", deposit.id, deposit.nonce);
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # The API it imitates
//!
//! Every request needs `Authorization: Bearer <token>`. `X-Nonce` names one intention (the
//! sandbox makes a 32-hex one when it is missing) and `X-Async` picks the mode: `auto` or
//! absent, `false` (sync) or `true` (async). The endpoints are `GET /api/ping`,
//! `POST /api/deposit`, `GET /api/deposit-status?id=<id>`,
//! `GET /api/deposits?start=<S>&end=<E>[&status=<status>]`, `GET /api/user-info?euid=<EUID>`,
//! `POST /api/pix2fa`, `POST /api/withdraw` and `GET /api/withdraw-status?id=<id>`.
//! A done call responds 200
//! `{"response": {...}, "async": false}`. A failed one responds with an error status and
//! `{"response": {"errorMessage": "..."}, "async": false}`. A queued one responds 202
//! `{"async": true, "urlResponse": "...", "expiration": "..."}`.
//!
//! Errors found in the request itself (bearer token, `X-Async` value, unknown endpoint or
//! method, body that is not a JSON object, a missing or invalid query parameter) get a
//! response at once and create no job. Body fields are checked when the job is performed, so
//! an async caller gets their errors through `urlResponse`.
//!
//! `deposits` lists the deposits created in `[start, end)`, where a bound is a date
//! `YYYY-MM-DD` (midnight at -03:00) or an RFC 3339 time, sorted by creation time then id.
//! It returns at most 200 rows and, like the real API, gives no sign that more matched.
//! `withdraw` takes a fee of 1 %, rounded up, and at least 100 cents. A nonce is bound to the method, target and body of its first request for the
//! sandbox's life. Reusing it for another request gets 422 and does nothing, even after
//! its job expired or was discarded.
//!
//! # Test controls and webhooks
//!
//! Methods on [`Sandbox`] stage data ([`Sandbox::insert_deposit`], [`Sandbox::set_user`],
//! [`Sandbox::set_pix2fa_code`] and others) and move deposits and withdrawals along
//! ([`Sandbox::pay_deposit`], [`Sandbox::expire_deposit`], [`Sandbox::refund_deposit`],
//! [`Sandbox::set_withdraw_status`], [`Sandbox::deliver_med`]). With
//! [`SandboxBuilder::webhook`] set, the methods that move data along send a webhook to a
//! loopback URL before they return, and [`Sandbox::webhook_deliveries`] records each
//! attempt. API calls send no webhooks, so a pix2FA code verified through
//! `POST /api/pix2fa` sends none either.
//!
//! # Results listener
//!
//! `GET /api-response/<nonce>?sv=2025-01-01&sig=<secret>` returns a done job's inner object
//! with 200 (an API error as a bare `{"errorMessage": "..."}`), and 404 with an XML
//! `BlobNotFound` error while the job is pending, or when it expired, was discarded or is
//! unknown. A wrong or missing `sig` gets 403, and any request with an `Authorization`
//! header gets 400. `GET /qr/<id>.png` returns
//! a 1x1 PNG for every created deposit.
//!
//! # Faults
//!
//! [`Sandbox::push_action`] scripts how the next request fails: a canned response, a
//! close before or after the work, a cut or trickled body, delayed headers, a hang, a wrong
//! `X-Nonce` echo or an early close of an idle connection (see [`Action`]). A seeded
//! [`FaultMix`] ([`SandboxBuilder::fault_mix`]) injects such faults at random into API
//! requests with no scripted action, the same ones for the same seed and order of requests,
//! and [`Sandbox::fault_counts`] reports what it injected. [`SandboxBuilder::clock_offset`]
//! shifts the sandbox's wall clock, as a server whose clock is ahead or behind.
//!
//! # HTTP
//!
//! Both listeners speak HTTP/1.1 with persistent connections and `Content-Length` bodies.
//! Request heads are limited to 64 KiB (431 beyond), bodies to 1 MiB (413 beyond), and
//! `Transfer-Encoding` bodies are rejected with 411. Idle connections close after 30 s.

mod actions;
mod controls;
mod faults;
mod format;
mod http;
mod jobs;
mod listing;
mod routes;
mod server;
mod shared;
mod users;
mod webhooks;
mod withdrawals;
mod work;

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use self::faults::{FaultKind, FaultMix};
use self::shared::{Config, Shared};
use self::webhooks::WebhookSettings;

/// Settings of a [`Sandbox`], started with [`SandboxBuilder::start`].
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    token: String,
    processing_time: Duration,
    sync_window: Duration,
    async_lifetime: Duration,
    force_async_first: usize,
    user_info_bare: bool,
    webhook: Option<WebhookSettings>,
    webhook_duplicates: bool,
    fault_mix: Option<FaultMix>,
    clock_offset: time::Duration,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        SandboxBuilder {
            token: "sandbox-token".into(),
            processing_time: Duration::ZERO,
            sync_window: Duration::from_secs(10),
            async_lifetime: Duration::from_secs(5 * 60),
            force_async_first: 0,
            user_info_bare: false,
            webhook: None,
            webhook_duplicates: false,
            fault_mix: None,
            clock_offset: time::Duration::ZERO,
        }
    }
}

impl SandboxBuilder {
    /// Sets the bearer token the API listener accepts. Default: `"sandbox-token"`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// Sets how long after its creation a job is performed. Default: zero.
    ///
    /// [`Sandbox::set_processing_time`] changes it for later jobs.
    pub fn processing_time(mut self, duration: Duration) -> Self {
        self.processing_time = duration;
        self
    }

    /// Sets how long an auto or sync call waits for its job before responding. Default: 10 s.
    pub fn sync_window(mut self, duration: Duration) -> Self {
        self.sync_window = duration;
        self
    }

    /// Sets how long after its creation an unfinished job expires; it is then dropped and
    /// creates nothing. It is also the offset of the async envelope's `expiration`.
    /// Default: 5 minutes.
    pub fn async_lifetime(mut self, duration: Duration) -> Self {
        self.async_lifetime = duration;
        self
    }

    /// Makes the first `count` API responses of every nonce the async envelope, in every mode
    /// and whatever the job's state. The job still runs, and a sync call forced this way is
    /// not discarded. Default: 0.
    pub fn force_async_first(mut self, count: usize) -> Self {
        self.force_async_first = count;
        self
    }

    /// Makes the sync `user-info` response the bare object, without the
    /// `{"response": ..., "async": false}` envelope, because the real API's documentation shows
    /// both shapes. Errors and urlResponse results are unchanged. Default: false.
    pub fn user_info_bare(mut self, bare: bool) -> Self {
        self.user_info_bare = bare;
        self
    }

    /// Sets where webhooks go and the secret they carry as `Authorization: Basic <secret>`
    /// (verbatim, not base64, as Eulen sends it). Default: no webhooks.
    ///
    /// The URL must be `http://127.0.0.1:<port>/<path>` or `http://localhost:<port>/<path>`,
    /// else [`SandboxBuilder::start`] fails, so a test cannot make the sandbox reach another
    /// host. `localhost` is mapped to 127.0.0.1 without a name lookup. The test controls
    /// that change a deposit or withdrawal (such as [`Sandbox::pay_deposit`]) deliver
    /// synchronously, within 15 s, and record every attempt in
    /// [`Sandbox::webhook_deliveries`]. A failed delivery is not retried.
    pub fn webhook(mut self, url: impl Into<String>, secret: impl Into<String>) -> Self {
        self.webhook = Some(WebhookSettings {
            url: url.into(),
            secret: secret.into(),
        });
        self
    }

    /// Sends every webhook twice in a row, as a real provider may, so tests can check that
    /// the receiver ignores duplicates. Both attempts are recorded. Default: false.
    pub fn webhook_duplicates(mut self, duplicates: bool) -> Self {
        self.webhook_duplicates = duplicates;
        self
    }

    /// Injects random faults into API requests that find no scripted action queued, as
    /// [`FaultMix`] describes. Default: no fault mix.
    pub fn fault_mix(mut self, mix: FaultMix) -> Self {
        self.fault_mix = Some(mix);
        self
    }

    /// Shifts the sandbox's wall clock by `offset`, to simulate a server clock ahead
    /// (positive) or behind (negative). Default: zero.
    ///
    /// Every wall-clock time the sandbox writes or stores uses the real UTC time plus the
    /// offset: the `Date` header, the async envelope's `expiration`, the creation time and
    /// `expiration` of deposits (so the `deposits` list filters on shifted times), the
    /// `expiration` of withdrawals, and the times in ping claims, user-info, `bankTxId` and
    /// MED webhooks. Deadlines (processing time, sync window, async lifetime) run on the
    /// monotonic clock and do not move. [`Sandbox::set_clock_offset`] changes it later.
    ///
    /// # Panics
    ///
    /// [`SandboxBuilder::start`] panics if the current time plus `offset` is outside the
    /// years -9999 to 9999.
    pub fn clock_offset(mut self, offset: time::Duration) -> Self {
        self.clock_offset = offset;
        self
    }

    /// Binds both listeners on `127.0.0.1` and starts serving.
    ///
    /// # Errors
    ///
    /// Returns an error of kind [`io::ErrorKind::InvalidInput`] for a webhook URL that is not
    /// on loopback or a webhook secret with control characters, checked before anything is
    /// bound or sent. Otherwise returns the error of binding a listener or of spawning a
    /// thread.
    pub fn start(self) -> io::Result<Sandbox> {
        let webhook = self
            .webhook
            .as_ref()
            .map(webhooks::parse_target)
            .transpose()?;
        let api = TcpListener::bind("127.0.0.1:0")?;
        let results = TcpListener::bind("127.0.0.1:0")?;
        let api_addr = api.local_addr()?;
        let results_addr = results.local_addr()?;

        let config = Config {
            token: self.token.clone(),
            sync_window: self.sync_window,
            async_lifetime: self.async_lifetime,
            force_async_first: self.force_async_first,
            user_info_bare: self.user_info_bare,
            webhook,
            webhook_duplicates: self.webhook_duplicates,
            result_origin: format!("http://{results_addr}"),
            signature: format::random_hex32(),
        };

        let shared = Arc::new(Shared::new(config, self.processing_time));
        shared.set_fault_mix(self.fault_mix);
        shared.set_clock_offset(self.clock_offset);
        let mut sandbox = Sandbox {
            shared: Arc::clone(&shared),
            token: self.token,
            api_addr,
            results_addr,
            threads: Vec::new(),
        };

        // Pushing one by one means a failed spawn still stops the threads already started,
        // because dropping `sandbox` shuts them down.
        sandbox
            .threads
            .push(server::spawn_scheduler(Arc::clone(&shared))?);
        let api_loop = server::spawn_accept_loop(Arc::clone(&shared), api, Listener::Api)?;
        sandbox.threads.push(api_loop);
        let results_loop = server::spawn_accept_loop(shared, results, Listener::Results)?;
        sandbox.threads.push(results_loop);
        log::debug!("sandbox started: API on {api_addr}, results on {results_addr}");
        Ok(sandbox)
    }
}

/// A running sandbox. Dropping it closes both listeners and every connection, and joins
/// its threads.
pub struct Sandbox {
    shared: Arc<Shared>,
    token: String,
    api_addr: SocketAddr,
    results_addr: SocketAddr,
    threads: Vec<JoinHandle<()>>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url())
            .field("result_origin", &self.result_origin())
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Returns a builder with the default settings.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// Starts a sandbox with the default settings of [`SandboxBuilder`].
    ///
    /// # Errors
    ///
    /// Returns the error of binding a listener or of spawning a thread.
    pub fn start() -> io::Result<Sandbox> {
        SandboxBuilder::default().start()
    }

    /// Returns the API's base URL, `http://127.0.0.1:<port>/api/`, with a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/", self.api_addr)
    }

    /// Returns the origin of the results listener, `http://127.0.0.1:<port>`, which serves
    /// `urlResponse` results and QR images.
    pub fn result_origin(&self) -> String {
        format!("http://{}", self.results_addr)
    }

    /// Returns the bearer token the API listener accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Sets the processing time of jobs created from now on; existing jobs keep theirs.
    pub fn set_processing_time(&self, duration: Duration) {
        self.shared.state().processing_time = duration;
    }

    /// Makes the next `count` API responses for this nonce the async envelope. The job still
    /// runs. Replaces any count left by an earlier call for the same nonce.
    pub fn force_async(&self, nonce: &str, count: usize) {
        self.shared.state().jobs.force_async(nonce, count);
    }

    /// Queues an action for the API listener. Actions apply in FIFO order, one per request,
    /// before the bearer check.
    pub fn push_action(&self, action: Action) {
        self.shared.push_action(Listener::Api, action);
    }

    /// Queues an action for the next request on the results listener, as
    /// [`Sandbox::push_action`] does for the API listener.
    pub fn push_result_action(&self, action: Action) {
        self.shared.push_action(Listener::Results, action);
    }

    /// Sets the offset of the sandbox's wall clock, as [`SandboxBuilder::clock_offset`]
    /// describes, from now on. Times already stored keep the offset they were made with,
    /// as a real server's records do when its clock is corrected: a job's envelope
    /// `expiration` and a deposit's `expiration`, for example.
    ///
    /// # Panics
    ///
    /// Panics if the current time plus `offset` is outside the years -9999 to 9999.
    pub fn set_clock_offset(&self, offset: time::Duration) {
        self.shared.set_clock_offset(offset);
    }

    /// Replaces the fault mix, or removes it with `None`. A new mix restarts its generator
    /// from its seed, and the counts of [`Sandbox::fault_counts`] keep growing.
    pub fn set_fault_mix(&self, mix: Option<FaultMix>) {
        self.shared.set_fault_mix(mix);
    }

    /// Returns how many faults of every kind the fault mix injected since the sandbox
    /// started, in [`FaultKind::ALL`] order, kinds never injected included with 0.
    ///
    /// A fault is counted when drawn, even when it has no effect on that request: for
    /// example [`FaultKind::ForcedAsync`] on a request rejected before its job is created.
    /// Scripted actions are not counted.
    pub fn fault_counts(&self) -> Vec<(FaultKind, u64)> {
        self.shared.fault_counts()
    }

    /// Returns every request read on both listeners, in arrival order.
    ///
    /// A request is recorded once fully read, before any action applies. Requests that
    /// could not be parsed, or that exceed the size limits, are not recorded.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.records()
    }

    /// Returns every created deposit, in creation order, after performing the jobs whose
    /// processing time has passed.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.shared.state().ledger.entries().to_vec()
    }

    /// Shallow-merges the keys of a JSON object into a deposit's status object, as later
    /// `deposit-status` calls return it. A `null` value sets the key to `null`; use
    /// [`Sandbox::remove_deposit_field`] to delete a key.
    ///
    /// # Panics
    ///
    /// Panics if no deposit has this id, or if `fields` is not a JSON object.
    pub fn update_deposit(&self, id: &str, fields: serde_json::Value) {
        let serde_json::Value::Object(fields) = fields else {
            panic!("update_deposit expects a JSON object, got {fields}");
        };
        let mut state = self.shared.state();
        let status = state
            .ledger
            .status_mut(id)
            .unwrap_or_else(|| panic!("update_deposit: no deposit with id {id:?}"));
        status.extend(fields);
    }

    /// Deletes one key from a deposit's status object; deleting a missing key does nothing.
    ///
    /// # Panics
    ///
    /// Panics if no deposit has this id.
    pub fn remove_deposit_field(&self, id: &str, key: &str) {
        let mut state = self.shared.state();
        let status = state
            .ledger
            .status_mut(id)
            .unwrap_or_else(|| panic!("remove_deposit_field: no deposit with id {id:?}"));
        status.remove(key);
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shared.begin_shutdown();
        // A connection wakes each accept loop, which then reads the flag and returns.
        for addr in [self.api_addr, self.results_addr] {
            let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        for thread in self.shared.take_connection_threads() {
            let _ = thread.join();
        }
        log::debug!("sandbox on {} stopped", self.api_addr);
    }
}

/// A scripted behaviour for one request, queued with [`Sandbox::push_action`] or
/// [`Sandbox::push_result_action`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Respond with this status, headers and body, and do nothing else (no job created).
    /// `Content-Length` is added unless given.
    Respond {
        /// HTTP status code.
        status: u16,
        /// Headers, written as given.
        headers: Vec<(String, String)>,
        /// Body bytes.
        body: Vec<u8>,
    },
    /// Create or advance the job as usual (the work is done if it completes within the
    /// call), then close the TCP connection without writing a response.
    ProcessThenClose,
    /// Handle the request as usual, then send this response instead of the real one.
    ProcessThenRespond {
        /// HTTP status code.
        status: u16,
        /// Headers, written as given.
        headers: Vec<(String, String)>,
        /// Body bytes.
        body: Vec<u8>,
    },
    /// Close the connection without handling or responding to the request.
    Close,
    /// Wait this long, then handle the request as usual; shutdown cuts the wait short.
    Delay(Duration),
    /// Handle the request as usual (the work is done if it completes within the call), write
    /// the response head with the full `Content-Length` and the first `after` bytes of the
    /// body, then close the connection.
    ///
    /// `after` is capped at one byte short of the body, so the body is always incomplete;
    /// with an empty body only the head is written. Std cannot set `SO_LINGER` to 0
    /// (`TcpStream::set_linger` is unstable), so the sandbox shuts the socket down and closes
    /// it, which sends a FIN, not an RST. A client sees the connection end before
    /// `Content-Length` bytes arrived, exactly as with
    /// [`Action::ProcessThenRespondTruncated`].
    ResetMidBody {
        /// Body bytes written before closing.
        after: usize,
    },
    /// Handle the request as usual, then wait this long before writing anything, so a
    /// client's response-header timeout can fire. Shutdown cuts the wait short and closes the
    /// connection without a response.
    DelayHeaders(Duration),
    /// Handle the request as usual, then write the whole response, head included, in
    /// `chunk`-byte pieces with `every` between them. A `chunk` of 0 is taken as 1. Shutdown
    /// stops the writing and closes the connection.
    Trickle {
        /// Bytes per piece.
        chunk: usize,
        /// Pause between two pieces.
        every: Duration,
    },
    /// Neither handle nor respond to the request, read nothing more and keep the connection
    /// open until the sandbox shuts down: the client's call hangs. The request is recorded,
    /// because it was read before the action applied, but no job is created. The 30 s idle
    /// timeout does not apply.
    BlackHole,
    /// Handle the request as usual, write the response head with the full `Content-Length`
    /// and only the first `cut` bytes of the body, then close the connection, so a JSON body
    /// is truncated. `cut` is capped at one byte short of the body, as for
    /// [`Action::ResetMidBody`].
    ProcessThenRespondTruncated {
        /// Body bytes written before closing.
        cut: usize,
    },
    /// Handle the request as usual, but send this value as the response's `X-Nonce` instead
    /// of the request's nonce. It is written as given, so a value with CR or LF breaks the
    /// response. On the results listener, whose responses carry no `X-Nonce`, the header is
    /// added.
    WrongNonceEcho(String),
    /// Handle the request as usual, but send the response without an `X-Nonce` header.
    NoNonceEcho,
    /// Handle the request as usual and respond to it, then close the connection unless the next
    /// request starts arriving within this duration, as a server or proxy that drops idle
    /// keep-alive connections early does. With zero, the connection closes right after the
    /// response unless a pipelined request is already buffered.
    ///
    /// A client fails only if it sends on the pooled connection before it notices the
    /// close. ureq 3.5.2 notices it: after a close of a limit of 0 or 50 ms, its next
    /// request went out on a new connection and succeeded. To make the next request on a
    /// pooled connection fail every time, queue [`Action::Close`] for it instead, which
    /// ureq 3.5.2 reports as an `UnexpectedEof` I/O error without retrying, GET or POST.
    CloseIdleAfter(Duration),
    /// Respond with this status and a JSON-looking body of exactly `bytes` bytes, and do
    /// nothing else (no job created). Built by [`Action::oversized`], which documents the
    /// body. The body is written in pieces of at most 64 KiB, so it is never held in memory.
    Oversized {
        /// HTTP status code.
        status: u16,
        /// Body length in bytes.
        bytes: usize,
    },
}

impl Action {
    /// Builds a [`Action::Respond`] with a JSON body and `Content-Type: application/json`.
    pub fn json(status: u16, body: serde_json::Value) -> Action {
        Action::Respond {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::to_vec(&body).expect("serializing a JSON value cannot fail"),
        }
    }
}

/// One of the sandbox's two listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// The API listener, under [`Sandbox::base_url`].
    Api,
    /// The listener of `urlResponse` results and QR images, at [`Sandbox::result_origin`].
    Results,
}

/// One request as the sandbox read it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The listener that received it.
    pub listener: Listener,
    /// Id of its TCP connection, counted from 1 across both listeners, so tests can check
    /// keep-alive reuse.
    pub connection: u64,
    /// Request method, e.g. `POST`.
    pub method: String,
    /// Request target as sent: the path and any query string.
    pub path: String,
    /// Headers with lower-cased names, in the order received.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// Returns the first value of a header, matching the name case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// One deposit, created by a `POST /api/deposit` job or by [`Sandbox::insert_deposit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Deposit id: 32 lowercase hex digits.
    pub id: String,
    /// `X-Nonce` of the job that created it, or `""` for [`Sandbox::insert_deposit`].
    pub nonce: String,
    /// `amountInCents` of the request, or the amount given to [`Sandbox::insert_deposit`].
    pub amount_in_cents: i64,
    /// Body of the request, as sent; empty for [`Sandbox::insert_deposit`].
    pub request_body: Vec<u8>,
}

/// One withdrawal created by a `POST /api/withdraw` job.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WithdrawalEntry {
    /// Withdrawal id (`withdrawalId`): 32 lowercase hex digits.
    pub id: String,
    /// `X-Nonce` of the job that created it.
    pub nonce: String,
    /// `pixKey` of the request.
    pub pix_key: String,
    /// DePix amount the user must send, in cents, fee included.
    pub deposit_amount_in_cents: i64,
    /// BRL amount paid out to the Pix key, in cents.
    pub payout_amount_in_cents: i64,
    /// Body of the request, as sent.
    pub request_body: Vec<u8>,
}

/// The type of a webhook, sent as its `webhookType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookKind {
    /// `deposit`: a deposit's status changed.
    Deposit,
    /// `withdraw`: a withdrawal's status changed.
    Withdraw,
    /// `med`: a payer disputed a paid deposit (MED, the Pix special return mechanism).
    Med,
}

impl WebhookKind {
    /// Returns the `webhookType` value: `"deposit"`, `"withdraw"` or `"med"`.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Deposit => "deposit",
            WebhookKind::Withdraw => "withdraw",
            WebhookKind::Med => "med",
        }
    }
}

/// One webhook delivery attempt, as [`Sandbox::webhook_deliveries`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The webhook's type.
    pub kind: WebhookKind,
    /// JSON body as sent.
    pub body: Vec<u8>,
    /// HTTP status of the receiver's response, or `None` when connecting, sending or reading
    /// the status line failed or timed out.
    pub status: Option<u16>,
}
