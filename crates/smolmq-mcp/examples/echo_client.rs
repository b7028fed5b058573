//! A client of the MCP-style echo server (`echo_server.rs`): the MCP
//! start-up exchange, then the `echo` tool, blocking and async.
//!
//! ```text
//! cargo run -p smolmq-mcp --example echo_server &
//! cargo run -p smolmq-mcp --example echo_client [ENDPOINT]
//! ```
//!
//! ENDPOINT is `tcp+jsonl://127.0.0.1:5555` by default.

use serde_json::json;
use smolmq_mcp::{CallError, Client};
use std::sync::Arc;
use std::time::Duration;

/// MCP's start-up exchange, the tool list, and one call of the `echo`
/// tool; the echoed text.
pub(crate) fn session(client: &mut Client, text: &str) -> Result<String, CallError> {
    let init = client.call(
        "initialize",
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": { "name": "smolmq-echo-client", "version": "0.1.0" },
        }),
    )?;
    println!("initialize: {}", init.get());
    client.notify("notifications/initialized", ())?;
    let tools = client.call("tools/list", ())?;
    println!("tools/list: {}", tools.get());
    let result = client.call_with_timeout(
        "tools/call",
        json!({ "name": "echo", "arguments": { "text": text } }),
        Duration::from_secs(5),
    )?;
    println!("tools/call: {}", result.get());
    let result: serde_json::Value =
        serde_json::from_str(result.get()).map_err(|e| CallError::Params(e.to_string()))?;
    Ok(result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

#[allow(dead_code)] // Also compiled into the tests, which have their own main.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tcp+jsonl://127.0.0.1:5555".to_owned());
    let ctx = smolmq_core::Context::new()?;
    ctx.add_transport(Arc::new(smolmq_tcp::TcpTransport));
    ctx.add_transport(Arc::new(smolmq_ipc::IpcTransport));
    let mut client = Client::connect(&ctx, &endpoint)?;
    client.set_timeout(Duration::from_secs(5));
    let echoed = session(&mut client, "hello, MCP")?;
    println!("echoed: {echoed}");

    // The same client from async code, several requests in flight.
    futures_lite::future::block_on(async {
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(client.start_async("echo", json!({ "n": n })).await?);
        }
        for id in ids.iter().rev() {
            let result = client.wait_async(id, Duration::from_secs(5)).await?;
            println!("echo {id}: {}", result.get());
        }
        Ok::<_, CallError>(())
    })?;
    client.close(Duration::from_secs(5));
    Ok(())
}
