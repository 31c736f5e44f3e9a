//! Webhook deliveries: the loopback-only target, the bodies, and one HTTP POST per delivery.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::WebhookKind;

/// Time limit of one delivery, from connecting to reading the status line.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// Maximum length of the status line read back from the receiver, in bytes.
const MAX_STATUS_LINE_BYTES: u64 = 8 * 1024;

/// The URL and secret given to `SandboxBuilder::webhook`, checked by [`parse_target`].
#[derive(Clone)]
pub(crate) struct WebhookSettings {
    pub url: String,
    pub secret: String,
}

impl fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// Delivery destination: an address on 127.0.0.1 and the request's `Host`, path and secret.
pub(crate) struct WebhookTarget {
    addr: SocketAddr,
    /// `Host` header value: the URL's host and port as written.
    host: String,
    /// Request target: the URL's path and query.
    path: String,
    secret: String,
}

impl fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("addr", &self.addr)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn invalid_input(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Checks a webhook URL and secret and returns the target they describe.
///
/// The URL must be `http://127.0.0.1[:port]/...` or `http://localhost[:port]/...` (port 80
/// when absent), so no test can make the sandbox send a request off the machine. `localhost`
/// is mapped to 127.0.0.1 without a name lookup. A fragment is dropped, as HTTP clients do.
///
/// # Errors
///
/// Returns an error of kind [`io::ErrorKind::InvalidInput`] for any other URL, for a URL or
/// secret that contains whitespace or control characters, which could break the request
/// line or inject a header, and for a secret shorter than the API's 16 characters.
pub(crate) fn parse_target(settings: &WebhookSettings) -> io::Result<WebhookTarget> {
    let url = settings.url.as_str();
    let rejected = || {
        invalid_input(format!(
            "invalid webhook URL {url:?}: expected http://127.0.0.1:<port>/<path> or \
             http://localhost:<port>/<path>, because the sandbox delivers webhooks only to loopback"
        ))
    };
    if url
        .bytes()
        .any(|byte| byte.is_ascii_control() || byte == b' ')
    {
        return Err(rejected());
    }
    if settings.secret.chars().any(char::is_control) {
        return Err(invalid_input(
            "invalid webhook secret: it must not contain control characters such as CR or LF"
                .into(),
        ));
    }
    // The same rule as `WebhookSecret::new`, so a test can always verify its own deliveries.
    let length = settings.secret.chars().count();
    if length < crate::webhook::WebhookSecret::MIN_CHARS {
        return Err(invalid_input(format!(
            "invalid webhook secret: {length} characters, the API requires at least {}",
            crate::webhook::WebhookSecret::MIN_CHARS
        )));
    }
    let scheme_len = "http://".len();
    let has_scheme = url
        .get(..scheme_len)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"));
    if !has_scheme {
        return Err(rejected());
    }
    let rest = &url[scheme_len..];
    let without_fragment = rest.split_once('#').map_or(rest, |(before, _)| before);
    let authority_end = without_fragment
        .find(['/', '?'])
        .unwrap_or(without_fragment.len());
    let (authority, path) = without_fragment.split_at(authority_end);

    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port),
        None => (authority, "80"),
    };
    let is_loopback_host = host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost");
    // `u16::from_str` accepts a leading `+`, which a URL port must not have.
    let is_digits = !port.is_empty() && port.bytes().all(|byte| byte.is_ascii_digit());
    let port = match port.parse::<u16>() {
        Ok(port) if is_digits && port != 0 => port,
        _ => return Err(rejected()),
    };
    if !is_loopback_host {
        return Err(rejected());
    }
    let path = match path.chars().next() {
        None => "/".to_string(),
        Some('?') => format!("/{path}"),
        Some(_) => path.to_string(),
    };
    Ok(WebhookTarget {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        host: authority.to_string(),
        path,
        secret: settings.secret.clone(),
    })
}

/// Builds a webhook body: every field of `fields` plus `webhookType`, which wins over a key
/// of the same name. Keys come out sorted, as `serde_json` maps sort them.
pub(crate) fn webhook_body(kind: WebhookKind, fields: &Map<String, Value>) -> Vec<u8> {
    let mut body = fields.clone();
    body.insert("webhookType".into(), kind.as_str().into());
    serde_json::to_vec(&Value::Object(body)).expect("serializing a JSON value cannot fail")
}

/// Sends one delivery and returns the HTTP status of the response.
///
/// It sends `POST` with `Content-Type: application/json` and `Authorization: Basic <secret>`
/// (the secret verbatim, as Eulen sends it), reads only the status line, and never retries.
/// Connecting, writing and reading each get what is left of 15 s when they start.
///
/// NOTE: the read timeout applies per read, so a receiver that sends the status line a few
/// bytes at a time can stretch a delivery beyond 15 s.
///
/// # Errors
///
/// Returns the error of connecting, writing or reading, an error of kind
/// [`io::ErrorKind::TimedOut`] when the 15 s pass, or [`io::ErrorKind::InvalidData`] for a
/// response that does not start with an HTTP status line.
pub(crate) fn deliver(target: &WebhookTarget, body: &[u8]) -> io::Result<u16> {
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    let remaining = || {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "webhook delivery timed out after 15 s",
            ))
        } else {
            Ok(left)
        }
    };
    let mut stream = TcpStream::connect_timeout(&target.addr, remaining()?)?;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Authorization: Basic {}\r\nContent-Length: {}\r\nConnection: close\r\n\
         User-Agent: depix-sandbox\r\n\r\n",
        target.path,
        target.host,
        target.secret,
        body.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    stream.set_write_timeout(Some(remaining()?))?;
    stream.write_all(&request)?;
    stream.flush()?;

    stream.set_read_timeout(Some(remaining()?))?;
    let mut status_line = String::new();
    BufReader::new(stream.take(MAX_STATUS_LINE_BYTES)).read_line(&mut status_line)?;
    parse_status_line(&status_line).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("webhook receiver sent no HTTP status line: {status_line:?}"),
        )
    })
}

/// Parses the status code of a line such as `HTTP/1.1 200 OK`.
fn parse_status_line(line: &str) -> Option<u16> {
    let mut parts = line.split(' ');
    let version = parts.next()?;
    let code = parts.next()?.trim_end();
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> io::Result<WebhookTarget> {
        parse_target(&WebhookSettings {
            url: url.into(),
            secret: "s3cret-0123456789".into(),
        })
    }

    #[test]
    fn loopback_urls_are_accepted() {
        let cases = [
            (
                "http://127.0.0.1:8080/hook?x=1",
                8080,
                "/hook?x=1",
                "127.0.0.1:8080",
            ),
            ("HTTP://LOCALHOST:9/a#frag", 9, "/a", "LOCALHOST:9"),
            ("http://localhost", 80, "/", "localhost"),
            ("http://127.0.0.1:1?q", 1, "/?q", "127.0.0.1:1"),
        ];
        for (url, port, path, host) in cases {
            let target = target(url).expect(url);
            assert_eq!(target.addr, SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
            assert_eq!(target.path, path, "{url}");
            assert_eq!(target.host, host, "{url}");
        }
    }

    #[test]
    fn other_urls_are_rejected() {
        for url in [
            "https://127.0.0.1:8080/",
            "http://example.com/",
            "http://127.0.0.1.example.com/",
            "http://localhost.example.com:80/",
            "http://127.0.0.1:80@example.com/",
            "http://10.0.0.1:8080/",
            "http://[::1]:8080/",
            "http://0.0.0.0:8080/",
            "http://127.0.0.2:8080/",
            "http://127.0.0.1:0/",
            "http://127.0.0.1:+80/",
            "http://127.0.0.1:65536/",
            "http://127.0.0.1:8080/a b",
            "http://127.0.0.1:8080/\r\nX: y",
            "127.0.0.1:8080/",
        ] {
            let error = target(url).expect_err(url);
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{url}");
        }
    }

    #[test]
    fn secret_with_line_break_is_rejected() {
        let settings = WebhookSettings {
            url: "http://127.0.0.1:8080/".into(),
            secret: "a\r\nX-Injected: 1".into(),
        };
        let error = parse_target(&settings).expect_err("a secret with CRLF");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(!error.to_string().contains("Injected"));
    }

    #[test]
    fn debug_output_hides_secret() {
        let settings = WebhookSettings {
            url: "http://127.0.0.1:8080/".into(),
            secret: "s3cret-0123456789".into(),
        };
        assert!(!format!("{settings:?}").contains("s3cret-0123456789"));
        let target = parse_target(&settings).expect("a loopback URL");
        assert!(!format!("{target:?}").contains("s3cret-0123456789"));
    }

    #[test]
    fn status_line_parsing() {
        assert_eq!(parse_status_line("HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(parse_status_line("HTTP/1.0 500\r\n"), Some(500));
        assert_eq!(parse_status_line("SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(parse_status_line(""), None);
    }
}
