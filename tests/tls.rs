//! TLS trust roots, against a one-shot HTTPS server on loopback signed by a test CA
//! (`tests/data`: `ca.pem` signs `server.pem` for 127.0.0.1 and localhost).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread::JoinHandle;

use depix::{Client, Error};
use rustls::pki_types::pem::PemObject;

const CA: &[u8] = include_bytes!("data/ca.pem");
const CERT: &[u8] = include_bytes!("data/server.pem");
const KEY: &[u8] = include_bytes!("data/server.key");

const PONG: &str = r#"{"response":{"msg":"Pong!","claims_for_token_debug":{}},"async":false}"#;

/// Serves one TLS connection on 127.0.0.1 and answers each request on it with a pong, until
/// the client goes away.
fn https_server() -> (String, JoinHandle<()>) {
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(CERT)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(KEY).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://127.0.0.1:{}/api/",
        listener.local_addr().unwrap().port()
    );
    let handle = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let connection = rustls::ServerConnection::new(config).unwrap();
        let stream = rustls::StreamOwned::new(connection, tcp);
        let mut reader = BufReader::new(stream);
        loop {
            let mut length = 0usize;
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{PONG}",
                PONG.len()
            );
            let stream = reader.get_mut();
            if stream
                .write_all(answer.as_bytes())
                .and_then(|_| stream.flush())
                .is_err()
            {
                return;
            }
        }
    });
    (url, handle)
}

#[test]
fn custom_root_is_trusted() {
    let (url, server) = https_server();
    let client = Client::builder()
        .base_url(url)
        .token("t")
        .root_certificates_pem(CA)
        .build()
        .unwrap();
    assert!(client.ping().unwrap().is_pong());
    drop(client);
    server.join().unwrap();
}

#[test]
fn bundled_roots_reject_private_ca() {
    let (url, server) = https_server();
    let client = Client::builder()
        .base_url(url)
        .token("t")
        .retry_policy(depix::RetryPolicy::default().max_error_retries(0))
        .build()
        .unwrap();
    let error = client.ping().unwrap_err();
    // ureq 3.5 reports the handshake failure as an I/O error, which the client cannot tell
    // from a failure after sending, so it keeps the cautious "outcome unknown".
    let Error::OutcomeUnknown {
        last: Some(last), ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert!(matches!(**last, Error::Transport { .. }), "{last:?}");
    assert!(
        last.to_string().contains("invalid peer certificate"),
        "{last}"
    );
    server.join().unwrap();
}
