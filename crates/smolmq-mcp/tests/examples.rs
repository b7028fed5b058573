//! The examples' server and client, run against each other.

#[path = "../examples/echo_server.rs"]
mod echo_server;

#[path = "../examples/echo_client.rs"]
mod echo_client;

mod common;

use smolmq_mcp::Client;

#[test]
fn the_echo_tool_session() {
    let ctx = smolmq_tests::context();
    for transport in common::TRANSPORTS {
        let server = common::serve(&ctx, transport, echo_server::methods());
        let mut client = Client::connect(&ctx, &server.endpoint).unwrap();
        client.set_timeout(smolmq_tests::TIMEOUT);
        let echoed = echo_client::session(&mut client, "ünïcödé \"quoted\"").unwrap();
        assert_eq!(echoed, "ünïcödé \"quoted\"");
        // A tool that does not exist.
        let e = client
            .call(
                "tools/call",
                serde_json::json!({"name": "rm", "arguments": {}}),
            )
            .unwrap_err();
        assert_eq!(e.rpc().map(|e| e.code), Some(-32602));
        let stats = server.stats();
        assert_eq!(
            (stats.requests, stats.notifications),
            (4, 1),
            "{transport:?}"
        );
    }
}
