//! [`TlsOptions`]: a socket's certificates and verification policy.

use std::fmt;

/// A version of the TLS protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::Tls12 => "TLS 1.2",
            TlsVersion::Tls13 => "TLS 1.3",
        })
    }
}

/// The TLS settings of one socket: what it presents, whom it trusts.
///
/// Set on a socket with [`set_tls`](crate::set_tls) (or
/// `SocketOptions::set_extension`); the tls transport reads them when the
/// socket binds or connects, and for every connection. Certificates and
/// keys are PEM text, as read from a file (`std::fs::read("cert.pem")?`).
///
/// | field | server (binds) | client (connects) |
/// |---|---|---|
/// | `cert_chain`, `key` | required: what it presents | presented when the server asks (mutual TLS) |
/// | `ca`, `system_roots` | with `require_client_cert`: whom clients' certificates must chain to | whom the server's certificate must chain to (one is required while `verify` is on) |
/// | `verify` | with `require_client_cert`: check the client's certificate (off: any certificate, as long as the client holds its key) | check the server's certificate and name (off: accept any, **testing only**) |
/// | `require_client_cert` | refuse clients without a valid certificate | (unused) |
/// | `server_name` | (unused) | the name the server's certificate must carry; default: the endpoint's host (a DNS name or an IP address) |
/// | `min_version`, `max_version` | the TLS versions accepted | the same |
///
/// Mistakes (a PEM that does not parse, a key that does not match the
/// certificate, a client with nothing to verify the server with) are
/// errors of `Socket::bind` / `Socket::connect`, with a message that names
/// the field.
///
/// ```
/// use smolmq_tls::{TlsOptions, TlsVersion};
///
/// // A client that trusts one CA and checks the name `broker.example`.
/// # let ca_pem = String::new();
/// let client = TlsOptions {
///     server_name: Some("broker.example".into()),
///     min_version: TlsVersion::Tls13,
///     ..TlsOptions::client(ca_pem)
/// };
/// assert!(client.verify);
/// // The key never shows in debug output.
/// # let (chain, key) = (String::new(), String::from("-----BEGIN PRIVATE KEY-----"));
/// let server = TlsOptions::server(chain, key);
/// assert!(!format!("{server:?}").contains("PRIVATE"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TlsOptions {
    /// This side's certificate chain (PEM, the leaf first, then the
    /// intermediates). Required to bind.
    pub cert_chain: Option<Vec<u8>>,
    /// The private key of the leaf certificate (PEM: PKCS #8, PKCS #1 or
    /// SEC1). Required with `cert_chain`.
    pub key: Option<Vec<u8>>,
    /// Certificate authorities to trust (PEM, one or more certificates).
    pub ca: Option<Vec<u8>>,
    /// Trust the system's certificate authorities as well (read once per
    /// distinct options, with rustls-native-certs: on Linux the bundle
    /// that OpenSSL would use, `SSL_CERT_FILE` / `SSL_CERT_DIR` honoured).
    /// Default `false`.
    pub system_roots: bool,
    /// Check the peer's certificate. Default `true`. Off, a client accepts
    /// any server certificate (the handshake's signatures are still
    /// checked, so the server must hold the key of the certificate it
    /// shows, but anyone can make one): for tests only.
    pub verify: bool,
    /// A server refuses clients that present no certificate, or one that
    /// does not chain to `ca` / the system roots (mutual TLS). Default
    /// `false`: no client certificate is asked for.
    pub require_client_cert: bool,
    /// The name the server's certificate must be valid for, instead of the
    /// endpoint's host (to connect to an IP address and check a DNS name).
    pub server_name: Option<String>,
    /// The oldest TLS version accepted. Default [`TlsVersion::Tls12`].
    pub min_version: TlsVersion,
    /// The newest TLS version offered. Default [`TlsVersion::Tls13`].
    pub max_version: TlsVersion,
}

impl Default for TlsOptions {
    /// Nothing presented, nothing trusted, verification on, TLS 1.2 and
    /// 1.3.
    fn default() -> TlsOptions {
        TlsOptions {
            cert_chain: None,
            key: None,
            ca: None,
            system_roots: false,
            verify: true,
            require_client_cert: false,
            server_name: None,
            min_version: TlsVersion::Tls12,
            max_version: TlsVersion::Tls13,
        }
    }
}

impl TlsOptions {
    /// A server presenting `cert_chain` (PEM, leaf first) with its `key`
    /// (PEM), asking no certificate of its clients.
    pub fn server(cert_chain: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> TlsOptions {
        TlsOptions {
            cert_chain: Some(cert_chain.into()),
            key: Some(key.into()),
            ..TlsOptions::default()
        }
    }

    /// A client trusting the certificate authorities in `ca` (PEM).
    pub fn client(ca: impl Into<Vec<u8>>) -> TlsOptions {
        TlsOptions {
            ca: Some(ca.into()),
            ..TlsOptions::default()
        }
    }
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// A PEM field, by size only.
        struct Pem<'a>(&'a Option<Vec<u8>>, &'static str);
        impl fmt::Debug for Pem<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0 {
                    None => f.write_str("None"),
                    Some(pem) => write!(f, "<{} bytes of {}>", pem.len(), self.1),
                }
            }
        }
        f.debug_struct("TlsOptions")
            .field("cert_chain", &Pem(&self.cert_chain, "PEM"))
            .field("key", &Pem(&self.key, "PEM, redacted"))
            .field("ca", &Pem(&self.ca, "PEM"))
            .field("system_roots", &self.system_roots)
            .field("verify", &self.verify)
            .field("require_client_cert", &self.require_client_cert)
            .field("server_name", &self.server_name)
            .field("min_version", &self.min_version)
            .field("max_version", &self.max_version)
            .finish()
    }
}
