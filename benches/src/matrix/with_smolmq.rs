//! smolmq in the matrix, through its facade: `smolmq::Context::socket`.

use super::{Backend, End, Ends, Impl, Kind, Pattern, SockSpec, Transport, Wire, Wiring, STALL};
use smolmq::poller::{poll, Events, PollItem};
use smolmq::tls::{set_tls, TlsOptions};
use smolmq::{Bytes, Context, Msg, Socket, SocketOptions, SocketType};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A self-signed certificate for 127.0.0.1 and its key (PEM), made once,
/// for tls and wss: the client trusts exactly it and checks it as in real
/// use.
fn certificate() -> &'static (String, String) {
    static CERT: OnceLock<(String, String)> = OnceLock::new();
    CERT.get_or_init(|| {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
            .expect("a test certificate");
        (cert.cert.pem(), cert.signing_key.serialize_pem())
    })
}

/// smolmq with one I/O thread and every transport.
pub(super) struct Smolmq {
    /// The context.
    ctx: Context,
}

impl Smolmq {
    pub(super) fn new() -> Result<Smolmq, String> {
        Ok(Smolmq {
            ctx: Context::new().map_err(|e| format!("smolmq context: {e}"))?,
        })
    }

    /// A socket made to `spec`: HWM unlimited, no linger, every blocking
    /// call bounded by STALL.
    fn socket(&self, spec: &SockSpec) -> Result<Sock, String> {
        let kind = match spec.kind {
            Kind::Pair => SocketType::Pair,
            Kind::Pub => SocketType::Pub,
            Kind::Sub => SocketType::Sub,
            Kind::Dealer => SocketType::Dealer,
            Kind::Router => SocketType::Router,
            Kind::Push => SocketType::Push,
            Kind::Pull => SocketType::Pull,
        };
        let mut s = self.ctx.socket(kind).map_err(|e| e.to_string())?;
        s.set_options(SocketOptions {
            sndhwm: 0,
            rcvhwm: 0,
            linger: Some(Duration::ZERO),
            sndtimeo: Some(STALL),
            rcvtimeo: Some(STALL),
            routing_id: spec.id.map(Bytes::from_static),
            ..SocketOptions::default()
        })
        .map_err(|e| e.to_string())?;
        if spec.kind == Kind::Sub {
            smolmq::pubsub::subscribe(&mut s, b"").map_err(|e| e.to_string())?;
        }
        Ok(Sock {
            s,
            peer: spec.peer.map(Bytes::from_static),
            router: spec.kind == Kind::Router,
            poll: spec.poll,
        })
    }

    /// The two sockets of `wire`, connected: (bound, connected).
    fn connect(&self, wire: &Wire, transport: Transport) -> Result<(Sock, Sock), String> {
        let mut bound = self.socket(&wire.bound)?;
        let mut connected = self.socket(&wire.connected)?;
        if matches!(transport, Transport::Tls | Transport::Wss) {
            let (cert, key) = certificate();
            let tls =
                |s: &mut Socket, options| set_tls(s, options).map_err(|e| format!("set_tls: {e}"));
            tls(&mut bound.s, TlsOptions::server(cert.clone(), key.clone()))?;
            tls(&mut connected.s, TlsOptions::client(cert.clone()))?;
        }
        bound
            .s
            .bind(&super::endpoint(transport, Impl::Smolmq))
            .map_err(|e| format!("bind: {e}"))?;
        let endpoint = bound
            .s
            .last_endpoint()
            .ok_or("no last endpoint")?
            .to_string();
        connected
            .s
            .connect(&endpoint)
            .map_err(|e| format!("connect {endpoint}: {e}"))?;
        Ok((bound, connected))
    }
}

impl Backend for Smolmq {
    fn imp(&self) -> Impl {
        Impl::Smolmq
    }

    fn unsupported(&self, _: Pattern, _: Transport) -> Option<&'static str> {
        None
    }

    fn ends(&self, wiring: &Wiring, transport: Transport) -> Result<Ends, String> {
        match wiring {
            Wiring::Single {
                wire,
                first_is_bound,
            } => {
                let (bound, connected) = self.connect(wire, transport)?;
                let (first, second) = if *first_is_bound {
                    (bound, connected)
                } else {
                    (connected, bound)
                };
                Ok((
                    Box::new(SmolEnd {
                        rx: first,
                        tx: None,
                    }),
                    Box::new(SmolEnd {
                        rx: second,
                        tx: None,
                    }),
                ))
            }
            Wiring::Double { there, back } => {
                let (there_tx, there_rx) = self.connect(there, transport)?;
                let (back_tx, back_rx) = self.connect(back, transport)?;
                Ok((
                    Box::new(SmolEnd {
                        rx: back_rx,
                        tx: Some(there_tx),
                    }),
                    Box::new(SmolEnd {
                        rx: there_rx,
                        tx: Some(back_tx),
                    }),
                ))
            }
        }
    }
}

/// One smolmq socket and how the matrix uses it.
struct Sock {
    /// The socket.
    s: Socket,
    /// A ROUTER's peer: the routing id put in front of what it sends.
    peer: Option<Bytes>,
    /// A ROUTER: received messages start with the sender's id.
    router: bool,
    /// Wait with the poller, then receive without blocking.
    poll: bool,
}

impl Sock {
    /// A fresh message with `payload` copied in, addressed if a ROUTER.
    #[inline]
    fn msg(&self, payload: &[u8]) -> Msg {
        let mut m = Msg::copy_from_slice(payload);
        if let Some(peer) = &self.peer {
            m.push_front(peer.clone());
        }
        m
    }

    /// Sends `m` with a blocking send (at most STALL), as an application
    /// calling `zmq_send` without flags does: it may wait, at the HWM or
    /// when smolmq paces a sender far ahead of its connection.
    ///
    /// (The matrix used to try a non-blocking send first, because
    /// `send_blocking` read the clock on every call when SNDTIMEO was set;
    /// it reads it only once it must wait now.)
    fn send(&mut self, m: Msg) -> Result<(), String> {
        self.s
            .send_blocking(m)
            .map_err(|e| format!("send: {}", e.into_error()))
    }

    /// The body size of `m` (without a ROUTER's id frame).
    fn body(&self, m: &Msg) -> u64 {
        if self.router {
            (m.size() - m.first().len()) as u64
        } else {
            m.size() as u64
        }
    }

    /// Receives one message: blocking, or (poll) without blocking and
    /// with the poller when there is none.
    fn recv(&mut self) -> Result<Msg, String> {
        if !self.poll {
            // See `send`: try first, block only when that would block.
            return match self.s.try_recv() {
                Ok(m) => Ok(m),
                Err(e) if e.is_would_block() => {
                    self.s.recv_blocking().map_err(|e| format!("recv: {e}"))
                }
                Err(e) => Err(format!("recv: {e}")),
            };
        }
        // The clock only once there is a wait (as in `send`): reading it
        // for every message was 7.7 % of a ROUTER_ROUTER_POLL ipc run.
        let mut deadline = None;
        loop {
            match self.s.try_recv() {
                Ok(m) => return Ok(m),
                Err(e) if e.is_would_block() => {}
                Err(e) => return Err(format!("recv: {e}")),
            }
            let now = Instant::now();
            let deadline = *deadline.get_or_insert(now + STALL);
            if now >= deadline {
                return Err("recv: stalled".to_owned());
            }
            let mut items = [PollItem::new(&mut self.s, Events::READABLE)];
            poll(&mut items, Some(deadline - now)).map_err(|e| format!("poll: {e}"))?;
        }
    }
}

/// An end: a socket, or a socket to receive from and one to send on.
struct SmolEnd {
    /// Receives (and sends, when `tx` is `None`).
    rx: Sock,
    /// Sends, for two-connection ping-pong.
    tx: Option<Sock>,
}

impl End for SmolEnd {
    fn send_one(&mut self, payload: &[u8]) -> Result<(), String> {
        let tx = self.tx.as_mut().unwrap_or(&mut self.rx);
        let m = tx.msg(payload);
        tx.send(m)
    }

    fn recv_for(&mut self, timeout: Duration) -> Result<bool, String> {
        let mut items = [PollItem::new(&mut self.rx.s, Events::READABLE)];
        poll(&mut items, Some(timeout)).map_err(|e| format!("poll: {e}"))?;
        match self.rx.s.try_recv() {
            Ok(_) => Ok(true),
            Err(e) if e.is_would_block() => Ok(false),
            Err(e) => Err(format!("recv: {e}")),
        }
    }

    fn send_many(&mut self, payload: &[u8], count: u64) -> Result<(), String> {
        let tx = self.tx.as_mut().unwrap_or(&mut self.rx);
        for _ in 0..count {
            let m = tx.msg(payload);
            tx.send(m)?;
        }
        Ok(())
    }

    fn recv_many(&mut self, count: u64) -> Result<u64, String> {
        let mut bytes = 0;
        for _ in 0..count {
            let m = self.rx.recv()?;
            bytes += self.rx.body(&m);
        }
        Ok(bytes)
    }

    fn ping_many(
        &mut self,
        payload: &[u8],
        count: u64,
        rtts: &mut Vec<Duration>,
    ) -> Result<(), String> {
        let SmolEnd { rx, tx } = self;
        for _ in 0..count {
            let started = Instant::now();
            match tx.as_mut() {
                Some(tx) => {
                    let m = tx.msg(payload);
                    tx.send(m)?;
                }
                None => {
                    let m = rx.msg(payload);
                    rx.send(m)?;
                }
            }
            rx.recv()?;
            rtts.push(started.elapsed());
        }
        Ok(())
    }

    fn echo_many(&mut self, count: u64) -> Result<(), String> {
        let SmolEnd { rx, tx } = self;
        for _ in 0..count {
            // A ROUTER's message starts with the sender's id: sent back
            // as it is, it goes to the sender.
            let m = rx.recv()?;
            match tx.as_mut() {
                Some(tx) => tx.send(m)?,
                None => rx.send(m)?,
            }
        }
        Ok(())
    }
}
