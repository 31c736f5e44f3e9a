use super::*;

#[test]
fn request_serialises_wire_names() {
    let request = DepositRequest::new(Cents::new(100).unwrap())
        .depix_address("lq1qq")
        .split("lq1split", "2.99%".parse().unwrap())
        .euid("EU000000000000001")
        .end_user_full_name("PAYER NAME")
        .end_user_tax_number("00123456789")
        .whitelist(true)
        .lightning(false)
        .pix2fa(true)
        .pix2fa_message("code %s")
        .delay_depix_in_hours(24);
    let json: serde_json::Value = serde_json::to_value(&request).unwrap();
    let expected = serde_json::json!({
        "amountInCents": 100, "depixAddress": "lq1qq", "depixSplitAddress": "lq1split",
        "splitFee": "2.99%", "euid": "EU000000000000001", "endUserFullName": "PAYER NAME",
        "endUserTaxNumber": "00123456789", "whitelist": true, "lightning": false,
        "pix2fa": true, "pix2faMessage": "code %s", "delayDepixInHours": 24
    });
    assert_eq!(json, expected);
}

#[test]
fn minimal_request_has_only_amount() {
    let request = DepositRequest::new(Cents::new(1999).unwrap());
    assert_eq!(
        serde_json::to_string(&request).unwrap(),
        r#"{"amountInCents":1999}"#
    );
}

#[test]
fn invalid_requests_fail_before_sending() {
    let amount = Cents::new(100).unwrap();
    let out_of_range = DepositRequest::new(Cents::from_server(0));
    assert!(matches!(
        Call::deposit(&out_of_range),
        Err(Error::Amount(_))
    ));
    let too_big = DepositRequest::new(Cents::from_server(10_000_001));
    assert!(matches!(Call::deposit(&too_big), Err(Error::Amount(_))));

    let delay = DepositRequest::new(amount).delay_depix_in_hours(721);
    assert!(matches!(
        Call::deposit(&delay),
        Err(Error::InvalidInput {
            field: "delayDepixInHours",
            ..
        })
    ));
    let zero_delay = DepositRequest::new(amount).delay_depix_in_hours(0);
    assert!(Call::deposit(&zero_delay).is_err());

    let message = DepositRequest::new(amount)
        .pix2fa(true)
        .pix2fa_message("no code");
    assert!(matches!(
        Call::deposit(&message),
        Err(Error::InvalidInput {
            field: "pix2faMessage",
            ..
        })
    ));

    let split = DepositRequest::new(amount).split(" ", "1%".parse().unwrap());
    assert!(Call::deposit(&split).is_err());
}

#[test]
fn each_call_gets_its_own_nonce() {
    let request = DepositRequest::new(Cents::new(100).unwrap());
    let first = Call::deposit(&request).unwrap();
    let second = Call::deposit(&request).unwrap();
    assert_ne!(first.nonce(), second.nonce());
    assert_eq!(first.request().body(), second.request().body());
}

#[test]
fn documented_status_example_decodes() {
    let body = r#"{"qrId":"01954e29d3337e388d5d1cb846b0d053","status":"depix_sent","valueInCents":12345,"expiration":"2025-03-05T14:33:56-03:00","pixKey":"00000000-0000-0000-0000-000000000000","payerName":"PAYER NAME","payerTaxNumber":"00000000000","payerEUID":"EU000000000000000","bankTxId":"fitbank_E00000000202502282005AAAAAAAAAAA","blockchainTxID":"ab12","customerMessage":"text"}"#;
    let info: DepositInfo = serde_json::from_str(body).unwrap();
    assert_eq!(info.status, DepositStatus::DepixSent);
    assert_eq!(info.value_in_cents, Some(Cents::from_server(12_345)));
    assert_eq!(info.payer_euid.as_deref(), Some("EU000000000000000"));
    assert_eq!(
        info.bank_tx_id.as_deref(),
        Some("fitbank_E00000000202502282005AAAAAAAAAAA")
    );
    assert_eq!(info.blockchain_tx_id.as_deref(), Some("ab12"));
    assert_eq!(
        info.expiration_time().unwrap().unix_timestamp(),
        1_741_196_036
    );
}

#[test]
fn null_absent_and_empty_are_none() {
    for blockchain in [r#","blockchainTxID":null"#, "", r#","blockchainTxID":"""#] {
        let body = format!(r#"{{"qrId":"a","status":"pending","payerName":null{blockchain}}}"#);
        let info: DepositInfo = serde_json::from_str(&body).unwrap();
        assert_eq!(info.blockchain_tx_id, None, "{body}");
        assert_eq!(info.payer_name, None);
        assert_eq!(info.value_in_cents, None);
    }
}

#[test]
fn unknown_status_is_kept_and_neutral() {
    let info: DepositInfo =
        serde_json::from_str(r#"{"qrId":"a","status":"awaiting_review","newField":{"x":1}}"#)
            .unwrap();
    assert_eq!(
        info.status,
        DepositStatus::Unknown("awaiting_review".into())
    );
    assert_eq!(info.status.as_str(), "awaiting_review");
    assert!(!info.status.is_final());
    assert!(!info.status.is_success());
}

#[test]
fn statuses_round_trip() {
    for text in [
        "pending",
        "under_review",
        "depix_sent",
        "canceled",
        "error",
        "refunded",
        "expired",
        "pending_pix2fa",
        "delayed",
        "approved",
        "will_refund",
        "brand_new",
    ] {
        let status = DepositStatus::from_wire(text);
        assert_eq!(status.as_str(), text);
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            format!("\"{text}\"")
        );
    }
    assert!(DepositStatus::DepixSent.is_success());
    assert!(DepositStatus::DepixSent.is_final());
    assert!(!DepositStatus::Pending.is_final());
}

#[test]
fn status_id_is_encoded() {
    let call = Call::deposit_status("a b&c").unwrap();
    assert_eq!(call.request().path(), "deposit-status?id=a%20b%26c");
    assert!(Call::deposit_status(" ").is_err());
}

#[test]
fn final_and_paid_answers() {
    let table = [
        ("pending", false, false),
        ("pending_pix2fa", false, true),
        ("under_review", false, true),
        ("approved", false, true),
        ("delayed", false, true),
        ("will_refund", false, true),
        ("depix_sent", true, true),
        ("refunded", true, true),
        ("expired", true, false),
        ("canceled", true, false),
        ("error", true, false),
        ("awaiting_review", false, false),
    ];
    for (text, is_final, is_paid) in table {
        let status = DepositStatus::from_wire(text);
        assert_eq!(status.is_final(), is_final, "{text} final");
        assert_eq!(status.is_paid(), is_paid, "{text} paid");
    }
}
