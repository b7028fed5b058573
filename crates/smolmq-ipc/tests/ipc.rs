//! The ipc transport: bind, connect, accept, socket files and errors. Each
//! test works in its own temp directory, and every wait is bounded by
//! [`LIMIT`].

#![cfg(unix)]

use async_io::Timer;
use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use smolmq_core::transport::{accept, Transport};
use smolmq_core::{Endpoint, EndpointError, IpcAddr, SocketOptions, IPC_PATH_MAX};
use smolmq_ipc::{IpcListener, IpcTransport};
use std::future::Future;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The most any test waits for anything.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs `fut` on this thread, failing the test if it takes over [`LIMIT`].
fn run<T>(fut: impl Future<Output = T>) -> T {
    async_io::block_on(future::or(async { Some(fut.await) }, async {
        Timer::after(LIMIT).await;
        None
    }))
    .expect("the test timed out")
}

fn ep(text: &str) -> Endpoint {
    Endpoint::parse(text).unwrap()
}

fn opts() -> SocketOptions {
    SocketOptions::default()
}

/// A directory of its own for one test, removed with what is in it when
/// dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("smolmq-ipc-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn endpoint(&self, name: &str) -> Endpoint {
        ep(&format!("ipc://{}", self.path(name).display()))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A unique abstract name for this test run.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn abstract_endpoint(tag: &str) -> Endpoint {
    ep(&format!("ipc://@smolmq-test-{}-{tag}", std::process::id()))
}

/// Sends `data` from `a` to `b` and `reply` back, checking both arrive.
async fn exchange<A, B>(a: &mut A, b: &mut B, data: &[u8], reply: &[u8])
where
    A: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin + ?Sized,
    B: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin + ?Sized,
{
    a.write_all(data).await.unwrap();
    a.flush().await.unwrap();
    let mut got = vec![0; data.len()];
    b.read_exact(&mut got).await.unwrap();
    assert_eq!(got, data);
    b.write_all(reply).await.unwrap();
    b.flush().await.unwrap();
    let mut got = vec![0; reply.len()];
    a.read_exact(&mut got).await.unwrap();
    assert_eq!(got, reply);
}

/// Connects to `listener` and checks that bytes flow both ways.
fn check_serves(listener: &IpcListener) {
    run(async {
        let mut client = smolmq_ipc::connect(listener.local_endpoint(), &opts())
            .await
            .unwrap();
        let mut server = listener.accept_stream().await.unwrap();
        exchange(&mut client, &mut server, b"ping", b"pong").await;
    });
}

/// Leaves a stale socket file at `path`: bound, then closed without
/// removing the file.
fn make_stale_socket(path: &Path) {
    drop(std::os::unix::net::UnixListener::bind(path).unwrap());
    assert!(std::fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_socket());
}

fn is_socket(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_socket())
}

#[test]
fn scheme_is_ipc() {
    assert_eq!(IpcTransport.scheme(), "ipc");
}

#[test]
fn connect_accept_and_exchange_both_ways() {
    let dir = TempDir::new();
    let endpoint = dir.endpoint("echo.sock");
    let mut listener = IpcTransport.bind(&endpoint, &opts()).unwrap();
    assert_eq!(listener.local_endpoint(), &endpoint);
    assert!(is_socket(&dir.path("echo.sock")));
    run(async {
        let mut client = IpcTransport.connect(&endpoint, &opts()).await.unwrap();
        let mut server = accept(&mut *listener).await.unwrap();
        // The connecting side names the listener; the accepted side's peer
        // has no address.
        assert_eq!(format!("ipc://{}", client.peer), endpoint.to_string());
        assert_eq!(server.peer, "");

        exchange(&mut *client.stream, &mut *server.stream, b"hello", b"world").await;
        exchange(&mut *server.stream, &mut *client.stream, b"", b"again").await;

        // A larger transfer in both directions at once.
        let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 253) as u8).collect();
        let (mut c_read, mut c_write) = futures_lite::io::split(client.stream);
        let (mut s_read, mut s_write) = futures_lite::io::split(server.stream);
        let send = future::zip(
            async {
                c_write.write_all(&big).await.unwrap();
                c_write.flush().await.unwrap();
            },
            async {
                s_write.write_all(&big).await.unwrap();
                s_write.flush().await.unwrap();
            },
        );
        let recv = future::zip(
            async {
                let mut got = vec![0; big.len()];
                c_read.read_exact(&mut got).await.unwrap();
                got
            },
            async {
                let mut got = vec![0; big.len()];
                s_read.read_exact(&mut got).await.unwrap();
                got
            },
        );
        let (((), ()), (at_client, at_server)) = future::zip(send, recv).await;
        assert!(at_client == big && at_server == big);
    });
}

#[test]
fn many_connections_are_accepted() {
    let dir = TempDir::new();
    let listener = IpcListener::bind(&dir.endpoint("many.sock"), &opts()).unwrap();
    run(async {
        let mut clients = Vec::new();
        for i in 0..64u8 {
            let mut client = smolmq_ipc::connect(listener.local_endpoint(), &opts())
                .await
                .unwrap();
            client.write_all(&[i]).await.unwrap();
            clients.push(client);
        }
        let mut seen = Vec::new();
        for _ in 0..64 {
            let mut server = listener.accept_stream().await.unwrap();
            let mut byte = [0];
            server.read_exact(&mut byte).await.unwrap();
            seen.push(byte[0]);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..64).collect::<Vec<u8>>());
    });
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let dir = TempDir::new();
    let path = dir.path("stale.sock");
    make_stale_socket(&path);
    // Nobody listens: a connect is refused.
    let err = run(smolmq_ipc::connect(&dir.endpoint("stale.sock"), &opts())).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");

    let listener = IpcListener::bind(&dir.endpoint("stale.sock"), &opts()).unwrap();
    check_serves(&listener);
    drop(listener);
    assert!(!path.exists());
}

#[test]
fn a_live_endpoint_is_never_taken_over() {
    let dir = TempDir::new();
    let endpoint = dir.endpoint("live.sock");
    let first = IpcListener::bind(&endpoint, &opts()).unwrap();
    let err = IpcTransport.bind(&endpoint, &opts()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("cannot bind {endpoint}")), "{text}");
    assert!(text.contains("a listener is live on this path"), "{text}");
    // The failed bind removed nothing: the first listener still serves.
    // (Its backlog holds the failed bind's probe connection, which closes
    // at once.)
    assert!(is_socket(&dir.path("live.sock")));
    let probe = run(first.accept_stream()).unwrap();
    drop(probe);
    check_serves(&first);
}

#[cfg(target_os = "linux")]
#[test]
fn a_live_endpoint_with_a_full_backlog_is_not_taken_over_and_refuses_connects() {
    // Backlog 0: Linux queues one connection, then refuses more with
    // EAGAIN until the listener accepts.
    let dir = TempDir::new();
    let endpoint = dir.endpoint("busy.sock");
    let options = SocketOptions {
        backlog: 0,
        ..opts()
    };
    let listener = IpcListener::bind(&endpoint, &options).unwrap();
    let mut held = Vec::new();
    let err = run(async {
        for _ in 0..16 {
            match smolmq_ipc::connect(&endpoint, &opts()).await {
                Ok(stream) => held.push(stream),
                Err(err) => return err,
            }
        }
        panic!("16 connections queued in a backlog of 0");
    });
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("cannot connect to {endpoint}")),
        "{text}"
    );
    assert!(text.contains("backlog is full"), "{text}");

    // The probe of a second bind meets the full backlog too: still live.
    let err = IpcListener::bind(&endpoint, &opts()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");

    // Accepting makes room again.
    run(async {
        for _ in 0..held.len() {
            listener.accept_stream().await.unwrap();
        }
    });
    check_serves(&listener);
}

#[test]
fn a_file_that_is_not_a_socket_is_left_alone() {
    let dir = TempDir::new();
    let path = dir.path("data.txt");
    std::fs::write(&path, b"precious").unwrap();
    let err = IpcListener::bind(&dir.endpoint("data.txt"), &opts()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    assert!(err.to_string().contains("not a socket"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
}

#[test]
fn the_socket_file_is_removed_on_drop() {
    let dir = TempDir::new();
    let path = dir.path("gone.sock");
    let listener = IpcTransport
        .bind(&dir.endpoint("gone.sock"), &opts())
        .unwrap();
    assert!(is_socket(&path));
    drop(listener);
    assert!(!path.exists());
    // The path can be bound again at once.
    let again = IpcListener::bind(&dir.endpoint("gone.sock"), &opts()).unwrap();
    check_serves(&again);
}

#[test]
fn a_file_replaced_since_bind_is_not_removed_on_drop() {
    let dir = TempDir::new();
    let path = dir.path("moved.sock");
    let listener = IpcListener::bind(&dir.endpoint("moved.sock"), &opts()).unwrap();
    // Someone removes our file and binds the path anew.
    std::fs::remove_file(&path).unwrap();
    let other = std::os::unix::net::UnixListener::bind(&path).unwrap();
    drop(listener);
    assert!(
        is_socket(&path),
        "another process's socket file was removed"
    );
    drop(other);
}

#[test]
fn a_relative_path_binds_and_its_file_is_removed() {
    // The test's working directory is left alone (it is shared by every
    // test thread): the relative path climbs from it to the temp dir.
    let dir = TempDir::new();
    let cwd = std::env::current_dir().unwrap();
    let up = "../".repeat(cwd.components().count() - 1);
    let target = dir.path("rel.sock");
    let relative = format!("{up}{}", target.strip_prefix("/").unwrap().display());
    let endpoint = ep(&format!("ipc://{relative}"));
    let listener = IpcListener::bind(&endpoint, &opts()).unwrap();
    // Reported as given; the file to remove is kept absolute.
    assert_eq!(listener.local_endpoint(), &endpoint);
    let file = listener.socket_file().unwrap().to_owned();
    assert!(file.is_absolute(), "{}", file.display());
    assert!(is_socket(&target));
    check_serves(&listener);
    drop(listener);
    assert!(!target.exists());
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn abstract_names_bind_connect_and_leave_no_file() {
    let endpoint = abstract_endpoint("abstract");
    let mut listener = IpcTransport.bind(&endpoint, &opts()).unwrap();
    assert_eq!(listener.local_endpoint(), &endpoint);
    run(async {
        let mut client = IpcTransport.connect(&endpoint, &opts()).await.unwrap();
        assert_eq!(
            client.peer,
            format!("@smolmq-test-{}-abstract", std::process::id())
        );
        let mut server = accept(&mut *listener).await.unwrap();
        exchange(
            &mut *client.stream,
            &mut *server.stream,
            b"no file",
            b"needed",
        )
        .await;
    });
    // A second bind of the same name fails; nothing is replaced.
    let err = IpcTransport.bind(&endpoint, &opts()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    assert!(err.to_string().contains(&endpoint.to_string()), "{err}");
    drop(listener);
    // Released on close: bound again at once.
    let again = IpcListener::bind(&endpoint, &opts()).unwrap();
    assert_eq!(again.socket_file(), None);
    check_serves(&again);
}

#[test]
fn a_wildcard_binds_a_generated_path() {
    let first = IpcTransport.bind(&ep("ipc://*"), &opts()).unwrap();
    let second = IpcListener::bind(&ep("ipc://*"), &opts()).unwrap();
    let Endpoint::Ipc(IpcAddr::Path(path)) = first.local_endpoint() else {
        panic!("not a path: {}", first.local_endpoint());
    };
    let path = path.as_path().to_owned();
    assert!(path.starts_with(std::env::temp_dir()), "{}", path.display());
    assert!(is_socket(&path));
    assert_ne!(first.local_endpoint(), second.local_endpoint());
    assert_eq!(second.socket_file().unwrap(), {
        let Endpoint::Ipc(IpcAddr::Path(p)) = second.local_endpoint() else {
            unreachable!()
        };
        p.as_path()
    });
    // The generated endpoint is connectable as it is.
    check_serves(&second);
    run(async {
        let _client = IpcTransport
            .connect(first.local_endpoint(), &opts())
            .await
            .unwrap();
    });
    drop(first);
    assert!(!path.exists());
}

#[test]
fn a_path_too_long_is_refused_cleanly() {
    let dir = TempDir::new();
    let base = format!("{}/", dir.0.display());
    // One byte too long: the endpoint itself is refused.
    let long = format!("ipc://{base}{}", "x".repeat(IPC_PATH_MAX + 1 - base.len()));
    assert_eq!(
        Endpoint::parse(&long),
        Err(EndpointError::PathTooLong {
            len: IPC_PATH_MAX + 1,
            max: IPC_PATH_MAX
        })
    );
    // The longest path that fits binds and serves.
    let name = "y".repeat(IPC_PATH_MAX - base.len());
    let endpoint = dir.endpoint(&name);
    let listener = IpcListener::bind(&endpoint, &opts()).unwrap();
    assert_eq!(
        listener.socket_file().unwrap().as_os_str().len(),
        IPC_PATH_MAX
    );
    check_serves(&listener);
}

#[test]
fn binding_in_a_missing_directory_fails_naming_the_endpoint() {
    let dir = TempDir::new();
    let endpoint = dir.endpoint("no/such/dir.sock");
    let err = IpcTransport.bind(&endpoint, &opts()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    assert!(
        err.to_string().contains(&format!("cannot bind {endpoint}")),
        "{err}"
    );
}

#[test]
fn connecting_to_a_missing_path_fails() {
    let dir = TempDir::new();
    let endpoint = dir.endpoint("nobody.sock");
    let err = run(IpcTransport.connect(&endpoint, &opts())).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("cannot connect to {endpoint}")),
        "{err}"
    );
}

#[test]
fn a_wildcard_cannot_be_connected_to() {
    let err = run(IpcTransport.connect(&ep("ipc://*"), &opts())).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("valid for bind only"), "{err}");
}

#[test]
fn endpoints_of_other_transports_are_refused() {
    for text in ["tcp://127.0.0.1:5555", "inproc://x"] {
        let endpoint = ep(text);
        let err = IpcTransport.bind(&endpoint, &opts()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(text), "{err}");
        let err = run(IpcTransport.connect(&endpoint, &opts())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(text), "{err}");
    }
}

#[test]
fn debug_output_names_the_endpoint() {
    let dir = TempDir::new();
    let listener = IpcListener::bind(&dir.endpoint("debug.sock"), &opts()).unwrap();
    let text = format!("{listener:?}");
    assert!(
        text.contains(&listener.local_endpoint().to_string()),
        "{text}"
    );
    assert_eq!(format!("{IpcTransport:?}"), "IpcTransport");
}

/// What the kernel reports for a buffer size it was given: Linux doubles
/// it (for its bookkeeping), other systems report it as given.
fn reported(size: u32) -> usize {
    if cfg!(target_os = "linux") {
        2 * size as usize
    } else {
        size as usize
    }
}

#[test]
fn chosen_buffer_sizes_are_applied_to_both_sides() {
    use rustix::net::sockopt;
    let dir = TempDir::new();
    let endpoint = dir.endpoint("buffers.sock");
    let options = SocketOptions {
        sndbuf: Some(96 * 1024),
        rcvbuf: Some(80 * 1024),
        ..opts()
    };
    let listener = IpcListener::bind(&endpoint, &options).unwrap();
    let (client, server) = run(async {
        let client = smolmq_ipc::connect(&endpoint, &options).await.unwrap();
        let server = listener.accept_stream().await.unwrap();
        (client, server)
    });
    for (side, stream) in [("connected", &client), ("accepted", &server)] {
        assert_eq!(
            sockopt::socket_send_buffer_size(stream).unwrap(),
            reported(96 * 1024),
            "{side}"
        );
        assert_eq!(
            sockopt::socket_recv_buffer_size(stream).unwrap(),
            reported(80 * 1024),
            "{side}"
        );
    }
    // Unset, the system's sizes stay: a connection made without the
    // options has a different send buffer.
    let plain = run(smolmq_ipc::connect(&endpoint, &opts())).unwrap();
    assert_ne!(
        sockopt::socket_send_buffer_size(&plain).unwrap(),
        reported(96 * 1024)
    );
}
