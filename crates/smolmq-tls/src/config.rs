//! From [`TlsOptions`] to rustls configurations: PEM parsing, trust
//! anchors, verifiers, and a small cache so that a socket's connections
//! share one configuration.

use crate::options::{TlsOptions, TlsVersion};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    ClientConfig, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig,
    SignatureScheme, SupportedProtocolVersion,
};
use std::io;
use std::sync::{Arc, Mutex, OnceLock};

/// The crypto provider: rustls's ring backend, made once, preferring
/// AES-128-GCM (see [`prefer_aes128`]).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            let mut provider = rustls::crypto::ring::default_provider();
            prefer_aes128(&mut provider.cipher_suites);
            Arc::new(provider)
        })
        .clone()
}

/// Moves the AES-128-GCM suites ahead of the AES-256-GCM ones, keeping
/// every suite, TLS 1.3's before TLS 1.2's, and ChaCha20-Poly1305 after
/// both (rustls's order: AES-256, AES-128, ChaCha20).
///
/// rustls lists AES-256-GCM first. With 128-bit keys AES makes 10 rounds
/// instead of 14, and on a connection of small messages the cipher is a
/// large share of the I/O thread's work; both are the suites TLS 1.3
/// requires or recommends, and AES-128-GCM is what most TLS stacks prefer.
/// Peers that offer only AES-256 still get it.
fn prefer_aes128(suites: &mut [rustls::SupportedCipherSuite]) {
    use rustls::CipherSuite::*;
    // A stable sort: within a rank, rustls's order stays.
    suites.sort_by_key(|s| {
        let cipher = match s.suite() {
            TLS13_AES_128_GCM_SHA256
            | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            | TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => 0,
            TLS13_AES_256_GCM_SHA384
            | TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
            | TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => 1,
            _ => 2,
        };
        (s.tls13().is_none(), cipher)
    });
}

#[cfg(test)]
mod suite_order {
    use rustls::CipherSuite::*;

    #[test]
    fn aes128_first_then_aes256_then_chacha_tls13_before_tls12() {
        let got: Vec<_> = super::provider()
            .cipher_suites
            .iter()
            .map(|s| s.suite())
            .collect();
        assert_eq!(
            got,
            [
                TLS13_AES_128_GCM_SHA256,
                TLS13_AES_256_GCM_SHA384,
                TLS13_CHACHA20_POLY1305_SHA256,
                TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            ]
        );
    }
}

/// A rustls server configuration for `options`.
///
/// # Errors
///
/// `InvalidInput`, naming the field: no certificate or key, a PEM that does
/// not parse, a key that does not match the certificate, a client
/// certificate required with nothing to verify it against, versions out of
/// order.
pub fn server_config(options: &TlsOptions) -> io::Result<ServerConfig> {
    let provider = provider();
    let Some((chain, key)) = identity(options)? else {
        return Err(invalid(
            "a tls server needs a certificate: set TlsOptions::cert_chain and TlsOptions::key",
        ));
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions(options)?)
        .map_err(|err| invalid(format!("TLS versions: {err}")))?;
    let builder = if !options.require_client_cert {
        builder.with_no_client_auth()
    } else if options.verify {
        let roots = roots(options, "require_client_cert")?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|err| invalid(format!("ca: cannot verify clients with it: {err}")))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_client_cert_verifier(Arc::new(AnyCertificate { provider }))
    };
    builder
        .with_single_cert(chain, key)
        .map_err(|err| invalid(format!("cert_chain and key: {}", describe(&err))))
}

/// A rustls client configuration for `options`.
///
/// # Errors
///
/// `InvalidInput`, naming the field: verification on with no CA and no
/// system roots, a PEM that does not parse, a certificate without its key
/// (or the reverse), a key that does not match, versions out of order.
pub fn client_config(options: &TlsOptions) -> io::Result<ClientConfig> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions(options)?)
        .map_err(|err| invalid(format!("TLS versions: {err}")))?;
    let builder = if options.verify {
        let roots = roots(options, "verify")?;
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|err| invalid(format!("ca: cannot verify servers with it: {err}")))?;
        builder.with_webpki_verifier(verifier)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate { provider }))
    };
    match identity(options)? {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|err| invalid(format!("cert_chain and key: {}", describe(&err)))),
        None => Ok(builder.with_no_client_auth()),
    }
}

/// The protocol versions from `min_version` to `max_version`.
fn versions(options: &TlsOptions) -> io::Result<Vec<&'static SupportedProtocolVersion>> {
    if options.min_version > options.max_version {
        return Err(invalid(format!(
            "min_version ({}) is above max_version ({})",
            options.min_version, options.max_version
        )));
    }
    Ok([TlsVersion::Tls13, TlsVersion::Tls12]
        .into_iter()
        .filter(|v| (options.min_version..=options.max_version).contains(v))
        .map(|v| match v {
            TlsVersion::Tls12 => &rustls::version::TLS12,
            TlsVersion::Tls13 => &rustls::version::TLS13,
        })
        .collect())
}

/// The certificate chain and key, both or neither.
fn identity(
    options: &TlsOptions,
) -> io::Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>> {
    match (&options.cert_chain, &options.key) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(invalid("cert_chain is set but key is not")),
        (None, Some(_)) => Err(invalid("key is set but cert_chain is not")),
        (Some(chain), Some(key)) => {
            let chain = certificates(chain, "cert_chain")?;
            let key = PrivateKeyDer::from_pem_slice(key).map_err(|err| {
                invalid(format!(
                    "key: no private key in the PEM (PKCS #8, PKCS #1 or SEC1): {err}"
                ))
            })?;
            Ok(Some((chain, key)))
        }
    }
}

/// Every certificate of a PEM bundle; at least one.
fn certificates(pem: &[u8], field: &str) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| invalid(format!("{field}: not a PEM certificate bundle: {err}")))?;
    if certs.is_empty() {
        return Err(invalid(format!("{field}: no CERTIFICATE block in the PEM")));
    }
    Ok(certs)
}

/// The trust anchors: `ca` and, if asked for, the system's. `why` names
/// the option that needs them, for the error when there are none.
fn roots(options: &TlsOptions, why: &str) -> io::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    if let Some(ca) = &options.ca {
        for (i, cert) in certificates(ca, "ca")?.into_iter().enumerate() {
            roots.add(cert).map_err(|err| {
                invalid(format!(
                    "ca: certificate {} is not a usable trust anchor: {}",
                    i + 1,
                    describe(&err)
                ))
            })?;
        }
    }
    if options.system_roots {
        let found = rustls_native_certs::load_native_certs();
        let (added, _ignored) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found
                .errors
                .first()
                .map_or_else(|| "none found".to_owned(), ToString::to_string);
            return Err(invalid(format!(
                "system_roots: no system certificate authority could be loaded ({why})"
            )));
        }
    }
    if roots.is_empty() {
        return Err(invalid(format!(
            "{why} needs certificate authorities to trust: set TlsOptions::ca or system_roots{}",
            if why == "verify" {
                " (or turn verify off, for tests only)"
            } else {
                ""
            }
        )));
    }
    Ok(roots)
}

/// An rustls error as a sentence (rustls's `Display` of a mismatched key
/// is terse).
fn describe(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InconsistentKeys(_) => {
            "the private key does not match the certificate's public key".to_owned()
        }
        other => other.to_string(),
    }
}

/// An `InvalidInput` error with this message.
fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message.into())
}

/// A verifier that accepts any certificate (`verify` off), still checking
/// the handshake's signatures: the peer must hold the key of what it
/// shows.
#[derive(Debug)]
struct AnyCertificate {
    /// Supplies the signature algorithms.
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl ClientCertVerifier for AnyCertificate {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        ServerCertVerifier::verify_tls12_signature(self, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        ServerCertVerifier::verify_tls13_signature(self, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        ServerCertVerifier::supported_verify_schemes(self)
    }
}

/// How many configurations a [`Configs`] keeps.
const CACHE_SIZE: usize = 8;

/// Configurations made from options, remembered by value: the few
/// [`TlsOptions`] a process uses are compiled once (parsing, key checks,
/// reading the system roots), not once per connection.
#[derive(Debug, Default)]
pub(crate) struct Configs {
    /// Server configurations, the most recently used first.
    servers: Mutex<Vec<(TlsOptions, Arc<ServerConfig>)>>,
    /// Client configurations, the most recently used first.
    clients: Mutex<Vec<(TlsOptions, Arc<ClientConfig>)>>,
}

impl Configs {
    /// The server configuration for `options`, made on first use.
    pub(crate) fn server(&self, options: &TlsOptions) -> io::Result<Arc<ServerConfig>> {
        cached(&self.servers, options, server_config)
    }

    /// The client configuration for `options`, made on first use.
    pub(crate) fn client(&self, options: &TlsOptions) -> io::Result<Arc<ClientConfig>> {
        cached(&self.clients, options, client_config)
    }
}

/// The entry for `options` in `cache`, or a new one made by `make` (errors
/// are not kept: a mistake is reported each time).
fn cached<C>(
    cache: &Mutex<Vec<(TlsOptions, Arc<C>)>>,
    options: &TlsOptions,
    make: fn(&TlsOptions) -> io::Result<C>,
) -> io::Result<Arc<C>> {
    {
        let mut entries = cache.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(at) = entries.iter().position(|(o, _)| o == options) {
            let entry = entries.remove(at);
            let config = entry.1.clone();
            entries.insert(0, entry);
            return Ok(config);
        }
    }
    // Made outside the lock: reading the system roots takes a while.
    let config = Arc::new(make(options)?);
    let mut entries = cache.lock().unwrap_or_else(|poison| poison.into_inner());
    entries.insert(0, (options.clone(), config.clone()));
    entries.truncate(CACHE_SIZE);
    Ok(config)
}
