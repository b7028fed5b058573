//! The auto traits that let the mailbox cross threads and async tasks.

use futures_lite::future::block_on;
use smolmq_mailbox::{mailbox, Receiver, Sender};
use std::thread;

fn assert_send<T: Send>(_: &T) {}

#[test]
fn a_task_that_awaits_recv_can_move_between_threads() {
    let (tx, mut rx) = mailbox::<u32>();
    let task = async move {
        let mut sum = 0;
        while let Ok(n) = rx.recv().await {
            sum += n;
        }
        sum
    };
    // What a multi-threaded executor's `spawn` asks of a task.
    assert_send(&task);
    let runner = thread::spawn(move || block_on(task));
    for n in 1..=10 {
        tx.send(n).unwrap();
    }
    drop(tx);
    assert_eq!(runner.join().unwrap(), 55);
}

#[test]
fn halves_move_to_other_threads() {
    let (tx, rx): (Sender<Vec<u8>>, Receiver<Vec<u8>>) = mailbox();
    let tx2 = tx.clone();
    let senders = [
        thread::spawn(move || tx.send(vec![1]).unwrap()),
        thread::spawn(move || tx2.send(vec![2]).unwrap()),
    ];
    let reader = thread::spawn(move || {
        let mut got: Vec<Vec<u8>> = std::iter::from_fn(|| rx.recv_blocking().ok()).collect();
        got.sort();
        got
    });
    for s in senders {
        s.join().unwrap();
    }
    assert_eq!(reader.join().unwrap(), vec![vec![1], vec![2]]);
}

#[test]
fn debug_output_names_the_mailbox_state() {
    let (tx, mut rx) = mailbox::<u8>();
    tx.send(1).unwrap();
    let text = format!("{tx:?} {rx:?} {:?}", rx.try_iter());
    let text = format!("{text} {:?}", rx.recv());
    assert!(text.contains("len: 1"), "{text}");
    assert!(text.contains("senders: 1"), "{text}");
    assert!(tx.same_mailbox(&tx.clone()));
    assert!(!tx.same_mailbox(&mailbox::<u8>().0));
}
