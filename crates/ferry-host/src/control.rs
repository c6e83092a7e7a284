//! [`RunControl`]: how a run is stopped. The command line's signal handler
//! calls [`RunControl::cancel`]; the pipeline checks it between batches and,
//! atomically, once more at the point of no return just before the commit,
//! so that an interruption at any moment before the commit commits nothing,
//! and one during the commit cannot leave the run half-reported.
//!
//! Plugins see the same request through the ABI's cancel flag and may return
//! early from long calls.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use ferry_plugin_abi::CancelFlag;

const RUNNING: u8 = 0;
const CANCELLED: u8 = 1;
const COMMITTING: u8 = 2;

/// Why a run was asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// SIGHUP (the terminal went away).
    Hangup,
}

impl StopReason {
    /// The conventional exit code (128 + the signal number).
    pub fn exit_code(self) -> u8 {
        match self {
            StopReason::Interrupt => 130,
            StopReason::Terminate => 143,
            StopReason::Hangup => 129,
        }
    }
    fn code(self) -> u8 {
        match self {
            StopReason::Interrupt => 1,
            StopReason::Terminate => 2,
            StopReason::Hangup => 3,
        }
    }
    fn from_code(c: u8) -> Option<StopReason> {
        match c {
            1 => Some(StopReason::Interrupt),
            2 => Some(StopReason::Terminate),
            3 => Some(StopReason::Hangup),
            _ => None,
        }
    }
}

/// The stop switch of one run (shared with the signal handler).
pub struct RunControl {
    state: AtomicU8,
    reason: AtomicU8,
    /// What plugins poll; lives for the rest of the process (plugins may keep
    /// the reference in a thread they started).
    flag: &'static AtomicBool,
}

impl Default for RunControl {
    fn default() -> RunControl {
        RunControl::new()
    }
}

impl RunControl {
    /// A control for a new run.
    pub fn new() -> RunControl {
        RunControl {
            state: AtomicU8::new(RUNNING),
            reason: AtomicU8::new(0),
            flag: Box::leak(Box::new(AtomicBool::new(false))),
        }
    }

    /// Asks the run to stop. Returns `false` when the commit had already
    /// begun: the run then completes (the commit is not undone).
    pub fn cancel(&self, reason: StopReason) -> bool {
        let _ = self.reason.compare_exchange(0, reason.code(), Ordering::SeqCst, Ordering::SeqCst);
        match self.state.compare_exchange(RUNNING, CANCELLED, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => {
                self.flag.store(true, Ordering::SeqCst);
                true
            }
            Err(state) => state == CANCELLED,
        }
    }

    /// Whether the run was asked to stop before its commit began.
    pub fn is_cancelled(&self) -> bool {
        self.state.load(Ordering::SeqCst) == CANCELLED
    }

    /// Why the run was asked to stop (also when the request came too late).
    pub fn reason(&self) -> Option<StopReason> {
        StopReason::from_code(self.reason.load(Ordering::SeqCst))
    }

    /// The point of no return: `true` when the commit may begin, `false` when
    /// the run was cancelled first.
    pub fn begin_commit(&self) -> bool {
        self.state.compare_exchange(RUNNING, COMMITTING, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    /// The flag plugins poll.
    pub fn flag(&self) -> CancelFlag {
        CancelFlag::new(self.flag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_before_the_commit_wins_and_one_after_is_too_late() {
        let c = RunControl::new();
        assert!(c.cancel(StopReason::Terminate));
        assert!(c.is_cancelled() && c.flag().is_cancelled());
        assert!(!c.begin_commit());
        assert_eq!(c.reason().map(StopReason::exit_code), Some(143));

        let c = RunControl::new();
        assert!(c.begin_commit());
        assert!(!c.cancel(StopReason::Interrupt), "too late: the commit began");
        assert!(!c.is_cancelled() && !c.flag().is_cancelled());
        assert_eq!(c.reason(), Some(StopReason::Interrupt));
    }
}
