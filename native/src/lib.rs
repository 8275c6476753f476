//! flametop's native sampler: py-spy's crate on Rust threads inside flametop (one per
//! sampled process), handing Python aggregated counts per (pid, thread, stack, active,
//! gil) — never text.
//!
//! Policy (windows, modes, health rules, formats) stays in Python; this crate samples and
//! counts. A panic on any sampling thread is caught and reported as the end of sampling.

pub mod activity;
pub mod aggregate;
mod children;
pub mod sampling;
pub mod schedule;

#[cfg(feature = "python")]
mod bindings;
