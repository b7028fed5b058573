//! The handshake after the greeting: NULL (READY / READY) and PLAIN
//! (HELLO / WELCOME / INITIATE / READY), the socket-type check and ERROR.

use crate::command::{Command, CommandError};
use crate::frame::{DecodeError, FrameDecoder};
use crate::greeting::{Greeting, GreetingDecoder, GreetingError, Mechanism, Version};
use crate::metadata::{Metadata, MetadataError, IDENTITY, MAX_IDENTITY_LEN, SOCKET_TYPE};
use crate::socket_type::{SocketType, UnknownSocketType};
use bytes::{Bytes, BytesMut};
use core::fmt;
use std::sync::Arc;

/// Default limit on one handshake command's body (64 KiB): what a peer may
/// make us buffer before it has authenticated.
pub const DEFAULT_MAX_HANDSHAKE_COMMAND: u64 = 64 * 1024;

/// A PLAIN client's credentials, as received by the server.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainCredentials {
    /// User name (at most 255 bytes).
    pub username: Bytes,
    /// Password (at most 255 bytes).
    pub password: Bytes,
}

impl fmt::Debug for PlainCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainCredentials")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// The PLAIN server's hook: `Ok(())` accepts the credentials, `Err(reason)`
/// refuses them (the reason goes to the client in an ERROR command).
///
/// Shared (`Arc`) so that one configuration serves every connection.
pub type PlainAuthenticator = Arc<dyn Fn(&PlainCredentials) -> Result<(), String> + Send + Sync>;

/// The security mechanism and this side's role in it.
#[derive(Clone)]
#[non_exhaustive]
pub enum MechanismConfig {
    /// NULL: no authentication.
    Null,
    /// PLAIN client: sends these credentials.
    PlainClient {
        /// User name (at most 255 bytes).
        username: Bytes,
        /// Password (at most 255 bytes).
        password: Bytes,
    },
    /// PLAIN server: checks the client's credentials with `authenticator`.
    PlainServer {
        /// Accepts or refuses credentials.
        authenticator: PlainAuthenticator,
    },
}

impl MechanismConfig {
    /// A PLAIN client sending `username` and `password`.
    pub fn plain_client(username: impl Into<Bytes>, password: impl Into<Bytes>) -> Self {
        MechanismConfig::PlainClient {
            username: username.into(),
            password: password.into(),
        }
    }

    /// A PLAIN server checking credentials with `authenticator`.
    pub fn plain_server(
        authenticator: impl Fn(&PlainCredentials) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        MechanismConfig::PlainServer {
            authenticator: Arc::new(authenticator),
        }
    }

    /// The mechanism named in the greeting.
    pub fn mechanism(&self) -> Mechanism {
        match self {
            MechanismConfig::Null => Mechanism::Null,
            MechanismConfig::PlainClient { .. } | MechanismConfig::PlainServer { .. } => {
                Mechanism::Plain
            }
        }
    }

    /// The greeting's as-server flag: set for a PLAIN server only (RFC 37:
    /// zero for NULL).
    pub fn as_server(&self) -> bool {
        matches!(self, MechanismConfig::PlainServer { .. })
    }
}

/// Two configurations are equal when they name the same mechanism and
/// role with the same credentials; two PLAIN servers are equal only when
/// they share one authenticator (the same `Arc`), since functions cannot
/// be compared.
impl PartialEq for MechanismConfig {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (MechanismConfig::Null, MechanismConfig::Null) => true,
            (
                MechanismConfig::PlainClient { username, password },
                MechanismConfig::PlainClient {
                    username: u,
                    password: p,
                },
            ) => username == u && password == p,
            (
                MechanismConfig::PlainServer { authenticator },
                MechanismConfig::PlainServer { authenticator: a },
            ) => Arc::ptr_eq(authenticator, a),
            _ => false,
        }
    }
}

impl Eq for MechanismConfig {}

/// NULL, as a socket without security settings.
impl Default for MechanismConfig {
    fn default() -> Self {
        MechanismConfig::Null
    }
}

impl fmt::Debug for MechanismConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MechanismConfig::Null => f.write_str("Null"),
            MechanismConfig::PlainClient { username, .. } => f
                .debug_struct("PlainClient")
                .field("username", username)
                .field("password", &"<hidden>")
                .finish(),
            MechanismConfig::PlainServer { .. } => f
                .debug_struct("PlainServer")
                .field("authenticator", &"<fn>")
                .finish(),
        }
    }
}

/// What this side announces and how it authenticates.
#[derive(Debug, Clone)]
pub struct HandshakeConfig {
    /// Our socket type, sent as `Socket-Type` and checked against the
    /// peer's.
    pub socket_type: SocketType,
    /// Our identity (routing id), sent as `Identity` when set: at most 255
    /// bytes, not starting with a zero byte. libzmq sends it, possibly
    /// empty, from REQ, DEALER and ROUTER sockets.
    pub identity: Option<Bytes>,
    /// Further properties to announce (e.g. `X-...` ones), after
    /// `Socket-Type` and `Identity`; they must not repeat those two.
    pub properties: Metadata,
    /// Security mechanism and role.
    pub mechanism: MechanismConfig,
    /// Largest handshake command body accepted from the peer (default
    /// [`DEFAULT_MAX_HANDSHAKE_COMMAND`]).
    pub max_command_size: u64,
}

impl HandshakeConfig {
    /// NULL mechanism, no identity, no extra properties.
    pub fn new(socket_type: SocketType) -> HandshakeConfig {
        HandshakeConfig {
            socket_type,
            identity: None,
            properties: Metadata::new(),
            mechanism: MechanismConfig::Null,
            max_command_size: DEFAULT_MAX_HANDSHAKE_COMMAND,
        }
    }
}

/// What the handshake learnt about the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The version the peer announced; [`Version::negotiated`] gives the
    /// one spoken (3.0 or 3.1).
    pub version: Version,
    /// The mechanism used.
    pub mechanism: Mechanism,
    /// The peer's socket type.
    pub socket_type: SocketType,
    /// The peer's identity (empty if it sent none).
    pub identity: Bytes,
    /// Every property the peer sent, in order (`Socket-Type` and
    /// `Identity` included).
    pub metadata: Metadata,
    /// PLAIN: the user name the client authenticated with (server side
    /// only).
    pub user_id: Option<Bytes>,
}

impl PeerInfo {
    /// Whether the connection speaks ZMTP 3.1 (PING / PONG, SUBSCRIBE /
    /// CANCEL commands) rather than 3.0.
    pub fn speaks_3_1(&self) -> bool {
        self.version.negotiated().has_3_1_commands()
    }
}

/// Progress of [`Handshake::receive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeStatus {
    /// More input is needed (after sending what
    /// [`Handshake::poll_transmit`] gives).
    InProgress,
    /// The handshake is complete; traffic may flow.
    Done(PeerInfo),
}

/// Why a handshake configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The identity is longer than 255 bytes.
    IdentityTooLong {
        /// Its length.
        len: usize,
    },
    /// The identity starts with a zero byte (reserved by RFC 37 for
    /// generated identities).
    IdentityStartsWithZero,
    /// `properties` repeats `Socket-Type` or `Identity`.
    ReservedProperty {
        /// The property's name.
        name: &'static str,
    },
    /// A PLAIN user name or password is longer than 255 bytes.
    CredentialTooLong {
        /// `"user name"` or `"password"`.
        field: &'static str,
        /// Its length.
        len: usize,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::IdentityTooLong { len } => {
                write!(f, "identity of {len} bytes, more than {MAX_IDENTITY_LEN}")
            }
            ConfigError::IdentityStartsWithZero => {
                f.write_str("identity starts with a zero byte (reserved)")
            }
            ConfigError::ReservedProperty { name } => {
                write!(f, "property {name} is set by the handshake itself")
            }
            ConfigError::CredentialTooLong { field, len } => {
                write!(f, "PLAIN {field} of {len} bytes, more than 255")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Why a handshake failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The peer's greeting was refused.
    Greeting(GreetingError),
    /// The peer announced another mechanism than ours.
    MechanismMismatch {
        /// Ours.
        ours: Mechanism,
        /// The peer's.
        theirs: Mechanism,
    },
    /// The peer announced a mechanism this crate does not implement
    /// (CURVE, or an unknown name).
    MechanismNotSupported(Mechanism),
    /// PLAIN: both peers claim to be the server (as-server flag set on
    /// both sides). Two clients cannot be detected from the greeting
    /// (libzmq never sets the flag); they fail at the first command.
    RoleMismatch {
        /// The as-server flag both sent (always `true` now).
        as_server: bool,
    },
    /// A frame was refused (bad flags, or too large for a handshake
    /// command).
    Frame(DecodeError),
    /// A command was malformed.
    Command(CommandError),
    /// A message frame arrived before the handshake finished.
    UnexpectedMessage,
    /// A command arrived that does not belong at this step.
    UnexpectedCommand {
        /// What the handshake waited for.
        expected: &'static str,
        /// The name of what came (escaped).
        got: String,
    },
    /// The peer sent ERROR.
    PeerError {
        /// Its reason.
        reason: String,
    },
    /// The peer's metadata has no `Socket-Type`.
    MissingSocketType,
    /// The peer's `Socket-Type` names no known type.
    UnknownSocketType(UnknownSocketType),
    /// The peer's socket type cannot talk to ours.
    IncompatibleSocketType {
        /// Ours.
        ours: SocketType,
        /// The peer's.
        theirs: SocketType,
    },
    /// The peer's `Identity` is longer than 255 bytes.
    IdentityTooLong {
        /// Its length.
        len: usize,
    },
    /// PLAIN server: the authenticator refused the client's credentials.
    AuthenticationFailed {
        /// The authenticator's reason (also sent to the client).
        reason: String,
    },
}

impl From<GreetingError> for HandshakeError {
    fn from(e: GreetingError) -> Self {
        HandshakeError::Greeting(e)
    }
}

impl From<DecodeError> for HandshakeError {
    fn from(e: DecodeError) -> Self {
        HandshakeError::Frame(e)
    }
}

impl From<CommandError> for HandshakeError {
    fn from(e: CommandError) -> Self {
        HandshakeError::Command(e)
    }
}

impl From<MetadataError> for HandshakeError {
    fn from(e: MetadataError) -> Self {
        HandshakeError::Command(CommandError::Metadata(e))
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::Greeting(e) => write!(f, "{e}"),
            HandshakeError::MechanismMismatch { ours, theirs } => write!(
                f,
                "security mechanism mismatch: we use {ours}, the peer {theirs}"
            ),
            HandshakeError::MechanismNotSupported(m) => {
                write!(f, "security mechanism {m} is not supported")
            }
            HandshakeError::RoleMismatch { as_server } => write!(
                f,
                "PLAIN role mismatch: both peers act as {}",
                if *as_server { "server" } else { "client" }
            ),
            HandshakeError::Frame(e) => write!(f, "{e}"),
            HandshakeError::Command(e) => write!(f, "{e}"),
            HandshakeError::UnexpectedMessage => {
                f.write_str("message frame received before the handshake finished")
            }
            HandshakeError::UnexpectedCommand { expected, got } => {
                write!(f, "expected {expected}, received command \"{got}\"")
            }
            HandshakeError::PeerError { reason } => write!(f, "peer sent ERROR: {reason}"),
            HandshakeError::MissingSocketType => {
                f.write_str("peer metadata has no Socket-Type property")
            }
            HandshakeError::UnknownSocketType(e) => write!(f, "{e}"),
            HandshakeError::IncompatibleSocketType { ours, theirs } => {
                write!(f, "socket type {theirs} cannot talk to {ours}")
            }
            HandshakeError::IdentityTooLong { len } => {
                write!(
                    f,
                    "peer identity of {len} bytes, more than {MAX_IDENTITY_LEN}"
                )
            }
            HandshakeError::AuthenticationFailed { reason } => {
                write!(f, "PLAIN credentials refused: {reason}")
            }
        }
    }
}

impl std::error::Error for HandshakeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HandshakeError::Greeting(e) => Some(e),
            HandshakeError::Frame(e) => Some(e),
            HandshakeError::Command(e) => Some(e),
            HandshakeError::UnknownSocketType(e) => Some(e),
            _ => None,
        }
    }
}

/// Where the handshake stands.
#[derive(Debug)]
enum State {
    /// Reading the peer's greeting.
    Greeting,
    /// NULL: READY sent, waiting for the peer's.
    NullAwaitReady,
    /// PLAIN client: HELLO sent, waiting for WELCOME.
    ClientAwaitWelcome,
    /// PLAIN client: INITIATE sent, waiting for READY.
    ClientAwaitReady,
    /// PLAIN server: waiting for HELLO.
    ServerAwaitHello,
    /// PLAIN server: WELCOME sent, waiting for INITIATE.
    ServerAwaitInitiate {
        /// The authenticated user name.
        user_id: Bytes,
    },
    /// Finished.
    Done(PeerInfo),
    /// Failed; the error is repeated on every later call.
    Failed(HandshakeError),
}

/// The greeting and security handshake of one connection, sans-IO.
///
/// Our greeting is queued at construction. Feed whatever the peer sends to
/// [`Handshake::receive`], and after every call send what
/// [`Handshake::poll_transmit`] appends, until `receive` returns
/// [`HandshakeStatus::Done`]. `receive` consumes only handshake bytes: any
/// traffic the peer sent right after its last handshake command stays in
/// the input buffer, for the frame decoder.
///
/// When `receive` fails, [`Handshake::poll_transmit`] may still hold an
/// ERROR command telling the peer why (socket type refused, credentials
/// refused): send it before closing.
///
/// ```
/// use bytes::BytesMut;
/// use smolmq_zmtp::{Handshake, HandshakeConfig, HandshakeStatus, SocketType};
///
/// let mut a = Handshake::new(HandshakeConfig::new(SocketType::Dealer)).unwrap();
/// let mut b = Handshake::new(HandshakeConfig::new(SocketType::Router)).unwrap();
/// let (mut a_in, mut b_in) = (BytesMut::new(), BytesMut::new());
/// let (mut a_done, mut b_done) = (None, None);
/// for _round in 0..4 {
///     a.poll_transmit(&mut b_in);
///     b.poll_transmit(&mut a_in);
///     if let HandshakeStatus::Done(peer) = a.receive(&mut a_in).unwrap() {
///         a_done = Some(peer);
///     }
///     if let HandshakeStatus::Done(peer) = b.receive(&mut b_in).unwrap() {
///         b_done = Some(peer);
///     }
/// }
/// assert_eq!(a_done.unwrap().socket_type, SocketType::Router);
/// assert_eq!(b_done.unwrap().socket_type, SocketType::Dealer);
/// ```
#[derive(Debug)]
pub struct Handshake {
    /// Our configuration.
    config: HandshakeConfig,
    /// Our READY / INITIATE metadata.
    our_metadata: Metadata,
    /// Reads the peer's greeting.
    greeting: GreetingDecoder,
    /// The peer's greeting, once read.
    peer_greeting: Option<Greeting>,
    /// Reads handshake command frames.
    frames: FrameDecoder,
    /// Bytes waiting to be sent.
    out: BytesMut,
    /// Where we stand.
    state: State,
}

impl Handshake {
    /// Starts a handshake: checks `config` and queues our greeting.
    pub fn new(config: HandshakeConfig) -> Result<Handshake, ConfigError> {
        let mut our_metadata = Metadata::new();
        for name in [SOCKET_TYPE, IDENTITY] {
            if config.properties.get(name).is_some() {
                return Err(ConfigError::ReservedProperty { name });
            }
        }
        if let MechanismConfig::PlainClient { username, password } = &config.mechanism {
            for (field, value) in [("user name", username), ("password", password)] {
                if value.len() > 255 {
                    return Err(ConfigError::CredentialTooLong {
                        field,
                        len: value.len(),
                    });
                }
            }
        }
        // Valid names, and values far below the limit: cannot fail.
        let _ = our_metadata.insert(SOCKET_TYPE, config.socket_type.as_str());
        if let Some(identity) = &config.identity {
            if identity.len() > MAX_IDENTITY_LEN {
                return Err(ConfigError::IdentityTooLong {
                    len: identity.len(),
                });
            }
            if identity.first() == Some(&0) {
                return Err(ConfigError::IdentityStartsWithZero);
            }
            let _ = our_metadata.insert(IDENTITY, identity.clone());
        }
        for (name, value) in config.properties.iter() {
            let _ = our_metadata.insert(Bytes::copy_from_slice(name), value.clone());
        }
        let mut out = BytesMut::with_capacity(256);
        Greeting::new(config.mechanism.mechanism(), config.mechanism.as_server()).encode(&mut out);
        Ok(Handshake {
            frames: FrameDecoder::new(config.max_command_size),
            config,
            our_metadata,
            greeting: GreetingDecoder::new(),
            peer_greeting: None,
            out,
            state: State::Greeting,
        })
    }

    /// Appends the bytes to send to the peer (if any) to `out`.
    pub fn poll_transmit(&mut self, out: &mut BytesMut) {
        if !self.out.is_empty() {
            out.extend_from_slice(&self.out);
            self.out.clear();
        }
    }

    /// Whether [`Handshake::poll_transmit`] has bytes to give.
    pub fn has_transmit(&self) -> bool {
        !self.out.is_empty()
    }

    /// The peer's greeting, once received.
    pub fn peer_greeting(&self) -> Option<&Greeting> {
        self.peer_greeting.as_ref()
    }

    /// Whether the handshake has finished successfully.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// Consumes handshake bytes from `input` and advances the handshake.
    ///
    /// Returns [`HandshakeStatus::Done`] once complete (and again, with
    /// nothing consumed, on later calls), or the error that ended it (again
    /// on later calls).
    pub fn receive(&mut self, input: &mut BytesMut) -> Result<HandshakeStatus, HandshakeError> {
        loop {
            let step = match &self.state {
                State::Done(peer) => return Ok(HandshakeStatus::Done(peer.clone())),
                State::Failed(e) => return Err(e.clone()),
                State::Greeting => self.read_greeting(input),
                _ => self.read_command(input),
            };
            match step {
                Ok(true) => {}
                Ok(false) => return Ok(HandshakeStatus::InProgress),
                Err(e) => {
                    self.state = State::Failed(e.clone());
                    return Err(e);
                }
            }
        }
    }

    /// Reads the greeting; `Ok(true)` once it is in and accepted.
    fn read_greeting(&mut self, input: &mut BytesMut) -> Result<bool, HandshakeError> {
        let Some(greeting) = self.greeting.decode(input)? else {
            return Ok(false);
        };
        self.peer_greeting = Some(greeting);
        let ours = self.config.mechanism.mechanism();
        let theirs = greeting.mechanism;
        if !matches!(theirs, Mechanism::Null | Mechanism::Plain) {
            return Err(HandshakeError::MechanismNotSupported(theirs));
        }
        if theirs != ours {
            return Err(HandshakeError::MechanismMismatch { ours, theirs });
        }
        // Only two servers can be told apart from the greeting: libzmq
        // (4.3 at least) always sends an as-server flag of 0, PLAIN server
        // or not, so a 0 from the peer says nothing. Two clients fail at
        // the first command instead (a HELLO where WELCOME was expected).
        let as_server = self.config.mechanism.as_server();
        if ours == Mechanism::Plain && as_server && greeting.as_server {
            return Err(HandshakeError::RoleMismatch { as_server });
        }
        self.state = match &self.config.mechanism {
            MechanismConfig::Null => {
                self.send(&Command::Ready(self.our_metadata.clone()));
                State::NullAwaitReady
            }
            MechanismConfig::PlainClient { username, password } => {
                self.send(&Command::Hello {
                    username: username.clone(),
                    password: password.clone(),
                });
                State::ClientAwaitWelcome
            }
            MechanismConfig::PlainServer { .. } => State::ServerAwaitHello,
        };
        Ok(true)
    }

    /// Reads one handshake command; `Ok(true)` if one was processed.
    fn read_command(&mut self, input: &mut BytesMut) -> Result<bool, HandshakeError> {
        let Some(frame) = self.frames.decode(input)? else {
            return Ok(false);
        };
        if !frame.command {
            return Err(HandshakeError::UnexpectedMessage);
        }
        let command = frame.into_command()?;
        if let Command::Error { reason } = command {
            return Err(HandshakeError::PeerError { reason });
        }
        let state = core::mem::replace(&mut self.state, State::Greeting);
        self.state = match (state, command) {
            (State::NullAwaitReady, Command::Ready(metadata)) => {
                State::Done(self.accept_peer(metadata, None)?)
            }
            (State::ClientAwaitWelcome, Command::Welcome) => {
                self.send(&Command::Initiate(self.our_metadata.clone()));
                State::ClientAwaitReady
            }
            (State::ClientAwaitReady, Command::Ready(metadata)) => {
                State::Done(self.accept_peer(metadata, None)?)
            }
            (State::ServerAwaitHello, Command::Hello { username, password }) => {
                let credentials = PlainCredentials { username, password };
                // Only a PLAIN server enters ServerAwaitHello.
                let verdict = match &self.config.mechanism {
                    MechanismConfig::PlainServer { authenticator } => authenticator(&credentials),
                    _ => Err("not a PLAIN server".to_owned()),
                };
                if let Err(reason) = verdict {
                    self.send(&Command::error(&reason));
                    return Err(HandshakeError::AuthenticationFailed { reason });
                }
                self.send(&Command::Welcome);
                State::ServerAwaitInitiate {
                    user_id: credentials.username,
                }
            }
            (State::ServerAwaitInitiate { user_id }, Command::Initiate(metadata)) => {
                let peer = self.accept_peer(metadata, Some(user_id))?;
                self.send(&Command::Ready(self.our_metadata.clone()));
                State::Done(peer)
            }
            (state, command) => {
                let expected = match state {
                    State::NullAwaitReady | State::ClientAwaitReady => "READY",
                    State::ClientAwaitWelcome => "WELCOME",
                    State::ServerAwaitHello => "HELLO",
                    _ => "INITIATE",
                };
                let name = command.name();
                return Err(HandshakeError::UnexpectedCommand {
                    expected,
                    got: name[..name.len().min(64)].escape_ascii().to_string(),
                });
            }
        };
        Ok(true)
    }

    /// Checks the peer's metadata; on refusal queues an ERROR saying why.
    fn accept_peer(
        &mut self,
        metadata: Metadata,
        user_id: Option<Bytes>,
    ) -> Result<PeerInfo, HandshakeError> {
        let checked = self.check_peer(&metadata);
        match checked {
            Ok((socket_type, identity)) => Ok(PeerInfo {
                // The greeting was read before any command.
                version: self.peer_greeting.map_or(Version::V3_1, |g| g.version),
                mechanism: self.config.mechanism.mechanism(),
                socket_type,
                identity,
                metadata,
                user_id,
            }),
            Err(e) => {
                self.send(&Command::error(&e.to_string()));
                Err(e)
            }
        }
    }

    /// The peer's socket type (compatible with ours) and identity.
    fn check_peer(&self, metadata: &Metadata) -> Result<(SocketType, Bytes), HandshakeError> {
        let theirs = match metadata.socket_type() {
            None => return Err(HandshakeError::MissingSocketType),
            Some(Err(e)) => return Err(HandshakeError::UnknownSocketType(e)),
            Some(Ok(t)) => t,
        };
        let ours = self.config.socket_type;
        if !ours.is_compatible_with(theirs) {
            return Err(HandshakeError::IncompatibleSocketType { ours, theirs });
        }
        let identity = metadata.identity().cloned().unwrap_or_default();
        if identity.len() > MAX_IDENTITY_LEN {
            return Err(HandshakeError::IdentityTooLong {
                len: identity.len(),
            });
        }
        Ok((theirs, identity))
    }

    /// Queues a command for sending.
    fn send(&mut self, command: &Command) {
        // Every command the handshake builds is within limits (reasons are
        // cut to 255 bytes, credentials checked in `new`).
        let res = command.encode_frame(&mut self.out);
        debug_assert!(res.is_ok(), "handshake built an invalid command: {res:?}");
    }
}
