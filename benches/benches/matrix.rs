//! The benchmark matrix (issue 7): smolmq, libzmq and the pure-Rust
//! `zeromq` crate side by side over every pattern, transport and size.
//! The code is in `smolmq_benches::matrix`; `cargo xtask bench matrix`
//! runs it (quick), `--full` for the whole matrix, options after `--`
//! (`--pattern`, `--transport`, `--size`, `--impl`, ...; `--help`).
//! Under `cargo test --all-targets` it runs a smoke test: a few cells,
//! tiny counts.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(message) = smolmq_benches::matrix::main(&args) {
        eprintln!("matrix: {message}");
        std::process::exit(2);
    }
}
