//! Second opinion on py-spy's `active` flag, from each thread's CPU time.

use std::collections::HashMap;
use std::time::Instant;

/// A thread py-spy saw runnable counts as active only if it ran at least this share of
/// the time since it was last read.
const ACTIVE_SHARE: f64 = 0.05;

/// In blocking mode each sample stops every thread; when it lets them go, threads that
/// were asleep are runnable until they are back in their wait, and the next sample reads
/// them as running. With 50 idle threads on two cores that was most of them (py-spy
/// record: the busy function 3 % of "cpu" samples). A thread's CPU time
/// (/proc/.../schedstat, ns) tells apart one that ran from one that only re-entered its
/// wait. (Not its run-queue wait: on a loaded machine the idle threads a blocking sample
/// resumes queue for a CPU too, and would read as active again.)
#[derive(Default)]
pub struct Activity {
    last: HashMap<(i32, u64), (u64, Instant)>,
}

impl Activity {
    /// None: no schedstat to read (py-spy's flag stands). A thread seen for the first
    /// time has no interval to judge yet and counts as idle for that one instant.
    pub fn ran(&mut self, pid: i32, tid: u64, now: Instant) -> Option<bool> {
        let path = format!("/proc/{pid}/task/{tid}/schedstat");
        let text = std::fs::read_to_string(path).ok()?;
        let runtime: u64 = text.split_whitespace().next()?.parse().ok()?;
        Some(self.judge(pid, tid, runtime, now))
    }

    fn judge(&mut self, pid: i32, tid: u64, runtime: u64, now: Instant) -> bool {
        let Some((before, then)) = self.last.insert((pid, tid), (runtime, now)) else {
            return false;
        };
        let wall = now.saturating_duration_since(then).as_nanos() as f64;
        wall > 0.0 && runtime.saturating_sub(before) as f64 >= ACTIVE_SHARE * wall
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn first_sight_is_idle_then_cpu_time_decides() {
        let t0 = Instant::now();
        let mut a = Activity::default();
        assert!(!a.judge(1, 2, 1_000, t0));
        // 10 ms later: 2 ms of CPU is 20 %, active; then 0.1 ms of 10 ms is 1 %, idle
        assert!(a.judge(1, 2, 3_001_000, t0 + Duration::from_millis(10)));
        assert!(!a.judge(1, 2, 3_101_000, t0 + Duration::from_millis(20)));
        // another process's thread with the same tid is a thread of its own
        assert!(!a.judge(9, 2, 5_000_000, t0 + Duration::from_millis(20)));
    }
}
