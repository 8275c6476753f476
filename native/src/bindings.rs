//! The Python module `flametop_native`: one class, `NativeSampler`, and `AttachError`.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;

use crate::aggregate::Batch;
use crate::sampling::{self, Ended, Options, Shared};

create_exception!(
    flametop_native,
    AttachError,
    PyException,
    "py-spy could not attach to the target."
);

type Frames = Vec<(String, String, i32)>;
type Counts = Vec<(i32, u64, u32, bool, bool, u32)>;
/// t_start, t_end, ticks, late, missed, processes, errors, last_error, new frames, new
/// stacks, thread names, counts (ticks, late and missed are summed over the processes)
type BatchTuple = (
    f64,
    f64,
    u64,
    u64,
    u64,
    u32,
    u64,
    Option<String>,
    Frames,
    Vec<Vec<u32>>,
    Vec<(i32, u64, String)>,
    Counts,
);

fn as_tuple(b: Batch) -> BatchTuple {
    (
        b.t_start,
        b.t_end,
        b.ticks,
        b.late,
        b.missed,
        b.processes,
        b.errors,
        b.last_error,
        b.new_frames
            .into_iter()
            .map(|f| (f.function, f.file, f.line))
            .collect(),
        b.new_stacks,
        b.threads,
        b.counts
            .into_iter()
            .map(|(k, n)| (k.pid, k.thread, k.stack, k.active, k.gil, n))
            .collect(),
    )
}

#[pyclass(frozen, module = "flametop_native")]
struct NativeSampler {
    shared: Arc<Shared>,
    handle: Mutex<Option<JoinHandle<()>>>,
    #[pyo3(get)]
    python_version: String,
}

#[pymethods]
impl NativeSampler {
    #[new]
    #[pyo3(signature = (pid, rate, *, nonblocking=false, native=false, subprocesses=false, attach_timeout=1.0))]
    fn new(
        py: Python<'_>,
        pid: i32,
        rate: f64,
        nonblocking: bool,
        native: bool,
        subprocesses: bool,
        attach_timeout: f64,
    ) -> PyResult<Self> {
        if !(1.0..=10_000.0).contains(&rate) {
            return Err(PyValueError::new_err(format!(
                "rate {rate} Hz is out of range"
            )));
        }
        if native && !cfg!(feature = "unwind") {
            return Err(PyValueError::new_err("this build has no native unwinding"));
        }
        let opts = Options {
            pid,
            rate,
            nonblocking,
            native,
            subprocesses,
            attach_timeout: Duration::from_secs_f64(attach_timeout.max(0.0)),
        };
        let (shared, handle, python_version) = py
            .detach(|| sampling::start(opts))
            .map_err(AttachError::new_err)?;
        Ok(NativeSampler {
            shared,
            handle: Mutex::new(Some(handle)),
            python_version,
        })
    }

    /// Waits up to `timeout` s for a batch at least `min_age` s long, then takes it.
    /// Returns (batch or None, ended) with ended None, "exited" or "failed: message".
    #[pyo3(signature = (timeout, min_age=0.0))]
    fn drain(
        &self,
        py: Python<'_>,
        timeout: f64,
        min_age: f64,
    ) -> (Option<BatchTuple>, Option<String>) {
        let shared = self.shared.clone();
        let (batch, ended) =
            py.detach(move || shared.drain(Duration::from_secs_f64(timeout.max(0.0)), min_age));
        let ended = ended.map(|e| match e {
            Ended::Exited => "exited".to_string(),
            Ended::Failed(message) => format!("failed: {message}"),
        });
        (batch.map(as_tuple), ended)
    }

    /// Stops the sampling threads and waits for them (they wake at once from their sleep)
    /// for at most `wait` seconds. False when they did not end in time: one is stuck in a
    /// system call on the target (py-spy's ptrace lock waiting on a thread that does not
    /// stop); it is left behind rather than hanging the caller, and ends with the target.
    #[pyo3(signature = (wait = 3.0))]
    fn stop(&self, py: Python<'_>, wait: f64) -> bool {
        self.shared.ask_stop();
        let handle = self.handle.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(handle) = handle else { return true };
        let limit = Duration::from_secs_f64(wait.max(0.0));
        py.detach(move || {
            let started = std::time::Instant::now();
            while !handle.is_finished() {
                if started.elapsed() >= limit {
                    return false; // the handle is dropped: the thread is detached
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = handle.join();
            true
        })
    }

    /// Makes the next sampling thread to reach an instant panic (fault tests only).
    fn inject_panic(&self) {
        self.shared.inject_panic();
    }
}

impl Drop for NativeSampler {
    fn drop(&mut self) {
        self.shared.ask_stop();
        if let Some(handle) = self
            .handle
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = handle.join();
        }
    }
}

#[pymodule]
fn flametop_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeSampler>()?;
    m.add("AttachError", m.py().get_type::<AttachError>())?;
    m.add("HAS_UNWIND", cfg!(feature = "unwind"))?;
    m.add("PY_SPY_VERSION", "0.4.3")?;
    Ok(())
}
