//! Client configuration: the builder and its documented defaults.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::mode::Mode;
use crate::retry::RetryPolicy;
use crate::secret::Token;

/// The production base URL, `https://depix.eulen.app/api/`.
pub const DEFAULT_BASE_URL: &str = "https://depix.eulen.app/api/";

/// Certificates that TLS connections trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TrustedRoots {
    /// Mozilla's roots, bundled in the binary.
    Bundled,
    /// The operating system's verifier.
    #[cfg(feature = "platform-verifier")]
    Platform,
    /// Only these DER certificates.
    Only(Vec<Vec<u8>>),
    /// A PEM bundle that could not be read; `build` reports it.
    Invalid(String),
}

/// Source of the proxy the HTTP library uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProxyChoice {
    /// `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, honouring `NO_PROXY`.
    FromEnvironment,
    /// Connect directly.
    Direct,
    /// This proxy URL.
    Url(String),
}

/// Builder for a [`Client`](crate::Client). Every setter documents its default.
///
/// ```no_run
/// use std::time::Duration;
/// let client = depix::Client::builder()
///     .token("eyJhbGciOi…")
///     .response_timeout(Duration::from_secs(30))
///     .build()?;
/// # Ok::<(), depix::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    pub(crate) base_url: String,
    pub(crate) token: Option<Token>,
    pub(crate) mode: Mode,
    pub(crate) retry: RetryPolicy,
    pub(crate) connect_timeout: Duration,
    pub(crate) send_timeout: Duration,
    pub(crate) response_timeout: Duration,
    pub(crate) body_timeout: Duration,
    pub(crate) user_agent: String,
    pub(crate) max_body_size: u64,
    pub(crate) proxy: ProxyChoice,
    pub(crate) roots: TrustedRoots,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token: None,
            mode: Mode::Auto,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            user_agent: concat!("depix/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_body_size: 1024 * 1024,
            proxy: ProxyChoice::FromEnvironment,
            roots: TrustedRoots::Bundled,
        }
    }
}

impl ClientBuilder {
    /// Sets the API base URL. Default `https://depix.eulen.app/api/`.
    ///
    /// Plain `http` is accepted only for a loopback host (`127.0.0.0/8`, `[::1]`,
    /// `localhost`), such as the sandbox. A missing trailing slash is added.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets the bearer token. Required; there is no default.
    pub fn token(mut self, token: impl Into<Token>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sets the mode of calls driven by the client ([`Client::execute`](crate::Client::execute)
    /// and the endpoint methods). Default [`Mode::Auto`].
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the retry schedule. Default [`RetryPolicy::default`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sets the time allowed to resolve the host and connect, TLS included. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the time allowed to send the request head and body. Default 10 s.
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// Sets the time allowed from sending the request to the end of the response headers,
    /// per attempt. Default 30 s. It must exceed the retry policy's server window (10 s by
    /// default), since the server keeps auto and sync calls open that long by design.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Sets the time allowed to read a response body. Default 30 s.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Sets the `User-Agent` header. Default `depix/<crate version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets the largest response body read, in bytes; a longer body fails with
    /// [`Error::BodyTooLarge`]. Default 1 MiB.
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// Connects directly, ignoring proxy environment variables. Default: proxies are read
    /// from `ALL_PROXY`, `HTTPS_PROXY` and `HTTP_PROXY`, honouring `NO_PROXY`, except for a
    /// loopback base URL, which is always reached directly.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxyChoice::Direct;
        self
    }

    /// Sends every request through this proxy (`http://`, `https://` or `socks5://` URL).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxyChoice::Url(url.into());
        self
    }

    /// Trusts only the certificates of this PEM bundle for TLS, in place of the bundled
    /// Mozilla roots: for a private certificate authority or a TLS-inspecting proxy. Default:
    /// the bundled Mozilla roots. Certificate checks cannot be turned off.
    ///
    /// An unreadable bundle, or one without certificates, makes [`ClientBuilder::build`] fail.
    // NOTE: ureq 3.5 takes either the bundled roots or a given list, so these roots replace
    // the bundle instead of adding to it; include public roots in the PEM if both are needed.
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Self {
        let mut certificates = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(certificate)) => {
                    certificates.push(certificate.der().to_vec());
                }
                Ok(_) => {}
                Err(error) => {
                    self.roots = TrustedRoots::Invalid(format!("invalid PEM: {error}"));
                    return self;
                }
            }
        }
        self.roots = if certificates.is_empty() {
            TrustedRoots::Invalid("the PEM bundle holds no certificate".to_owned())
        } else {
            TrustedRoots::Only(certificates)
        };
        self
    }

    /// Verifies TLS with the operating system's trust store (feature `platform-verifier`).
    /// Default: the bundled Mozilla roots.
    #[cfg(feature = "platform-verifier")]
    pub fn platform_roots(mut self) -> Self {
        self.roots = TrustedRoots::Platform;
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<crate::Client> {
        crate::Client::from_builder(self)
    }

    /// Returns the base URL with a trailing slash, after checking scheme and host.
    pub(crate) fn checked_base_url(&self) -> Result<String> {
        let url = self.base_url.trim();
        let config = |reason: String| Error::Config { reason };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            config(format!(
                "base URL {url:?} has no scheme; expected https://…"
            ))
        })?;
        let host = host_of(rest);
        if host.is_empty() {
            return Err(config(format!("base URL {url:?} has no host")));
        }
        if url.contains(['?', '#']) {
            return Err(config(format!(
                "base URL {url:?} must not carry a query or fragment"
            )));
        }
        match scheme.to_ascii_lowercase().as_str() {
            "https" => {}
            "http" if is_loopback_host(host) => {}
            "http" => {
                return Err(config(format!(
                    "base URL {url:?} uses plain http to a non-loopback host, which would send \
                     the token in clear; use https"
                )));
            }
            other => {
                return Err(config(format!(
                    "base URL scheme {other:?} is not supported; use https"
                )));
            }
        }
        let mut url = url.to_owned();
        if !url.ends_with('/') {
            url.push('/');
        }
        Ok(url)
    }

    pub(crate) fn checked_token(&self) -> Result<&Token> {
        let token = self.token.as_ref().ok_or_else(|| Error::Config {
            reason: "no token set; call ClientBuilder::token, or use Client::from_env with DEPIX_TOKEN set".to_owned(),
        })?;
        let text = token.expose();
        if text.trim().is_empty() {
            return Err(Error::Config {
                reason: "the token is empty; pass the API token from Eulen's Telegram bot"
                    .to_owned(),
            });
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::Config {
                reason: "the token contains spaces or characters that cannot go in a header"
                    .to_owned(),
            });
        }
        Ok(token)
    }

    /// Returns the TLS settings for ureq, or the reason the configured roots are invalid.
    pub(crate) fn tls_config(&self) -> Result<ureq::tls::TlsConfig> {
        let roots = match &self.roots {
            TrustedRoots::Bundled => ureq::tls::RootCerts::WebPki,
            #[cfg(feature = "platform-verifier")]
            TrustedRoots::Platform => ureq::tls::RootCerts::PlatformVerifier,
            TrustedRoots::Only(certificates) => certificates
                .iter()
                .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
                .collect::<Vec<_>>()
                .into(),
            TrustedRoots::Invalid(reason) => {
                return Err(Error::Config {
                    reason: format!("root certificates: {reason}"),
                });
            }
        };
        Ok(ureq::tls::TlsConfig::builder().root_certs(roots).build())
    }

    pub(crate) fn check_timeouts(&self) -> Result<()> {
        if self.response_timeout <= self.retry.server_window {
            return Err(Error::Config {
                reason: format!(
                    "response timeout {:?} must exceed the server window {:?}, or normal pending \
                     answers would turn into timeouts",
                    self.response_timeout, self.retry.server_window
                ),
            });
        }
        Ok(())
    }
}

/// Extracts the host from `host[:port]/path…`, without brackets for IPv6.
pub(crate) fn host_of(after_scheme: &str) -> &str {
    let authority = after_scheme.split('/').next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

/// Tells whether a host names the loopback interface.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// Tells whether a URL's host is on the loopback interface.
pub(crate) fn is_loopback_url(url: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(_, rest)| is_loopback_host(host_of(rest)))
}

/// Tells whether a URL may be fetched without exposing a signed query string in clear:
/// `https`, or `http` to a loopback host.
pub(crate) fn is_safe_fetch_url(url: &str) -> bool {
    match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => !host_of(rest).is_empty(),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => {
            is_loopback_host(host_of(rest))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(url: &str) -> Result<String> {
        ClientBuilder::default().base_url(url).checked_base_url()
    }

    #[test]
    fn base_url_rules() {
        assert_eq!(
            base("https://depix.eulen.app/api").unwrap(),
            "https://depix.eulen.app/api/"
        );
        assert_eq!(
            base("http://127.0.0.1:8080/api/").unwrap(),
            "http://127.0.0.1:8080/api/"
        );
        assert!(base("http://localhost:1/api/").is_ok());
        assert!(base("http://[::1]:1/api/").is_ok());
        for bad in [
            "http://depix.eulen.app/api/",
            "http://10.0.0.1/api/",
            "ftp://x/api/",
            "depix.eulen.app/api",
            "https:///api",
            "https://x/api/?a=1",
        ] {
            assert!(base(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn token_rules() {
        assert!(ClientBuilder::default().checked_token().is_err());
        assert!(ClientBuilder::default().token("").checked_token().is_err());
        assert!(
            ClientBuilder::default()
                .token("a\r\nb")
                .checked_token()
                .is_err()
        );
        assert!(
            ClientBuilder::default()
                .token("abc.def")
                .checked_token()
                .is_ok()
        );
    }

    #[test]
    fn response_timeout_must_exceed_window() {
        let builder = ClientBuilder::default().response_timeout(Duration::from_secs(10));
        assert!(builder.check_timeouts().is_err());
        assert!(ClientBuilder::default().check_timeouts().is_ok());
    }

    #[test]
    fn invalid_root_bundles_fail_build() {
        let empty = ClientBuilder::default()
            .token("t")
            .root_certificates_pem(b"no pem here");
        assert!(matches!(empty.build(), Err(Error::Config { .. })));
        let broken = b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        let broken = ClientBuilder::default()
            .token("t")
            .root_certificates_pem(broken);
        assert!(matches!(broken.build(), Err(Error::Config { .. })));
    }

    #[test]
    fn safe_fetch_urls() {
        assert!(is_safe_fetch_url("https://blob.example/r/n?sig=1"));
        assert!(is_safe_fetch_url("http://127.0.0.1:5/r/n"));
        assert!(!is_safe_fetch_url("http://blob.example/r/n?sig=1"));
        assert!(!is_safe_fetch_url("file:///etc/passwd"));
    }
}
