//! Locking that survives a panic elsewhere.

use std::sync::{Mutex, MutexGuard};

/// `mutex`'s guard, also after a thread panicked holding it: every value kept behind these
/// mutexes stays consistent at each step, and a refresh must not fail for another's bug.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
