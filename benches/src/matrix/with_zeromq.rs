//! The pure-Rust `zeromq` crate (zmq.rs) in the matrix, on a tokio runtime
//! with one worker thread (as the others have one I/O thread).
//!
//! It has no PAIR socket, no inproc transport and no poller, so PAIR,
//! inproc and ROUTER_ROUTER_POLL are n/a; it has no HWM option either (its
//! sends wait for the socket). Its API is async only: each loop of the
//! matrix runs as one `block_on`, under one [`LOOP_LIMIT`] timeout.
//!
//! Every future runs under `tokio::task::unconstrained`: zeromq 0.6's fair
//! queue (DEALER, ROUTER, PULL, SUB receives) livelocks once tokio's
//! cooperative budget runs out inside a loop that does not yield (a read
//! returns Pending and wakes itself at once; the fair queue re-polls it
//! without returning), which a loop of thousands of receives in one
//! `block_on` hits within a few hundred messages. Seen in the matrix as a
//! DEALER_ROUTER tcp ping-pong spinning at 100 % CPU for minutes.

use super::{
    Backend, End, Ends, Impl, Kind, Pattern, SockSpec, Transport, Wire, Wiring, LOOP_LIMIT, STALL,
};
use bytes::Bytes;
use std::time::{Duration, Instant};
use tokio::runtime::{Handle, Runtime};
use zeromq::{Socket as _, SocketRecv as _, SocketSend as _, ZmqMessage};

/// The `zeromq` crate and its runtime.
pub(super) struct Zeromq {
    /// The tokio runtime its sockets' tasks run on.
    rt: Runtime,
}

impl Zeromq {
    pub(super) fn new() -> Result<Zeromq, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        Ok(Zeromq { rt })
    }

    /// A socket made to `spec`.
    fn socket(&self, spec: &SockSpec) -> Result<Sock, String> {
        let mut options = zeromq::SocketOptions::default();
        if let Some(id) = spec.id {
            options.peer_identity(
                zeromq::util::PeerIdentity::try_from(id.to_vec()).map_err(|e| e.to_string())?,
            );
        }
        let s = match spec.kind {
            Kind::Pub => S::Pub(zeromq::PubSocket::with_options(options)),
            Kind::Sub => S::Sub(zeromq::SubSocket::with_options(options)),
            Kind::Dealer => S::Dealer(zeromq::DealerSocket::with_options(options)),
            Kind::Router => S::Router(zeromq::RouterSocket::with_options(options)),
            Kind::Push => S::Push(zeromq::PushSocket::with_options(options)),
            Kind::Pull => S::Pull(zeromq::PullSocket::with_options(options)),
            Kind::Pair => return Err("the zeromq crate has no PAIR socket".to_owned()),
        };
        Ok(Sock {
            s,
            peer: spec.peer.map(Bytes::from_static),
            router: spec.kind == Kind::Router,
        })
    }

    /// The two sockets of `wire`, connected: (bound, connected).
    fn connect(&self, wire: &Wire, transport: Transport) -> Result<(Sock, Sock), String> {
        let mut bound = self.socket(&wire.bound)?;
        let mut connected = self.socket(&wire.connected)?;
        let endpoint = super::endpoint(transport, Impl::Zeromq);
        self.rt.block_on(tokio::task::unconstrained(async {
            tokio::time::timeout(STALL, async {
                let at = bound
                    .s
                    .bind(&endpoint)
                    .await
                    .map_err(|e| format!("bind {endpoint}: {e}"))?
                    .to_string();
                connected
                    .s
                    .connect(&at)
                    .await
                    .map_err(|e| format!("connect {at}: {e}"))?;
                if let S::Sub(sub) = &mut connected.s {
                    sub.subscribe("")
                        .await
                        .map_err(|e| format!("subscribe: {e}"))?;
                }
                Ok::<(), String>(())
            })
            .await
            .map_err(|_| "connecting: stalled".to_owned())?
        }))?;
        Ok((bound, connected))
    }

    fn end(&self, rx: Sock, tx: Option<Sock>) -> Box<dyn End> {
        Box::new(ZEnd {
            rt: self.rt.handle().clone(),
            rx: Some(rx),
            tx,
        })
    }
}

impl Backend for Zeromq {
    fn imp(&self) -> Impl {
        Impl::Zeromq
    }

    fn unsupported(&self, pattern: Pattern, transport: Transport) -> Option<&'static str> {
        match (pattern, transport) {
            (Pattern::Pair, _) => Some("the zeromq crate has no PAIR socket"),
            (Pattern::RouterRouterPoll, _) => Some("the zeromq crate has no poller"),
            (_, Transport::Inproc) => Some("the zeromq crate has no inproc transport"),
            (_, t) if t.smolmq_only() => Some("the zeromq crate has no tls / ws / wss transport"),
            _ => None,
        }
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
                Ok((self.end(first, None), self.end(second, None)))
            }
            Wiring::Double { there, back } => {
                let (there_tx, there_rx) = self.connect(there, transport)?;
                let (back_tx, back_rx) = self.connect(back, transport)?;
                Ok((
                    self.end(back_rx, Some(there_tx)),
                    self.end(there_rx, Some(back_tx)),
                ))
            }
        }
    }
}

/// A socket of any type the matrix uses.
enum S {
    Pub(zeromq::PubSocket),
    Sub(zeromq::SubSocket),
    Dealer(zeromq::DealerSocket),
    Router(zeromq::RouterSocket),
    Push(zeromq::PushSocket),
    Pull(zeromq::PullSocket),
}

impl S {
    async fn bind(&mut self, endpoint: &str) -> zeromq::ZmqResult<zeromq::Endpoint> {
        match self {
            S::Pub(s) => s.bind(endpoint).await,
            S::Sub(s) => s.bind(endpoint).await,
            S::Dealer(s) => s.bind(endpoint).await,
            S::Router(s) => s.bind(endpoint).await,
            S::Push(s) => s.bind(endpoint).await,
            S::Pull(s) => s.bind(endpoint).await,
        }
    }

    async fn connect(&mut self, endpoint: &str) -> zeromq::ZmqResult<()> {
        match self {
            S::Pub(s) => s.connect(endpoint).await,
            S::Sub(s) => s.connect(endpoint).await,
            S::Dealer(s) => s.connect(endpoint).await,
            S::Router(s) => s.connect(endpoint).await,
            S::Push(s) => s.connect(endpoint).await,
            S::Pull(s) => s.connect(endpoint).await,
        }
    }
}

/// One socket and how the matrix uses it.
struct Sock {
    /// The socket.
    s: S,
    /// A ROUTER's peer: the routing id put in front of what it sends.
    peer: Option<Bytes>,
    /// A ROUTER: received messages start with the sender's id.
    router: bool,
}

impl Sock {
    /// A fresh message with `payload` copied in, addressed if a ROUTER.
    fn msg(&self, payload: &[u8]) -> ZmqMessage {
        let mut m = ZmqMessage::from(payload.to_vec());
        if let Some(peer) = &self.peer {
            m.push_front(peer.clone());
        }
        m
    }

    async fn send(&mut self, m: ZmqMessage) -> Result<(), String> {
        let sent = match &mut self.s {
            S::Pub(s) => s.send(m).await,
            S::Dealer(s) => s.send(m).await,
            S::Router(s) => s.send(m).await,
            S::Push(s) => s.send(m).await,
            S::Sub(_) | S::Pull(_) => return Err("this socket cannot send".to_owned()),
        };
        sent.map_err(|e| format!("send: {e}"))
    }

    async fn recv(&mut self) -> Result<ZmqMessage, String> {
        let got = match &mut self.s {
            S::Sub(s) => s.recv().await,
            S::Dealer(s) => s.recv().await,
            S::Router(s) => s.recv().await,
            S::Pull(s) => s.recv().await,
            S::Pub(_) | S::Push(_) => return Err("this socket cannot receive".to_owned()),
        };
        got.map_err(|e| format!("recv: {e}"))
    }

    /// The body size of `m` (without a ROUTER's id frame).
    fn body(&self, m: &ZmqMessage) -> u64 {
        let skip = usize::from(self.router);
        m.iter().skip(skip).map(|f| f.len() as u64).sum()
    }
}

/// An end: a socket, or a socket to receive from and one to send on.
struct ZEnd {
    /// The runtime the loops run on.
    rt: Handle,
    /// Receives (and sends, when `tx` is `None`); an `Option` only so that
    /// `Drop` can close it inside the runtime.
    rx: Option<Sock>,
    /// Sends, for two-connection ping-pong.
    tx: Option<Sock>,
}

impl ZEnd {
    /// Runs `f` on the runtime, failing after [`LOOP_LIMIT`].
    fn run<'a, F, T>(rt: &Handle, f: F) -> Result<T, String>
    where
        F: std::future::Future<Output = Result<T, String>> + 'a,
    {
        rt.block_on(tokio::task::unconstrained(async {
            tokio::time::timeout(LOOP_LIMIT, f)
                .await
                .map_err(|_| format!("stalled ({} s)", LOOP_LIMIT.as_secs()))?
        }))
    }
}

impl Drop for ZEnd {
    fn drop(&mut self) {
        // The sockets stop their tasks on drop, which needs the runtime.
        let _guard = self.rt.enter();
        drop(self.tx.take());
        drop(self.rx.take());
    }
}

impl End for ZEnd {
    fn send_one(&mut self, payload: &[u8]) -> Result<(), String> {
        let ZEnd { rt, rx, tx } = self;
        let tx = match tx.as_mut() {
            Some(tx) => tx,
            None => rx.as_mut().expect("open"),
        };
        let m = tx.msg(payload);
        rt.block_on(tokio::task::unconstrained(async {
            tokio::time::timeout(STALL, tx.send(m))
                .await
                .map_err(|_| "send: stalled".to_owned())?
        }))
    }

    fn recv_for(&mut self, timeout: Duration) -> Result<bool, String> {
        let rx = self.rx.as_mut().expect("open");
        self.rt
            .block_on(tokio::task::unconstrained(async {
                tokio::time::timeout(timeout, rx.recv()).await
            }))
            .map_or(Ok(false), |got| got.map(|_| true))
    }

    fn send_many(&mut self, payload: &[u8], count: u64) -> Result<(), String> {
        let ZEnd { rt, rx, tx } = self;
        let tx = match tx.as_mut() {
            Some(tx) => tx,
            None => rx.as_mut().expect("open"),
        };
        Self::run(rt, async {
            for _ in 0..count {
                let m = tx.msg(payload);
                tx.send(m).await?;
            }
            Ok(())
        })
    }

    fn recv_many(&mut self, count: u64) -> Result<u64, String> {
        let rx = self.rx.as_mut().expect("open");
        Self::run(&self.rt, async {
            let mut bytes = 0;
            for _ in 0..count {
                let m = rx.recv().await?;
                bytes += rx.body(&m);
            }
            Ok(bytes)
        })
    }

    fn ping_many(
        &mut self,
        payload: &[u8],
        count: u64,
        rtts: &mut Vec<Duration>,
    ) -> Result<(), String> {
        let ZEnd { rt, rx, tx } = self;
        let rx = rx.as_mut().expect("open");
        Self::run(rt, async {
            for _ in 0..count {
                let started = Instant::now();
                match tx.as_mut() {
                    Some(tx) => {
                        let m = tx.msg(payload);
                        tx.send(m).await?;
                    }
                    None => {
                        let m = rx.msg(payload);
                        rx.send(m).await?;
                    }
                }
                rx.recv().await?;
                rtts.push(started.elapsed());
            }
            Ok(())
        })
    }

    fn echo_many(&mut self, count: u64) -> Result<(), String> {
        let ZEnd { rt, rx, tx } = self;
        let rx = rx.as_mut().expect("open");
        Self::run(rt, async {
            for _ in 0..count {
                // A ROUTER's message starts with the sender's id: sent
                // back as it is, it goes to the sender.
                let m = rx.recv().await?;
                match tx.as_mut() {
                    Some(tx) => tx.send(m).await?,
                    None => rx.send(m).await?,
                }
            }
            Ok(())
        })
    }
}
