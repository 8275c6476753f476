//! Counts per (pid, thread, stack, active, gil) between two drains, with frames, stacks
//! and thread names interned so each crosses to Python once.

use std::collections::HashMap;

/// One frame as Python sees it: function, short file name, line (0 when unknown).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FrameKey {
    pub function: String,
    pub file: String,
    pub line: i32,
}

/// What one sampled thread contributes: the key of its count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CountKey {
    pub pid: i32,
    pub thread: u64,
    pub stack: u32,
    pub active: bool,
    pub gil: bool,
}

/// What a drain hands over. `new_frames` and `new_stacks` continue the id sequences of
/// earlier batches (ids are positions: frame i of all batches so far).
#[derive(Debug, Default)]
pub struct Batch {
    pub t_start: f64,
    pub t_end: f64,
    /// Sampling instants summed over the processes: each process is read at instants of
    /// its own (one sampling thread each), so with 3 processes a second at 100 Hz asks
    /// for 300.
    pub ticks: u64,
    pub late: u64,
    pub missed: u64,
    /// The most processes attached at once during the batch: `ticks` were asked of this
    /// many (a process attached or gone mid-batch counts as there all along, so coverage
    /// errs low, never high).
    pub processes: u32,
    pub errors: u64,
    pub last_error: Option<String>,
    pub new_frames: Vec<FrameKey>,
    pub new_stacks: Vec<Vec<u32>>,
    pub threads: Vec<(i32, u64, String)>,
    pub counts: Vec<(CountKey, u32)>,
}

#[derive(Default)]
pub struct Aggregate {
    frame_ids: HashMap<FrameKey, u32>,
    frames: Vec<FrameKey>,
    frames_sent: usize,
    stack_ids: HashMap<Vec<u32>, u32>,
    stacks: Vec<Vec<u32>>,
    stacks_sent: usize,
    thread_names: HashMap<(i32, u64), String>,
    threads_changed: Vec<(i32, u64, String)>,
    counts: HashMap<CountKey, u32>,
    t_start: f64,
    t_end: f64,
    ticks: u64,
    late: u64,
    missed: u64,
    attached: u32,
    processes: u32,
    errors: u64,
    last_error: Option<String>,
}

impl Aggregate {
    pub fn new(t_start: f64) -> Self {
        Aggregate {
            t_start,
            t_end: t_start,
            ..Default::default()
        }
    }

    fn frame_id(&mut self, frame: FrameKey) -> u32 {
        if let Some(id) = self.frame_ids.get(&frame) {
            return *id;
        }
        let id = self.frames.len() as u32;
        self.frames.push(frame.clone());
        self.frame_ids.insert(frame, id);
        id
    }

    fn stack_id(&mut self, frames: Vec<u32>) -> u32 {
        if let Some(id) = self.stack_ids.get(&frames) {
            return *id;
        }
        let id = self.stacks.len() as u32;
        self.stacks.push(frames.clone());
        self.stack_ids.insert(frames, id);
        id
    }

    /// One thread's stack at one sampling instant; `frames` leaf first, as py-spy gives.
    pub fn add_trace(
        &mut self,
        pid: i32,
        thread: u64,
        name: Option<String>,
        frames: Vec<FrameKey>,
        active: bool,
        gil: bool,
    ) {
        if let Some(name) = name {
            if self.thread_names.get(&(pid, thread)) != Some(&name) {
                self.thread_names.insert((pid, thread), name.clone());
                self.threads_changed.push((pid, thread, name));
            }
        }
        let ids: Vec<u32> = frames.into_iter().rev().map(|f| self.frame_id(f)).collect();
        let stack = self.stack_id(ids);
        let key = CountKey {
            pid,
            thread,
            stack,
            active,
            gil,
        };
        *self.counts.entry(key).or_insert(0) += 1;
    }

    /// A sampling instant of one process ended at `t` (seconds since the epoch). `late`:
    /// taken after its slot ended; `missed`: slots skipped before it because its sampling
    /// fell behind.
    pub fn tick(&mut self, t: f64, late: bool, missed: u64) {
        self.ticks += 1;
        self.late += late as u64;
        self.missed += missed;
        // processes tick from threads of their own: the batch ends at the latest
        self.t_end = self.t_end.max(t);
    }

    /// A process's sampling thread attached (it ticks from now on).
    pub fn attached(&mut self) {
        self.attached += 1;
        self.processes = self.processes.max(self.attached);
    }

    /// A process's sampling thread ended (the batch still counts it: it was there).
    pub fn detached(&mut self) {
        self.attached = self.attached.saturating_sub(1);
    }

    pub fn error(&mut self, message: String) {
        self.errors += 1;
        self.last_error = Some(message);
    }

    /// True when nothing happened since the last take (no tick, no error).
    pub fn is_empty(&self) -> bool {
        self.ticks == 0 && self.errors == 0 && self.missed == 0
    }

    pub fn t_start(&self) -> f64 {
        self.t_start
    }

    /// Hands over everything since the last take; the next batch starts where this ended.
    pub fn take(&mut self) -> Batch {
        let batch = Batch {
            t_start: self.t_start,
            t_end: self.t_end,
            ticks: self.ticks,
            late: self.late,
            missed: self.missed,
            processes: self.processes,
            errors: self.errors,
            last_error: self.last_error.take(),
            new_frames: self.frames[self.frames_sent..].to_vec(),
            new_stacks: self.stacks[self.stacks_sent..].to_vec(),
            threads: std::mem::take(&mut self.threads_changed),
            counts: self.counts.drain().collect(),
        };
        self.frames_sent = self.frames.len();
        self.stacks_sent = self.stacks.len();
        self.t_start = self.t_end;
        self.ticks = 0;
        self.late = 0;
        self.missed = 0;
        self.processes = self.attached;
        self.errors = 0;
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str, line: i32) -> FrameKey {
        FrameKey {
            function: name.to_string(),
            file: "app.py".to_string(),
            line,
        }
    }

    #[test]
    fn same_stack_same_thread_is_one_count_and_frames_are_sent_once() {
        let mut agg = Aggregate::new(10.0);
        for i in 0..3 {
            // leaf first, as py-spy gives it
            agg.add_trace(
                7,
                1,
                Some("MainThread".into()),
                vec![frame("leaf", 2), frame("main", 1)],
                true,
                true,
            );
            agg.tick(10.0 + i as f64 * 0.01, false, 0);
        }
        let batch = agg.take();
        assert_eq!(batch.ticks, 3);
        assert_eq!(batch.counts.len(), 1);
        assert_eq!(batch.counts[0].1, 3);
        assert_eq!(batch.new_frames.len(), 2);
        // root first across the boundary
        assert_eq!(
            batch.new_frames[batch.new_stacks[0][0] as usize].function,
            "main"
        );
        assert_eq!(batch.threads, vec![(7, 1, "MainThread".to_string())]);

        agg.add_trace(
            7,
            1,
            Some("MainThread".into()),
            vec![frame("leaf", 2), frame("main", 1)],
            false,
            false,
        );
        agg.tick(10.05, true, 2);
        let second = agg.take();
        assert!(second.new_frames.is_empty() && second.new_stacks.is_empty());
        assert!(
            second.threads.is_empty(),
            "an unchanged name is not sent again"
        );
        assert_eq!(second.t_start, 10.02);
        assert_eq!((second.late, second.missed), (1, 2));
        let key = second.counts[0].0;
        assert!(!key.active && !key.gil);
    }

    #[test]
    fn activity_and_gil_split_counts() {
        let mut agg = Aggregate::new(0.0);
        agg.add_trace(1, 1, None, vec![frame("f", 1)], true, true);
        agg.add_trace(1, 1, None, vec![frame("f", 1)], true, false);
        agg.add_trace(1, 2, None, vec![frame("f", 1)], true, true);
        agg.tick(0.01, false, 0);
        let batch = agg.take();
        assert_eq!(batch.counts.len(), 3);
        assert_eq!(batch.counts.iter().map(|c| c.1).sum::<u32>(), 3);
    }

    #[test]
    fn a_batch_counts_every_process_attached_during_it() {
        let mut agg = Aggregate::new(0.0);
        agg.attached();
        agg.tick(0.01, false, 0);
        // a child attaches, ticks, and exits within the batch
        agg.attached();
        agg.tick(0.03, false, 0);
        agg.tick(0.02, false, 1); // its thread got the lock last with an earlier instant
        agg.detached();
        let first = agg.take();
        assert_eq!((first.ticks, first.processes, first.missed), (3, 2, 1));
        assert_eq!(first.t_end, 0.03, "the batch ends at its latest instant");
        agg.tick(0.04, false, 0);
        let second = agg.take();
        assert_eq!(
            second.processes, 1,
            "the exited child is no longer asked of"
        );
        assert_eq!(second.t_start, 0.03);
    }

    #[test]
    fn errors_make_a_batch_without_ticks() {
        let mut agg = Aggregate::new(0.0);
        assert!(agg.is_empty());
        agg.error("boom".into());
        assert!(!agg.is_empty());
        let batch = agg.take();
        assert_eq!(batch.errors, 1);
        assert_eq!(batch.last_error.as_deref(), Some("boom"));
        assert!(agg.is_empty());
    }
}
