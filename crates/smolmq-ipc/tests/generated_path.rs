//! `ipc://*` under a temp directory too long for a Unix socket address.
//!
//! A file of its own: it changes `TMPDIR`, which every test thread of a
//! binary shares, so it is the only test here.

#![cfg(unix)]

use smolmq_core::{Endpoint, SocketOptions, IPC_PATH_MAX};
use smolmq_ipc::IpcListener;
use std::io;

#[test]
fn a_temp_dir_too_long_for_a_generated_path_is_reported() {
    let base = std::env::temp_dir();
    let long = base.join(format!(
        "smolmq-ipc-long-{}-{}",
        std::process::id(),
        "d".repeat(IPC_PATH_MAX)
    ));
    std::fs::create_dir_all(&long).unwrap();
    let saved = std::env::var_os("TMPDIR");
    std::env::set_var("TMPDIR", &long);

    let result = IpcListener::bind(
        &Endpoint::parse("ipc://*").unwrap(),
        &SocketOptions::default(),
    );

    match saved {
        Some(saved) => std::env::set_var("TMPDIR", saved),
        None => std::env::remove_var("TMPDIR"),
    }
    let left: Vec<_> = std::fs::read_dir(&long).unwrap().collect();
    std::fs::remove_dir_all(&long).unwrap();

    let err = result.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("cannot bind ipc://*: the generated path"),
        "{text}"
    );
    assert!(text.contains("set TMPDIR to a shorter directory"), "{text}");
    assert!(left.is_empty(), "nothing is created in the temp dir");
}
