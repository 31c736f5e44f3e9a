//! The seeded random fault mix: which API requests get a fault, which kind and with which
//! parameters.

use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;

use super::Action;
use super::format::http_date;

/// Pause between two pieces of a [`FaultKind::Trickle`] response. With at most six pieces,
/// the response is written within 250 ms.
const TRICKLE_EVERY: Duration = Duration::from_millis(50);
/// Largest [`FaultKind::DelayHeaders`] wait, in milliseconds.
const MAX_DELAY_MILLIS: u64 = 200;
/// Exclusive upper bound of the body bytes that a cut response keeps, before the cap at one
/// byte short of the body.
const CUT_BOUND: u64 = 256;

/// A seeded random mix of faults for the API listener, set with
/// [`SandboxBuilder::fault_mix`](super::SandboxBuilder::fault_mix) or
/// [`Sandbox::set_fault_mix`](super::Sandbox::set_fault_mix).
///
/// Every API request that finds no scripted action queued draws from the mix's generator
/// (SplitMix64): with probability [`FaultMix::rate`] it gets a fault, of a kind drawn
/// uniformly from [`FaultMix::kinds`]. The faults are therefore the same for the same seed
/// and the same order of requests. Requests on the results listener never get one.
#[derive(Debug, Clone)]
pub struct FaultMix {
    seed: u64,
    rate: f64,
    kinds: Vec<FaultKind>,
}

impl FaultMix {
    /// Builds a mix with this seed, a rate of 0.3 and every kind in [`FaultKind::ALL`].
    pub fn new(seed: u64) -> FaultMix {
        FaultMix {
            seed,
            rate: 0.3,
            kinds: FaultKind::ALL.to_vec(),
        }
    }

    /// Sets the share of API requests that get a fault, from 0.0 (none) to 1.0 (all).
    /// Default: 0.3.
    ///
    /// # Panics
    ///
    /// Panics if `probability` is NaN or outside `0.0..=1.0`.
    pub fn rate(mut self, probability: f64) -> Self {
        assert!(
            (0.0..=1.0).contains(&probability),
            "fault rate must be within 0.0..=1.0, got {probability}"
        );
        self.rate = probability;
        self
    }

    /// Sets the kinds to draw from, each with the same weight, so a kind listed twice is
    /// drawn twice as often. An empty list injects no fault. Default: [`FaultKind::ALL`].
    pub fn kinds(mut self, kinds: &[FaultKind]) -> Self {
        self.kinds = kinds.to_vec();
        self
    }
}

/// A fault that [`FaultMix`] can inject into one API request.
///
/// "Handled" means the request is handled as usual, so its job is created and the work is
/// done if it completes within the call. Time-based parameters are small, so a soak of
/// many calls stays fast. Responses that the fault makes up carry a `Date` header from the
/// sandbox's clock, [`SandboxBuilder::clock_offset`](super::SandboxBuilder::clock_offset)
/// included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// Close the connection without handling or responding ([`Action::Close`]).
    CloseBeforeProcessing,
    /// Handle, then close without responding ([`Action::ProcessThenClose`]).
    CloseAfterProcessing,
    /// Handle, then close after fewer than 256 body bytes ([`Action::ResetMidBody`]).
    ResetMidBody,
    /// Respond 502 with an HTML page, as a proxy does, without handling.
    Html502,
    /// Handle, then respond 504 with an empty body, as a proxy that gave up waiting does.
    Empty504,
    /// Respond 503 with a JSON error envelope, without handling.
    Unavailable503,
    /// Respond 503 with `Retry-After: 1` and a JSON error envelope, without handling.
    Unavailable503RetryAfter,
    /// Respond 429 with `Retry-After: 1` and a JSON error envelope, without handling.
    RateLimited429Seconds,
    /// Respond 429 with a `Retry-After` date 1 s after the `Date` header and a JSON error
    /// envelope, without handling.
    RateLimited429Date,
    /// Handle, then close after fewer than 256 body bytes, so the JSON is cut
    /// ([`Action::ProcessThenRespondTruncated`]).
    TruncatedJson,
    /// Handle, then wait up to 200 ms before responding ([`Action::DelayHeaders`]).
    DelayHeaders,
    /// Handle, then write the response in two to six pieces, 50 ms apart.
    Trickle,
    /// Handle, but echo `X-Nonce: wrong-<16 hex digits>` ([`Action::WrongNonceEcho`]).
    WrongNonceEcho,
    /// Handle, but respond with the async envelope whatever the mode and the job's state,
    /// as [`Sandbox::force_async`](super::Sandbox::force_async) does for one response.
    ForcedAsync,
}

impl FaultKind {
    /// Every kind, in declaration order, which is also the order of
    /// [`Sandbox::fault_counts`](super::Sandbox::fault_counts).
    pub const ALL: [FaultKind; 14] = [
        FaultKind::CloseBeforeProcessing,
        FaultKind::CloseAfterProcessing,
        FaultKind::ResetMidBody,
        FaultKind::Html502,
        FaultKind::Empty504,
        FaultKind::Unavailable503,
        FaultKind::Unavailable503RetryAfter,
        FaultKind::RateLimited429Seconds,
        FaultKind::RateLimited429Date,
        FaultKind::TruncatedJson,
        FaultKind::DelayHeaders,
        FaultKind::Trickle,
        FaultKind::WrongNonceEcho,
        FaultKind::ForcedAsync,
    ];

    /// Returns the position of this kind in [`FaultKind::ALL`].
    fn index(self) -> usize {
        self as usize
    }
}

/// The SplitMix64 generator (Steele, Lea and Flood, 2014): small, fast and good enough to
/// pick faults, not for anything secret.
#[derive(Debug, Clone)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Returns a number in `[0, 1)` from the top 53 bits of the next output.
    fn next_unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The current mix, its generator and how many faults of each kind were injected.
#[derive(Debug)]
pub(crate) struct FaultState {
    mix: Option<FaultMix>,
    generator: SplitMix64,
    counts: [u64; FaultKind::ALL.len()],
}

impl Default for FaultState {
    fn default() -> Self {
        FaultState {
            mix: None,
            generator: SplitMix64 { state: 0 },
            counts: [0; FaultKind::ALL.len()],
        }
    }
}

impl FaultState {
    /// Replaces the mix and restarts the generator from its seed. The counts are kept.
    pub fn set_mix(&mut self, mix: Option<FaultMix>) {
        if let Some(mix) = &mix {
            self.generator = SplitMix64 { state: mix.seed };
        }
        self.mix = mix;
    }

    /// Decides whether the next API request gets a fault, and counts it if so.
    pub fn draw(&mut self) -> Option<Fault> {
        let mix = self.mix.as_ref()?;
        if mix.kinds.is_empty() || self.generator.next_unit() >= mix.rate {
            return None;
        }
        let pick = self.generator.next() % mix.kinds.len() as u64;
        let kind = mix.kinds[pick as usize];
        let parameter = self.generator.next();
        self.counts[kind.index()] += 1;
        Some(Fault { kind, parameter })
    }

    /// Returns the number of faults injected of every kind, in [`FaultKind::ALL`] order.
    pub fn counts(&self) -> Vec<(FaultKind, u64)> {
        FaultKind::ALL
            .iter()
            .map(|kind| (*kind, self.counts[kind.index()]))
            .collect()
    }
}

/// One drawn fault: its kind and a random number its parameters derive from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fault {
    pub kind: FaultKind,
    parameter: u64,
}

/// The server's plan for one fault.
#[derive(Debug)]
pub(crate) enum Plan {
    /// Apply this action, as if it had been scripted.
    Act(Action),
    /// Handle the request, then write the response in this many pieces.
    Trickle { pieces: usize, every: Duration },
    /// Handle the request and respond with the async envelope.
    ForceAsync,
}

impl Fault {
    /// Returns the plan for this fault, with `now`, the sandbox's clock, in `Date` headers.
    pub fn plan(&self, now: OffsetDateTime) -> Plan {
        let parameter = self.parameter;
        let cut = usize::try_from(parameter % CUT_BOUND).expect("a value below 256");
        let action = match self.kind {
            FaultKind::CloseBeforeProcessing => Action::Close,
            FaultKind::CloseAfterProcessing => Action::ProcessThenClose,
            FaultKind::ResetMidBody => Action::ResetMidBody { after: cut },
            FaultKind::Html502 => with_date(Action::html(502, BAD_GATEWAY_PAGE), now),
            FaultKind::Empty504 => Action::ProcessThenRespond {
                status: 504,
                headers: vec![("Date".into(), http_date(now))],
                body: Vec::new(),
            },
            FaultKind::Unavailable503 => {
                let body = json!({
                    "response": { "errorMessage": "service unavailable" },
                    "async": false,
                });
                with_date(Action::json(503, body), now)
            }
            FaultKind::Unavailable503RetryAfter => {
                with_date(Action::retry_after_seconds(503, 1), now)
            }
            FaultKind::RateLimited429Seconds => with_date(Action::retry_after_seconds(429, 1), now),
            FaultKind::RateLimited429Date => {
                // Both dates drop subseconds, so the client reads exactly 1 s between them.
                let retry_at = now + time::Duration::SECOND;
                with_date(Action::retry_after_date(429, retry_at), now)
            }
            FaultKind::TruncatedJson => Action::ProcessThenRespondTruncated { cut },
            FaultKind::DelayHeaders => {
                let millis = parameter % (MAX_DELAY_MILLIS + 1);
                Action::DelayHeaders(Duration::from_millis(millis))
            }
            FaultKind::Trickle => {
                let pieces = 2 + usize::try_from(parameter % 5).expect("a value below 5");
                return Plan::Trickle {
                    pieces,
                    every: TRICKLE_EVERY,
                };
            }
            FaultKind::WrongNonceEcho => Action::WrongNonceEcho(format!("wrong-{parameter:016x}")),
            FaultKind::ForcedAsync => return Plan::ForceAsync,
        };
        Plan::Act(action)
    }
}

const BAD_GATEWAY_PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n\
    <body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";

/// Adds a `Date` header to an [`Action::Respond`]; other actions are returned unchanged.
fn with_date(mut action: Action, now: OffsetDateTime) -> Action {
    if let Action::Respond { headers, .. } = &mut action {
        headers.push(("Date".into(), http_date(now)));
    }
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_reference_output() {
        let mut generator = SplitMix64 { state: 0 };
        assert_eq!(generator.next(), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn kind_index_is_position_in_all() {
        for (position, kind) in FaultKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), position);
        }
    }

    #[test]
    fn rate_bounds_select_none_or_all() {
        let mut never = FaultState::default();
        never.set_mix(Some(FaultMix::new(7).rate(0.0)));
        assert!((0..1000).all(|_| never.draw().is_none()));

        let mut always = FaultState::default();
        always.set_mix(Some(FaultMix::new(7).rate(1.0)));
        assert!((0..1000).all(|_| always.draw().is_some()));
        let total: u64 = always.counts().iter().map(|(_, count)| count).sum();
        assert_eq!(total, 1000);
    }

    #[test]
    #[should_panic(expected = "fault rate must be within 0.0..=1.0")]
    fn rate_above_one_panics() {
        let _ = FaultMix::new(1).rate(1.5);
    }

    #[test]
    fn delays_and_trickles_stay_short() {
        let mut state = FaultState::default();
        let kinds = [FaultKind::DelayHeaders, FaultKind::Trickle];
        state.set_mix(Some(FaultMix::new(3).rate(1.0).kinds(&kinds)));
        for _ in 0..1000 {
            let fault = state.draw().expect("a fault at rate 1.0");
            match fault.plan(OffsetDateTime::UNIX_EPOCH) {
                Plan::Act(Action::DelayHeaders(delay)) => {
                    assert!(delay <= Duration::from_millis(MAX_DELAY_MILLIS));
                }
                Plan::Trickle { pieces, every } => {
                    assert!((2..=6).contains(&pieces));
                    assert!(every * (pieces as u32 - 1) <= Duration::from_millis(300));
                }
                other => panic!("unexpected plan {other:?}"),
            }
        }
    }
}
