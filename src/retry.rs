//! The retry state machine: pure, with the clock passed in, so every transition is tested
//! without sockets or sleeps.
//!
//! The client reports each attempt's [`Observation`] and the current time. The machine
//! returns the next [`Decision`]: done, re-send the same request with the same nonce after a
//! delay, fetch `urlResponse` after a delay, or give up with a reason. It only schedules, so it
//! never changes the nonce or the body.
//!
//! Most callers need only [`RetryPolicy`] and [`WaitStrategy`]; [`RetryState`] is public for
//! callers who drive their own loop around [`Client::send`](crate::Client::send).

use std::time::{Duration, Instant};

/// Method used to finish a pending call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitStrategy {
    /// Re-send the same call with the same nonce in auto mode until the result is ready.
    /// The server holds each re-send for up to its sync window, so results arrive as soon as
    /// they exist. This is the default.
    #[default]
    Resend,
    /// GET `urlResponse` (without credentials) until the result appears. Falls back to
    /// re-sending when the server gave no `urlResponse`.
    Poll,
}

/// Knobs of the retry schedule. Every setter documents its default.
///
/// ```
/// use std::time::Duration;
/// use depix::RetryPolicy;
/// let policy = RetryPolicy::default()
///     .deadline(Some(Duration::from_secs(60)))
///     .max_error_retries(3);
/// # let _ = policy;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) max_error_retries: u32,
    pub(crate) floor: Duration,
    pub(crate) resend_initial: Duration,
    pub(crate) resend_max: Duration,
    pub(crate) poll_initial: Duration,
    pub(crate) poll_max: Duration,
    pub(crate) server_window: Duration,
    pub(crate) max_retry_after: Duration,
    pub(crate) deadline: Option<Duration>,
    pub(crate) default_lifetime: Duration,
    pub(crate) wait: WaitStrategy,
    pub(crate) repeat_unknown_writes: bool,
}

/// Growth factor of the re-send backoff.
const RESEND_FACTOR: f64 = 2.0;
/// Growth factor of the `urlResponse` polling backoff.
const POLL_FACTOR: f64 = 1.5;
/// Share of the server window after which a held re-send counts as a long poll.
const LONG_POLL_SHARE: f64 = 0.8;

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 100,
            max_error_retries: 5,
            floor: Duration::from_millis(100),
            resend_initial: Duration::from_millis(500),
            resend_max: Duration::from_secs(8),
            poll_initial: Duration::from_millis(250),
            poll_max: Duration::from_secs(5),
            server_window: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            deadline: None,
            default_lifetime: Duration::from_secs(300),
            wait: WaitStrategy::Resend,
            repeat_unknown_writes: true,
        }
    }
}

impl RetryPolicy {
    /// Sets the most HTTP attempts one call may make, polls included. Default 100.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets how many failed attempts in a row (transport error, 429, 502, 503, 504) are
    /// retried before the call gives up. Default 5.
    pub fn max_error_retries(mut self, retries: u32) -> Self {
        self.max_error_retries = retries;
        self
    }

    /// Sets the shortest wait between two attempts, except a re-send right after a long
    /// poll. Default 100 ms.
    pub fn floor(mut self, floor: Duration) -> Self {
        self.floor = floor;
        self
    }

    /// Sets the first and the largest re-send backoff; the wait doubles between them, with
    /// jitter. Defaults 500 ms and 8 s.
    pub fn resend_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.resend_initial = initial;
        self.resend_max = max.max(initial);
        self
    }

    /// Sets the first and the largest `urlResponse` polling backoff; the wait grows 1.5 times
    /// between them, with jitter. Defaults 250 ms and 5 s.
    pub fn poll_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.poll_initial = initial;
        self.poll_max = max.max(initial);
        self
    }

    /// Sets the server's sync window. A re-send the server held for at least 80 % of it is
    /// re-sent at once, because the server's wait already spaced the attempts. Default 10 s,
    /// the documented window.
    pub fn server_window(mut self, window: Duration) -> Self {
        self.server_window = window;
        self
    }

    /// Sets the longest `Retry-After` the client will sleep; a longer one ends the call with
    /// [`Error::RateLimited`](crate::Error::RateLimited) at once. Default 60 s.
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Sets the caller's deadline for one whole call, counted from its first attempt. With
    /// `None` the server's `expiration` and the retry budget are the only bounds. Default
    /// `None`.
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the lifetime assumed for pending work when the server sent no usable
    /// `expiration`. Default 5 min, the documented queue lifetime.
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// Sets how pending calls are finished. Default [`WaitStrategy::Resend`].
    pub fn wait_strategy(mut self, wait: WaitStrategy) -> Self {
        self.wait = wait;
        self
    }

    /// Sets whether a write (a `POST`, such as a deposit or a withdrawal) whose outcome is
    /// unknown may be sent again. Default `true`: the nonce makes the repeat safe on a server
    /// that honours `X-Nonce`.
    ///
    /// With `false`, a write is never re-sent once it may have reached the server: a
    /// transport failure after sending, or a 502, 503 or 504, ends the call with
    /// [`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown), and a pending call is
    /// finished only by polling `urlResponse`. Choose this when the server may ignore the
    /// nonce, and settle the unknown outcome by looking the write up
    /// ([`Client::find_deposits`](crate::Client::find_deposits)) before creating a new one.
    /// Failures before sending and HTTP 429 are still retried, since the server did no work.
    pub fn repeat_unknown_writes(mut self, repeat: bool) -> Self {
        self.repeat_unknown_writes = repeat;
        self
    }

    /// Returns the configured wait strategy.
    pub fn strategy(&self) -> WaitStrategy {
        self.wait
    }
}

/// Summary of one attempt's result, as the state machine needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// The result arrived.
    Ready,
    /// The server queued the work (`"async": true`).
    Pending {
        /// Time the server kept the request open before responding.
        held: Duration,
        /// The server's expiration on the local monotonic clock, if it sent a usable one.
        expires_at: Option<Instant>,
        /// Whether a `urlResponse` came with the answer.
        has_url: bool,
    },
    /// `urlResponse` does not hold the result yet.
    NotReady,
    /// HTTP 502, 503, 504 or 408: try again later.
    Unavailable {
        /// The parsed `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// HTTP 429.
    RateLimited {
        /// The parsed `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// The exchange failed before the request could reach the server (connection refused,
    /// name not resolved, connect timeout).
    TransportNotSent,
    /// The exchange failed after the request may have reached the server.
    TransportMaybeSent,
    /// A final answer that retrying cannot change (an API error, a body of the wrong shape).
    Fatal,
}

/// Next step after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The call is finished.
    Done,
    /// Send the same request again, same nonce and body, after this wait.
    Resend {
        /// Time to wait first.
        after: Duration,
    },
    /// GET `urlResponse` after this wait.
    Poll {
        /// Time to wait first.
        after: Duration,
    },
    /// Stop and report.
    GiveUp(GiveUp),
}

/// Reason the call stopped without a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// The last answer was final: report it as it is.
    Fatal,
    /// The server's expiration passed.
    Expired,
    /// The caller's deadline passed.
    Deadline,
    /// The attempt or error-retry budget is spent.
    Budget,
    /// The server asked for a wait longer than the policy or the time left allows.
    RateLimited {
        /// The wait the server asked for.
        retry_after: Duration,
    },
}

/// Kind of request the next attempt sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Send,
    Poll,
}

/// Progress of one call through its attempts.
#[derive(Debug, Clone)]
pub struct RetryState {
    policy: RetryPolicy,
    deadline: Option<Instant>,
    expires_at: Option<Instant>,
    attempts: u32,
    error_retries: u32,
    resend_step: u32,
    poll_step: u32,
    next: Action,
    pending: bool,
    has_url: bool,
    maybe_sent: bool,
    write: bool,
    rng: u64,
}

impl RetryState {
    /// Starts a call at `now`; `seed` feeds the jitter, so tests are repeatable.
    pub fn new(policy: RetryPolicy, now: Instant, seed: u64) -> RetryState {
        let deadline = policy.deadline.map(|d| now + d);
        RetryState {
            policy,
            deadline,
            expires_at: None,
            attempts: 0,
            error_retries: 0,
            resend_step: 0,
            poll_step: 0,
            next: Action::Send,
            pending: false,
            has_url: false,
            maybe_sent: false,
            write: false,
            rng: seed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// Starts from a pending answer already in hand (resuming a [`Pending`](crate::Pending)).
    pub fn resume(
        policy: RetryPolicy,
        now: Instant,
        seed: u64,
        expires_at: Option<Instant>,
        has_url: bool,
    ) -> RetryState {
        let mut state = RetryState::new(policy, now, seed);
        state.pending = true;
        state.maybe_sent = true;
        state.has_url = has_url;
        state.expires_at = Some(expires_at.unwrap_or(now + state.policy.default_lifetime));
        state.next = state.pending_action();
        state
    }

    /// Marks the call as a write, which [`RetryPolicy::repeat_unknown_writes`] governs.
    pub fn for_write(mut self, write: bool) -> RetryState {
        self.write = write;
        self.next = if self.pending {
            self.pending_action()
        } else {
            self.next
        };
        self
    }

    /// Returns the number of attempts observed so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Tells whether the server has queued the work (an async answer was seen).
    pub fn is_pending(&self) -> bool {
        self.pending
    }

    /// Tells whether any attempt may have reached the server.
    pub fn maybe_sent(&self) -> bool {
        self.maybe_sent
    }

    /// Returns the server's expiration on the local monotonic clock, once known.
    pub fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }

    /// Returns the time left before the earliest of deadline and expiration, if either is
    /// set; zero once it has passed.
    pub fn time_left(&self, now: Instant) -> Option<Duration> {
        self.limit()
            .0
            .map(|limit| limit.saturating_duration_since(now))
    }

    /// Returns the first step of a resumed call: re-send or poll, at once.
    pub fn first_decision(&self) -> Decision {
        if self.pending && self.next == Action::Send && !self.may_repeat_write() {
            return Decision::GiveUp(GiveUp::Budget);
        }
        match self.next {
            Action::Send => Decision::Resend {
                after: Duration::ZERO,
            },
            Action::Poll => Decision::Poll {
                after: Duration::ZERO,
            },
        }
    }

    /// Records what an attempt showed at `now` and decides the next step.
    pub fn observe(&mut self, now: Instant, observation: Observation) -> Decision {
        self.attempts += 1;
        let mut server_wait = None;
        let delay = match observation {
            Observation::Ready => return Decision::Done,
            Observation::Fatal => return Decision::GiveUp(GiveUp::Fatal),
            Observation::Pending {
                held,
                expires_at,
                has_url,
            } => {
                self.on_pending(now, expires_at, has_url);
                self.next = self.pending_action();
                if self.next == Action::Send && !self.may_repeat_write() {
                    return self.give_up_budget();
                }
                self.error_retries = 0;
                match self.next {
                    Action::Send if self.is_long_poll(held) => Duration::ZERO,
                    Action::Send => self.resend_backoff(),
                    Action::Poll => self.poll_backoff(),
                }
            }
            Observation::NotReady => {
                self.error_retries = 0;
                self.next = Action::Poll;
                self.poll_backoff()
            }
            Observation::Unavailable { .. } | Observation::TransportMaybeSent
                if self.next == Action::Send && !self.may_repeat_write() =>
            {
                self.maybe_sent = true;
                return self.give_up_budget();
            }
            Observation::Unavailable { retry_after } | Observation::RateLimited { retry_after } => {
                self.maybe_sent = true;
                server_wait = retry_after;
                match self.error_retry() {
                    Some(delay) => delay.max(retry_after.unwrap_or_default()),
                    None => return self.give_up_budget(),
                }
            }
            Observation::TransportNotSent => match self.error_retry() {
                Some(delay) => delay,
                None => return self.give_up_budget(),
            },
            Observation::TransportMaybeSent => {
                self.maybe_sent = true;
                match self.error_retry() {
                    Some(delay) => delay,
                    None => return self.give_up_budget(),
                }
            }
        };
        self.schedule(now, delay, server_wait)
    }

    /// Applies the time limits and the attempt budget to a planned wait.
    fn schedule(
        &mut self,
        now: Instant,
        delay: Duration,
        server_wait: Option<Duration>,
    ) -> Decision {
        if let Some(wait) = server_wait {
            if wait > self.policy.max_retry_after {
                return Decision::GiveUp(GiveUp::RateLimited { retry_after: wait });
            }
        }
        let (limit, reason) = self.limit();
        if let Some(limit) = limit {
            // An attempt that would start at or after the limit could not finish before it,
            // so the call ends now instead of waiting for nothing.
            let left = limit.saturating_duration_since(now);
            if left.is_zero() || delay >= left {
                if let Some(wait) = server_wait.filter(|wait| *wait >= left) {
                    return Decision::GiveUp(GiveUp::RateLimited { retry_after: wait });
                }
                return Decision::GiveUp(reason);
            }
        }
        if self.attempts >= self.policy.max_attempts {
            return Decision::GiveUp(GiveUp::Budget);
        }
        match self.next {
            Action::Send => Decision::Resend { after: delay },
            Action::Poll => Decision::Poll { after: delay },
        }
    }

    /// Returns the earliest of deadline and expiration, with the reason it stands for.
    fn limit(&self) -> (Option<Instant>, GiveUp) {
        match (self.deadline, self.expires_at) {
            (Some(deadline), Some(expires)) if expires <= deadline => {
                (Some(expires), GiveUp::Expired)
            }
            (Some(deadline), _) => (Some(deadline), GiveUp::Deadline),
            (None, Some(expires)) => (Some(expires), GiveUp::Expired),
            (None, None) => (None, GiveUp::Deadline),
        }
    }

    fn on_pending(&mut self, now: Instant, expires_at: Option<Instant>, has_url: bool) {
        self.pending = true;
        self.maybe_sent = true;
        self.has_url |= has_url;
        // The first expiration bounds the intention: a re-send answered with a later one must
        // not extend the wait, or a server that re-queues on every re-send would keep the
        // call alive until the attempt budget ran out.
        self.expires_at = match (expires_at, self.expires_at) {
            (Some(at), Some(known)) => Some(at.min(known)),
            (Some(at), None) => Some(at),
            (None, Some(known)) => Some(known),
            (None, None) => Some(now + self.policy.default_lifetime),
        };
    }

    /// Tells whether a write whose outcome is unknown may be sent again.
    fn may_repeat_write(&self) -> bool {
        !self.write || self.policy.repeat_unknown_writes
    }

    fn pending_action(&self) -> Action {
        let poll_only = self.write && !self.policy.repeat_unknown_writes;
        if (self.policy.wait == WaitStrategy::Poll || poll_only) && self.has_url {
            Action::Poll
        } else {
            Action::Send
        }
    }

    fn is_long_poll(&self, held: Duration) -> bool {
        !self.policy.server_window.is_zero()
            && held.as_secs_f64() >= self.policy.server_window.as_secs_f64() * LONG_POLL_SHARE
    }

    /// Counts one failed attempt and returns the wait before repeating it, or `None` when the
    /// error-retry budget is spent.
    fn error_retry(&mut self) -> Option<Duration> {
        if self.error_retries >= self.policy.max_error_retries {
            return None;
        }
        let step = self.error_retries;
        self.error_retries += 1;
        Some(self.backoff(
            step,
            self.policy.resend_initial,
            self.policy.resend_max,
            RESEND_FACTOR,
        ))
    }

    fn give_up_budget(&self) -> Decision {
        Decision::GiveUp(GiveUp::Budget)
    }

    fn resend_backoff(&mut self) -> Duration {
        let step = self.resend_step;
        self.resend_step = self.resend_step.saturating_add(1);
        self.backoff(
            step,
            self.policy.resend_initial,
            self.policy.resend_max,
            RESEND_FACTOR,
        )
    }

    fn poll_backoff(&mut self) -> Duration {
        let step = self.poll_step;
        self.poll_step = self.poll_step.saturating_add(1);
        self.backoff(
            step,
            self.policy.poll_initial,
            self.policy.poll_max,
            POLL_FACTOR,
        )
    }

    /// Exponential backoff with equal jitter: a wait drawn from `[d/2, d]` where
    /// `d = min(initial * factor^step, max)`, never below the floor.
    fn backoff(&mut self, step: u32, initial: Duration, max: Duration, factor: f64) -> Duration {
        let grown = initial.as_secs_f64() * factor.powi(step.min(64) as i32);
        let capped = grown.min(max.as_secs_f64());
        let jittered = capped / 2.0 + self.next_unit() * capped / 2.0;
        Duration::from_secs_f64(jittered).max(self.policy.floor)
    }

    /// Returns a pseudo-random number in `[0, 1)` (splitmix64).
    fn next_unit(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests;
