//! The sampling thread: py-spy's `PythonSpy` per process, every thread read at each
//! instant of the schedule, folded into the shared `Aggregate` that Python drains.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use py_spy::config::LockingStrategy;
use py_spy::{Config, PythonSpy};

use crate::aggregate::{Aggregate, Batch, FrameKey};
use crate::schedule::Schedule;

const CHILD_SCAN: Duration = Duration::from_secs(1);
const NAME_RETRY: Duration = Duration::from_secs(1); // threads without a name are looked up again
const CHILD_ATTACH_TRIES: u32 = 5; // a child that is not Python is given up after these
                                   // A thread py-spy saw runnable counts as active only if it ran at least this share of
                                   // the time since it was last read (see `Activity`).
const ACTIVE_SHARE: f64 = 0.05;

/// Second opinion on py-spy's `active` flag. In blocking mode each sample stops every
/// thread; when it lets them go, threads that were asleep are runnable until they are back
/// in their wait, and the next sample reads them as running. With 50 idle threads on two
/// cores that was most of them (py-spy record: the busy function 3 % of "cpu" samples).
/// A thread's CPU time (/proc/.../schedstat, ns) tells apart one that ran from one that
/// only re-entered its wait. (Not its run-queue wait: on a loaded machine the idle threads
/// a blocking sample resumes queue for a CPU too, and would read as active again.)
#[derive(Default)]
struct Activity {
    last: HashMap<(i32, u64), (u64, Instant)>,
}

impl Activity {
    /// None: no schedstat to read (py-spy's flag stands). A thread seen for the first
    /// time has no interval to judge yet and counts as idle for that one instant.
    fn ran(&mut self, pid: i32, tid: u64, now: Instant) -> Option<bool> {
        let path = format!("/proc/{pid}/task/{tid}/schedstat");
        let text = std::fs::read_to_string(path).ok()?;
        let runtime: u64 = text.split_whitespace().next()?.parse().ok()?;
        let Some((before, then)) = self.last.insert((pid, tid), (runtime, now)) else {
            return Some(false);
        };
        let wall = now.saturating_duration_since(then).as_nanos() as f64;
        Some(wall > 0.0 && runtime.saturating_sub(before) as f64 >= ACTIVE_SHARE * wall)
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    pub pid: i32,
    pub rate: f64,
    pub nonblocking: bool,
    pub native: bool,
    pub subprocesses: bool,
    pub attach_timeout: Duration,
}

/// Why sampling ended: the target went away, or the thread failed (message).
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // a panic on the sampling thread is caught and reported; the data stays usable
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn config(opts: &Options) -> Config {
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

struct Spies {
    root: i32,
    config: Config,
    by_pid: HashMap<i32, PythonSpy>,
    failed: HashMap<i32, u32>,
    last_scan: Instant,
    last_names: Instant,
}

impl Spies {
    fn scan_children(&mut self) {
        self.last_scan = Instant::now();
        let Ok(process) = remoteprocess::Process::new(self.root) else {
            return;
        };
        let Ok(children) = process.child_processes() else {
            return;
        };
        for (child, _parent) in children {
            if self.by_pid.contains_key(&child) {
                continue;
            }
            let tries = self.failed.entry(child).or_insert(0);
            if *tries >= CHILD_ATTACH_TRIES {
                continue;
            }
            match PythonSpy::new(child, &self.config) {
                Ok(spy) => {
                    self.failed.remove(&child);
                    self.by_pid.insert(child, spy);
                }
                Err(_) => *tries += 1,
            }
        }
    }
}

impl Shared {
    fn stopped(&self) -> bool {
        *lock(&self.stop)
    }

    /// Sleeps until `at` or until stop is asked; true when stop was asked.
    fn sleep_until(&self, at: Instant) -> bool {
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

    fn run(&self, spies: &mut Spies, opts: &Options) {
        let mut schedule = Schedule::new(opts.rate, Instant::now(), wall_now().to_bits());
        let mut traces = Vec::new();
        let mut activity = Activity::default();
        loop {
            let next = schedule.next(Instant::now());
            if self.sleep_until(next.at) {
                return;
            }
            if self.inject_panic.swap(false, Ordering::SeqCst) {
                panic!("fault injected for a test");
            }
            let mut errors = Vec::new();
            let mut root_gone = false;
            let renaming = spies.last_names.elapsed() >= NAME_RETRY;
            if renaming {
                spies.last_names = Instant::now();
            }
            spies
                .by_pid
                .retain(|pid, spy| match spy.get_stack_traces() {
                    Ok(found) => {
                        if renaming && found.iter().any(|t| t.thread_name.is_none()) {
                            // py-spy keeps a name it did not find (a thread not yet in
                            // `threading._active`) for good once looked up again with no
                            // result; forget its names so the next instant reads them anew
                            spy.python_thread_names.clear();
                        }
                        traces.extend(found);
                        true
                    }
                    Err(e) => {
                        if spy.process.exe().is_err() {
                            root_gone |= *pid == spies.root;
                            false
                        } else {
                            errors.push(format!("pid {pid}: {e:#}"));
                            true
                        }
                    }
                });
            let now = Instant::now();
            for trace in traces.iter_mut().filter(|t| t.active) {
                if let Some(tid) = trace.os_thread_id {
                    trace.active = activity.ran(trace.pid, tid, now).unwrap_or(true);
                }
            }
            let late = now > next.slot_end;
            let t = wall_now();
            let wake = {
                let mut state = lock(&self.state);
                for trace in traces.drain(..) {
                    let (pid, active, gil) = (trace.pid, trace.active, trace.owns_gil);
                    let thread = trace.os_thread_id.unwrap_or(trace.thread_id);
                    let name = trace.thread_name.clone();
                    state
                        .agg
                        .add_trace(pid, thread, name, frames_of(trace), active, gil);
                }
                for e in errors {
                    state.agg.error(e);
                }
                state.agg.tick(t, late, next.missed);
                state.waiting_for.is_some_and(|age| state.ready_for(age))
            };
            if wake {
                self.news.notify_all();
            }
            if root_gone || spies.by_pid.is_empty() {
                self.finish(Ended::Exited);
                return;
            }
            if opts.subprocesses && spies.last_scan.elapsed() >= CHILD_SCAN {
                spies.scan_children();
            }
        }
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

/// Attaches (on the new thread: PythonSpy is not Send) and starts sampling. Returns the
/// target's Python version once the first process is attached, or the attach error.
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
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let config = config(&opts);
                let spy = match attach(opts.pid, &config, opts.attach_timeout) {
                    Ok(spy) => spy,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("{e:#}")));
                        return;
                    }
                };
                let version = spy.version.to_string();
                let mut spies = Spies {
                    root: opts.pid,
                    config,
                    by_pid: HashMap::from([(opts.pid, spy)]),
                    failed: HashMap::new(),
                    last_scan: Instant::now(),
                    last_names: Instant::now(),
                };
                if opts.subprocesses {
                    spies.scan_children();
                }
                lock(&thread_shared.state).agg = Aggregate::new(wall_now());
                if ready_tx.send(Ok(version)).is_err() {
                    return;
                }
                thread_shared.run(&mut spies, &opts);
            }));
            if let Err(payload) = outcome {
                let message = format!("the sampling thread panicked: {}", panic_text(payload));
                let _ = ready_tx.send(Err(message.clone()));
                thread_shared.finish(Ended::Failed(message));
            }
        })
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
