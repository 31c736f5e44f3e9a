//! Webhook bodies, the `Authorization: Basic` check and the receiver example over loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use depix::webhook::{Event, MAX_BODY_BYTES, WebhookError, WebhookSecret, basic_credentials};
use depix::{DepositStatus, WithdrawStatus};
use serde_json::json;

/// The receiver example, compiled into this test so the test drives its request handling.
#[allow(dead_code)]
#[path = "../examples/webhook_receiver.rs"]
mod receiver;

const SECRET: &str = "registered-secret-0123";

const DEPOSIT_BODY: &str = r#"{"webhookType":"deposit","qrId":"01954e29d3337e388d5d1cb846b0d053","status":"depix_sent","valueInCents":12345,"expiration":"2025-03-05T14:33:56-03:00","pixKey":"00000000-0000-0000-0000-000000000000","payerName":"PAYER NAME","payerTaxNumber":"00000000000","payerEUID":"EU000000000000000","bankTxId":"fitbank_E00000000202502282005AAAAAAAAAAA","blockchainTxID":"aa00000000000000000000000000000000000000000000000000000000000000","customerMessage":"text"}"#;

const WITHDRAW_BODY: &str = r#"{"webhookType":"withdraw","id":"68fa25175c6d412db991f0762eeec2e3","pixKey":"00000000000","status":"sending","expiration":"2026-02-21T14:33:50.068Z","depositAddress":"lq1qqexampleaddress","depositAmountInCents":1000,"payoutAmountInCents":990,"blockchainTxID":"bb00000000000000000000000000000000000000000000000000000000000000","receiptUrl":"https://example.com/"}"#;

const MED_BODY: &str = r#"{"webhookType":"med","qrId":"01954e29d3337e388d5d1cb846b0d053","bankTxId":"fitbank_E00000000202502282005AAAAAAAAAAA","blockchainTxID":"cc00000000000000000000000000000000000000000000000000000000000000","creationDateReport":"2026-02-24T15:27:23-03:00","euid":"EU000000000000000","name":"PAYER NAME","partnerId":"partner_id","principalValueInCents":100,"taxNumber":"00000000000"}"#;

fn decode(body: &str) -> Event {
    Event::from_slice(body.as_bytes()).unwrap_or_else(|error| panic!("{error}: {body}"))
}

fn decode_json(body: serde_json::Value) -> Result<Event, WebhookError> {
    Event::from_slice(body.to_string().as_bytes())
}

fn deposit(body: &str) -> depix::webhook::DepositEvent {
    match decode(body) {
        Event::Deposit(deposit) => deposit,
        other => panic!("expected a deposit, got {other:?}"),
    }
}

fn withdraw(body: &str) -> depix::webhook::WithdrawEvent {
    match decode(body) {
        Event::Withdraw(withdraw) => withdraw,
        other => panic!("expected a withdrawal, got {other:?}"),
    }
}

fn med(body: &str) -> depix::webhook::MedEvent {
    match decode(body) {
        Event::Med(med) => med,
        other => panic!("expected a MED claim, got {other:?}"),
    }
}

fn invalid_event_reason(result: Result<Event, WebhookError>) -> String {
    match result {
        Err(WebhookError::InvalidEvent { reason, .. }) => reason,
        other => panic!("expected InvalidEvent, got {other:?}"),
    }
}

fn secret() -> WebhookSecret {
    WebhookSecret::new(SECRET).unwrap()
}

// Decoding

#[test]
fn deposit_documented_body_decodes() {
    let event = deposit(DEPOSIT_BODY);
    assert_eq!(event.qr_id, "01954e29d3337e388d5d1cb846b0d053");
    assert_eq!(event.status, DepositStatus::DepixSent);
    assert_eq!(event.value_in_cents.map(|cents| cents.get()), Some(12_345));
    assert_eq!(
        event.expiration.as_deref(),
        Some("2025-03-05T14:33:56-03:00")
    );
    assert_eq!(
        event.expiration_time().unwrap().unix_timestamp(),
        1_741_196_036
    );
    assert_eq!(
        event.pix_key.as_deref(),
        Some("00000000-0000-0000-0000-000000000000")
    );
    assert_eq!(event.payer_name.as_deref(), Some("PAYER NAME"));
    assert_eq!(event.payer_tax_number.as_deref(), Some("00000000000"));
    assert_eq!(event.customer_message.as_deref(), Some("text"));
    assert_eq!(event.delay_until, None);
}

#[test]
fn deposit_odd_casings_decode() {
    let event = deposit(DEPOSIT_BODY);
    assert_eq!(event.payer_euid.as_deref(), Some("EU000000000000000"));
    assert_eq!(
        event.bank_tx_id.as_deref(),
        Some("fitbank_E00000000202502282005AAAAAAAAAAA")
    );
    assert!(
        event
            .blockchain_tx_id
            .as_deref()
            .unwrap()
            .starts_with("aa00")
    );
    assert_eq!(event.info.qr_id, event.qr_id);
}

#[test]
fn other_casings_are_not_the_field() {
    let body = r#"{"qrId":"q1","status":"depix_sent","blockchainTxId":"x","bankTxID":"y","payerEuid":"z"}"#;
    let event = deposit(body);
    assert_eq!(event.blockchain_tx_id, None);
    assert_eq!(event.bank_tx_id, None);
    assert_eq!(event.payer_euid, None);
}

#[test]
fn deposit_without_webhook_type() {
    let body = r#"{"qrId":"q1","status":"pending","valueInCents":100}"#;
    let event = decode(body);
    assert_eq!(event.webhook_type(), "deposit");
    let Event::Deposit(event) = event else {
        panic!("expected a deposit");
    };
    assert_eq!(event.status, DepositStatus::Pending);
    for webhook_type in [json!(null), json!("")] {
        let body = json!({"webhookType": webhook_type, "qrId": "q1", "status": "pending"});
        let event = decode_json(body).unwrap();
        assert!(matches!(event, Event::Deposit(_)), "{webhook_type}");
    }
}

#[test]
fn deposit_delay_until_decodes() {
    let body = r#"{"qrId":"q1","status":"delayed","delayUntil":"2026-03-01T00:00:00Z"}"#;
    let event = deposit(body);
    assert_eq!(event.status, DepositStatus::Delayed);
    assert_eq!(event.delay_until.as_deref(), Some("2026-03-01T00:00:00Z"));
}

#[test]
fn withdraw_documented_body_decodes() {
    let event = withdraw(WITHDRAW_BODY);
    assert_eq!(event.id, "68fa25175c6d412db991f0762eeec2e3");
    assert_eq!(event.status, WithdrawStatus::Sending);
    assert_eq!(event.pix_key.as_deref(), Some("00000000000"));
    assert_eq!(
        event.deposit_address.as_deref(),
        Some("lq1qqexampleaddress")
    );
    assert_eq!(event.deposit_amount_in_cents.map(|c| c.get()), Some(1000));
    assert_eq!(event.payout_amount_in_cents.map(|c| c.get()), Some(990));
    assert!(
        event
            .blockchain_tx_id
            .as_deref()
            .unwrap()
            .starts_with("bb00")
    );
    assert_eq!(event.receipt_url.as_deref(), Some("https://example.com/"));
    let expiration = event.expiration_time().unwrap();
    assert_eq!(expiration.unix_timestamp(), 1_771_684_430);
    assert_eq!(expiration.millisecond(), 68);
}

#[test]
fn med_documented_body_decodes() {
    let event = med(MED_BODY);
    assert_eq!(event.qr_id, "01954e29d3337e388d5d1cb846b0d053");
    assert_eq!(
        event.bank_tx_id.as_deref(),
        Some("fitbank_E00000000202502282005AAAAAAAAAAA")
    );
    assert!(
        event
            .blockchain_tx_id
            .as_deref()
            .unwrap()
            .starts_with("cc00")
    );
    assert_eq!(
        event.creation_date_report.as_deref(),
        Some("2026-02-24T15:27:23-03:00")
    );
    assert_eq!(
        event.creation_time().unwrap().unix_timestamp(),
        1_771_957_643
    );
    assert_eq!(event.euid.as_deref(), Some("EU000000000000000"));
    assert_eq!(event.name.as_deref(), Some("PAYER NAME"));
    assert_eq!(event.partner_id.as_deref(), Some("partner_id"));
    assert_eq!(event.principal_value_in_cents.map(|c| c.get()), Some(100));
    assert_eq!(event.tax_number.as_deref(), Some("00000000000"));
}

#[test]
fn med_amount_number_or_text() {
    let cases = [
        (json!(100), Some(100)),
        (json!("100"), Some(100)),
        (json!(0), Some(0)),
        (json!("0"), Some(0)),
        (json!("007"), Some(7)),
        (json!(u64::MAX), Some(u64::MAX)),
        (json!(null), None),
        (json!(""), None),
    ];
    for (amount, expected) in cases {
        let body = json!({"webhookType": "med", "qrId": "q1", "principalValueInCents": amount});
        let Event::Med(event) = decode_json(body).unwrap() else {
            panic!("expected a MED claim for {amount}");
        };
        let cents = event.principal_value_in_cents.map(|c| c.get());
        assert_eq!(cents, expected, "{amount}");
    }
    let event = med(r#"{"webhookType":"med","qrId":"q1"}"#);
    assert_eq!(event.principal_value_in_cents, None);
}

#[test]
fn med_invalid_amounts_rejected() {
    let cases = [
        (json!(-1), "negative"),
        (json!("-1"), "negative"),
        (json!(1.5), "not a whole number"),
        (json!(100.0), "not a whole number"),
        (json!("1.50"), "not a whole number"),
        (json!("1,50"), "not a whole number"),
        (json!("abc"), "not a number"),
        (json!("1e3"), "not a number"),
        (json!(" 100"), "not a number"),
        (json!("+100"), "not a number"),
        (json!("99999999999999999999999"), "too large"),
        (json!(true), "must be a number or digit text"),
        (json!([100]), "must be a number or digit text"),
    ];
    for (amount, expected) in cases {
        let body = json!({"webhookType": "med", "qrId": "q1", "principalValueInCents": amount});
        let reason = invalid_event_reason(decode_json(body));
        assert!(
            reason.contains("principalValueInCents"),
            "{amount}: {reason}"
        );
        assert!(reason.contains(expected), "{amount}: {reason}");
    }
}

#[test]
fn med_amount_error_message() {
    let body = json!({"webhookType": "med", "qrId": "q1", "principalValueInCents": "12abc"});
    let message = decode_json(body).unwrap_err().to_string();
    assert_eq!(
        message,
        "invalid \"med\" webhook body: principalValueInCents \"12abc\" is not a number, \
         expected whole cents as digits, such as \"100\""
    );
}

#[test]
fn med_needs_qr_id() {
    let missing = json!({"webhookType": "med", "principalValueInCents": 100});
    let reason = invalid_event_reason(decode_json(missing));
    assert!(reason.contains("qrId"), "{reason}");
    for qr_id in [json!(""), json!(" "), json!(null)] {
        let body = json!({"webhookType": "med", "qrId": qr_id});
        assert!(decode_json(body).is_err(), "qrId {qr_id} was accepted");
    }
}

#[test]
fn ids_and_status_are_required() {
    let cases = [
        json!({"webhookType": "deposit", "status": "pending"}),
        json!({"webhookType": "deposit", "qrId": "", "status": "pending"}),
        json!({"webhookType": "deposit", "qrId": "q1"}),
        json!({"webhookType": "withdraw", "status": "sent"}),
        json!({"webhookType": "withdraw", "id": "", "status": "sent"}),
        json!({"webhookType": "withdraw", "id": "w1"}),
    ];
    for body in cases {
        assert!(
            matches!(
                decode_json(body.clone()),
                Err(WebhookError::InvalidEvent { .. })
            ),
            "{body} was accepted"
        );
    }
}

#[test]
fn unknown_status_values_kept() {
    let deposit = deposit(r#"{"qrId":"q1","status":"awaiting_review"}"#);
    assert_eq!(
        deposit.status,
        DepositStatus::Unknown("awaiting_review".to_owned())
    );
    assert!(!deposit.status.is_final());
    let withdraw = withdraw(r#"{"webhookType":"withdraw","id":"w1","status":"on_hold"}"#);
    assert_eq!(withdraw.status.as_str(), "on_hold");
    let key = Event::Withdraw(withdraw).dedupe_key().unwrap();
    assert_eq!(key.status(), "on_hold");
}

#[test]
fn optional_fields_null_absent_empty() {
    let fields = [
        "valueInCents",
        "expiration",
        "pixKey",
        "payerName",
        "payerTaxNumber",
        "payerEUID",
        "bankTxId",
        "blockchainTxID",
        "customerMessage",
        "delayUntil",
    ];
    let absent = deposit(r#"{"qrId":"q1","status":"pending"}"#);
    for filler in [json!(null), json!("")] {
        let mut body = json!({"qrId": "q1", "status": "pending"});
        for field in fields {
            // valueInCents is a number, so only null applies to it.
            if field != "valueInCents" || filler.is_null() {
                body[field] = filler.clone();
            }
        }
        let Event::Deposit(event) = decode_json(body).unwrap() else {
            panic!("expected a deposit");
        };
        assert_eq!(event, absent, "filler {filler}");
    }
    assert_eq!(absent.payer_name, None);
    assert_eq!(absent.value_in_cents, None);

    let withdraw = withdraw(
        r#"{"webhookType":"withdraw","id":"w1","status":"unsent","pixKey":"","expiration":null,"depositAddress":"","depositAmountInCents":null,"blockchainTxID":"","receiptUrl":null}"#,
    );
    assert_eq!(withdraw.pix_key, None);
    assert_eq!(withdraw.expiration, None);
    assert_eq!(withdraw.deposit_address, None);
    assert_eq!(withdraw.deposit_amount_in_cents, None);
    assert_eq!(withdraw.payout_amount_in_cents, None);
    assert_eq!(withdraw.blockchain_tx_id, None);
    assert_eq!(withdraw.receipt_url, None);

    let med = med(
        r#"{"webhookType":"med","qrId":"q1","bankTxId":"","blockchainTxID":null,"creationDateReport":"","euid":null,"name":"","partnerId":null,"taxNumber":""}"#,
    );
    assert_eq!(med.bank_tx_id, None);
    assert_eq!(med.blockchain_tx_id, None);
    assert_eq!(med.creation_date_report, None);
    assert_eq!(med.creation_time(), None);
    assert_eq!(med.euid, None);
    assert_eq!(med.name, None);
    assert_eq!(med.partner_id, None);
    assert_eq!(med.tax_number, None);
}

#[test]
fn unknown_fields_ignored() {
    let body = r#"{"webhookType":"deposit","qrId":"q1","status":"pending","newField":{"a":[1,2]}}"#;
    assert_eq!(deposit(body).qr_id, "q1");
}

#[test]
fn unknown_webhook_type_kept() {
    let body = r#"{"webhookType":"refund","refundId":"r1","amount":5}"#;
    let event = decode(body);
    assert_eq!(event.webhook_type(), "refund");
    assert_eq!(event.dedupe_key(), None);
    let Event::Unknown { webhook_type, body } = event else {
        panic!("expected an unknown event");
    };
    assert_eq!(webhook_type, "refund");
    assert_eq!(body["refundId"], "r1");
    assert_eq!(body["amount"], 5);
}

#[test]
fn type_names_match_exactly() {
    let body = json!({"webhookType": "Deposit", "qrId": "q1", "status": "pending"});
    let event = decode_json(body).unwrap();
    assert!(matches!(event, Event::Unknown { .. }), "{event:?}");
}

#[test]
fn malformed_bodies_rejected() {
    for body in ["", "{", "not json", "{\"qrId\":\"q1\",}"] {
        let result = Event::from_slice(body.as_bytes());
        assert!(
            matches!(result, Err(WebhookError::InvalidJson { .. })),
            "{body:?}: {result:?}"
        );
    }
    for body in ["[]", "\"deposit\"", "42", "null"] {
        let reason = invalid_event_reason(Event::from_slice(body.as_bytes()));
        assert!(
            reason.contains("expected a JSON object"),
            "{body}: {reason}"
        );
    }
    let numeric_type = json!({"webhookType": 1, "qrId": "q1", "status": "pending"});
    let reason = invalid_event_reason(decode_json(numeric_type));
    assert!(reason.contains("webhookType must be a string"), "{reason}");
}

#[test]
fn body_size_limit() {
    let prefix = r#"{"qrId":"q1","status":"pending"}"#;
    let mut body = prefix.as_bytes().to_vec();
    body.resize(MAX_BODY_BYTES, b' ');
    assert!(Event::from_slice(&body).is_ok());
    body.push(b' ');
    let error = Event::from_slice(&body).unwrap_err();
    assert_eq!(
        error,
        WebhookError::BodyTooLarge {
            len: MAX_BODY_BYTES + 1,
            max: MAX_BODY_BYTES
        }
    );
    assert_eq!(
        error.to_string(),
        "webhook body of 1048577 bytes exceeds the limit of 1048576 bytes"
    );
}

#[test]
fn dedupe_keys() {
    let deposit = decode(DEPOSIT_BODY).dedupe_key().unwrap();
    assert_eq!(deposit.webhook_type(), "deposit");
    assert_eq!(deposit.id(), "01954e29d3337e388d5d1cb846b0d053");
    assert_eq!(deposit.status(), "depix_sent");
    assert_eq!(
        deposit.to_string(),
        "deposit/01954e29d3337e388d5d1cb846b0d053/depix_sent"
    );
    assert_eq!(decode(DEPOSIT_BODY).dedupe_key().unwrap(), deposit);

    let pending = decode(r#"{"qrId":"01954e29d3337e388d5d1cb846b0d053","status":"pending"}"#);
    assert_ne!(pending.dedupe_key().unwrap(), deposit);

    let withdraw = decode(WITHDRAW_BODY).dedupe_key().unwrap();
    assert_eq!(
        withdraw.to_string(),
        "withdraw/68fa25175c6d412db991f0762eeec2e3/sending"
    );

    let med = decode(MED_BODY).dedupe_key().unwrap();
    assert_eq!(med.to_string(), "med/01954e29d3337e388d5d1cb846b0d053/med");
    let deposit_status_med =
        decode(r#"{"qrId":"01954e29d3337e388d5d1cb846b0d053","status":"med"}"#);
    assert_ne!(deposit_status_med.dedupe_key().unwrap(), med);
}

#[test]
fn both_cancel_spellings_share_key() {
    let american = decode(r#"{"webhookType":"withdraw","id":"w1","status":"canceled"}"#);
    let british = decode(r#"{"webhookType":"withdraw","id":"w1","status":"cancelled"}"#);
    assert_eq!(american.dedupe_key(), british.dedupe_key());
}

// Secret and verification

#[test]
fn verify_right_secret() {
    assert!(secret().verify(Some(&format!("Basic {SECRET}"))));
}

#[test]
fn verify_wrong_secret() {
    assert!(!secret().verify(Some("Basic registered-secret-0124")));
    assert!(!secret().verify(Some("Basic another-secret-entirely")));
}

#[test]
fn verify_empty_or_missing_header() {
    let secret = secret();
    assert!(!secret.verify(None));
    for header in ["", " ", "Basic", "Basic ", "Basic    ", "\t"] {
        assert!(!secret.verify(Some(header)), "{header:?} was accepted");
    }
}

#[test]
fn verify_length_off_by_one() {
    let shorter = &SECRET[..SECRET.len() - 1];
    let longer = format!("{SECRET}4");
    assert!(!secret().verify(Some(&format!("Basic {shorter}"))));
    assert!(!secret().verify(Some(&format!("Basic {longer}"))));
    let prefixed = format!("x{SECRET}");
    assert!(!secret().verify(Some(&format!("Basic {prefixed}"))));
}

#[test]
fn verify_wrong_scheme() {
    let secret = secret();
    for scheme in ["Bearer", "Digest", "Basi", "Basicx", "Token"] {
        let header = format!("{scheme} {SECRET}");
        assert!(!secret.verify(Some(&header)), "{header:?} was accepted");
    }
    assert!(!secret.verify(Some(SECRET)), "header without scheme");
    assert!(!secret.verify(Some(&format!("Basic:{SECRET}"))));
}

#[test]
fn verify_scheme_case_and_whitespace() {
    let secret = secret();
    for header in [
        format!("basic {SECRET}"),
        format!("BASIC {SECRET}"),
        format!("bAsIc {SECRET}"),
        format!("  Basic {SECRET}  "),
        format!("Basic   {SECRET}"),
        format!("Basic\t{SECRET}"),
        format!("\tBasic {SECRET}\t"),
    ] {
        assert!(secret.verify(Some(&header)), "{header:?} was rejected");
    }
}

#[test]
fn verify_secret_is_case_sensitive() {
    let header = format!("Basic {}", SECRET.to_uppercase());
    assert!(!secret().verify(Some(&header)));
}

#[test]
fn verify_base64_of_user_password() {
    let secret = WebhookSecret::new("partner:pass-0123456789").unwrap();
    // Standard base64 of "partner:pass-0123456789", as `curl -u` sends it.
    assert!(secret.verify(Some("Basic cGFydG5lcjpwYXNzLTAxMjM0NTY3ODk=")));
    assert!(secret.verify(Some("Basic partner:pass-0123456789")));
    // Missing padding, and the base64 of a different password.
    assert!(!secret.verify(Some("Basic cGFydG5lcjpwYXNzLTAxMjM0NTY3ODk")));
    assert!(!secret.verify(Some("Basic cGFydG5lcjpwYXNzLTAxMjM0NTY3ODg=")));
}

#[test]
fn verify_registered_base64_verbatim() {
    let registered = basic_credentials("partner", "pass-0123456789").unwrap();
    assert_eq!(registered, "cGFydG5lcjpwYXNzLTAxMjM0NTY3ODk=");
    let secret = WebhookSecret::new(registered.as_str()).unwrap();
    assert!(secret.verify(Some(&format!("Basic {registered}"))));
    assert!(!secret.verify(Some("Basic partner:pass-0123456789")));
}

#[test]
fn basic_credentials_checks_input() {
    let colon_user = basic_credentials("part:ner", "pass-0123456789").unwrap_err();
    assert!(colon_user.to_string().contains("user name contains ':'"));
    assert!(basic_credentials("a", "b").is_err(), "4-character result");
}

#[test]
fn short_secret_rejected() {
    let error = WebhookSecret::new("fifteen-chars-x").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid webhook secret: it has 15 characters, but Eulen requires at least 16"
    );
    assert!(WebhookSecret::new("sixteen-chars-xx").is_ok());
    assert!(WebhookSecret::new("").is_err());
    // Characters, not bytes: 15 two-byte characters are still too short.
    assert!(WebhookSecret::new("ç".repeat(15)).is_err());
    assert!(WebhookSecret::new("ç".repeat(16)).is_ok());
}

#[test]
fn unusable_secret_rejected() {
    for text in [
        " leading-space-secret",
        "trailing-space-secret ",
        "secret-with\nnewline-inside",
        "secret-with\ttab-inside-it",
    ] {
        let error = WebhookSecret::new(text).unwrap_err();
        assert!(
            !error.to_string().contains("secret-with"),
            "message quotes the secret: {error}"
        );
        assert!(!error.to_string().contains("space-secret"), "{error}");
    }
    assert!(WebhookSecret::new("inner space is fine here").is_ok());
}

#[test]
fn secret_debug_is_redacted() {
    let secret = secret();
    assert_eq!(format!("{secret:?}"), "WebhookSecret([redacted])");
    assert!(!format!("{secret:#?}").contains("registered"));
    let copy = secret.clone();
    assert!(copy.verify(Some(&format!("Basic {SECRET}"))));
}

// The receiver example over loopback

/// Sends one HTTP/1.1 request and returns the status code and response body.
fn send(
    address: SocketAddr,
    method: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "{method} /webhook HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(value) = authorization {
        head.push_str(&format!("Authorization: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();

    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn receiver_example_end_to_end() {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let address = server.server_addr().to_ip().unwrap();
    let worker = std::thread::spawn(move || {
        let mut receiver = receiver::Receiver::new(secret());
        receiver::serve(&server, &mut receiver, Some(4)).unwrap();
        receiver
    });
    let right = format!("Basic {SECRET}");
    let right = Some(right.as_str());
    let deposit = DEPOSIT_BODY.as_bytes();

    let (status, _) = send(address, "POST", Some("Basic wrong-secret-0123456"), deposit);
    assert_eq!(status, 401, "wrong secret");
    let (status, _) = send(address, "POST", None, deposit);
    assert_eq!(status, 401, "missing header");
    let (status, _) = send(address, "GET", right, b"");
    assert_eq!(status, 405, "GET");
    let (status, body) = send(address, "POST", right, b"{\"webhookType\":\"med\"}");
    assert_eq!(status, 400, "MED without qrId");
    assert!(body.contains("qrId"), "{body}");
    let mut large = DEPOSIT_BODY.as_bytes().to_vec();
    large.resize(MAX_BODY_BYTES + 1, b' ');
    let (status, _) = send(address, "POST", right, &large);
    assert_eq!(status, 413, "body over 1 MiB");

    let (status, body) = send(address, "POST", right, deposit);
    assert_eq!(status, 200, "first delivery");
    assert!(body.contains("depix_sent"), "{body}");
    let (status, body) = send(address, "POST", right, deposit);
    assert_eq!(status, 200, "repeated delivery");
    assert!(body.starts_with("skipped repeat"), "{body}");
    let basic_client = "Basic cGFydG5lcjpwYXNzLTAxMjM0NTY3ODk=";
    let (status, _) = send(address, "POST", Some(basic_client), MED_BODY.as_bytes());
    assert_eq!(status, 401, "base64 form of a secret without a colon");
    let (status, body) = send(address, "POST", right, MED_BODY.as_bytes());
    assert_eq!(status, 200, "MED claim");
    assert!(body.contains("R$ 1.00"), "{body}");
    let (status, body) = send(address, "POST", right, br#"{"webhookType":"refund"}"#);
    assert_eq!(status, 200, "unknown type");
    assert!(body.contains("refund"), "{body}");

    let receiver = worker.join().unwrap();
    assert_eq!(receiver.accepted, 4);
    let key = decode(DEPOSIT_BODY).dedupe_key().unwrap();
    assert!(receiver.has_seen(&key));
}
