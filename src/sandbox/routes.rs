//! Endpoints of both listeners: the API under `/api/`, and urlResponse results and QR images.

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::format::{
    http_date, percent_decode, percent_encode, query_param, random_hex32, rfc3339_utc_millis,
    uuid_v4,
};
use super::http::{Request, Response};
use super::jobs::{Fingerprint, Job, JobState, Mode, NonceReused, Outcome, Work};
use super::listing::parse_bound;
use super::shared::{Config, Shared};
use super::work::api_error;

/// The `sv` query value of urlResponse links; the sandbox does not check it.
const SIGNED_VERSION: &str = "2025-01-01";

/// A 1x1 grey PNG, served for every deposit's `qrImageUrl`.
const QR_PNG: [u8; 67] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0x0f, 0x00, 0x01,
    0x01, 0x01, 0x00, 0xb1, 0x38, 0xf6, 0x14, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// Handles one request on the API listener, adding `Date`, `X-Request-ID` and `X-Nonce`.
///
/// With `force_async`, a request that reaches its job gets the async envelope whatever its
/// mode and the job's state.
pub(crate) fn handle_api(shared: &Shared, request: &Request, force_async: bool) -> Response {
    let nonce = match request.header("x-nonce") {
        Some(nonce) if !nonce.is_empty() => nonce.to_string(),
        _ => random_hex32(),
    };
    api_response(shared, request, &nonce, force_async)
        .with_header("Date", http_date(shared.now_utc()))
        .with_header("X-Request-ID", uuid_v4())
        .with_header("X-Nonce", nonce)
}

fn error_envelope(status: u16, message: &str) -> Response {
    sync_envelope(&api_error(status, message))
}

fn sync_envelope(outcome: &Outcome) -> Response {
    if outcome.bare {
        return Response::json(outcome.status, &outcome.body);
    }
    Response::json(
        outcome.status,
        &json!({ "response": outcome.body, "async": false }),
    )
}

fn async_envelope(shared: &Shared, nonce: &str, job: &Job) -> Response {
    let config = &shared.config;
    let url = format!(
        "{}/api-response/{}?sv={SIGNED_VERSION}&sig={}",
        config.result_origin,
        percent_encode(nonce),
        config.signature
    );
    let body = json!({
        "async": true,
        "urlResponse": url,
        "expiration": rfc3339_utc_millis(job.expiration_utc()),
    });
    Response::json(202, &body)
}

fn has_valid_bearer(shared: &Shared, request: &Request) -> bool {
    let Some((scheme, token)) = request
        .header("authorization")
        .and_then(|value| value.split_once(' '))
    else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && token.trim() == shared.config.token
}

fn api_response(shared: &Shared, request: &Request, nonce: &str, force_async: bool) -> Response {
    if !has_valid_bearer(shared, request) {
        return error_envelope(401, "invalid or missing bearer token");
    }
    let Some(mode) = Mode::from_header(request.header("x-async")) else {
        return error_envelope(400, "invalid X-Async header: expected true, false or auto");
    };
    let work = match route_api(request, &shared.config) {
        Ok(work) => work,
        Err(response) => return response,
    };
    run_job(shared, request, nonce, mode, work, force_async)
}

/// Maps a request to the work of its endpoint, or to the error response sent at once.
///
/// Query parameters are checked here. Body fields are checked when the job is performed,
/// so their errors also reach async callers through urlResponse.
fn route_api(request: &Request, config: &Config) -> Result<Work, Response> {
    let expect_method = |allowed: &str| {
        if request.method == allowed {
            return Ok(());
        }
        let message = format!("method {} not allowed here; use {allowed}", request.method);
        Err(error_envelope(405, &message).with_header("Allow", allowed))
    };
    match request.path() {
        "/api/ping" => expect_method("GET").map(|()| Work::Ping),
        "/api/deposit" => expect_method("POST").and_then(|()| parse_deposit(&request.body)),
        "/api/deposit-status" => {
            expect_method("GET")?;
            let id = required_param(request.query(), "id")?;
            Ok(Work::DepositStatus { id })
        }
        "/api/deposits" => expect_method("GET").and_then(|()| parse_deposit_list(request.query())),
        "/api/user-info" => {
            expect_method("GET")?;
            let euid = required_param(request.query(), "euid")?;
            let bare = config.user_info_bare;
            Ok(Work::UserInfo { euid, bare })
        }
        "/api/pix2fa" => {
            expect_method("POST")?;
            let body = parse_json_object(&request.body)?;
            Ok(Work::Pix2fa { body })
        }
        "/api/withdraw" => {
            expect_method("POST")?;
            let fields = parse_json_object(&request.body)?;
            let body = request.body.clone();
            Ok(Work::Withdraw { fields, body })
        }
        "/api/withdraw-status" => {
            expect_method("GET")?;
            let id = required_param(request.query(), "id")?;
            Ok(Work::WithdrawStatus { id })
        }
        _ => Err(error_envelope(404, "unknown endpoint")),
    }
}

/// Returns a query parameter's decoded value, or a 400 response when it is missing or empty.
fn required_param(query: &str, name: &str) -> Result<String, Response> {
    match query_param(query, name) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(error_envelope(
            400,
            &format!("missing query parameter {name}"),
        )),
    }
}

/// Parses a request body that must be a JSON object.
fn parse_json_object(body: &[u8]) -> Result<Map<String, Value>, Response> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Err(error_envelope(400, "invalid JSON body"));
    };
    let Value::Object(object) = value else {
        return Err(error_envelope(400, "request body must be a JSON object"));
    };
    Ok(object)
}

/// Checks that a deposit body is a JSON object. Its `amountInCents` is checked at processing.
fn parse_deposit(body: &[u8]) -> Result<Work, Response> {
    let object = parse_json_object(body)?;
    Ok(Work::Deposit {
        amount: object.get("amountInCents").and_then(Value::as_i64),
        body: body.to_vec(),
    })
}

/// Parses the `start`, `end` and optional `status` parameters of `GET /api/deposits`.
///
/// An empty `status` is treated as absent, so it lists every status.
fn parse_deposit_list(query: &str) -> Result<Work, Response> {
    let bound = |name: &str| {
        let text = required_param(query, name)?;
        parse_bound(&text).ok_or_else(|| {
            let message = format!(
                "invalid query parameter {name}: expected YYYY-MM-DD or RFC 3339 \
                 (with + percent-encoded as %2B), got {text:?}"
            );
            error_envelope(400, &message)
        })
    };
    let start = bound("start")?;
    let end = bound("end")?;
    if end <= start {
        return Err(error_envelope(
            400,
            "invalid query parameters: end must be later than start",
        ));
    }
    let status = query_param(query, "status").filter(|status| !status.is_empty());
    Ok(Work::DepositList { start, end, status })
}

/// Submits the job for this nonce and responds according to the mode and the job's state,
/// or with the async envelope when `force_async` is set.
fn run_job(
    shared: &Shared,
    request: &Request,
    nonce: &str,
    mode: Mode,
    work: Work,
    force_async: bool,
) -> Response {
    let fingerprint = Fingerprint {
        method: request.method.clone(),
        target: request.target.clone(),
        body: request.body.clone(),
    };
    let mut state = shared.state();
    let timing = (state.processing_time, shared.config.async_lifetime);
    let generation = match state
        .jobs
        .submit(nonce, fingerprint, work, timing, shared.now_utc())
    {
        Ok(generation) => generation,
        Err(NonceReused) => return error_envelope(422, "X-Nonce reused with a different request"),
    };
    shared.notify();

    let forced = state
        .jobs
        .take_forced_async(nonce, shared.config.force_async_first);
    if forced || force_async || mode == Mode::Async {
        let job = state.jobs.get(nonce).expect("the job was just submitted");
        return async_envelope(shared, nonce, job);
    }

    let deadline = Instant::now() + shared.config.sync_window;
    let mut state = shared.wait_for_job(state, nonce, generation, deadline);
    let job = state.jobs.get(nonce).expect("jobs are never removed");
    match &job.state {
        JobState::Done(outcome) => sync_envelope(outcome),
        _ if mode == Mode::Sync => {
            state.jobs.discard(nonce, generation);
            shared.notify();
            log::debug!("sandbox discarded the sync job for nonce {nonce} after the sync window");
            error_envelope(503, "sync mode timed out; the request was discarded")
        }
        // NOTE: if a concurrent sync request with the same nonce discarded this job, the
        // urlResponse link points at a discarded job and returns 404 until a retry.
        _ => async_envelope(shared, nonce, job),
    }
}

/// Handles one request on the results listener, adding `Date` and `X-Request-ID`.
///
/// This listener rejects any request with an `Authorization` header, not only result reads.
pub(crate) fn handle_results(shared: &Shared, request: &Request) -> Response {
    results_response(shared, request)
        .with_header("Date", http_date(shared.now_utc()))
        .with_header("X-Request-ID", uuid_v4())
}

fn xml_error(status: u16, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    Response {
        status,
        headers: vec![("Content-Type".into(), "application/xml".into())],
        body: body.into_bytes(),
    }
}

fn results_response(shared: &Shared, request: &Request) -> Response {
    if request.header("authorization").is_some() {
        return xml_error(
            400,
            "InvalidAuthenticationInfo",
            "Authorization header not allowed",
        );
    }
    if request.method != "GET" {
        return xml_error(405, "UnsupportedHttpVerb", "Only GET is supported")
            .with_header("Allow", "GET");
    }
    let path = request.path();
    if let Some(nonce) = path.strip_prefix("/api-response/") {
        return job_result(shared, &percent_decode(nonce, false), request.query());
    }
    if let Some(file) = path.strip_prefix("/qr/") {
        return qr_image(shared, file);
    }
    xml_error(
        404,
        "ResourceNotFound",
        "The specified resource does not exist.",
    )
}

/// Returns a done job's inner object, or 404 while it is pending, expired, discarded or unknown.
fn job_result(shared: &Shared, nonce: &str, query: &str) -> Response {
    if query_param(query, "sig").as_deref() != Some(shared.config.signature.as_str()) {
        return xml_error(
            403,
            "AuthenticationFailed",
            "Signature missing or not valid for this resource",
        );
    }
    let state = shared.state();
    match state.jobs.get(nonce).map(|job| &job.state) {
        Some(JobState::Done(outcome)) => Response::json(200, &outcome.body),
        _ => xml_error(404, "BlobNotFound", "The specified blob does not exist."),
    }
}

fn qr_image(shared: &Shared, file: &str) -> Response {
    let known = file
        .strip_suffix(".png")
        .is_some_and(|id| shared.state().ledger.contains(id));
    if !known {
        return xml_error(404, "BlobNotFound", "The specified blob does not exist.");
    }
    Response {
        status: 200,
        headers: vec![("Content-Type".into(), "image/png".into())],
        body: QR_PNG.to_vec(),
    }
}
