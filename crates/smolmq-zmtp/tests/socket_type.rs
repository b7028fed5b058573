//! Socket types: names and the RFC 37 compatibility table.

use smolmq_zmtp::SocketType;

#[test]
fn names_round_trip() {
    for t in SocketType::ALL {
        assert_eq!(SocketType::from_bytes(t.as_bytes()), Ok(t));
        assert_eq!(t.as_str().parse::<SocketType>(), Ok(t));
        assert_eq!(t.to_string(), t.as_str());
        assert!(t.as_str().bytes().all(|b| b.is_ascii_uppercase()));
    }
    assert_eq!(SocketType::XPub.as_bytes(), b"XPUB");
    assert_eq!(SocketType::from_bytes(b"dealer"), Ok(SocketType::Dealer));
}

#[test]
fn unknown_names_are_refused_with_the_name() {
    let err = SocketType::from_bytes(b"STREAM").unwrap_err();
    assert_eq!(err.name(), b"STREAM");
    assert_eq!(err.to_string(), "unknown socket type \"STREAM\"");

    let err = SocketType::from_bytes(b"\x00\xff").unwrap_err();
    assert_eq!(err.to_string(), "unknown socket type \"\\x00\\xff\"");

    let long = vec![b'A'; 300];
    let err = SocketType::from_bytes(&long).unwrap_err();
    assert_eq!(err.name().len(), 64);
    assert!(err.to_string().ends_with("(truncated, 300 bytes in all)"));
    assert!(SocketType::from_bytes(b"").is_err());
}

#[test]
fn compatibility_table_matches_rfc_37() {
    use SocketType::*;
    let pairs: &[(SocketType, &[SocketType])] = &[
        (Req, &[Rep, Router]),
        (Rep, &[Req, Dealer]),
        (Dealer, &[Rep, Dealer, Router]),
        (Router, &[Req, Dealer, Router]),
        (Pub, &[Sub, XSub]),
        (XPub, &[Sub, XSub]),
        (Sub, &[Pub, XPub]),
        (XSub, &[Pub, XPub]),
        (Push, &[Pull]),
        (Pull, &[Push]),
        (Pair, &[Pair]),
        (Client, &[Server]),
        (Server, &[Client]),
        (Radio, &[Dish]),
        (Dish, &[Radio]),
        (Scatter, &[Gather]),
        (Gather, &[Scatter]),
        (Peer, &[Peer]),
        (Channel, &[Channel]),
    ];
    assert_eq!(pairs.len(), SocketType::ALL.len());
    for &(ours, allowed) in pairs {
        for theirs in SocketType::ALL {
            assert_eq!(
                ours.is_compatible_with(theirs),
                allowed.contains(&theirs),
                "{ours} with {theirs}"
            );
            assert_eq!(
                ours.is_compatible_with(theirs),
                theirs.is_compatible_with(ours),
                "symmetric: {ours} / {theirs}"
            );
        }
    }
}
