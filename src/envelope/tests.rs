use super::*;
use serde::Deserialize;

#[derive(Debug, Deserialize, PartialEq)]
struct Item {
    id: String,
}

fn answer(status: u16, body: &str) -> RawAnswer {
    RawAnswer {
        status,
        content_type: Some("application/json".into()),
        body: body.as_bytes().to_vec(),
        ..RawAnswer::default()
    }
}

fn ready_item(id: &str) -> Outcome<Item> {
    Outcome::Ready(Item { id: id.into() })
}

#[test]
fn sync_envelope_is_ready() {
    let body = r#"{"response":{"id":"a1","extra":[1,2]},"async":false,"new":1}"#;
    assert_eq!(decode_api::<Item>(&answer(200, body)), ready_item("a1"));
}

#[test]
fn bare_object_is_ready() {
    assert_eq!(
        decode_api::<Item>(&answer(200, r#"{"id":"b"}"#)),
        ready_item("b")
    );
    assert_eq!(
        decode_result::<Item>(&answer(200, r#"{"id":"b"}"#)),
        ready_item("b")
    );
}

#[test]
fn result_url_accepts_full_envelope() {
    let body = r#"{"response":{"id":"c"},"async":false}"#;
    assert_eq!(decode_result::<Item>(&answer(200, body)), ready_item("c"));
}

#[test]
fn async_envelope_is_pending() {
    let body = r#"{"async":true,"urlResponse":"https://b.example/r/n?sig=x","expiration":"2024-12-17T12:30:41.861Z"}"#;
    let Outcome::Pending(reply) = decode_api::<Item>(&answer(202, body)) else {
        panic!("not pending");
    };
    assert_eq!(
        reply.url_response.unwrap().as_str(),
        "https://b.example/r/n?sig=x"
    );
    assert_eq!(
        reply.expiration_raw.as_deref(),
        Some("2024-12-17T12:30:41.861Z")
    );
    let expiration = reply.expiration.unwrap();
    assert_eq!(expiration.unix_timestamp(), 1_734_438_641);
    assert_eq!(expiration.millisecond(), 861);
}

#[test]
fn async_envelope_without_expiration_is_pending() {
    let body = r#"{"async":true,"urlResponse":"https://b.example/r/n"}"#;
    let Outcome::Pending(reply) = decode_api::<Item>(&answer(202, body)) else {
        panic!("not pending");
    };
    assert_eq!(reply.expiration, None);
    assert_eq!(reply.expiration_raw, None);
}

#[test]
fn offset_expiration_parses() {
    let body = r#"{"async":true,"urlResponse":"u","expiration":"2025-03-05T14:33:56-03:00"}"#;
    let Outcome::Pending(reply) = decode_api::<Item>(&answer(202, body)) else {
        panic!("not pending");
    };
    assert_eq!(reply.expiration.unwrap().unix_timestamp(), 1_741_196_036);
}

#[test]
fn error_envelope_keeps_status_and_message() {
    let body = r#"{"response":{"errorMessage":"amountInCents out of range"},"async":false}"#;
    for status in [400, 401, 403, 500, 520, 200] {
        assert_eq!(
            decode_api::<Item>(&answer(status, body)),
            Outcome::Api {
                status,
                message: Some("amountInCents out of range".into())
            }
        );
    }
}

#[test]
fn null_error_message_is_still_error() {
    let body = r#"{"response":{"errorMessage":null},"async":false}"#;
    assert_eq!(
        decode_api::<Item>(&answer(200, body)),
        Outcome::Api {
            status: 200,
            message: None
        }
    );
}

#[test]
fn top_level_error_message_is_error() {
    assert_eq!(
        decode_api::<Item>(&answer(400, r#"{"errorMessage":"bad"}"#)),
        Outcome::Api {
            status: 400,
            message: Some("bad".into())
        }
    );
    assert_eq!(
        decode_result::<Item>(&answer(200, r#"{"errorMessage":"failed"}"#)),
        Outcome::Api {
            status: 200,
            message: Some("failed".into())
        }
    );
}

#[test]
fn not_found_empty_object_is_api_error() {
    assert_eq!(
        decode_api::<Item>(&answer(404, "{}")),
        Outcome::Api {
            status: 404,
            message: None
        }
    );
}

#[test]
fn rate_limit_keeps_retry_after() {
    let mut raw = answer(
        429,
        r#"{"response":{"errorMessage":"slow down"},"async":false}"#,
    );
    raw.retry_after = Some("2".into());
    assert_eq!(
        decode_api::<Item>(&raw),
        Outcome::RateLimited {
            status: 429,
            message: Some("slow down".into()),
            retry_after: Some("2".into())
        }
    );
}

#[test]
fn gateway_errors_are_unavailable() {
    for status in [502, 503, 504] {
        let raw = RawAnswer {
            status,
            content_type: Some("text/html".into()),
            body: b"<html><body>Bad Gateway</body></html>".to_vec(),
            ..RawAnswer::default()
        };
        assert!(matches!(
            decode_api::<Item>(&raw),
            Outcome::Unavailable { status: s, message: None, .. } if s == status
        ));
    }
    let sync = answer(
        503,
        r#"{"response":{"errorMessage":"timeout"},"async":false}"#,
    );
    assert_eq!(
        decode_api::<Item>(&sync),
        Outcome::Unavailable {
            status: 503,
            message: Some("timeout".into()),
            retry_after: None
        }
    );
}

#[test]
fn html_and_truncated_bodies_are_decode_errors() {
    let cases = [
        (200, "<!doctype html><p>hello</p>", "not valid JSON"),
        (200, r#"{"response":{"id":"a"#, "not valid JSON"),
        (200, "", "empty"),
        (500, "Internal Server Error", "not valid JSON"),
        (200, "\"text\"", "not an object"),
    ];
    for (status, body, reason_part) in cases {
        match decode_api::<Item>(&answer(status, body)) {
            Outcome::Decode {
                status: s,
                reason,
                snippet,
            } => {
                assert_eq!(s, status);
                assert!(reason.contains(reason_part), "{reason} for {body:?}");
                assert_eq!(
                    snippet,
                    body.chars().take(SNIPPET_CHARS).collect::<String>()
                );
            }
            other => panic!("{body:?} gave {other:?}"),
        }
    }
}

#[test]
fn wrong_shape_names_the_type() {
    match decode_api::<Item>(&answer(200, r#"{"response":{"qrId":1},"async":false}"#)) {
        Outcome::Decode { reason, .. } => assert!(reason.contains("Item"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn snippet_is_short_and_printable() {
    let body = format!("\u{1b}[31m{}", "x".repeat(10_000));
    let text = snippet(body.as_bytes());
    assert_eq!(text.chars().count(), SNIPPET_CHARS);
    assert!(!text.contains('\u{1b}'));
}

#[test]
fn result_url_not_ready_statuses() {
    for status in [403, 404] {
        assert_eq!(
            decode_result::<Item>(&answer(status, "<Error/>")),
            Outcome::NotReady { status }
        );
    }
    assert!(matches!(
        decode_result::<Item>(&answer(400, "<Error/>")),
        Outcome::Decode { status: 400, .. }
    ));
}

#[test]
fn retry_after_forms() {
    let now = OffsetDateTime::from_unix_timestamp(1_000_000_000).unwrap();
    assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
    assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
    let future = format_http_date(now + time::Duration::seconds(30));
    assert_eq!(
        parse_retry_after(&future, now),
        Some(Duration::from_secs(30))
    );
    let past = format_http_date(now - time::Duration::seconds(30));
    assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
    assert_eq!(
        parse_retry_after("99999999", now),
        Some(Duration::from_secs(99_999_999))
    );
    for garbage in ["1.5", "-1", "abc", "", " ", "1e3", "Sun, 06 Nov 1994"] {
        assert_eq!(parse_retry_after(garbage, now), None, "{garbage:?}");
    }
}

#[test]
fn http_date_round_trips() {
    let date = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
    assert_eq!(date.unix_timestamp(), 784_111_777);
    assert_eq!(format_http_date(date), "Sun, 06 Nov 1994 08:49:37 GMT");
}

#[test]
fn expiry_uses_server_clock() {
    let arrival = Instant::now();
    let server_now = OffsetDateTime::from_unix_timestamp(1_000_000_000).unwrap();
    let expiration = server_now + time::Duration::seconds(300);

    // The client's clock runs 10 minutes ahead: the server's Date keeps 5 minutes left.
    let local_ahead = server_now + time::Duration::minutes(10);
    let at = expiry_instant(expiration, Some(server_now), local_ahead, arrival);
    assert_eq!(at - arrival, Duration::from_secs(300));

    // The client's clock runs 10 minutes behind: still 5 minutes, not 15.
    let local_behind = server_now - time::Duration::minutes(10);
    let at = expiry_instant(expiration, Some(server_now), local_behind, arrival);
    assert_eq!(at - arrival, Duration::from_secs(300));

    // Without Date the local clock stands in.
    let at = expiry_instant(expiration, None, server_now, arrival);
    assert_eq!(at - arrival, Duration::from_secs(300));

    // Already past: expires on arrival.
    let at = expiry_instant(server_now, None, expiration, arrival);
    assert_eq!(at, arrival);
}

#[test]
fn bare_and_wrapped_arrays_decode() {
    let bare = r#" [{"id":"a"},{"id":"b"}]"#;
    let wrapped = r#"{"response":[{"id":"a"},{"id":"b"}],"async":false}"#;
    for body in [bare, wrapped] {
        assert_eq!(
            decode_api::<Vec<Item>>(&answer(200, body)),
            Outcome::Ready(vec![Item { id: "a".into() }, Item { id: "b".into() }])
        );
    }
    assert!(matches!(
        decode_api::<Item>(&answer(200, "[1,2]")),
        Outcome::Decode { .. }
    ));
}
