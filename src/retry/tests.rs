use super::*;

const MS: Duration = Duration::from_millis(1);

fn policy() -> RetryPolicy {
    RetryPolicy::default()
}

fn pending_at(held: Duration, expires_at: Option<Instant>) -> Observation {
    Observation::Pending {
        held,
        expires_at,
        has_url: true,
    }
}

fn delay_of(decision: Decision) -> Duration {
    match decision {
        Decision::Resend { after } | Decision::Poll { after } => after,
        other => panic!("expected a wait, got {other:?}"),
    }
}

#[test]
fn ready_is_done() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy(), t0, 1);
    assert_eq!(state.observe(t0, Observation::Ready), Decision::Done);
    assert_eq!(state.attempts(), 1);
}

#[test]
fn fatal_gives_up_at_once() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy(), t0, 1);
    assert_eq!(
        state.observe(t0, Observation::Fatal),
        Decision::GiveUp(GiveUp::Fatal)
    );
}

#[test]
fn quick_pending_backs_off_then_resends() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy(), t0, 7);
    let expires = t0 + Duration::from_secs(300);
    let decision = state.observe(t0, pending_at(20 * MS, Some(expires)));
    let Decision::Resend { after } = decision else {
        panic!("{decision:?}");
    };
    assert!(after >= 250 * MS, "{after:?}");
    assert!(after <= 500 * MS, "{after:?}");
    assert!(state.is_pending());
    assert_eq!(state.expires_at(), Some(expires));
}

#[test]
fn long_held_pending_resends_at_once() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy(), t0, 7);
    let decision = state.observe(
        t0 + Duration::from_secs(10),
        pending_at(
            Duration::from_millis(9_900),
            Some(t0 + Duration::from_secs(300)),
        ),
    );
    assert_eq!(
        decision,
        Decision::Resend {
            after: Duration::ZERO
        }
    );
}

#[test]
fn resend_backoff_grows_to_cap_with_jitter() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy(), t0, 3);
    let expires = Some(t0 + Duration::from_secs(3600));
    let mut delays = Vec::new();
    for _ in 0..10 {
        delays.push(delay_of(state.observe(t0, pending_at(MS, expires))));
    }
    for (step, delay) in delays.iter().enumerate() {
        let nominal = (0.5 * 2f64.powi(step as i32)).min(8.0);
        let seconds = delay.as_secs_f64();
        assert!(
            seconds >= nominal / 2.0 - 1e-9 && seconds <= nominal + 1e-9,
            "step {step}: {seconds} outside [{}, {nominal}]",
            nominal / 2.0
        );
    }
    assert!(delays.iter().all(|d| *d <= Duration::from_secs(8)));
    let distinct: std::collections::HashSet<_> = delays[5..].iter().collect();
    assert!(distinct.len() > 1, "capped delays carry jitter: {delays:?}");
}

#[test]
fn poll_strategy_polls_with_backoff() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy().wait_strategy(WaitStrategy::Poll), t0, 5);
    let expires = Some(t0 + Duration::from_secs(3600));
    let first = state.observe(t0, pending_at(MS, expires));
    let Decision::Poll { after } = first else {
        panic!("{first:?}");
    };
    assert!(after >= 125 * MS, "{after:?}");
    assert!(after <= 250 * MS, "{after:?}");
    let mut last = Duration::ZERO;
    for _ in 0..20 {
        last = delay_of(state.observe(t0, Observation::NotReady));
        assert!(matches!(
            state.observe(t0, Observation::NotReady),
            Decision::Poll { .. }
        ));
    }
    assert!(last <= Duration::from_secs(5), "{last:?}");
    assert!(last >= Duration::from_millis(2500), "{last:?}");
}

#[test]
fn poll_strategy_without_url_resends() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy().wait_strategy(WaitStrategy::Poll), t0, 5);
    let observation = Observation::Pending {
        held: MS,
        expires_at: None,
        has_url: false,
    };
    assert!(matches!(
        state.observe(t0, observation),
        Decision::Resend { .. }
    ));
}

#[test]
fn every_wait_respects_floor() {
    let t0 = Instant::now();
    let tiny = policy()
        .resend_backoff(MS, 2 * MS)
        .poll_backoff(MS, 2 * MS)
        .floor(50 * MS);
    for seed in 0..50 {
        let mut state = RetryState::new(tiny.clone(), t0, seed);
        let expires = Some(t0 + Duration::from_secs(60));
        assert!(delay_of(state.observe(t0, pending_at(MS, expires))) >= 50 * MS);
        assert!(delay_of(state.observe(t0, Observation::TransportMaybeSent)) >= 50 * MS);
        assert!(delay_of(state.observe(t0, Observation::NotReady)) >= 50 * MS);
    }
}

#[test]
fn stops_at_expiration() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy(), t0, 1);
    let expires = t0 + Duration::from_secs(3);
    let mut now = t0;
    let mut decision = state.observe(now, pending_at(MS, Some(expires)));
    let mut attempts = 1;
    while let Decision::Resend { after } = decision {
        now += after;
        assert!(now <= expires, "an attempt was scheduled past expiration");
        decision = state.observe(now, pending_at(MS, Some(expires)));
        attempts += 1;
        assert!(attempts < 50, "the loop does not end");
    }
    assert_eq!(decision, Decision::GiveUp(GiveUp::Expired));
    let early = expires - now;
    assert!(
        early <= Duration::from_secs(8),
        "gave up {early:?} before expiration"
    );
}

#[test]
fn past_expiration_gives_up_without_spinning() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy(), t0, 1);
    assert_eq!(
        state.observe(t0, pending_at(MS, Some(t0))),
        Decision::GiveUp(GiveUp::Expired)
    );
    assert_eq!(state.attempts(), 1);
}

#[test]
fn missing_expiration_assumes_default_lifetime() {
    let t0 = Instant::now();
    let lifetime = Duration::from_secs(2);
    let mut state = RetryState::new(policy().default_lifetime(lifetime), t0, 1);
    state.observe(t0, pending_at(MS, None));
    assert_eq!(state.expires_at(), Some(t0 + lifetime));
    assert_eq!(
        state.observe(t0 + lifetime, pending_at(MS, None)),
        Decision::GiveUp(GiveUp::Expired)
    );
}

#[test]
fn earliest_expiration_is_kept() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy(), t0, 1);
    state.observe(t0, pending_at(MS, Some(t0 + Duration::from_secs(5))));
    state.observe(t0, pending_at(MS, Some(t0 + Duration::from_secs(9))));
    assert_eq!(state.expires_at(), Some(t0 + Duration::from_secs(5)));
    state.observe(t0, pending_at(MS, Some(t0 + Duration::from_secs(4))));
    assert_eq!(state.expires_at(), Some(t0 + Duration::from_secs(4)));
}

#[test]
fn requeued_expiration_does_not_extend_call() {
    // A server that re-queues on every re-send returns an expiration that moves along.
    let t0 = Instant::now();
    let lifetime = Duration::from_secs(3);
    let mut state = RetryState::new(policy(), t0, 1);
    let mut now = t0;
    let mut decision = state.observe(now, pending_at(MS, Some(now + lifetime)));
    while let Decision::Resend { after } = decision {
        now += after;
        decision = state.observe(now, pending_at(MS, Some(now + lifetime)));
    }
    assert_eq!(decision, Decision::GiveUp(GiveUp::Expired));
    assert!(
        now <= t0 + lifetime,
        "an attempt ran past the first expiration"
    );
    assert!(
        now >= t0 + lifetime / 2,
        "gave up long before expiration: {:?}",
        now - t0
    );
}

#[test]
fn caller_deadline_before_expiration_wins() {
    let t0 = Instant::now();
    let deadline = Duration::from_secs(2);
    let mut state = RetryState::new(policy().deadline(Some(deadline)), t0, 1);
    let expires = Some(t0 + Duration::from_secs(300));
    let mut now = t0;
    let mut decision = state.observe(now, pending_at(MS, expires));
    while let Decision::Resend { after } = decision {
        now += after;
        decision = state.observe(now, pending_at(MS, expires));
    }
    assert_eq!(decision, Decision::GiveUp(GiveUp::Deadline));
    assert!(now <= t0 + deadline, "an attempt ran past the deadline");
    assert!(now > t0, "gave up before any wait");
}

#[test]
fn expiration_before_deadline_wins() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy().deadline(Some(Duration::from_secs(60))), t0, 1);
    assert_eq!(
        state.observe(
            t0 + Duration::from_secs(5),
            pending_at(MS, Some(t0 + Duration::from_secs(5)))
        ),
        Decision::GiveUp(GiveUp::Expired)
    );
}

#[test]
fn attempt_budget_is_enforced() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy().max_attempts(3), t0, 1);
    let expires = Some(t0 + Duration::from_secs(300));
    assert!(matches!(
        state.observe(t0, pending_at(MS, expires)),
        Decision::Resend { .. }
    ));
    assert!(matches!(
        state.observe(t0, pending_at(MS, expires)),
        Decision::Resend { .. }
    ));
    assert_eq!(
        state.observe(t0, pending_at(MS, expires)),
        Decision::GiveUp(GiveUp::Budget)
    );
}

#[test]
fn transport_before_send_is_retried_and_not_ambiguous() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy().max_error_retries(2), t0, 1);
    assert!(matches!(
        state.observe(t0, Observation::TransportNotSent),
        Decision::Resend { .. }
    ));
    assert!(matches!(
        state.observe(t0, Observation::TransportNotSent),
        Decision::Resend { .. }
    ));
    assert_eq!(
        state.observe(t0, Observation::TransportNotSent),
        Decision::GiveUp(GiveUp::Budget)
    );
    assert!(!state.maybe_sent());
}

#[test]
fn transport_after_send_marks_outcome_unknown() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy().max_error_retries(1), t0, 1);
    assert!(matches!(
        state.observe(t0, Observation::TransportMaybeSent),
        Decision::Resend { .. }
    ));
    assert!(state.maybe_sent());
    assert_eq!(
        state.observe(t0, Observation::TransportMaybeSent),
        Decision::GiveUp(GiveUp::Budget)
    );
}

#[test]
fn error_retries_reset_after_progress() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy().max_error_retries(1), t0, 1);
    let expires = Some(t0 + Duration::from_secs(300));
    assert!(matches!(
        state.observe(t0, Observation::TransportMaybeSent),
        Decision::Resend { .. }
    ));
    assert!(matches!(
        state.observe(t0, pending_at(MS, expires)),
        Decision::Resend { .. }
    ));
    assert!(matches!(
        state.observe(t0, Observation::TransportMaybeSent),
        Decision::Resend { .. }
    ));
}

#[test]
fn error_during_polling_polls_again() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy().wait_strategy(WaitStrategy::Poll), t0, 1);
    state.observe(t0, pending_at(MS, Some(t0 + Duration::from_secs(300))));
    assert!(matches!(
        state.observe(t0, Observation::Unavailable { retry_after: None }),
        Decision::Poll { .. }
    ));
    assert!(matches!(
        state.observe(t0, Observation::TransportMaybeSent),
        Decision::Poll { .. }
    ));
}

#[test]
fn retry_after_is_honoured_as_minimum() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy(), t0, 1);
    let wait = Duration::from_secs(2);
    assert_eq!(
        state.observe(
            t0,
            Observation::RateLimited {
                retry_after: Some(wait)
            }
        ),
        Decision::Resend { after: wait }
    );
    let mut state = RetryState::new(policy(), t0, 1);
    assert_eq!(
        state.observe(
            t0,
            Observation::Unavailable {
                retry_after: Some(wait)
            }
        ),
        Decision::Resend { after: wait }
    );
}

#[test]
fn zero_retry_after_still_has_floor() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy(), t0, 1);
    let after = delay_of(state.observe(
        t0,
        Observation::RateLimited {
            retry_after: Some(Duration::ZERO),
        },
    ));
    assert!(after >= policy().floor);
}

#[test]
fn missing_retry_after_uses_backoff() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy(), t0, 1);
    let after = delay_of(state.observe(t0, Observation::RateLimited { retry_after: None }));
    assert!(after >= 250 * MS, "{after:?}");
    assert!(after <= 500 * MS, "{after:?}");
}

#[test]
fn retry_after_past_deadline_gives_up_at_once() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy().deadline(Some(Duration::from_secs(5))), t0, 1);
    let wait = Duration::from_secs(10);
    assert_eq!(
        state.observe(
            t0,
            Observation::RateLimited {
                retry_after: Some(wait)
            }
        ),
        Decision::GiveUp(GiveUp::RateLimited { retry_after: wait })
    );
}

#[test]
fn retry_after_above_policy_gives_up_at_once() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy(), t0, 1);
    let wait = Duration::from_secs(99_999_999);
    assert_eq!(
        state.observe(
            t0,
            Observation::Unavailable {
                retry_after: Some(wait)
            }
        ),
        Decision::GiveUp(GiveUp::RateLimited { retry_after: wait })
    );
}

#[test]
fn wait_past_deadline_gives_up_now() {
    let t0 = Instant::now();
    let mut state = RetryState::new(
        policy()
            .deadline(Some(Duration::from_millis(300)))
            .resend_backoff(Duration::from_secs(4), Duration::from_secs(8)),
        t0,
        1,
    );
    assert_eq!(
        state.observe(t0, Observation::TransportMaybeSent),
        Decision::GiveUp(GiveUp::Deadline)
    );
}

#[test]
fn time_left_tracks_earliest_limit() {
    let t0 = Instant::now();
    let mut state = RetryState::new(policy().deadline(Some(Duration::from_secs(10))), t0, 1);
    assert_eq!(state.time_left(t0), Some(Duration::from_secs(10)));
    state.observe(t0, pending_at(MS, Some(t0 + Duration::from_secs(4))));
    assert_eq!(
        state.time_left(t0 + Duration::from_secs(1)),
        Some(Duration::from_secs(3))
    );
    assert_eq!(
        state.time_left(t0 + Duration::from_secs(5)),
        Some(Duration::ZERO)
    );
    let open = RetryState::new(policy(), t0, 1);
    assert_eq!(open.time_left(t0), None);
}

#[test]
fn resume_starts_with_chosen_action() {
    let t0 = Instant::now();
    let expires = Some(t0 + Duration::from_secs(60));
    let resend = RetryState::resume(policy(), t0, 1, expires, true);
    assert_eq!(
        resend.first_decision(),
        Decision::Resend {
            after: Duration::ZERO
        }
    );
    assert!(resend.is_pending());
    assert!(resend.maybe_sent());
    let poll = RetryState::resume(
        policy().wait_strategy(WaitStrategy::Poll),
        t0,
        1,
        expires,
        true,
    );
    assert_eq!(
        poll.first_decision(),
        Decision::Poll {
            after: Duration::ZERO
        }
    );
    let no_url = RetryState::resume(
        policy().wait_strategy(WaitStrategy::Poll),
        t0,
        1,
        expires,
        false,
    );
    assert_eq!(
        no_url.first_decision(),
        Decision::Resend {
            after: Duration::ZERO
        }
    );
}

#[test]
fn same_seed_same_schedule() {
    let t0 = Instant::now();
    let run = |seed| {
        let mut state = RetryState::new(policy(), t0, seed);
        (0..5)
            .map(|_| delay_of(state.observe(t0, Observation::TransportNotSent)))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

fn no_repeat() -> RetryPolicy {
    policy().repeat_unknown_writes(false)
}

#[test]
fn unknown_write_is_not_repeated() {
    let t0 = Instant::now();
    for observation in [
        Observation::TransportMaybeSent,
        Observation::Unavailable { retry_after: None },
    ] {
        let mut state = RetryState::new(no_repeat(), t0, 1).for_write(true);
        assert_eq!(
            state.observe(t0, observation),
            Decision::GiveUp(GiveUp::Budget)
        );
        assert!(state.maybe_sent());
    }
}

#[test]
fn unsent_write_and_rate_limit_still_retry() {
    let t0 = Instant::now();
    let mut state = RetryState::new(no_repeat(), t0, 1).for_write(true);
    assert!(matches!(
        state.observe(t0, Observation::TransportNotSent),
        Decision::Resend { .. }
    ));
    let limited = Observation::RateLimited { retry_after: None };
    assert!(matches!(
        state.observe(t0, limited),
        Decision::Resend { .. }
    ));
}

#[test]
fn pending_write_is_polled_not_resent() {
    let t0 = Instant::now();
    let expires = Some(t0 + Duration::from_secs(60));
    let mut state = RetryState::new(no_repeat(), t0, 1).for_write(true);
    assert!(matches!(
        state.observe(t0, pending_at(MS, expires)),
        Decision::Poll { .. }
    ));
    assert!(matches!(
        state.observe(t0, Observation::Unavailable { retry_after: None }),
        Decision::Poll { .. }
    ));

    let mut no_url = RetryState::new(no_repeat(), t0, 1).for_write(true);
    let observation = Observation::Pending {
        held: MS,
        expires_at: expires,
        has_url: false,
    };
    assert_eq!(
        no_url.observe(t0, observation),
        Decision::GiveUp(GiveUp::Budget)
    );
}

#[test]
fn reads_are_repeated_under_no_repeat() {
    let t0 = Instant::now();
    let mut state = RetryState::new(no_repeat(), t0, 1).for_write(false);
    assert!(matches!(
        state.observe(t0, Observation::TransportMaybeSent),
        Decision::Resend { .. }
    ));
}

#[test]
fn resumed_write_under_no_repeat_polls() {
    let t0 = Instant::now();
    let expires = Some(t0 + Duration::from_secs(60));
    let state = RetryState::resume(no_repeat(), t0, 1, expires, true).for_write(true);
    assert_eq!(
        state.first_decision(),
        Decision::Poll {
            after: Duration::ZERO
        }
    );
}
