//! The job table: one job per nonce, performed at `created + processing_time`.
//!
//! A nonce is bound forever to the method, target and body of its first request. Its job
//! ends in one of three ways: done (the result is kept for the sandbox's life), expired
//! (not done within the async lifetime) or discarded (a sync call timed out). An expired or
//! discarded job leaves a tombstone, so the nonce stays bound, and the next request with the
//! same nonce starts a fresh job.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use time::OffsetDateTime;

/// Call mode requested by the `X-Async` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `auto` or absent: wait up to the sync window, then respond 202.
    Auto,
    /// `false`: wait up to the sync window, then respond 503 and discard the job.
    Sync,
    /// `true`: respond 202 at once.
    Async,
}

impl Mode {
    /// Parses an `X-Async` value, ignoring ASCII case; `None` for an unknown value.
    pub fn from_header(value: Option<&str>) -> Option<Mode> {
        match value.map(str::to_ascii_lowercase).as_deref() {
            None | Some("auto") => Some(Mode::Auto),
            Some("false") => Some(Mode::Sync),
            Some("true") => Some(Mode::Async),
            Some(_) => None,
        }
    }
}

/// The parts of a request that must match when a nonce is reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    pub method: String,
    pub target: String,
    pub body: Vec<u8>,
}

/// Work a job performs when its processing time has passed.
#[derive(Debug, Clone)]
pub(crate) enum Work {
    Ping,
    /// `amount` is `amountInCents` if the body had it as an `i64`; it is checked at processing.
    Deposit {
        amount: Option<i64>,
        body: Vec<u8>,
    },
    DepositStatus {
        id: String,
    },
    /// `GET /api/deposits`: creation times in `[start, end)`, optionally one status only.
    DepositList {
        start: OffsetDateTime,
        end: OffsetDateTime,
        status: Option<String>,
    },
    /// `bare` makes the synchronous response the object itself, without the envelope.
    UserInfo {
        euid: String,
        bare: bool,
    },
    /// The body is a JSON object; its fields are checked at processing.
    Pix2fa {
        body: Map<String, Value>,
    },
    /// `fields` is the parsed body, `body` the bytes as sent; fields are checked at processing.
    Withdraw {
        fields: Map<String, Value>,
        body: Vec<u8>,
    },
    WithdrawStatus {
        id: String,
    },
}

/// The result of a performed job.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// HTTP status of the synchronous response.
    pub status: u16,
    /// The inner object: the envelope's `response`, and the urlResponse body.
    pub body: Value,
    /// Whether the synchronous response is `body` itself instead of an envelope around it.
    pub bare: bool,
}

/// Lifecycle state of a job.
#[derive(Debug, Clone)]
pub(crate) enum JobState {
    Pending,
    Done(Outcome),
    Expired,
    Discarded,
}

/// One job and the request that created it.
#[derive(Debug)]
pub(crate) struct Job {
    pub fingerprint: Fingerprint,
    pub work: Work,
    /// Distinguishes the fresh jobs that one nonce gets after an expiry or a discard.
    pub generation: u64,
    pub created_utc: OffsetDateTime,
    pub due: Instant,
    pub expires: Instant,
    pub lifetime: Duration,
    pub state: JobState,
}

impl Job {
    /// Returns the `expiration` of the async envelope: creation plus the async lifetime.
    pub fn expiration_utc(&self) -> OffsetDateTime {
        self.created_utc + self.lifetime
    }

    /// When the job is performed, or expires if its processing time exceeds its lifetime.
    pub fn deadline(&self) -> Instant {
        self.due.min(self.expires)
    }
}

/// The request reused a nonce bound to another method, target or body.
#[derive(Debug)]
pub(crate) struct NonceReused;

/// Jobs by nonce, and per-nonce counters of responses forced to the async envelope.
#[derive(Debug, Default)]
pub(crate) struct JobTable {
    jobs: HashMap<String, Job>,
    responses: HashMap<String, usize>,
    forced: HashMap<String, usize>,
    next_generation: u64,
}

impl JobTable {
    /// Returns the generation of the nonce's live job, creating a job if there is none.
    ///
    /// A pending or done job is reused. An expired or discarded one is replaced by a fresh job,
    /// created at `now_utc` on the sandbox's clock.
    pub fn submit(
        &mut self,
        nonce: &str,
        fingerprint: Fingerprint,
        work: Work,
        timing: (Duration, Duration),
        now_utc: OffsetDateTime,
    ) -> Result<u64, NonceReused> {
        if let Some(job) = self.jobs.get(nonce) {
            if job.fingerprint != fingerprint {
                return Err(NonceReused);
            }
            if matches!(job.state, JobState::Pending | JobState::Done(_)) {
                return Ok(job.generation);
            }
        }
        let (processing_time, lifetime) = timing;
        self.next_generation += 1;
        let now = Instant::now();
        let job = Job {
            fingerprint,
            work,
            generation: self.next_generation,
            created_utc: now_utc,
            due: now + processing_time,
            expires: now + lifetime,
            lifetime,
            state: JobState::Pending,
        };
        self.jobs.insert(nonce.to_string(), job);
        Ok(self.next_generation)
    }

    /// Returns the nonce's current job, whatever its state.
    pub fn get(&self, nonce: &str) -> Option<&Job> {
        self.jobs.get(nonce)
    }

    /// Discards the nonce's job if it is still `generation` and pending.
    pub fn discard(&mut self, nonce: &str, generation: u64) {
        if let Some(job) = self.jobs.get_mut(nonce) {
            if job.generation == generation && matches!(job.state, JobState::Pending) {
                job.state = JobState::Discarded;
            }
        }
    }

    /// Makes the nonce's next `count` responses the async envelope.
    pub fn force_async(&mut self, nonce: &str, count: usize) {
        self.forced.insert(nonce.to_string(), count);
    }

    /// Counts one response for the nonce and returns whether it must be the async envelope.
    ///
    /// It must be when the nonce had fewer than `first_n` responses before this one, or when
    /// [`JobTable::force_async`] left a count above zero (which this call decrements).
    pub fn take_forced_async(&mut self, nonce: &str, first_n: usize) -> bool {
        let responded = self.responses.entry(nonce.to_string()).or_insert(0);
        let within_first = *responded < first_n;
        *responded += 1;
        let forced = match self.forced.get_mut(nonce) {
            Some(left) if *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        };
        within_first || forced
    }

    /// Performs every pending job whose processing time has passed and expires those past
    /// their lifetime. Returns whether any job changed state.
    ///
    /// The outcome depends only on the job's times, not on how late the sweep runs: a job is
    /// performed when `due <= expires`, else it expires.
    pub fn sweep(&mut self, now: Instant, mut perform: impl FnMut(&str, &Work) -> Outcome) -> bool {
        let mut ready: Vec<(&String, &mut Job)> = self
            .jobs
            .iter_mut()
            .filter(|(_, job)| matches!(job.state, JobState::Pending) && job.deadline() <= now)
            .collect();
        // Perform in the order the jobs fell due, so a late sweep still fills the ledger in
        // the order a punctual one would.
        ready.sort_by_key(|(_, job)| (job.deadline(), job.generation));
        let changed = !ready.is_empty();
        for (nonce, job) in ready {
            job.state = if job.due <= job.expires {
                JobState::Done(perform(nonce, &job.work))
            } else {
                JobState::Expired
            };
        }
        changed
    }

    /// Returns the earliest time a pending job is due or expires.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.jobs
            .values()
            .filter(|job| matches!(job.state, JobState::Pending))
            .map(Job::deadline)
            .min()
    }
}
