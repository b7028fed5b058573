//! A task ventilator, three workers and a result sink over ipc: PUSH fans
//! the tasks out round robin, PULL fans the results in.
//!
//! `cargo run -p smolmq --example pipeline`

use smolmq::{Context, Msg, SocketType};

/// Tasks sent.
const TASKS: u64 = 30;
/// Workers.
const WORKERS: usize = 3;

fn main() -> smolmq::Result<()> {
    let ctx = Context::new()?;
    let dir = std::env::temp_dir();
    let tasks = format!(
        "ipc://{}",
        dir.join(format!("smolmq-tasks-{}", std::process::id()))
            .display()
    );
    let results = format!(
        "ipc://{}",
        dir.join(format!("smolmq-results-{}", std::process::id()))
            .display()
    );

    let mut ventilator = ctx.socket(SocketType::Push)?;
    ventilator.bind(&tasks)?;
    let mut sink = ctx.socket(SocketType::Pull)?;
    sink.bind(&results)?;

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (ctx, tasks, results) = (ctx.clone(), tasks.clone(), results.clone());
            std::thread::spawn(move || -> smolmq::Result<()> {
                let mut input = ctx.socket(SocketType::Pull)?;
                input.connect(&tasks)?;
                let mut output = ctx.socket(SocketType::Push)?;
                output.connect(&results)?;
                loop {
                    let task = input.recv_blocking()?;
                    let n: u64 = String::from_utf8_lossy(task.first()).parse().unwrap_or(0);
                    if n == 0 {
                        return Ok(()); // The stop signal.
                    }
                    let result = Msg::from(format!("{w} {}", n * n));
                    output.send_blocking(result).map_err(|e| e.into_error())?;
                }
            })
        })
        .collect();

    // Wait for every worker to connect, so the round robin spreads the work.
    while ventilator.peer_count() < WORKERS {
        ventilator
            .wait_activity(Some(std::time::Duration::from_millis(10)))
            .ok();
    }
    for n in 1..=TASKS {
        ventilator
            .send_blocking(Msg::from(n.to_string()))
            .map_err(|e| e.into_error())?;
    }
    let mut sum = 0;
    let mut per_worker = [0; WORKERS];
    for _ in 0..TASKS {
        let result = sink.recv_blocking()?;
        let text = String::from_utf8_lossy(result.first()).into_owned();
        let (worker, square) = text.split_once(' ').expect("worker and result");
        per_worker[worker.parse::<usize>().expect("worker number")] += 1;
        sum += square.parse::<u64>().expect("a number");
    }
    for _ in 0..WORKERS {
        ventilator
            .send_blocking(Msg::from("0"))
            .map_err(|e| e.into_error())?;
    }
    for worker in workers {
        worker.join().expect("worker thread")?;
    }
    println!("sum of squares 1..={TASKS} = {sum}; tasks per worker: {per_worker:?}");
    assert_eq!(sum, (1..=TASKS).map(|n| n * n).sum::<u64>());
    Ok(())
}
