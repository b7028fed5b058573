//! A server running on its own thread for the socket tests, and the
//! endpoints they run over.

#![allow(dead_code)] // Each test file uses part of it.

use smolmq_core::{Context, Error};
use smolmq_mcp::{Call, DispatchStats, Dispatcher, Server};
use smolmq_tests::Transport;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The wires the tests run over: JSON lines over tcp and ipc, and ZMTP
/// over tcp, ipc and inproc (DEALER to ROUTER either way).
pub(crate) const TRANSPORTS: [&str; 5] = ["tcp+jsonl", "ipc+jsonl", "tcp", "ipc", "inproc"];

/// A fresh endpoint to bind for `wire` (one of [`TRANSPORTS`]).
pub(crate) fn bind_endpoint(wire: &str) -> String {
    let (transport, jsonl) = match wire {
        "tcp+jsonl" => (Transport::Tcp, true),
        "ipc+jsonl" => (Transport::Ipc, true),
        "tcp" => (Transport::Tcp, false),
        "ipc" => (Transport::Ipc, false),
        "inproc" => (Transport::Inproc, false),
        other => panic!("no such wire {other}"),
    };
    let endpoint = smolmq_tests::endpoint(transport, "mcp");
    match jsonl {
        true => endpoint.replacen("://", "+jsonl://", 1),
        false => endpoint,
    }
}

/// A server serving on its own thread until stopped.
pub(crate) struct Running {
    /// Where clients connect.
    pub(crate) endpoint: String,
    /// Set to stop the loop.
    stop: Arc<AtomicBool>,
    /// The serving thread; gives the server back.
    thread: Option<JoinHandle<Server>>,
}

impl Running {
    /// Stops the loop and returns the server.
    pub(crate) fn stop(mut self) -> Server {
        self.stop.store(true, Ordering::Release);
        self.thread
            .take()
            .expect("running")
            .join()
            .expect("server thread")
    }

    /// Stops the loop and returns the dispatcher's counters.
    pub(crate) fn stats(self) -> DispatchStats {
        self.stop().dispatcher().stats()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds a server with `methods` over `transport` and serves it on a
/// thread.
pub(crate) fn serve(ctx: &Context, transport: &str, methods: Dispatcher) -> Running {
    let mut server = Server::bind(ctx, &bind_endpoint(transport), methods).expect("bind");
    let endpoint = server.socket().last_endpoint().expect("bound").to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        while !flag.load(Ordering::Acquire) {
            match server.serve_next(Some(Duration::from_millis(20))) {
                Ok(()) | Err(Error::Timeout) => {}
                Err(e) => panic!("server: {e}"),
            }
        }
        server
    });
    Running {
        endpoint,
        stop,
        thread: Some(thread),
    }
}

/// `echo` (params back), `sleep` (waits `[ms]` then answers `ms`).
pub(crate) fn methods() -> Dispatcher {
    let mut d = Dispatcher::new();
    d.add("echo", |call: &Call<'_>| {
        Ok(call
            .params
            .map(ToOwned::to_owned)
            .unwrap_or_else(|| serde_json::value::to_raw_value(&()).expect("null")))
    });
    d.add("sleep", |call: &Call<'_>| {
        let [ms]: [u64; 1] = call.params()?;
        std::thread::sleep(Duration::from_millis(ms));
        smolmq_mcp::to_result(&ms)
    });
    d
}
