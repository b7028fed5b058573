//! The baseline: tokio TCP and tokio-util's `LinesCodec`, server and
//! clients on one multi-threaded runtime.

use super::hist::Histogram;
use super::{request_line, Config, Rig};
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio_util::codec::{Framed, LinesCodec};

/// The largest line either side takes (smolmq's jsonl default).
const MAX_LINE: usize = 16 << 20;

/// Longest one round trip may take before the bench fails.
const STALL: Duration = Duration::from_secs(10);

/// A framed client connection.
type Conn = Framed<TcpStream, LinesCodec>;

/// The runtime, the clients between iterations, their histograms.
pub(crate) struct Lines {
    /// Server and clients run here (its drop stops the server).
    rt: Runtime,
    /// The clients.
    clients: Vec<Conn>,
    /// One histogram per client.
    hists: Vec<Histogram>,
    /// The request line.
    payload: Arc<str>,
}

impl Lines {
    /// A server and `cfg.connections` connected clients.
    pub(crate) fn new(cfg: &Config) -> Result<Lines, String> {
        let rt = match cfg.tokio_split {
            false => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(cfg.workers)
                .enable_io()
                .enable_time()
                .build(),
            true => tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build(),
        }
        .map_err(|e| e.to_string())?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        if cfg.tokio_split {
            // The server on a runtime and thread of its own, for the rest
            // of the (child) process.
            let server = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build()
                .map_err(|e| e.to_string())?;
            std::thread::spawn(move || server.block_on(serve(listener)));
        } else {
            rt.spawn(serve(listener));
        }
        let clients = rt.block_on(async {
            let mut clients = Vec::new();
            for _ in 0..cfg.connections {
                let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                clients.push(Framed::new(
                    stream,
                    LinesCodec::new_with_max_length(MAX_LINE),
                ));
            }
            Ok::<_, String>(clients)
        })?;
        Ok(Lines {
            rt,
            clients,
            hists: (0..cfg.connections).map(|_| Histogram::new()).collect(),
            payload: Arc::from(request_line(cfg.size, 1)),
        })
    }
}

/// The echo server: every connection a task writing each line back.
async fn serve(listener: std::net::TcpListener) {
    let Ok(listener) = TcpListener::from_std(listener) else {
        return;
    };
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let mut conn = Framed::new(stream, LinesCodec::new_with_max_length(MAX_LINE));
            while let Some(Ok(line)) = conn.next().await {
                if conn.send(line).await.is_err() {
                    break;
                }
            }
        });
    }
}

impl Rig for Lines {
    fn run(&mut self, duration: Duration, hist: &mut Histogram) -> Result<(u64, Duration), String> {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let hists = std::mem::take(&mut self.hists);
        let tasks: Vec<_> = self
            .clients
            .drain(..)
            .zip(hists)
            .map(|(mut conn, mut h)| {
                let stop = stop.clone();
                let payload = self.payload.clone();
                h.clear();
                self.rt.spawn(async move {
                    let mut ops = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let t0 = Instant::now();
                        let round_trip = async {
                            conn.send(&*payload).await.map_err(|e| e.to_string())?;
                            match conn.next().await {
                                Some(Ok(line)) if line.len() == payload.len() => Ok(()),
                                Some(Ok(line)) => Err(format!("an echo of {} bytes", line.len())),
                                Some(Err(e)) => Err(e.to_string()),
                                None => Err("the server closed".to_owned()),
                            }
                        };
                        match tokio::time::timeout(STALL, round_trip).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => return Err(e),
                            Err(_) => return Err("a round trip stalled".to_owned()),
                        }
                        h.record(t0.elapsed());
                        ops += 1;
                    }
                    Ok((conn, h, ops))
                })
            })
            .collect();
        let results = self.rt.block_on(async {
            tokio::time::sleep(duration).await;
            stop.store(true, Ordering::Relaxed);
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.map_err(|e| e.to_string()).and_then(|r| r));
            }
            out
        });
        let took = started.elapsed();
        let mut total = 0;
        for r in results {
            let (conn, h, ops) = r?;
            hist.merge(&h);
            self.clients.push(conn);
            self.hists.push(h);
            total += ops;
        }
        Ok((total, took))
    }
}
