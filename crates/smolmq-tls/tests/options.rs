//! Whatever bytes the PEM fields hold, making a configuration gives an
//! error (or a configuration), never a panic.

use proptest::prelude::*;
use smolmq_tls::{client_config, server_config, TlsOptions};

/// Bytes that look like PEM: a BEGIN line of a likely label, base64-ish
/// text, an END line; or anything at all.
fn pemish() -> impl Strategy<Value = Vec<u8>> {
    let label = prop_oneof![
        Just("CERTIFICATE"),
        Just("PRIVATE KEY"),
        Just("RSA PRIVATE KEY"),
        Just("EC PRIVATE KEY"),
        Just("X"),
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        (label, "[A-Za-z0-9+/=\n]{0,400}").prop_map(|(label, body)| format!(
            "-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"
        )
        .into_bytes()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_pem_fields_never_panic(
        chain in proptest::option::of(pemish()),
        key in proptest::option::of(pemish()),
        ca in proptest::option::of(pemish()),
        verify in any::<bool>(),
        require in any::<bool>(),
    ) {
        let tls = TlsOptions {
            cert_chain: chain,
            key,
            ca,
            verify,
            require_client_cert: require,
            ..TlsOptions::default()
        };
        if let Err(e) = server_config(&tls) {
            prop_assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
            prop_assert!(!e.to_string().is_empty());
        }
        if let Err(e) = client_config(&tls) {
            prop_assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        }
    }
}
