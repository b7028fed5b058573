//! The JSON-lines echo bench (issue 8): 32 connections of 4 KiB JSON-RPC
//! requests against an echo server, smolmq at the transport level, through
//! smolmq-mcp, and a tokio + tokio-util `LinesCodec` baseline. The code is
//! in `smolmq_benches::jsonl_echo`; `cargo xtask bench jsonl` runs it
//! (with the codec bench), options after `--` (`--help`). Under
//! `cargo test --all-targets` it runs a smoke test: 4 connections, 0.2 s.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(message) = smolmq_benches::jsonl_echo::main(&args) {
        eprintln!("jsonl_echo: {message}");
        std::process::exit(2);
    }
}
