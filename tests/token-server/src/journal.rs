//! The secrets journal: every secret the server sees or issues, one per line, for a leak
//! scanner that then looks for them in logs, error messages and core dumps.

use std::fs::{File, OpenOptions};
use std::io::Write;

/// The variable naming the journal file; read once per [`crate::state::State`].
pub const JOURNAL_VAR: &str = "TOKEN_SERVER_JOURNAL";

/// Shorter values are too common to scan for without false alarms.
const SHORTEST: usize = 8;

/// Appends to the file named by `TOKEN_SERVER_JOURNAL`, or does nothing when it is unset.
pub struct Journal {
    file: Option<File>,
}

impl Journal {
    /// Opens the journal if the environment asks for one. A journal that cannot be opened is
    /// a broken test setup, so it panics rather than letting a leak scan pass on nothing.
    pub fn from_env() -> Journal {
        let Some(path) = std::env::var_os(JOURNAL_VAR).filter(|p| !p.is_empty()) else {
            return Journal { file: None };
        };
        // O_APPEND: several servers (processes and in-process) share one file, and each
        // write lands whole at the end whoever else is writing.
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{JOURNAL_VAR}={}: {e}", path.to_string_lossy()));
        Journal { file: Some(file) }
    }

    /// Whether anything is journaled (callers skip building values when not).
    pub fn enabled(&self) -> bool {
        self.file.is_some()
    }

    /// Records one secret. Values with a line break are skipped: a line is one value.
    pub fn record(&self, value: &str) {
        let Some(mut file) = self.file.as_ref() else {
            return;
        };
        if value.len() < SHORTEST || value.contains(['\n', '\r']) {
            return;
        }
        let mut line = Vec::with_capacity(value.len() + 1);
        line.extend_from_slice(value.as_bytes());
        line.push(b'\n');
        // One write(2) per line: appends of one call are not interleaved with other
        // writers' appends, where a retry of a short write could be.
        let _ = file.write(&line);
    }
}
