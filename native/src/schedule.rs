//! When to sample: one instant at a random point inside each 1/rate slot.
//!
//! A fixed period can fall into step with a periodic target (a worker that wakes every
//! 10 ms is always or never caught); py-spy draws exponential gaps against that, which
//! makes the number of samples in a second vary by its square root (±2 % at 100 Hz over
//! 20 s). One uniformly placed sample per slot avoids both: no phase lock, and exactly
//! `rate` samples a second when the sampler keeps up, so coverage reads true.

use std::time::{Duration, Instant};

pub struct Schedule {
    start: Instant,
    period: Duration,
    slot: u64,
    rng: u64,
}

pub struct Next {
    pub at: Instant,
    /// The end of the slot `at` belongs to: a sample taken after it is late.
    pub slot_end: Instant,
    /// Slots passed without a sample because sampling fell behind.
    pub missed: u64,
}

impl Schedule {
    pub fn new(rate: f64, start: Instant, seed: u64) -> Self {
        Schedule {
            start,
            period: Duration::from_secs_f64(1.0 / rate),
            slot: 0,
            rng: seed | 1,
        }
    }

    fn uniform(&mut self) -> f64 {
        // xorshift64*: plenty for spreading sampling instants; no dependency needed
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn slot_start(&self, slot: u64) -> Instant {
        let nanos = self.period.as_nanos() * slot as u128;
        self.start + Duration::from_nanos(nanos.min(u64::MAX as u128) as u64)
    }

    pub fn next(&mut self, now: Instant) -> Next {
        let elapsed = now.saturating_duration_since(self.start);
        let current = (elapsed.as_nanos() / self.period.as_nanos().max(1)) as u64;
        let mut missed = 0;
        let at = if current > self.slot {
            // behind: skip the slots already over, sample the current one at once
            missed = current - self.slot;
            self.slot = current;
            now
        } else {
            let offset = self.period.mul_f64(self.uniform());
            self.slot_start(self.slot) + offset
        };
        let slot_end = self.slot_start(self.slot + 1);
        self.slot += 1;
        Next {
            at,
            slot_end,
            missed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instant_inside_each_slot() {
        let start = Instant::now();
        let mut s = Schedule::new(100.0, start, 42);
        for k in 0..1000u32 {
            let n = s.next(start);
            let lo = start + Duration::from_millis(10) * k;
            assert!(n.at >= lo && n.at < lo + Duration::from_millis(10));
            assert_eq!(n.slot_end, lo + Duration::from_millis(10));
            assert_eq!(n.missed, 0);
        }
    }

    #[test]
    fn falling_behind_skips_and_counts_slots() {
        let start = Instant::now();
        let mut s = Schedule::new(100.0, start, 7);
        s.next(start);
        let later = start + Duration::from_millis(55);
        let n = s.next(later);
        assert_eq!(n.at, later);
        assert_eq!(n.missed, 4); // slots 1..=4 passed, slot 5 sampled now
        assert_eq!(n.slot_end, start + Duration::from_millis(60));
    }

    #[test]
    fn instants_are_spread_over_the_slot() {
        let start = Instant::now();
        let mut s = Schedule::new(1.0, start, 3);
        let mut firsts = 0;
        for k in 0..400u64 {
            let n = s.next(start);
            let offset = n.at - (start + Duration::from_secs(k));
            firsts += (offset < Duration::from_millis(500)) as u32;
        }
        assert!(
            (150..250).contains(&firsts),
            "{firsts} of 400 in the first half"
        );
    }
}
