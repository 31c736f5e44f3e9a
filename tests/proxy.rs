//! Proxy settings: an explicit proxy carries the calls, and proxy environment variables never
//! divert calls to a loopback base URL such as the sandbox.
#![cfg(feature = "sandbox")]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;

use depix::Client;

const PONG: &str = r#"{"response":{"msg":"Pong!","claims_for_token_debug":{}},"async":false}"#;

/// Reads one request head and returns its first line.
fn read_head(reader: &mut BufReader<std::net::TcpStream>) -> String {
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 2 {
        line.clear();
    }
    first.trim_end().to_owned()
}

/// Starts a loopback stand-in for an HTTP proxy: it accepts one `CONNECT`, then plays the
/// origin inside the tunnel and responds with a pong. It reports both request lines.
fn fake_proxy() -> (String, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        let connect = read_head(&mut reader);
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        let tunneled = read_head(&mut reader);
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{PONG}",
            PONG.len()
        );
        reader.get_mut().write_all(answer.as_bytes()).unwrap();
        let _ = sender.send((connect, tunneled));
    });
    (url, receiver)
}

#[test]
fn explicit_proxy_carries_calls() {
    let (proxy, requests) = fake_proxy();
    // Nothing listens on the base URL's port: only the proxy can respond.
    let client = Client::builder()
        .base_url("http://127.0.0.1:9/api/")
        .token("t")
        .proxy(proxy)
        .build()
        .unwrap();
    assert!(client.ping().unwrap().is_pong());
    let (connect, tunneled) = requests.recv().unwrap();
    assert_eq!(connect, "CONNECT 127.0.0.1:9 HTTP/1.1");
    assert_eq!(tunneled, "GET /api/ping HTTP/1.1");
}

#[test]
fn invalid_proxy_url_fails_build() {
    let error = Client::builder()
        .token("t")
        .proxy("not a url")
        .build()
        .unwrap_err();
    assert!(matches!(error, depix::Error::Config { .. }), "{error:?}");
}

#[test]
fn proxy_variables_do_not_divert_sandbox_calls() {
    let example = common::example_binary("quickstart");
    // Port 9 on loopback has no listener, so a diverted call would fail.
    let dead = "http://127.0.0.1:9";
    let output = Command::new(example)
        .env_remove("DEPIX_TOKEN")
        .env("ALL_PROXY", dead)
        .env("HTTPS_PROXY", dead)
        .env("HTTP_PROXY", dead)
        .env("http_proxy", dead)
        .env("NO_PROXY", "")
        .output()
        .expect("the quickstart example is built by cargo test");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("ledger:"));
}
