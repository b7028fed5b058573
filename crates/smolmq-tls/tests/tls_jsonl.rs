//! JSON lines over TLS (`tls+jsonl://`): MCP's framing inside a TLS
//! session, on the same engine as `tcp+jsonl://`.

use smolmq_core::Msg;
use smolmq_tests::certs::Pki;
use smolmq_tests::socket_with;
use smolmq_tls::{set_tls, TlsOptions, TlsTransport};
use std::sync::Arc;

#[test]
fn pair_over_tls_jsonl_both_ways() {
    let pki = Pki::new("test CA");
    let id = pki.issue(&["localhost", "127.0.0.1"]);
    let ctx = smolmq_tests::context();
    ctx.add_transport(Arc::new(TlsTransport::new()));
    let mut server = socket_with(&ctx, |_| {});
    set_tls(
        &mut server,
        TlsOptions::server(id.cert_pem.clone(), id.key_pem.clone()),
    )
    .unwrap();
    server.bind("tls+jsonl://127.0.0.1:0").unwrap();
    let bound = server.last_endpoint().unwrap().to_string();
    assert!(bound.starts_with("tls+jsonl://127.0.0.1:"), "{bound}");
    let port = bound.rsplit(':').next().unwrap();
    let mut client = socket_with(&ctx, |_| {});
    set_tls(&mut client, TlsOptions::client(pki.ca_pem())).unwrap();
    client
        .connect(&format!("tls+jsonl://localhost:{port}"))
        .unwrap();
    let line = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    client.send_blocking(Msg::from(line)).unwrap();
    assert_eq!(server.recv_blocking().unwrap(), Msg::from(line));
    let big = format!(r#"{{"result":"{}"}}"#, "z".repeat(100_000));
    server
        .send_blocking(Msg::copy_from_slice(big.as_bytes()))
        .unwrap();
    assert_eq!(client.recv_blocking().unwrap().first(), big.as_bytes());
}
