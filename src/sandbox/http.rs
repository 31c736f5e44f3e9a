//! A small HTTP/1.1 request parser and response writer for the sandbox listeners.
//!
//! It supports what the sandbox needs: `Content-Length` bodies, persistent connections,
//! pipelined requests and `Connection: close`. Chunked request bodies are rejected with 411.

use std::io::{self, BufRead, Read, Write};

use serde_json::Value;

/// Maximum size of a request line plus headers, in bytes.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Maximum size of a request body, in bytes.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// One parsed request.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    /// Request target as sent, path and query string.
    pub target: String,
    /// Whether the request line is `HTTP/1.0`.
    pub http_1_0: bool,
    /// Header names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// Returns the first value of a header, matching the name case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Returns the target's path, without the query string.
    pub fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(&self.target, |(path, _)| path)
    }

    /// Returns the target's query string without `?`, or `""`.
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, query)| query)
    }

    /// Returns whether the connection must close after the response (RFC 9112 section 9.3).
    pub fn wants_close(&self) -> bool {
        let tokens = self.header("connection").unwrap_or("").to_ascii_lowercase();
        let has = |token: &str| tokens.split(',').any(|t| t.trim() == token);
        if self.http_1_0 {
            !has("keep-alive")
        } else {
            has("close")
        }
    }
}

/// Failure to read a request from a connection.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed, or the connection failed or timed out. No response is sent.
    Disconnected,
    /// The request is malformed or too large. The server responds with this status and
    /// message, then closes.
    Invalid { status: u16, message: String },
}

impl ReadError {
    fn invalid(status: u16, message: impl Into<String>) -> Self {
        ReadError::Invalid {
            status,
            message: message.into(),
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Disconnected
    }
}

/// Reads one request: the head (at most [`MAX_HEAD_BYTES`]), then a `Content-Length` body.
///
/// When the request has `Expect: 100-continue` and a body within the limit, writes
/// `100 Continue` to `interim` before reading the body, so clients need not wait for a timeout.
pub(crate) fn read_request(
    reader: &mut impl BufRead,
    interim: &mut impl Write,
) -> Result<Request, ReadError> {
    let head = read_head(reader)?;
    let mut request = parse_head(&head)?;
    let length = body_length(&request)?;
    let expects_continue = request
        .header("expect")
        .is_some_and(|value| value.eq_ignore_ascii_case("100-continue"));
    if expects_continue && length > 0 && !request.http_1_0 {
        interim.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        interim.flush()?;
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    request.body = body;
    Ok(request)
}

/// Reads lines up to the empty line that ends the head, skipping empty lines before it.
fn read_head(reader: &mut impl BufRead) -> Result<String, ReadError> {
    let mut head = Vec::new();
    loop {
        let remaining = (MAX_HEAD_BYTES - head.len()) as u64;
        let mut line = Vec::new();
        let read = reader
            .by_ref()
            .take(remaining)
            .read_until(b'\n', &mut line)?;
        if read == 0 || !line.ends_with(b"\n") {
            if head.len() + line.len() >= MAX_HEAD_BYTES {
                return Err(ReadError::invalid(431, "request head exceeds 64 KiB"));
            }
            return Err(ReadError::Disconnected);
        }
        let is_blank = line == b"\r\n" || line == b"\n";
        if is_blank && head.is_empty() {
            continue;
        }
        head.extend_from_slice(&line);
        if is_blank {
            break;
        }
    }
    String::from_utf8(head).map_err(|_| ReadError::invalid(400, "request head is not UTF-8"))
}

fn parse_head(head: &str) -> Result<Request, ReadError> {
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::invalid(400, "malformed request line"));
    };
    if method.is_empty() || target.is_empty() || !version.starts_with("HTTP/1.") {
        return Err(ReadError::invalid(400, "malformed request line"));
    }
    let mut headers = Vec::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        if line.starts_with([' ', '\t']) {
            return Err(ReadError::invalid(
                400,
                "folded header lines are not supported",
            ));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::invalid(400, "header line without a colon"));
        };
        if name.is_empty() || name.ends_with([' ', '\t']) {
            return Err(ReadError::invalid(400, "invalid header name"));
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        http_1_0: version == "HTTP/1.0",
        headers,
        body: Vec::new(),
    })
}

fn body_length(request: &Request) -> Result<usize, ReadError> {
    if request.header("transfer-encoding").is_some() {
        return Err(ReadError::invalid(
            411,
            "Transfer-Encoding request bodies are not supported; send Content-Length",
        ));
    }
    let mut lengths = request
        .headers
        .iter()
        .filter(|(name, _)| name == "content-length")
        .map(|(_, value)| value.as_str());
    let Some(first) = lengths.next() else {
        return Ok(0);
    };
    if lengths.any(|other| other != first) {
        return Err(ReadError::invalid(
            400,
            "conflicting Content-Length headers",
        ));
    }
    let length: usize = first
        .parse()
        .map_err(|_| ReadError::invalid(400, format!("invalid Content-Length {first:?}")))?;
    if length > MAX_BODY_BYTES {
        return Err(ReadError::invalid(413, "request body exceeds 1 MiB"));
    }
    Ok(length)
}

/// One response to write; `Content-Length` is added on writing unless already present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// Builds a response with a JSON body and `Content-Type: application/json`.
    pub fn json(status: u16, body: &Value) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::to_vec(body).expect("serializing a JSON value cannot fail"),
        }
    }

    /// Appends a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Removes every header with this name, matching it case-insensitively.
    pub fn without_header(mut self, name: &str) -> Self {
        self.headers
            .retain(|(key, _)| !key.eq_ignore_ascii_case(name));
        self
    }

    fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(key, _)| key.eq_ignore_ascii_case(name))
    }

    /// Returns whether the response has `Connection: close`.
    pub fn closes(&self) -> bool {
        self.headers.iter().any(|(key, value)| {
            key.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close")
        })
    }
}

/// Writes a response in one buffer, adding `Content-Length` and, if `close`, `Connection: close`.
pub(crate) fn write_response(
    out: &mut impl Write,
    response: &Response,
    close: bool,
) -> io::Result<()> {
    out.write_all(&encode_response(response, close))?;
    out.flush()
}

/// Encodes a response as [`write_response`] writes it.
pub(crate) fn encode_response(response: &Response, close: bool) -> Vec<u8> {
    let mut bytes = encode_head(response, close);
    bytes.extend_from_slice(&response.body);
    bytes
}

/// Encodes the status line and headers of a response, with the blank line that ends them,
/// adding `Content-Length` (from the body) and, if `close`, `Connection: close`.
pub(crate) fn encode_head(response: &Response, close: bool) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason_phrase(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !response.has_header("content-length") {
        head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    }
    if close && !response.closes() {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(raw: &[u8]) -> Result<Request, ReadError> {
        read_request(&mut io::BufReader::new(raw), &mut io::sink())
    }

    #[test]
    fn writes_continue_before_reading_body() {
        let raw = b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}";
        let mut interim = Vec::new();
        let request =
            read_request(&mut io::BufReader::new(&raw[..]), &mut interim).expect("a valid request");
        assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n");
        assert_eq!(request.body, b"{}");
    }

    #[test]
    fn parses_head_and_body() {
        let request =
            read(b"POST /api/deposit?x=1 HTTP/1.1\r\nX-Nonce: n1\r\nContent-Length: 2\r\n\r\n{}")
                .expect("a valid request");
        assert_eq!(request.method, "POST");
        assert_eq!(request.path(), "/api/deposit");
        assert_eq!(request.query(), "x=1");
        assert_eq!(request.header("X-NONCE"), Some("n1"));
        assert_eq!(request.body, b"{}");
        assert!(!request.wants_close());
    }

    #[test]
    fn rejects_chunked_and_oversized_bodies() {
        let chunked = read(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(matches!(
            chunked,
            Err(ReadError::Invalid { status: 411, .. })
        ));
        let big = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        assert!(matches!(
            read(big.as_bytes()),
            Err(ReadError::Invalid { status: 413, .. })
        ));
    }

    #[test]
    fn rejects_oversized_head() {
        let mut raw = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
        raw.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES));
        raw.extend_from_slice(b"\r\n\r\n");
        assert!(matches!(
            read(&raw),
            Err(ReadError::Invalid { status: 431, .. })
        ));
    }

    #[test]
    fn http_1_0_closes_unless_keep_alive() {
        let plain = read(b"GET / HTTP/1.0\r\n\r\n").expect("a valid request");
        assert!(plain.wants_close());
        let kept =
            read(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").expect("a valid request");
        assert!(!kept.wants_close());
    }
}
