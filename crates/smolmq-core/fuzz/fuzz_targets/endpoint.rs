//! Arbitrary strings through `Endpoint::parse`: no panic; every endpoint
//! that parses displays as a canonical string that parses back to the same
//! endpoint and is its own canonical form; the canonical string holds no
//! whitespace or control character and stays within the length limits;
//! `is_bind_only` and `check_connectable` agree; `with_port` keeps the rest.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smolmq_core::{Endpoint, EndpointError, INPROC_NAME_MAX, IPC_PATH_MAX};

/// `tcp://` + `[` + the longest IPv6 text (45) + `]:` + 5 digits, or a
/// 253-byte name with a trailing dot.
const TCP_MAX: usize = 6 + 254 + 1 + 5;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let ep = match Endpoint::parse(input) {
        Ok(ep) => ep,
        Err(err) => {
            assert!(!err.to_string().is_empty());
            if let EndpointError::InvalidChar { ch, index } = err {
                assert!(ch.is_whitespace() || ch.is_control());
                assert!(input[index..].starts_with(ch));
            }
            return;
        }
    };

    let canonical = ep.to_string();
    let again = Endpoint::parse(&canonical)
        .unwrap_or_else(|e| panic!("canonical form {canonical:?} of {input:?} fails: {e}"));
    assert_eq!(again, ep, "{input:?} -> {canonical:?}");
    assert_eq!(again.to_string(), canonical);

    assert!(!canonical
        .chars()
        .any(|c| c.is_whitespace() || c.is_control()));
    assert!(canonical.starts_with(ep.transport()));
    let limit = match ep.transport() {
        "tcp" => TCP_MAX,
        "ipc" => 6 + IPC_PATH_MAX,
        "inproc" => 9 + INPROC_NAME_MAX,
        other => panic!("unexpected transport {other}"),
    };
    assert!(canonical.len() <= limit, "{canonical:?} is too long");

    assert_eq!(ep.is_bind_only(), ep.check_connectable().is_err());

    match (&ep, ep.with_port(4242)) {
        (Endpoint::Tcp(addr), Some(Endpoint::Tcp(moved))) => {
            assert_eq!(moved.host(), addr.host());
            assert_eq!(moved.port(), 4242);
        }
        (Endpoint::Tcp(_), other) => panic!("with_port on tcp gave {other:?}"),
        (_, None) => {}
        (_, Some(other)) => panic!("with_port on {ep:?} gave {other:?}"),
    }
});
