//! The blocking client: the only place that performs I/O.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::call::{Call, Completed, Method, Pending, Request, Response};
use crate::config::{ClientBuilder, ProxyChoice, is_loopback_url, is_safe_fetch_url};
use crate::envelope::{self, AsyncReply, Outcome, RawAnswer};
use crate::error::{Error, Result};
use crate::mode::Mode;
use crate::nonce::Nonce;
use crate::retry::{Decision, GiveUp, Observation, RetryPolicy, RetryState};
use crate::secret::ResultUrl;

/// A blocking client for the Pix2DePix API.
///
/// Cheap to clone (an `Arc`), `Send` and `Sync`; clones share one HTTP agent, so sequential
/// calls reuse the same connection.
///
/// ```no_run
/// let client = depix::Client::from_env()?;
/// let pong = client.ping()?;
/// println!("{}", pong.msg);
/// # Ok::<(), depix::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    agent: ureq::Agent,
    base_url: String,
    /// `Bearer <token>`; never printed.
    authorization: String,
    mode: Mode,
    retry: RetryPolicy,
    max_body_size: u64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("mode", &self.inner.mode)
            .field("token", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// Result of one HTTP exchange, before decoding.
enum Exchange {
    Answer { answer: RawAnswer, held: Duration },
    TooLarge { status: u16 },
    Transport { message: String, maybe_sent: bool },
}

/// The next request of a driven call.
#[derive(Clone, Copy, PartialEq)]
enum Step {
    Send,
    Poll,
}

impl Client {
    /// Returns a builder with every default in place.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Builds a client from the environment: `DEPIX_TOKEN` (required) and `DEPIX_BASE_URL`
    /// (optional, default `https://depix.eulen.app/api/`).
    pub fn from_env() -> Result<Client> {
        let token = std::env::var("DEPIX_TOKEN").map_err(|_| Error::Config {
            reason: "DEPIX_TOKEN is not set".to_owned(),
        })?;
        let mut builder = Client::builder().token(token);
        if let Ok(url) = std::env::var("DEPIX_BASE_URL") {
            builder = builder.base_url(url);
        }
        builder.build()
    }

    pub(crate) fn from_builder(builder: ClientBuilder) -> Result<Client> {
        let base_url = builder.checked_base_url()?;
        let authorization = format!("Bearer {}", builder.checked_token()?.expose());
        builder.check_timeouts()?;
        let tls = builder.tls_config()?;
        let proxy = match &builder.proxy {
            // A loopback API (the sandbox) is never reached through a proxy.
            ProxyChoice::FromEnvironment if is_loopback_url(&base_url) => None,
            ProxyChoice::FromEnvironment => ureq::Proxy::try_from_env(),
            ProxyChoice::Direct => None,
            ProxyChoice::Url(url) => {
                Some(ureq::Proxy::new(url).map_err(|error| Error::Config {
                    reason: format!("invalid proxy URL: {error}"),
                })?)
            }
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .max_redirects(0)
            .user_agent(builder.user_agent.as_str())
            .accept("application/json")
            .proxy(proxy)
            .timeout_connect(Some(builder.connect_timeout))
            .timeout_send_request(Some(builder.send_timeout))
            .timeout_send_body(Some(builder.send_timeout))
            .timeout_recv_response(Some(builder.response_timeout))
            .timeout_recv_body(Some(builder.body_timeout))
            .build()
            .into();
        Ok(Client {
            inner: Arc::new(Inner {
                agent,
                base_url,
                authorization,
                mode: builder.mode,
                retry: builder.retry,
                max_body_size: builder.max_body_size,
            }),
        })
    }

    /// Returns the base URL every call is sent to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Returns the mode used by driven calls.
    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// Sends one exchange in `mode` and returns the result, or a
    /// [`Pending`] to finish with [`Client::wait`]. Nothing is retried.
    pub fn send<T: DeserializeOwned>(&self, call: &Call<T>, mode: Mode) -> Result<Response<T>> {
        let request = call.request();
        let exchange = self.exchange(request, mode, None);
        match self.classify::<T>(request, mode, Step::Send, exchange, Instant::now()) {
            Classified::Ready(value) => Ok(Response::Ready(value)),
            Classified::Pending { pending, .. } => Ok(Response::Pending(pending)),
            Classified::Retry { error, .. } | Classified::Fatal(error) => Err(error),
            Classified::NotReady => Err(Error::Decode {
                status: 404,
                content_type: None,
                snippet: String::new(),
                reason: "the API answered as if it were a urlResponse host".to_owned(),
                request_id: None,
                nonce: request.nonce().clone(),
            }),
        }
    }

    /// Drives a call to its result in the client's mode: re-sends with the same nonce and
    /// body while the server reports the work as pending, retries transient failures, and stops at the
    /// earliest of the server's `expiration`, the policy's deadline and its retry budget.
    pub fn execute<T: DeserializeOwned>(&self, call: &Call<T>) -> Result<Completed<T>> {
        let policy = self.inner.retry.clone();
        let write = call.request().method() == Method::Post;
        let state = RetryState::new(policy, Instant::now(), random_seed()).for_write(write);
        self.drive(call.request(), self.inner.mode, state, None, None)
    }

    /// Finishes a pending call: re-sends it with its nonce in auto mode, or polls its
    /// `urlResponse` without credentials, as the retry policy's
    /// [`WaitStrategy`](crate::WaitStrategy) selects. Works on a [`Pending`] deserialised in
    /// another process.
    pub fn wait<T: DeserializeOwned>(&self, pending: &Pending<T>) -> Result<Completed<T>> {
        let now = Instant::now();
        let expires_at = pending.expires_at().or_else(|| {
            pending
                .expiration()
                .map(|at| envelope::expiry_instant(at, None, OffsetDateTime::now_utc(), now))
        });
        let url = pending
            .url_response()
            .filter(|url| is_safe_fetch_url(url.as_str()))
            .cloned();
        let policy = self.inner.retry.clone();
        let write = pending.request().method() == Method::Post;
        let state = RetryState::resume(policy, now, random_seed(), expires_at, url.is_some())
            .for_write(write);
        let expiration = pending.expiration_raw().map(str::to_owned);
        log::debug!(
            "depix: nonce {} resuming a pending call by {:?}",
            pending.nonce(),
            state.first_decision()
        );
        self.drive(pending.request(), Mode::Auto, state, url, expiration)
    }

    /// Runs the retry loop from a prepared state.
    fn drive<T: DeserializeOwned>(
        &self,
        request: &Request,
        first_mode: Mode,
        mut state: RetryState,
        mut url: Option<ResultUrl>,
        mut expiration: Option<String>,
    ) -> Result<Completed<T>> {
        let nonce = request.nonce();
        let mut mode = first_mode;
        let mut decision = if state.is_pending() {
            state.first_decision()
        } else {
            Decision::Resend {
                after: Duration::ZERO,
            }
        };
        let mut last_error: Option<Error> = None;
        let mut handled = HandledErrors::default();
        loop {
            let step = match decision {
                Decision::Done => unreachable!("Done is returned before the loop continues"),
                Decision::Resend { after } => {
                    pause(after);
                    Step::Send
                }
                Decision::Poll { after } => {
                    pause(after);
                    Step::Poll
                }
                Decision::GiveUp(reason) => {
                    handled.flush(nonce);
                    let error = give_up_error(reason, nonce, &state, last_error, url, expiration);
                    log::info!(
                        "depix: nonce {nonce} gave up after {} attempts ({reason:?}): {error}",
                        state.attempts()
                    );
                    return Err(error);
                }
            };
            let time_left = state.time_left(Instant::now());
            let exchange = match (step, &url) {
                (Step::Poll, Some(target)) => self.fetch(target, time_left),
                _ => self.exchange(request, mode, time_left),
            };
            let now = Instant::now();
            let observation = match self.classify::<T>(request, mode, step, exchange, now) {
                Classified::Ready(value) => {
                    handled.flush(nonce);
                    state.observe(now, Observation::Ready);
                    return Ok(Completed {
                        value,
                        nonce: nonce.clone(),
                        attempts: state.attempts(),
                        was_pending: state.is_pending(),
                    });
                }
                Classified::Pending { pending, held } => {
                    mode = Mode::Auto;
                    if let Some(found) = pending.url_response() {
                        if is_safe_fetch_url(found.as_str()) {
                            url = Some(found.clone());
                        }
                    }
                    // The first expiration bounds the call, so it is the one errors report.
                    if expiration.is_none() {
                        expiration = pending.expiration_raw().map(str::to_owned);
                    }
                    Observation::Pending {
                        held,
                        expires_at: pending.expires_at(),
                        has_url: url.is_some(),
                    }
                }
                Classified::NotReady => Observation::NotReady,
                Classified::Retry { observation, error } => {
                    handled.record(nonce, state.attempts() + 1, &error);
                    last_error = Some(error);
                    observation
                }
                Classified::Fatal(error) => {
                    last_error = Some(error);
                    Observation::Fatal
                }
            };
            decision = state.observe(now, observation);
            log_decision(nonce, state.attempts(), &observation, &decision);
        }
    }

    /// Sends one request to the API origin with its nonce, mode and token. `time_left` caps
    /// the whole exchange, so no attempt outlives the call's deadline or expiration.
    fn exchange(&self, request: &Request, mode: Mode, time_left: Option<Duration>) -> Exchange {
        let url = format!("{}{}", self.inner.base_url, request.path());
        let agent = &self.inner.agent;
        let started = Instant::now();
        let result = match request.method() {
            Method::Post => {
                let mut builder = agent
                    .post(&url)
                    .header("Authorization", &self.inner.authorization)
                    .header("X-Nonce", request.nonce().as_str())
                    .header("X-Async", mode.header_value())
                    .header("Content-Type", "application/json");
                if let Some(limit) = time_left {
                    builder = builder.config().timeout_global(Some(limit)).build();
                }
                builder.send(request.body().unwrap_or("").as_bytes())
            }
            Method::Get => {
                let mut builder = agent
                    .get(&url)
                    .header("Authorization", &self.inner.authorization)
                    .header("X-Nonce", request.nonce().as_str())
                    .header("X-Async", mode.header_value());
                if let Some(limit) = time_left {
                    builder = builder.config().timeout_global(Some(limit)).build();
                }
                builder.call()
            }
        };
        let target = || format!("{} {url}", request.method().as_str());
        self.read_answer(target, result, started)
    }

    /// GETs a `urlResponse` without credentials, since it is another origin.
    fn fetch(&self, url: &ResultUrl, time_left: Option<Duration>) -> Exchange {
        let started = Instant::now();
        let result = self
            .inner
            .agent
            .get(url.as_str())
            .config()
            .max_redirects(3)
            .timeout_global(time_left)
            .build()
            .call();
        self.read_answer(|| format!("GET {url}"), result, started)
    }

    /// Reads status, headers and a size-limited body; `target` names the request in errors.
    fn read_answer(
        &self,
        target: impl Fn() -> String,
        result: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        started: Instant,
    ) -> Exchange {
        let mut response = match result {
            Ok(response) => response,
            Err(error) => return transport(&error, &target()),
        };
        let held = started.elapsed();
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let mut answer = RawAnswer {
            status,
            content_type: header("content-type"),
            request_id: header("x-request-id"),
            retry_after: header("retry-after"),
            date: header("date"),
            nonce: header("x-nonce"),
            body: Vec::new(),
        };
        let read = response
            .body_mut()
            .with_config()
            .limit(self.inner.max_body_size)
            .read_to_vec();
        match read {
            Ok(body) => answer.body = body,
            Err(ureq::Error::BodyExceedsLimit(_)) => return Exchange::TooLarge { status },
            Err(error) => {
                return Exchange::Transport {
                    message: format!("{}: reading the response body failed: {error}", target()),
                    maybe_sent: true,
                };
            }
        }
        Exchange::Answer { answer, held }
    }

    /// Turns one exchange into a result, a pending handle or a retry signal with its error.
    fn classify<T: DeserializeOwned>(
        &self,
        request: &Request,
        mode: Mode,
        step: Step,
        exchange: Exchange,
        now: Instant,
    ) -> Classified<T> {
        let nonce = request.nonce();
        let (answer, held) = match exchange {
            Exchange::Answer { answer, held } => (answer, held),
            Exchange::TooLarge { status } => {
                return Classified::Fatal(Error::BodyTooLarge {
                    limit: self.inner.max_body_size,
                    status,
                    nonce: nonce.clone(),
                });
            }
            Exchange::Transport {
                message,
                maybe_sent,
            } => {
                let observation = if maybe_sent {
                    Observation::TransportMaybeSent
                } else {
                    Observation::TransportNotSent
                };
                let error = Error::Transport {
                    message,
                    maybe_sent,
                    nonce: nonce.clone(),
                };
                return Classified::Retry { observation, error };
            }
        };
        if step == Step::Send {
            if let Some(echo) = answer
                .nonce
                .as_deref()
                .filter(|echo| *echo != nonce.as_str())
            {
                // The response belongs to another request (a cache or proxy mixed them up), so
                // it must not be taken as this call's result; the same nonce is tried again.
                let reason = format!("the answer's X-Nonce {echo:?} is not this call's nonce");
                return Classified::Retry {
                    observation: Observation::Unavailable { retry_after: None },
                    error: decode_error(&answer, reason, nonce.clone()),
                };
            }
        }
        let outcome = match step {
            Step::Send => envelope::decode_api::<T>(&answer),
            Step::Poll => envelope::decode_result::<T>(&answer),
        };
        classify_outcome(outcome, &answer, held, mode, step, request, now)
    }
}

/// Logs the errors a call retries: the first of a kind once, at warn level, and later
/// identical ones only as a count.
#[derive(Default)]
struct HandledErrors {
    last: Option<String>,
    repeats: u32,
}

impl HandledErrors {
    fn record(&mut self, nonce: &Nonce, attempt: u32, error: &Error) {
        let text = error.to_string();
        if self.last.as_deref() == Some(text.as_str()) {
            self.repeats += 1;
            return;
        }
        self.flush(nonce);
        log::warn!("depix: nonce {nonce} attempt {attempt} failed, retrying: {text}");
        self.last = Some(text);
    }

    /// Logs how often the last error repeated, if it did.
    fn flush(&mut self, nonce: &Nonce) {
        if self.repeats > 0 {
            log::warn!(
                "depix: nonce {nonce}: the previous error repeated {} more times",
                self.repeats
            );
        }
        self.repeats = 0;
        self.last = None;
    }
}

/// One exchange seen through the retry rules.
enum Classified<T> {
    Ready(T),
    Pending {
        pending: Pending<T>,
        held: Duration,
    },
    NotReady,
    Retry {
        observation: Observation,
        error: Error,
    },
    Fatal(Error),
}

/// Maps a decoded outcome to a retry observation and, for failures, the caller's error.
fn classify_outcome<T>(
    outcome: Outcome<T>,
    answer: &RawAnswer,
    held: Duration,
    mode: Mode,
    step: Step,
    request: &Request,
    now: Instant,
) -> Classified<T> {
    let nonce = request.nonce().clone();
    let request_id = answer.request_id.clone();
    match outcome {
        Outcome::Ready(value) => Classified::Ready(value),
        Outcome::Pending(reply) => Classified::Pending {
            pending: pending_from_reply(request, reply, answer, now),
            held,
        },
        Outcome::NotReady { .. } => Classified::NotReady,
        Outcome::Api { status, message } => Classified::Fatal(Error::Api {
            status,
            message,
            request_id,
            nonce,
        }),
        Outcome::Unavailable {
            status: 503,
            message,
            ..
        } if mode == Mode::Sync && step == Step::Send => Classified::Fatal(Error::SyncTimeout {
            message,
            request_id,
            nonce,
        }),
        Outcome::Unavailable {
            status,
            message,
            retry_after,
        } => {
            let retry_after = parse_retry_after(retry_after.as_deref());
            let error = match message {
                Some(message) => Error::Api {
                    status,
                    message: Some(message),
                    request_id,
                    nonce,
                },
                None if retry_after.is_some() => Error::RateLimited {
                    status,
                    retry_after,
                    message: None,
                    request_id,
                    nonce,
                },
                None => decode_error(
                    answer,
                    format!("HTTP {status} with a body that is not an API envelope"),
                    nonce,
                ),
            };
            Classified::Retry {
                observation: Observation::Unavailable { retry_after },
                error,
            }
        }
        Outcome::RateLimited {
            status,
            message,
            retry_after,
        } => {
            let retry_after = parse_retry_after(retry_after.as_deref());
            Classified::Retry {
                observation: Observation::RateLimited { retry_after },
                error: Error::RateLimited {
                    status,
                    retry_after,
                    message,
                    request_id,
                    nonce,
                },
            }
        }
        Outcome::Decode { reason, .. } => Classified::Fatal(decode_error(answer, reason, nonce)),
    }
}

fn decode_error(answer: &RawAnswer, reason: String, nonce: Nonce) -> Error {
    Error::Decode {
        status: answer.status,
        content_type: answer.content_type.clone(),
        snippet: envelope::snippet(&answer.body),
        reason,
        request_id: answer.request_id.clone(),
        nonce,
    }
}

fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value.and_then(|value| envelope::parse_retry_after(value, OffsetDateTime::now_utc()))
}

/// Builds a [`Pending`] and pins its expiration to the monotonic clock, measured against the
/// answer's `Date` header.
fn pending_from_reply<T>(
    request: &Request,
    reply: AsyncReply,
    answer: &RawAnswer,
    now: Instant,
) -> Pending<T> {
    let server_date = answer.date.as_deref().and_then(envelope::parse_http_date);
    let expires_at = reply
        .expiration
        .map(|at| envelope::expiry_instant(at, server_date, OffsetDateTime::now_utc(), now));
    Pending::new(
        request.clone(),
        reply.url_response,
        reply.expiration_raw,
        expires_at,
    )
}

/// Sorts a ureq failure into "not sent" (safe to repeat) or "maybe sent" (outcome unknown).
fn transport(error: &ureq::Error, target: &str) -> Exchange {
    use ureq::Timeout;
    let maybe_sent = match error {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::BadUri(_)
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::InvalidProxyUrl
        | ureq::Error::RequireHttpsOnly(_)
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => false,
        ureq::Error::Io(io) => !matches!(
            io.kind(),
            io::ErrorKind::ConnectionRefused
                | io::ErrorKind::AddrNotAvailable
                | io::ErrorKind::NotFound
        ),
        _ => true,
    };
    Exchange::Transport {
        message: format!("{target}: {error}"),
        maybe_sent,
    }
}

/// Builds the error a call ends with when the retry machine gives up.
fn give_up_error(
    reason: GiveUp,
    nonce: &Nonce,
    state: &RetryState,
    last_error: Option<Error>,
    url: Option<ResultUrl>,
    expiration: Option<String>,
) -> Error {
    let nonce = nonce.clone();
    let attempts = state.attempts();
    match reason {
        GiveUp::Expired => Error::Expired {
            nonce,
            url_response: url,
            expiration,
            attempts,
        },
        GiveUp::Deadline if state.maybe_sent() || last_error.is_none() => Error::DeadlineExceeded {
            nonce,
            url_response: url,
            attempts,
        },
        GiveUp::Budget if state.maybe_sent() => Error::OutcomeUnknown {
            nonce,
            attempts,
            last: last_error.map(Box::new),
        },
        GiveUp::RateLimited { retry_after } => match last_error {
            Some(
                Error::RateLimited {
                    status,
                    message,
                    request_id,
                    ..
                }
                | Error::Api {
                    status,
                    message,
                    request_id,
                    ..
                },
            ) => Error::RateLimited {
                status,
                retry_after: Some(retry_after),
                message,
                request_id,
                nonce,
            },
            _ => Error::RateLimited {
                status: 503,
                retry_after: Some(retry_after),
                message: None,
                request_id: None,
                nonce,
            },
        },
        GiveUp::Fatal | GiveUp::Deadline | GiveUp::Budget => {
            last_error.unwrap_or(Error::DeadlineExceeded {
                nonce,
                url_response: url,
                attempts,
            })
        }
    }
}

fn log_decision(nonce: &Nonce, attempt: u32, observation: &Observation, decision: &Decision) {
    match decision {
        Decision::Resend { after } => {
            log::debug!(
                "depix: nonce {nonce} attempt {attempt} saw {observation:?}; re-sending in {after:?}"
            );
        }
        Decision::Poll { after } => {
            log::debug!(
                "depix: nonce {nonce} attempt {attempt} saw {observation:?}; polling urlResponse in {after:?}"
            );
        }
        Decision::Done | Decision::GiveUp(_) => {}
    }
}

fn pause(wait: Duration) {
    if !wait.is_zero() {
        std::thread::sleep(wait);
    }
}

/// Seeds the jitter of one call from the operating system.
fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    // A failed read leaves zeros: the jitter is then only less varied, never unsafe.
    let _ = getrandom::getrandom(&mut bytes);
    u64::from_le_bytes(bytes)
}
