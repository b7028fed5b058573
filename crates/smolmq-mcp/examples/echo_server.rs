//! An MCP-style tool server with one tool, `echo`, over JSON lines.
//!
//! ```text
//! cargo run -p smolmq-mcp --example echo_server [ENDPOINT] [--requests N]
//! ```
//!
//! ENDPOINT is `tcp+jsonl://127.0.0.1:5555` by default; `--requests N` stops
//! after N messages. Any NDJSON client can talk to it over a
//! `tcp+jsonl://` endpoint, `nc` included:
//!
//! ```text
//! {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}
//! ```
//!
//! It answers MCP's `initialize`, `ping`, `tools/list` and `tools/call`,
//! takes the `notifications/initialized` notification, and has a plain
//! `echo` method that returns its params as they came (what the benchmark
//! calls).

use serde::Deserialize;
use serde_json::json;
use smolmq_mcp::{to_result, Call, Dispatcher, ErrorObject, Server};
use std::sync::Arc;

/// The MCP protocol revision this server speaks.
const PROTOCOL_VERSION: &str = "2025-06-18";

/// The arguments of `tools/call`.
#[derive(Deserialize)]
struct ToolCall {
    /// Which tool.
    name: String,
    /// Its arguments.
    #[serde(default)]
    arguments: serde_json::Value,
}

/// The server's methods.
pub(crate) fn methods() -> Dispatcher {
    let mut methods = Dispatcher::new();
    methods.add("initialize", |_: &Call<'_>| {
        to_result(&json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": { "tools": {} },
            "serverInfo": { "name": "smolmq-echo", "version": env!("CARGO_PKG_VERSION") },
        }))
    });
    methods.add("notifications/initialized", |_: &Call<'_>| to_result(&()));
    methods.add("ping", |_: &Call<'_>| to_result(&json!({})));
    methods.add("tools/list", |_: &Call<'_>| {
        to_result(&json!({
            "tools": [{
                "name": "echo",
                "description": "Answers with the text it is given.",
                "inputSchema": {
                    "type": "object",
                    "properties": { "text": { "type": "string" } },
                    "required": ["text"],
                },
            }],
        }))
    });
    methods.add("tools/call", |call: &Call<'_>| {
        let tool: ToolCall = call.params()?;
        if tool.name != "echo" {
            return Err(ErrorObject::invalid_params(&format!(
                "unknown tool {:?}",
                tool.name
            )));
        }
        let Some(text) = tool.arguments.get("text").and_then(|t| t.as_str()) else {
            return Err(ErrorObject::invalid_params(
                "echo needs a string argument \"text\"",
            ));
        };
        to_result(&json!({ "content": [{ "type": "text", "text": text }] }))
    });
    // The benchmark's method: the params back, untouched.
    methods.add("echo", |call: &Call<'_>| {
        Ok(call.params.map_or_else(
            || serde_json::value::to_raw_value(&()).expect("null serializes"),
            ToOwned::to_owned,
        ))
    });
    methods
}

#[allow(dead_code)] // Also compiled into the tests, which have their own main.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut endpoint = "tcp+jsonl://127.0.0.1:5555".to_owned();
    let mut requests: Option<u64> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--requests" => requests = Some(args.next().ok_or("--requests needs N")?.parse()?),
            _ => endpoint = arg,
        }
    }
    let ctx = smolmq_core::Context::new()?;
    ctx.add_transport(Arc::new(smolmq_tcp::TcpTransport));
    ctx.add_transport(Arc::new(smolmq_ipc::IpcTransport));
    let mut server = Server::bind(&ctx, &endpoint, methods())?;
    server.on_peer(|peer, event| println!("peer {peer:02x?}: {event:?}"));
    let bound = server.socket().last_endpoint().map(ToString::to_string);
    println!("listening on {}", bound.unwrap_or(endpoint));
    match requests {
        None => return Err(server.run().into()),
        Some(n) => {
            for _ in 0..n {
                server.serve_next(None)?;
            }
        }
    }
    println!("{:?}", server.dispatcher().stats());
    // Write the last answers out before the context goes.
    server.close(std::time::Duration::from_secs(5));
    Ok(())
}
