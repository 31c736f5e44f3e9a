//! State shared by the listeners, the scheduler thread and the `Sandbox` handle.

use std::collections::{HashMap, VecDeque};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::faults::{Fault, FaultKind, FaultMix, FaultState};
use super::http::Request;
use super::jobs::{JobState, JobTable};
use super::webhooks::{WebhookTarget, deliver, webhook_body};
use super::work::Ledger;
use super::{Action, Listener, RecordedRequest, WebhookDelivery, WebhookKind};

/// Settings fixed when the sandbox starts.
#[derive(Debug)]
pub(crate) struct Config {
    pub token: String,
    pub sync_window: Duration,
    pub async_lifetime: Duration,
    pub force_async_first: usize,
    /// Whether a sync `user-info` response is the bare object, without the envelope.
    pub user_info_bare: bool,
    /// Webhook destination, or `None` when no webhooks are sent.
    pub webhook: Option<WebhookTarget>,
    /// Whether each webhook is sent twice.
    pub webhook_duplicates: bool,
    /// `http://127.0.0.1:<port>` of the results listener.
    pub result_origin: String,
    /// The `sig` query value that urlResponse links carry.
    pub signature: String,
}

/// Jobs and deposits, behind one mutex so a job and the deposit it creates change together.
#[derive(Debug)]
pub(crate) struct State {
    pub jobs: JobTable,
    pub ledger: Ledger,
    /// Processing time given to jobs created from now on.
    pub processing_time: Duration,
}

/// Open connections, so shutdown can close them and join their threads.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    streams: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub config: Config,
    state: Mutex<State>,
    /// Notified whenever a job is created or changes state, and on shutdown.
    changed: Condvar,
    shutdown: AtomicBool,
    records: Mutex<Vec<RecordedRequest>>,
    deliveries: Mutex<Vec<WebhookDelivery>>,
    api_actions: Mutex<VecDeque<Action>>,
    result_actions: Mutex<VecDeque<Action>>,
    connections: Mutex<Connections>,
    next_connection: AtomicU64,
    faults: Mutex<FaultState>,
    /// Added to the real UTC time wherever the sandbox writes or stores a wall-clock time.
    clock_offset: Mutex<time::Duration>,
}

/// Locks a mutex, ignoring poisoning: every critical section leaves its data consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub fn new(config: Config, processing_time: Duration) -> Self {
        Shared {
            config,
            state: Mutex::new(State {
                jobs: JobTable::default(),
                ledger: Ledger::default(),
                processing_time,
            }),
            changed: Condvar::new(),
            shutdown: AtomicBool::new(false),
            records: Mutex::default(),
            deliveries: Mutex::default(),
            api_actions: Mutex::default(),
            result_actions: Mutex::default(),
            connections: Mutex::default(),
            next_connection: AtomicU64::new(1),
            faults: Mutex::default(),
            clock_offset: Mutex::new(time::Duration::ZERO),
        }
    }

    /// Locks the state after performing or expiring every job whose time has passed.
    pub fn state(&self) -> MutexGuard<'_, State> {
        let mut state = lock(&self.state);
        self.sweep(&mut state);
        state
    }

    fn sweep(&self, state: &mut State) {
        let State { jobs, ledger, .. } = state;
        let origin = &self.config.result_origin;
        let now_utc = self.now_utc();
        let changed = jobs.sweep(Instant::now(), |nonce, work| {
            ledger.perform(nonce, work, origin, now_utc)
        });
        if changed {
            self.changed.notify_all();
        }
    }

    /// Returns the sandbox's wall clock: the current UTC time plus the clock offset.
    pub fn now_utc(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + *lock(&self.clock_offset)
    }

    /// Sets the clock offset after checking that the shifted current time is valid, so a
    /// bad offset panics in the caller's thread instead of a connection thread.
    pub fn set_clock_offset(&self, offset: time::Duration) {
        let shifted = OffsetDateTime::now_utc().checked_add(offset);
        assert!(
            shifted.is_some(),
            "clock offset {offset} takes the sandbox's clock outside the years -9999..=9999"
        );
        *lock(&self.clock_offset) = offset;
    }

    /// Wakes every thread waiting on a job, after a job was created or changed.
    pub fn notify(&self) {
        self.changed.notify_all();
    }

    /// Waits until the nonce's job of this generation is no longer pending, the deadline
    /// passes or the sandbox shuts down, whichever comes first.
    pub fn wait_for_job<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        nonce: &str,
        generation: u64,
        deadline: Instant,
    ) -> MutexGuard<'a, State> {
        loop {
            let Some(job) = state.jobs.get(nonce) else {
                return state;
            };
            let now = Instant::now();
            let pending = job.generation == generation && matches!(job.state, JobState::Pending);
            if !pending || now >= deadline || self.is_shutting_down() {
                return state;
            }
            let wake_at = job.deadline().min(deadline);
            let timeout = wake_at.saturating_duration_since(now);
            state = self
                .changed
                .wait_timeout(state, timeout)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            self.sweep(&mut state);
        }
    }

    /// Performs jobs when they fall due, until shutdown, so the ledger fills even when no
    /// request or inspection call arrives.
    pub fn run_scheduler(&self) {
        let mut state = self.state();
        while !self.is_shutting_down() {
            state = match state.jobs.next_deadline() {
                Some(at) => {
                    let timeout = at.saturating_duration_since(Instant::now());
                    self.changed
                        .wait_timeout(state, timeout)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
            };
            self.sweep(&mut state);
        }
    }

    /// Sleeps for `duration`, returning early on shutdown.
    pub fn sleep(&self, duration: Duration) {
        let until = Instant::now() + duration;
        let mut state = lock(&self.state);
        loop {
            let now = Instant::now();
            if now >= until || self.is_shutting_down() {
                return;
            }
            state = self
                .changed
                .wait_timeout(state, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Blocks until the sandbox shuts down.
    pub fn wait_for_shutdown(&self) {
        let mut state = lock(&self.state);
        while !self.is_shutting_down() {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Sets the shutdown flag, wakes every waiting thread and closes every open connection.
    ///
    /// Connections close before waiting threads wake, so a call cut short by shutdown gets no
    /// response instead of a made-up one.
    pub fn begin_shutdown(&self) {
        let connections = lock(&self.connections);
        for stream in connections.streams.values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        // Setting the flag under the state lock means no waiter can miss the wake-up, and
        // under the connections lock means no connection can start after the loop above.
        let _state = lock(&self.state);
        self.shutdown.store(true, Ordering::SeqCst);
        self.changed.notify_all();
    }

    /// Takes the connection threads, for joining after the accept loops ended.
    pub fn take_connection_threads(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut lock(&self.connections).threads)
    }

    /// Registers an accepted connection and starts its thread, unless shutting down.
    ///
    /// The check and the registration happen under one lock, so a connection accepted during
    /// shutdown is either closed by [`Shared::begin_shutdown`] or never served.
    pub fn start_connection(
        &self,
        stream: TcpStream,
        spawn: impl FnOnce(u64, TcpStream) -> std::io::Result<JoinHandle<()>>,
    ) -> std::io::Result<()> {
        let mut connections = lock(&self.connections);
        if self.is_shutting_down() {
            return Ok(());
        }
        let id = self.next_connection.fetch_add(1, Ordering::SeqCst);
        connections.streams.insert(id, stream.try_clone()?);
        let thread = match spawn(id, stream) {
            Ok(thread) => thread,
            Err(error) => {
                connections.streams.remove(&id);
                return Err(error);
            }
        };
        connections.threads.retain(|thread| !thread.is_finished());
        connections.threads.push(thread);
        Ok(())
    }

    /// Forgets a connection whose thread is ending, so its socket closes.
    pub fn end_connection(&self, id: u64) {
        lock(&self.connections).streams.remove(&id);
    }

    pub fn record(&self, listener: Listener, connection: u64, request: &Request) {
        lock(&self.records).push(RecordedRequest {
            listener,
            connection,
            method: request.method.clone(),
            path: request.target.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
        });
    }

    pub fn records(&self) -> Vec<RecordedRequest> {
        lock(&self.records).clone()
    }

    /// Sends a webhook with `fields` to the configured target, twice with duplicates on, and
    /// records each attempt. Does nothing when no webhook is configured.
    ///
    /// Callers must not hold the state lock: a receiver may call the API before it responds.
    pub fn send_webhook(
        &self,
        kind: WebhookKind,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) {
        let Some(target) = &self.config.webhook else {
            return;
        };
        let body = webhook_body(kind, fields);
        let attempts = if self.config.webhook_duplicates { 2 } else { 1 };
        for _ in 0..attempts {
            let status = match deliver(target, &body) {
                Ok(status) => {
                    log::debug!(
                        "sandbox delivered a {} webhook: HTTP {status}",
                        kind.as_str()
                    );
                    Some(status)
                }
                Err(error) => {
                    log::warn!(
                        "sandbox failed to deliver a {} webhook to {target:?}: {error}",
                        kind.as_str()
                    );
                    None
                }
            };
            lock(&self.deliveries).push(WebhookDelivery {
                kind,
                body: body.clone(),
                status,
            });
        }
    }

    pub fn deliveries(&self) -> Vec<WebhookDelivery> {
        lock(&self.deliveries).clone()
    }

    fn actions(&self, listener: Listener) -> &Mutex<VecDeque<Action>> {
        match listener {
            Listener::Api => &self.api_actions,
            Listener::Results => &self.result_actions,
        }
    }

    pub fn push_action(&self, listener: Listener, action: Action) {
        lock(self.actions(listener)).push_back(action);
    }

    pub fn next_action(&self, listener: Listener) -> Option<Action> {
        lock(self.actions(listener)).pop_front()
    }

    pub fn set_fault_mix(&self, mix: Option<FaultMix>) {
        lock(&self.faults).set_mix(mix);
    }

    /// Draws from the fault mix for a request on this listener; the results listener never
    /// gets a fault.
    pub fn draw_fault(&self, listener: Listener) -> Option<Fault> {
        match listener {
            Listener::Api => lock(&self.faults).draw(),
            Listener::Results => None,
        }
    }

    pub fn fault_counts(&self) -> Vec<(FaultKind, u64)> {
        lock(&self.faults).counts()
    }
}
