//! flametop's native sampler: py-spy's crate on a Rust thread inside flametop, handing
//! Python aggregated counts per (pid, thread, stack, active, gil) — never text.
//!
//! Policy (windows, modes, health rules, formats) stays in Python; this crate samples and
//! counts. A panic on the sampling thread is caught and reported as the end of sampling.

pub mod aggregate;
pub mod sampling;
pub mod schedule;

#[cfg(feature = "python")]
mod bindings;
