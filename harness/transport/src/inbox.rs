//! The queue between a link's reader thread and its port: a `Mutex<VecDeque>` and two condition
//! variables.
//!
//! Not a crossbeam channel on purpose: its blocking receive spins and then calls `sched_yield`
//! several times before it parks, and on a loaded two-core machine each AT round trip paid for
//! about eight of them (issue 14). Here a receiver with nothing to read sleeps on a futex at once
//! and the reader thread's push wakes it; one command is in flight at a time, so the lock is
//! never contended for long.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

struct State<T> {
    items: VecDeque<T>,
    senders_gone: bool,
    receiver_gone: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Signalled when an item comes or the sender goes.
    ready: Condvar,
    /// Signalled when an item is taken or the receiver goes (for a bounded inbox).
    room: Condvar,
    capacity: Option<usize>,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while holding this lock leaves a consistent queue (pushes and pops are single
        // calls), so the data is still good.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What is left of a wait ending at `end`; a deadline past what `Instant` can hold is no deadline
/// (waited out an hour at a time).
fn left_until(end: Option<Instant>) -> Duration {
    match end {
        Some(end) => end.saturating_duration_since(Instant::now()),
        None => Duration::from_secs(3600),
    }
}

/// The reader thread's end.
pub(crate) struct Sender<T>(Arc<Shared<T>>);
/// The port's end.
pub(crate) struct Receiver<T>(Arc<Shared<T>>);

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RecvTimeoutError {
    Timeout,
    Disconnected,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SendTimeoutError<T> {
    Timeout(T),
    Disconnected(T),
}

/// An inbox without a bound: the reader never waits.
pub(crate) fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    with_capacity(None)
}

/// An inbox holding at most `capacity` items: [`Sender::send_timeout`] waits for room.
pub(crate) fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    with_capacity(Some(capacity.max(1)))
}

fn with_capacity<T>(capacity: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State { items: VecDeque::new(), senders_gone: false, receiver_gone: false }),
        ready: Condvar::new(),
        room: Condvar::new(),
        capacity,
    });
    (Sender(shared.clone()), Receiver(shared))
}

impl<T> Sender<T> {
    /// Queues `item`, waiting for room up to `wait` when the inbox is bounded and full; gives it
    /// back when the receiver is gone or no room came.
    pub(crate) fn send_timeout(&self, item: T, wait: Duration) -> Result<(), SendTimeoutError<T>> {
        let end = Instant::now().checked_add(wait);
        let mut s = self.0.lock();
        loop {
            if s.receiver_gone {
                return Err(SendTimeoutError::Disconnected(item));
            }
            if self.0.capacity.is_none_or(|c| s.items.len() < c) {
                s.items.push_back(item);
                drop(s);
                self.0.ready.notify_one();
                return Ok(());
            }
            let left = left_until(end);
            if left.is_zero() {
                return Err(SendTimeoutError::Timeout(item));
            }
            s = self.0.room.wait_timeout(s, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Queues `item` (an unbounded inbox never waits); gives it back when the receiver is gone.
    pub(crate) fn send(&self, item: T) -> Result<(), T> {
        self.send_timeout(item, Duration::MAX).map_err(|e| match e {
            SendTimeoutError::Timeout(t) | SendTimeoutError::Disconnected(t) => t,
        })
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.0.lock().senders_gone = true;
        self.0.ready.notify_all();
    }
}

impl<T> Receiver<T> {
    /// The next item, waiting at most `wait`; `Disconnected` once the sender is gone and
    /// everything it sent has been taken.
    pub(crate) fn recv_timeout(&self, wait: Duration) -> Result<T, RecvTimeoutError> {
        let end = Instant::now().checked_add(wait);
        let mut s = self.0.lock();
        loop {
            if let Some(item) = s.items.pop_front() {
                drop(s);
                if self.0.capacity.is_some() {
                    self.0.room.notify_one();
                }
                return Ok(item);
            }
            if s.senders_gone {
                return Err(RecvTimeoutError::Disconnected);
            }
            let left = left_until(end);
            if left.is_zero() {
                return Err(RecvTimeoutError::Timeout);
            }
            s = self.0.ready.wait_timeout(s, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

impl<T> Receiver<T> {
    /// How many items wait to be taken.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().items.len()
    }

    /// The next item if one is there, without waiting.
    pub(crate) fn try_recv(&self) -> Result<T, RecvTimeoutError> {
        self.recv_timeout(Duration::ZERO)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.0.lock().receiver_gone = true;
        self.0.room.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_in_order_then_the_sender_going_is_seen() {
        let (tx, rx) = unbounded();
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        drop(tx);
        assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(1));
        assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(2));
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Err(RecvTimeoutError::Disconnected));
    }

    #[test]
    fn an_empty_inbox_times_out_and_a_late_item_wakes_the_receiver() {
        let (tx, rx) = unbounded();
        assert_eq!(rx.recv_timeout(Duration::from_millis(10)), Err(RecvTimeoutError::Timeout));
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(7).unwrap();
            tx
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)), Ok(7));
        drop(t.join().unwrap());
        assert_eq!(rx.recv_timeout(Duration::MAX), Err(RecvTimeoutError::Disconnected));
    }

    #[test]
    fn a_full_bounded_inbox_makes_the_sender_wait_for_room_or_give_the_item_back() {
        let (tx, rx) = bounded(1);
        tx.send_timeout(1, Duration::ZERO).unwrap();
        assert_eq!(tx.send_timeout(2, Duration::from_millis(10)), Err(SendTimeoutError::Timeout(2)));
        let t = std::thread::spawn(move || tx.send_timeout(3, Duration::from_secs(60)).map(|()| tx));
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)), Ok(1));
        let tx = t.join().unwrap().unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)), Ok(3));
        drop(rx);
        assert_eq!(tx.send(4), Err(4));
    }
}
