//! The WebSocket upgrade: the HTTP handshake with ZWS 2.0's subprotocol
//! negotiation, both sides.

use crate::stream::ZwsStream;
use crate::Subprotocol;
use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::error::ProtocolError;
use async_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use async_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use async_tungstenite::tungstenite::protocol::WebSocketConfig;
use async_tungstenite::tungstenite::Error as WsError;
use smolmq_core::transport::{BoxStream, Side};
use smolmq_core::{MechanismConfig, SocketOptions, WsAddr};
use std::io;
use std::sync::{Arc, Mutex};

/// The header naming subprotocols.
const PROTOCOL_HEADER: &str = "Sec-WebSocket-Protocol";

/// What the upgrade needs from the socket's options.
#[derive(Debug, Clone)]
pub(crate) struct UpgradeConfig {
    /// The subprotocols we speak, in our order of preference.
    supported: &'static [Subprotocol],
    /// tungstenite's limits.
    ws: WebSocketConfig,
}

impl UpgradeConfig {
    /// The configuration for a socket with `options`.
    pub(crate) fn new(options: &SocketOptions) -> UpgradeConfig {
        let supported: &'static [Subprotocol] = match options.mechanism {
            MechanismConfig::Null => &[Subprotocol::Null, Subprotocol::Bare],
            _ => &[Subprotocol::Plain],
        };
        // One ZMTP frame is one WebSocket message of one more byte (the
        // flags): MAXMSGSIZE bounds it, as it bounds a ZMTP frame, and
        // tungstenite's default (64 MiB a message, 16 MiB a fragment)
        // bounds what a peer can make us buffer when it is unlimited.
        let default = WebSocketConfig::default();
        let max = options
            .maxmsgsize
            .and_then(|m| usize::try_from(m.saturating_add(1)).ok());
        let ws = match max {
            Some(max) => default
                .max_message_size(Some(max))
                .max_frame_size(Some(max.min(default.max_frame_size.unwrap_or(max)))),
            None => default,
        };
        UpgradeConfig { supported, ws }
    }

    /// The `Sec-WebSocket-Protocol` value a client sends.
    fn offer(&self) -> String {
        let names: Vec<&str> = self.supported.iter().map(|p| p.as_str()).collect();
        names.join(", ")
    }
}

/// Upgrades a connection we accepted: reads the client's request, checks
/// its path and picks a subprotocol, answers.
pub(crate) async fn accept(
    stream: BoxStream,
    addr: &WsAddr,
    config: &UpgradeConfig,
    peer: &str,
) -> io::Result<ZwsStream> {
    let refused: Arc<Mutex<Option<String>>> = Arc::default();
    let chosen: Arc<Mutex<Option<Subprotocol>>> = Arc::default();
    let callback = {
        let refused = refused.clone();
        let chosen = chosen.clone();
        let path = addr.path().to_owned();
        let supported = config.supported;
        move |request: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
            let refuse = |status: StatusCode, reason: String| {
                *lock(&refused) = Some(reason.clone());
                let mut answer = ErrorResponse::new(Some(reason));
                *answer.status_mut() = status;
                Err(answer)
            };
            if request.uri().path() != path {
                return refuse(
                    StatusCode::NOT_FOUND,
                    format!(
                        "no ZWS endpoint at path `{}` (this one serves `{path}`)",
                        request.uri().path()
                    ),
                );
            }
            let offered = offered(request);
            // The client's order of preference, as libzmq reads it.
            let Some(pick) = offered
                .iter()
                .find_map(|name| supported.iter().find(|p| p.as_str() == name))
            else {
                let wanted: Vec<&str> = supported.iter().map(|p| p.as_str()).collect();
                let reason = if offered.is_empty() {
                    format!(
                        "no Sec-WebSocket-Protocol offered (this endpoint speaks {})",
                        wanted.join(" or ")
                    )
                } else {
                    format!(
                        "subprotocol {} not supported (this endpoint speaks {})",
                        offered.join(", "),
                        wanted.join(" or ")
                    )
                };
                return refuse(StatusCode::BAD_REQUEST, reason);
            };
            *lock(&chosen) = Some(*pick);
            response
                .headers_mut()
                .insert(PROTOCOL_HEADER, HeaderValue::from_static(pick.as_str()));
            Ok(response)
        }
    };
    let result =
        async_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config.ws)).await;
    let ws = result.map_err(|e| {
        let reason = lock(&refused)
            .take()
            .unwrap_or_else(|| handshake_error(e, Side::Accepted));
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("WebSocket upgrade from {peer} refused: {reason}"),
        )
    })?;
    let Some(subprotocol) = lock(&chosen).take() else {
        return Err(io::Error::other(
            "WebSocket upgrade ended without a subprotocol",
        ));
    };
    Ok(ZwsStream::new(ws, subprotocol))
}

/// Upgrades a connection we made: sends the request for `addr`'s host and
/// path, offering our subprotocols, and checks the answer.
pub(crate) async fn connect(
    stream: BoxStream,
    addr: &WsAddr,
    config: &UpgradeConfig,
) -> io::Result<ZwsStream> {
    let url = format!("ws://{addr}");
    let failed = |reason: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("WebSocket upgrade with {url} failed: {reason}"),
        )
    };
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| failed(e.to_string()))?;
    let offer = HeaderValue::from_str(&config.offer()).map_err(|e| failed(e.to_string()))?;
    request.headers_mut().insert(PROTOCOL_HEADER, offer);
    let (ws, response) =
        async_tungstenite::client_async_with_config(request, stream, Some(config.ws))
            .await
            .map_err(|e| failed(handshake_error(e, Side::Connected)))?;
    let answer = response
        .headers()
        .get(PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let subprotocol = config
        .supported
        .iter()
        .copied()
        .find(|p| Some(p.as_str()) == answer)
        .ok_or_else(|| {
            failed(match answer {
                Some(name) => {
                    format!("the server chose subprotocol {name}, which we did not offer")
                }
                None => "the server chose no subprotocol".to_owned(),
            })
        })?;
    Ok(ZwsStream::new(ws, subprotocol))
}

/// Every subprotocol a request offers, in order (the header may repeat,
/// each a comma-separated list).
fn offered(request: &Request) -> Vec<String> {
    request
        .headers()
        .get_all(PROTOCOL_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// A readable reason for a failed handshake on `side`.
fn handshake_error(e: WsError, side: Side) -> String {
    match e {
        WsError::Protocol(ProtocolError::HttparseError(e)) => match side {
            Side::Accepted => {
                format!("not an HTTP request ({e}; a ZMTP client on a ws:// endpoint?)")
            }
            Side::Connected => format!("the answer is not HTTP ({e}; not a WebSocket server?)"),
        },
        WsError::Http(response) => {
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            format!("the server answered {} {body}", response.status())
        }
        WsError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            "the peer closed the connection during the upgrade".to_owned()
        }
        e => e.to_string(),
    }
}

/// Locks a mutex, poisoned or not (the data is a plain value).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
