//! With --subprocesses: a sampling thread per child process of the attached one, started
//! by the root's thread as it finds them and joined by it when sampling ends.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use py_spy::PythonSpy;

use crate::sampling::{config, Options, Shared};

pub const CHILD_SCAN: Duration = Duration::from_secs(1);
/// A child that is not Python is given up after this many tries, CHILD_SCAN apart.
const CHILD_ATTACH_TRIES: u32 = 5;

pub struct Children {
    shared: Arc<Shared>,
    opts: Options,
    running: HashMap<i32, JoinHandle<()>>,
    /// Children whose thread ended (exited, or never Python): not started again. A pid
    /// the kernel reuses within one session is missed; rare, and far better than a
    /// thread a second for a child that stays a zombie.
    done: HashSet<i32>,
    pub last_scan: Instant,
}

/// The pids among `found` that need a thread of their own.
fn new_pids(
    found: &[i32],
    running: &HashMap<i32, JoinHandle<()>>,
    done: &HashSet<i32>,
) -> Vec<i32> {
    let mut new: Vec<i32> = found
        .iter()
        .copied()
        .filter(|p| !running.contains_key(p) && !done.contains(p))
        .collect();
    new.sort_unstable();
    new.dedup();
    new
}

impl Children {
    pub fn new(shared: Arc<Shared>, opts: Options) -> Self {
        Children {
            shared,
            opts,
            running: HashMap::new(),
            done: HashSet::new(),
            last_scan: Instant::now(),
        }
    }

    /// Reaps the threads that ended, then starts one for each new child (grandchildren
    /// included: remoteprocess walks the whole tree).
    pub fn scan(&mut self) {
        self.last_scan = Instant::now();
        let ended: Vec<i32> = self
            .running
            .iter()
            .filter(|(_, h)| h.is_finished())
            .map(|(p, _)| *p)
            .collect();
        for pid in ended {
            if let Some(handle) = self.running.remove(&pid) {
                let _ = handle.join(); // its panic, if any, was caught and reported inside
            }
            self.done.insert(pid);
        }
        let Ok(process) = remoteprocess::Process::new(self.opts.pid) else {
            return;
        };
        let Ok(children) = process.child_processes() else {
            return;
        };
        let found: Vec<i32> = children.into_iter().map(|(child, _parent)| child).collect();
        for pid in new_pids(&found, &self.running, &self.done) {
            let (shared, opts) = (self.shared.clone(), self.opts.clone());
            let spawned = std::thread::Builder::new()
                // "flametop-sample…": the name tests (and ps -L) find the sampling threads by
                .name(format!("flametop-sample-{pid}"))
                .spawn(move || {
                    shared.guarded(|| child_thread(&shared, pid, &opts));
                });
            match spawned {
                Ok(handle) => {
                    self.running.insert(pid, handle);
                }
                Err(e) => self
                    .shared
                    .error(format!("pid {pid}: cannot start its sampling thread: {e}")),
            }
        }
    }

    /// Waits for every child's thread (they end at once once stop is asked).
    pub fn join_all(&mut self) {
        for (_, handle) in self.running.drain() {
            let _ = handle.join();
        }
    }
}

/// Attaches to one child (on this thread: a PythonSpy is not Send) and samples it until
/// stop is asked or it exits; a child that is not Python is given up quietly.
fn child_thread(shared: &Shared, pid: i32, opts: &Options) {
    let config = config(opts);
    let mut tries = 0;
    let mut spy = loop {
        match PythonSpy::new(pid, &config) {
            Ok(spy) => break spy,
            Err(_) => {
                tries += 1;
                let gone = !remoteprocess::Process::new(pid).is_ok_and(|p| p.exe().is_ok());
                if gone || tries >= CHILD_ATTACH_TRIES {
                    return;
                }
                if shared.sleep_until(Instant::now() + CHILD_SCAN) {
                    return;
                }
            }
        }
    };
    // a child that exits ends its thread quietly: only the root's exit ends sampling
    let _ = shared.sample(&mut spy, pid, opts, || {});
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_children_without_a_thread_or_a_past_get_one() {
        let running = HashMap::from([(10, std::thread::spawn(|| {}))]);
        let done = HashSet::from([11]);
        // 10 has a thread, 11 exited before (or was not Python), 12 appears twice
        assert_eq!(
            new_pids(&[12, 10, 11, 13, 12], &running, &done),
            vec![12, 13]
        );
        for (_, h) in running {
            h.join().unwrap();
        }
    }
}
