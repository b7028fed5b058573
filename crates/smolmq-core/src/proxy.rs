//! Proxies: libzmq's `zmq_proxy` and `zmq_proxy_steerable`.
//!
//! A proxy moves every message that arrives on the frontend to the
//! backend and every message from the backend to the frontend, optionally
//! copying each to a capture socket. It is the middle of a ROUTER / DEALER
//! broker (clients' REQs to workers' REPs), an XSUB / XPUB forwarder
//! (subscriptions flow up, messages down) or a PULL / PUSH streamer.
//!
//! Backpressure is kept: a message that the other side cannot take yet
//! (its HWM is reached) is held, and the proxy stops reading from that
//! side until it is gone, so a slow consumer slows the producer instead of
//! growing memory.
//!
//! [`proxy_steerable`] also listens on a control socket for the commands
//! `PAUSE` (stop moving messages), `RESUME`, `TERMINATE` (return), and
//! `STATISTICS` (reply with eight 8-byte little-endian counters, as libzmq
//! 4.3: frontend frames in, bytes in, frames out, bytes out, then the same
//! four for the backend). Unknown commands are ignored.
//!
//! ```
//! use smolmq_core::proxy::proxy_steerable;
//! use smolmq_core::{Context, Msg};
//! use smolmq_zmtp::SocketType;
//!
//! let ctx = Context::new()?;
//! let (mut front, mut back) = (ctx.socket(SocketType::Pair)?, ctx.socket(SocketType::Pair)?);
//! front.bind("inproc://front")?;
//! back.bind("inproc://back")?;
//! let mut control = ctx.socket(SocketType::Pair)?;
//! control.bind("inproc://control")?;
//!
//! let mut client = ctx.socket(SocketType::Pair)?;
//! client.connect("inproc://front")?;
//! let mut worker = ctx.socket(SocketType::Pair)?;
//! worker.connect("inproc://back")?;
//! let mut steer = ctx.socket(SocketType::Pair)?;
//! steer.connect("inproc://control")?;
//!
//! let proxy = std::thread::spawn(move || {
//!     proxy_steerable(&mut front, &mut back, None, &mut control)
//! });
//! client.send_blocking(Msg::from("job")).map_err(|e| e.into_error())?;
//! assert_eq!(worker.recv_blocking()?, Msg::from("job"));
//! steer.send_blocking(Msg::from("TERMINATE")).map_err(|e| e.into_error())?;
//! proxy.join().unwrap()?;
//! # Ok::<(), smolmq_core::Error>(())
//! ```

use crate::poller::{poll, Events, PollItem};
use crate::socket::{SendError, Socket};
use crate::{Error, Msg, Result};
use bytes::Bytes;

/// Message counters of one side of a proxy, as `STATISTICS` reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SideStats {
    /// Frames received from this side.
    pub frames_in: u64,
    /// Bytes received from this side.
    pub bytes_in: u64,
    /// Frames sent to this side.
    pub frames_out: u64,
    /// Bytes sent to this side.
    pub bytes_out: u64,
}

/// What a proxy has moved so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// The frontend's counters.
    pub frontend: SideStats,
    /// The backend's counters.
    pub backend: SideStats,
}

impl ProxyStats {
    /// The `STATISTICS` reply: eight frames of 8-byte little-endian
    /// counters (frontend in/out frames and bytes, then the backend's),
    /// the layout of libzmq 4.3.
    pub fn to_msg(&self) -> Msg {
        let fields = [
            self.frontend.frames_in,
            self.frontend.bytes_in,
            self.frontend.frames_out,
            self.frontend.bytes_out,
            self.backend.frames_in,
            self.backend.bytes_in,
            self.backend.frames_out,
            self.backend.bytes_out,
        ];
        let frames = fields.map(|v| Bytes::copy_from_slice(&v.to_le_bytes()));
        Msg::from_frames(frames).unwrap_or_default()
    }
}

/// Counts a message into `frames` / `bytes`.
fn count(msg: &Msg, frames: &mut u64, bytes: &mut u64) {
    *frames += msg.len() as u64;
    *bytes += msg.size() as u64;
}

/// Moves messages between `frontend` and `backend` until an error, copying
/// each to `capture` if given. Runs until one of the sockets fails (for
/// example [`Error::Closed`]); use [`proxy_steerable`] for a proxy that can
/// be stopped.
///
/// A copy the capture socket cannot take at once (its HWM is reached) is
/// dropped: the capture never slows the proxy down.
pub fn proxy(
    frontend: &mut Socket,
    backend: &mut Socket,
    capture: Option<&mut Socket>,
) -> Result<()> {
    run(frontend, backend, capture, None).map(|_| ())
}

/// [`proxy`] steered by commands on `control` (see the
/// [module docs](self)): returns the counters when told `TERMINATE`.
pub fn proxy_steerable(
    frontend: &mut Socket,
    backend: &mut Socket,
    capture: Option<&mut Socket>,
    control: &mut Socket,
) -> Result<ProxyStats> {
    run(frontend, backend, capture, Some(control))
}

/// The proxy loop.
fn run(
    frontend: &mut Socket,
    backend: &mut Socket,
    mut capture: Option<&mut Socket>,
    mut control: Option<&mut Socket>,
) -> Result<ProxyStats> {
    let mut stats = ProxyStats::default();
    // A message taken from one side that the other could not take yet:
    // [0] frontend to backend, [1] backend to frontend.
    let mut held: [Option<Msg>; 2] = [None, None];
    let mut paused = false;
    loop {
        let mut progress = false;
        if let Some(control) = control.as_deref_mut() {
            loop {
                match control.try_recv() {
                    Ok(cmd) => {
                        let name: &[u8] = cmd.first();
                        match name {
                            b"PAUSE" => paused = true,
                            b"RESUME" => paused = false,
                            b"TERMINATE" => return Ok(stats),
                            b"STATISTICS" => {
                                // Never block on a control peer that does
                                // not read: a reply it has no room for is
                                // dropped.
                                let _ = control.try_send(stats.to_msg());
                            }
                            _ => {}
                        }
                    }
                    Err(Error::WouldBlock) => break,
                    Err(e) => return Err(e),
                }
            }
        }
        if !paused {
            progress |= forward(
                frontend,
                backend,
                &mut held[0],
                capture.as_deref_mut(),
                &mut stats,
                true,
            )?;
            progress |= forward(
                backend,
                frontend,
                &mut held[1],
                capture.as_deref_mut(),
                &mut stats,
                false,
            )?;
        }
        if progress {
            continue;
        }
        // Nothing moved: wait for a side (or the control socket) to change.
        let interest = |held: &Option<Msg>| {
            if held.is_some() {
                Events::NONE
            } else {
                Events::READABLE
            }
        };
        let out = |other: &Option<Msg>| {
            if other.is_some() {
                Events::WRITABLE
            } else {
                Events::NONE
            }
        };
        let (front_events, back_events) = if paused {
            (Events::NONE, Events::NONE)
        } else {
            (
                interest(&held[0]) | out(&held[1]),
                interest(&held[1]) | out(&held[0]),
            )
        };
        // On the stack: no allocation per idle wait.
        let front = PollItem::new(frontend, front_events);
        let back = PollItem::new(backend, back_events);
        match control.as_deref_mut() {
            Some(control) => poll(
                &mut [front, back, PollItem::new(control, Events::READABLE)],
                None,
            )?,
            None => poll(&mut [front, back], None)?,
        };
    }
}

/// Moves what `from` has to `to` (one batch, until one would block).
/// `Ok(true)` if anything moved.
fn forward(
    from: &mut Socket,
    to: &mut Socket,
    held: &mut Option<Msg>,
    mut capture: Option<&mut Socket>,
    stats: &mut ProxyStats,
    front_to_back: bool,
) -> Result<bool> {
    /// Messages moved per call, so the other direction gets its turn.
    const BATCH: usize = 256;
    let mut progress = false;
    for _ in 0..BATCH {
        let msg = match held.take() {
            Some(msg) => msg,
            None => match from.try_recv() {
                Ok(msg) => {
                    let side = if front_to_back {
                        &mut stats.frontend
                    } else {
                        &mut stats.backend
                    };
                    count(&msg, &mut side.frames_in, &mut side.bytes_in);
                    if let Some(capture) = capture.as_deref_mut() {
                        let _ = capture.try_send(msg.clone());
                    }
                    msg
                }
                Err(Error::WouldBlock) => break,
                Err(e) => return Err(e),
            },
        };
        let (frames, size) = (msg.len() as u64, msg.size() as u64);
        match to.try_send(msg) {
            Ok(()) => {
                let side = if front_to_back {
                    &mut stats.backend
                } else {
                    &mut stats.frontend
                };
                side.frames_out += frames;
                side.bytes_out += size;
                progress = true;
            }
            Err(e) if e.error().is_would_block() => {
                *held = Some(e.into_msg());
                break;
            }
            Err(e) => return Err(SendError::into_error(e)),
        }
    }
    Ok(progress)
}
