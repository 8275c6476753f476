//! The sampling threads: one per process, each with its own py-spy `PythonSpy` (it is
//! not Send: every thread attaches its own) reading every thread of its process at the
//! instants of its own schedule, all folding into the one shared `Aggregate` that Python
//! drains. A thread each because in blocking mode py-spy stops a process while it reads
//! it: one thread reading four busy pre-fork workers in turn on a loaded 2-core machine
//! got 16 % of the instants asked for, where py-spy's CLI (a thread per process) got 94 %.
//!
//! Coverage with several processes: every process's instants count (`Batch::ticks` is
//! summed over them and `Batch::processes` says of how many they were asked), so a
//! worker that falls behind shows as lost coverage rather than hiding behind an idle
//! master that keeps up.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use py_spy::config::LockingStrategy;
use py_spy::{Config, PythonSpy};

use crate::activity::Activity;
use crate::aggregate::{Aggregate, Batch, FrameKey};
use crate::children::{Children, CHILD_SCAN};
use crate::schedule::Schedule;

const NAME_RETRY: Duration = Duration::from_secs(1); // threads without a name are looked up again

#[derive(Clone, Debug)]
pub struct Options {
    pub pid: i32,
    pub rate: f64,
    pub nonblocking: bool,
    pub native: bool,
    pub subprocesses: bool,
    pub attach_timeout: Duration,
}

/// Why sampling ended: the target went away, or a sampling thread failed (message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    Exited,
    Failed(String),
}

struct State {
    agg: Aggregate,
    ended: Option<Ended>,
    /// The batch length the waiting `drain` asked for (None: nobody waits). The sampler
    /// wakes it only once that much is in, not at every instant (1000 wake-ups a second
    /// at 1000 Hz).
    waiting_for: Option<f64>,
}

impl State {
    fn ready_for(&self, min_age: f64) -> bool {
        !self.agg.is_empty() && wall_now() - self.agg.t_start() >= min_age
    }
}

pub struct Shared {
    state: Mutex<State>,
    news: Condvar,
    stop: Mutex<bool>,
    wake: Condvar,
    inject_panic: AtomicBool,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // a panic on the sampling thread is caught and reported; the data stays usable
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

pub(crate) fn config(opts: &Options) -> Config {
    Config {
        blocking: if opts.nonblocking {
            LockingStrategy::NonBlocking
        } else {
            LockingStrategy::Lock
        },
        native: opts.native,
        sampling_rate: opts.rate.round().max(1.0) as u64,
        // idle threads are read too: cpu, wall and gil are views taken in Python
        include_idle: true,
        ..Config::default()
    }
}

fn attach(pid: i32, config: &Config, timeout: Duration) -> anyhow::Result<PythonSpy> {
    // A process started a moment ago may not have its interpreter loaded yet.
    let deadline = Instant::now() + timeout;
    loop {
        match PythonSpy::new(pid, config) {
            Ok(spy) => return Ok(spy),
            Err(e)
                if Instant::now() >= deadline
                    || !remoteprocess::Process::new(pid).is_ok_and(|p| p.exe().is_ok()) =>
            {
                return Err(e)
            }
            Err(e) => {
                let text = format!("{e:#}");
                if text.contains("ermission") || text.contains("not permitted") {
                    return Err(e);
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }
    }
}

fn frames_of(trace: py_spy::StackTrace) -> Vec<FrameKey> {
    trace
        .frames
        .into_iter()
        .map(|f| FrameKey {
            function: f.name,
            file: f.short_filename.unwrap_or(f.filename),
            line: f.line,
        })
        .collect()
}

impl Shared {
    fn stopped(&self) -> bool {
        *lock(&self.stop)
    }

    /// Sleeps until `at` or until stop is asked; true when stop was asked.
    pub(crate) fn sleep_until(&self, at: Instant) -> bool {
        let mut stop = lock(&self.stop);
        loop {
            if *stop {
                return true;
            }
            let now = Instant::now();
            if now >= at {
                return false;
            }
            stop = self
                .wake
                .wait_timeout(stop, at - now)
                .map(|r| r.0)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    fn finish(&self, ended: Ended) {
        let mut state = lock(&self.state);
        if state.ended.is_none() {
            state.ended = Some(ended);
        }
        self.news.notify_all();
    }

    pub(crate) fn error(&self, message: String) {
        lock(&self.state).agg.error(message);
    }

    /// Runs one sampling thread's work; a panic in it is caught and ends all sampling
    /// as `Ended::Failed` (Python re-attaches with backoff). None: it panicked.
    pub(crate) fn guarded<T>(&self, work: impl FnOnce() -> T) -> Option<T> {
        match catch_unwind(AssertUnwindSafe(work)) {
            Ok(value) => Some(value),
            Err(payload) => {
                let message = format!("the sampling thread panicked: {}", panic_text(payload));
                self.finish(Ended::Failed(message));
                self.ask_stop();
                None
            }
        }
    }

    pub fn ask_stop(&self) {
        *lock(&self.stop) = true;
        self.wake.notify_all();
        self.news.notify_all();
    }

    pub fn inject_panic(&self) {
        self.inject_panic.store(true, Ordering::SeqCst);
    }

    /// Waits up to `timeout` for a batch at least `min_age` seconds long (or the end),
    /// then takes it. None: nothing happened yet.
    pub fn drain(&self, timeout: Duration, min_age: f64) -> (Option<Batch>, Option<Ended>) {
        let deadline = Instant::now() + timeout;
        let mut state = lock(&self.state);
        loop {
            let ready = state.ended.is_some() || self.stopped() || state.ready_for(min_age);
            let now = Instant::now();
            if ready || now >= deadline {
                break;
            }
            state.waiting_for = Some(min_age);
            state = self
                .news
                .wait_timeout(state, deadline - now)
                .map(|r| r.0)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        state.waiting_for = None;
        let batch = if state.agg.is_empty() {
            None
        } else {
            Some(state.agg.take())
        };
        (batch, state.ended.clone())
    }

    /// Samples one process (`spy`, attached on this thread) at the instants of its own
    /// schedule until stop is asked or the process is gone; `between` runs after each
    /// instant (the root's thread scans for children there).
    pub(crate) fn sample(
        &self,
        spy: &mut PythonSpy,
        pid: i32,
        opts: &Options,
        mut between: impl FnMut(),
    ) -> Outcome {
        let _attached = Attached::new(self);
        let seed = wall_now().to_bits() ^ (pid as u64).rotate_left(32);
        let mut schedule = Schedule::new(opts.rate, Instant::now(), seed);
        let mut activity = Activity::default();
        let mut last_names = Instant::now();
        loop {
            let next = schedule.next(Instant::now());
            if self.sleep_until(next.at) {
                return Outcome::Stopped;
            }
            if self.inject_panic.swap(false, Ordering::SeqCst) {
                panic!("fault injected for a test");
            }
            let renaming = last_names.elapsed() >= NAME_RETRY;
            if renaming {
                last_names = Instant::now();
            }
            let (mut traces, error) = match spy.get_stack_traces() {
                Ok(found) => {
                    if renaming && found.iter().any(|t| t.thread_name.is_none()) {
                        // py-spy keeps a name it did not find (a thread not yet in
                        // `threading._active`) for good once looked up again with no
                        // result; forget its names so the next instant reads them anew
                        spy.python_thread_names.clear();
                    }
                    (found, None)
                }
                Err(_) if spy.process.exe().is_err() => return Outcome::Gone,
                Err(e) => (Vec::new(), Some(format!("pid {pid}: {e:#}"))),
            };
            let now = Instant::now();
            for trace in traces.iter_mut().filter(|t| t.active) {
                if let Some(tid) = trace.os_thread_id {
                    trace.active = activity.ran(trace.pid, tid, now).unwrap_or(true);
                }
            }
            let late = now > next.slot_end;
            let wake = {
                let mut state = lock(&self.state);
                for mut trace in traces {
                    let (pid, active, gil) = (trace.pid, trace.active, trace.owns_gil);
                    let thread = trace.os_thread_id.unwrap_or(trace.thread_id);
                    let name = trace.thread_name.take(); // moved, not copied: every instant
                    state
                        .agg
                        .add_trace(pid, thread, name, frames_of(trace), active, gil);
                }
                if let Some(e) = error {
                    state.agg.error(e);
                }
                // read under the lock: a batch taken meanwhile ends before this instant
                state.agg.tick(wall_now(), late, next.missed);
                state.waiting_for.is_some_and(|age| state.ready_for(age))
            };
            if wake {
                self.news.notify_all();
            }
            between();
        }
    }
}

/// How one process's sampling ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Stopped,
    Gone,
}

/// A process counted in the batches while its thread samples it.
struct Attached<'a>(&'a Shared);

impl<'a> Attached<'a> {
    fn new(shared: &'a Shared) -> Self {
        lock(&shared.state).agg.attached();
        Attached(shared)
    }
}

impl Drop for Attached<'_> {
    fn drop(&mut self) {
        lock(&self.0.state).agg.detached();
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// The root's thread: attaches to the target, says so (its Python version, or the
/// error), samples it, and with --subprocesses starts a thread per child. When it ends
/// (stop, the target's exit, a panic on any thread) every child's thread is joined.
fn root_thread(shared: &Arc<Shared>, opts: &Options, ready: mpsc::Sender<Result<String, String>>) {
    let mut children = Children::new(shared.clone(), opts.clone());
    let said = shared.guarded(|| {
        let mut spy = match attach(opts.pid, &config(opts), opts.attach_timeout) {
            Ok(spy) => spy,
            Err(e) => {
                let _ = ready.send(Err(format!("{e:#}")));
                return;
            }
        };
        lock(&shared.state).agg = Aggregate::new(wall_now());
        if opts.subprocesses {
            children.scan();
        }
        if ready.send(Ok(spy.version.to_string())).is_err() {
            return;
        }
        let outcome = shared.sample(&mut spy, opts.pid, opts, || {
            if opts.subprocesses && children.last_scan.elapsed() >= CHILD_SCAN {
                children.scan();
            }
        });
        if outcome == Outcome::Gone {
            shared.finish(Ended::Exited); // before the stop below: drain sees why
        }
    });
    if said.is_none() {
        let ended = lock(&shared.state).ended.clone();
        if let Some(Ended::Failed(message)) = ended {
            let _ = ready.send(Err(message)); // ignored once the attach was told
        }
    }
    shared.ask_stop();
    children.join_all();
}

/// Starts the root's sampling thread, which attaches (PythonSpy is not Send). Returns
/// the target's Python version once the root process is attached, or the attach error.
pub fn start(opts: Options) -> Result<(Arc<Shared>, JoinHandle<()>, String), String> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            waiting_for: None,
            agg: Aggregate::new(wall_now()),
            ended: None,
        }),
        news: Condvar::new(),
        stop: Mutex::new(false),
        wake: Condvar::new(),
        inject_panic: AtomicBool::new(false),
    });
    let (ready_tx, ready_rx) = mpsc::channel::<Result<String, String>>();
    let thread_shared = shared.clone();
    let handle = std::thread::Builder::new()
        .name("flametop-sampler".into())
        .spawn(move || root_thread(&thread_shared, &opts, ready_tx))
        .map_err(|e| format!("cannot start the sampling thread: {e}"))?;
    match ready_rx.recv() {
        Ok(Ok(version)) => Ok((shared, handle, version)),
        Ok(Err(message)) => {
            let _ = handle.join();
            Err(message)
        }
        Err(_) => {
            let _ = handle.join();
            Err("the sampling thread ended before attaching".to_string())
        }
    }
}
