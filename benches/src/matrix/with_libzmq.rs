//! libzmq in the matrix, through the `zmq` crate (libzmq 4.3.4 built from
//! source by `zmq-sys`), called as libzmq's perf tools call it.

use super::{Backend, End, Ends, Impl, Kind, Pattern, SockSpec, Transport, Wire, Wiring, STALL};
use std::time::{Duration, Instant};

/// libzmq with one I/O thread (its default).
pub(super) struct Libzmq {
    /// The context.
    ctx: zmq::Context,
}

impl Libzmq {
    pub(super) fn new() -> Libzmq {
        Libzmq {
            ctx: zmq::Context::new(),
        }
    }

    /// A socket made to `spec`: HWM unlimited, no linger, every blocking
    /// call bounded by STALL.
    fn socket(&self, spec: &SockSpec) -> Result<Sock, String> {
        let kind = match spec.kind {
            Kind::Pair => zmq::PAIR,
            Kind::Pub => zmq::PUB,
            Kind::Sub => zmq::SUB,
            Kind::Dealer => zmq::DEALER,
            Kind::Router => zmq::ROUTER,
            Kind::Push => zmq::PUSH,
            Kind::Pull => zmq::PULL,
        };
        let e = |e: zmq::Error| e.to_string();
        let s = self.ctx.socket(kind).map_err(e)?;
        s.set_sndhwm(0).map_err(e)?;
        s.set_rcvhwm(0).map_err(e)?;
        s.set_linger(0).map_err(e)?;
        let stall = STALL.as_millis() as i32;
        s.set_sndtimeo(stall).map_err(e)?;
        s.set_rcvtimeo(stall).map_err(e)?;
        if let Some(id) = spec.id {
            s.set_identity(id).map_err(e)?;
        }
        if spec.kind == Kind::Sub {
            s.set_subscribe(b"").map_err(e)?;
        }
        Ok(Sock {
            s,
            peer: spec.peer,
            router: spec.kind == Kind::Router,
            poll: spec.poll,
            msg: zmq::Message::new(),
            parts: Vec::new(),
        })
    }

    /// The two sockets of `wire`, connected: (bound, connected).
    fn connect(&self, wire: &Wire, transport: Transport) -> Result<(Sock, Sock), String> {
        let bound = self.socket(&wire.bound)?;
        // libzmq spells "any port" `*`.
        let endpoint = super::endpoint(transport, Impl::Libzmq).replace(":0", ":*");
        bound
            .s
            .bind(&endpoint)
            .map_err(|e| format!("bind {endpoint}: {e}"))?;
        let endpoint = bound
            .s
            .get_last_endpoint()
            .map_err(|e| e.to_string())?
            .map_err(|_| "last endpoint is not UTF-8".to_owned())?;
        let connected = self.socket(&wire.connected)?;
        connected
            .s
            .connect(&endpoint)
            .map_err(|e| format!("connect {endpoint}: {e}"))?;
        Ok((bound, connected))
    }
}

impl Backend for Libzmq {
    fn imp(&self) -> Impl {
        Impl::Libzmq
    }

    fn unsupported(&self, _: Pattern, transport: Transport) -> Option<&'static str> {
        transport
            .smolmq_only()
            .then_some("libzmq 4.3 has no tls / ws / wss transport in its stable API")
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
                    Box::new(ZmqEnd {
                        rx: first,
                        tx: None,
                    }),
                    Box::new(ZmqEnd {
                        rx: second,
                        tx: None,
                    }),
                ))
            }
            Wiring::Double { there, back } => {
                let (there_tx, there_rx) = self.connect(there, transport)?;
                let (back_tx, back_rx) = self.connect(back, transport)?;
                Ok((
                    Box::new(ZmqEnd {
                        rx: back_rx,
                        tx: Some(there_tx),
                    }),
                    Box::new(ZmqEnd {
                        rx: there_rx,
                        tx: Some(back_tx),
                    }),
                ))
            }
        }
    }
}

/// One libzmq socket and how the matrix uses it.
struct Sock {
    /// The socket.
    s: zmq::Socket,
    /// A ROUTER's peer: the routing id sent in front of each message.
    peer: Option<&'static [u8]>,
    /// A ROUTER: received messages start with the sender's id.
    router: bool,
    /// Wait with zmq_poll, then receive with ZMQ_DONTWAIT.
    poll: bool,
    /// The message receives reuse (as libzmq's local_thr).
    msg: zmq::Message,
    /// The parts of a message being echoed.
    parts: Vec<zmq::Message>,
}

/// An error of a call named `what`.
fn err(what: &str) -> impl Fn(zmq::Error) -> String + '_ {
    move |e| {
        if e == zmq::Error::EAGAIN {
            format!("{what}: stalled")
        } else {
            format!("{what}: {e}")
        }
    }
}

impl Sock {
    /// Sends `payload` (copied into a new message, as `zmq_send` does),
    /// after the peer's id if a ROUTER.
    fn send(&mut self, payload: &[u8]) -> Result<(), String> {
        if let Some(peer) = self.peer {
            self.s.send(peer, zmq::SNDMORE).map_err(err("send"))?;
        }
        self.s.send(payload, 0).map_err(err("send"))
    }

    /// Receives the first part of a message into `self.msg`.
    fn recv_first(&mut self) -> Result<(), String> {
        if !self.poll {
            return self.s.recv(&mut self.msg, 0).map_err(err("recv"));
        }
        // The clock only once there is a wait, as for smolmq.
        let mut deadline = None;
        loop {
            match self.s.recv(&mut self.msg, zmq::DONTWAIT) {
                Ok(()) => return Ok(()),
                Err(zmq::Error::EAGAIN) => {}
                Err(e) => return Err(format!("recv: {e}")),
            }
            let now = Instant::now();
            let deadline = *deadline.get_or_insert(now + STALL);
            if now >= deadline {
                return Err("recv: stalled".to_owned());
            }
            let wait = (deadline - now).as_millis() as i64 + 1;
            zmq::poll(&mut [self.s.as_poll_item(zmq::POLLIN)], wait).map_err(err("poll"))?;
        }
    }

    /// Receives a whole message; returns its body size (without a
    /// ROUTER's id frame).
    fn recv(&mut self) -> Result<u64, String> {
        self.recv_first()?;
        let mut bytes = if self.router {
            0
        } else {
            self.msg.len() as u64
        };
        while self.msg.get_more() {
            self.s.recv(&mut self.msg, 0).map_err(err("recv"))?;
            bytes += self.msg.len() as u64;
        }
        Ok(bytes)
    }

    /// Receives a whole message into `self.parts`.
    fn recv_parts(&mut self) -> Result<(), String> {
        self.recv_first()?;
        let mut more = self.msg.get_more();
        self.parts
            .push(std::mem::replace(&mut self.msg, zmq::Message::new()));
        while more {
            let mut part = zmq::Message::new();
            self.s.recv(&mut part, 0).map_err(err("recv"))?;
            more = part.get_more();
            self.parts.push(part);
        }
        Ok(())
    }

    /// Sends `parts` as one message.
    fn send_parts(&mut self, parts: &mut Vec<zmq::Message>) -> Result<(), String> {
        let n = parts.len();
        for (i, part) in parts.drain(..).enumerate() {
            let flags = if i + 1 < n { zmq::SNDMORE } else { 0 };
            self.s.send(part, flags).map_err(err("send"))?;
        }
        Ok(())
    }
}

/// An end: a socket, or a socket to receive from and one to send on.
struct ZmqEnd {
    /// Receives (and sends, when `tx` is `None`).
    rx: Sock,
    /// Sends, for two-connection ping-pong.
    tx: Option<Sock>,
}

impl End for ZmqEnd {
    fn send_one(&mut self, payload: &[u8]) -> Result<(), String> {
        self.tx.as_mut().unwrap_or(&mut self.rx).send(payload)
    }

    fn recv_for(&mut self, timeout: Duration) -> Result<bool, String> {
        let ms = timeout.as_millis() as i64;
        zmq::poll(&mut [self.rx.s.as_poll_item(zmq::POLLIN)], ms).map_err(err("poll"))?;
        match self.rx.s.recv(&mut self.rx.msg, zmq::DONTWAIT) {
            Ok(()) => {
                // The rest of a multipart message is there already.
                while self.rx.msg.get_more() {
                    self.rx.s.recv(&mut self.rx.msg, 0).map_err(err("recv"))?;
                }
                Ok(true)
            }
            Err(zmq::Error::EAGAIN) => Ok(false),
            Err(e) => Err(format!("recv: {e}")),
        }
    }

    fn send_many(&mut self, payload: &[u8], count: u64) -> Result<(), String> {
        let tx = self.tx.as_mut().unwrap_or(&mut self.rx);
        for _ in 0..count {
            tx.send(payload)?;
        }
        Ok(())
    }

    fn recv_many(&mut self, count: u64) -> Result<u64, String> {
        let mut bytes = 0;
        for _ in 0..count {
            bytes += self.rx.recv()?;
        }
        Ok(bytes)
    }

    fn ping_many(
        &mut self,
        payload: &[u8],
        count: u64,
        rtts: &mut Vec<Duration>,
    ) -> Result<(), String> {
        for _ in 0..count {
            let started = Instant::now();
            self.tx.as_mut().unwrap_or(&mut self.rx).send(payload)?;
            self.rx.recv()?;
            rtts.push(started.elapsed());
        }
        Ok(())
    }

    fn echo_many(&mut self, count: u64) -> Result<(), String> {
        let mut parts = Vec::with_capacity(4);
        for _ in 0..count {
            // A ROUTER's message starts with the sender's id: sent back
            // as it is, it goes to the sender.
            self.rx.recv_parts()?;
            std::mem::swap(&mut parts, &mut self.rx.parts);
            self.tx
                .as_mut()
                .unwrap_or(&mut self.rx)
                .send_parts(&mut parts)?;
        }
        Ok(())
    }
}
