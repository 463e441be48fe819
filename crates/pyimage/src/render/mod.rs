//! What the CLI prints: the renderers of `pyimage-render`, the `--format` of `check`, and escaped standard output
//! and error ([`terminal`]).

pub use pyimage_render::{check, feed, history, inventory, rules};

use clap::ValueEnum;

/// Output formats of `pyimage check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Annotated source snippets.
    Human,
    /// `{"config", "files_scanned", "skipped", "errors", "findings"}`.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

/// Standard output and error for human text, escaped (see `pyimage_render::terminal`).
pub mod terminal {
    use std::io::Write as _;

    pub use pyimage_render::terminal::{Clean, escape};

    /// Standard output for human text, escaped.
    pub fn stdout() -> Clean<std::io::StdoutLock<'static>> {
        Clean::new(std::io::stdout().lock())
    }

    /// Prints one escaped line on standard error (what `eprintln!` would print, made safe).
    pub fn eprintln(text: std::fmt::Arguments<'_>) {
        let mut err = Clean::new(std::io::stderr().lock());
        let _ = writeln!(err, "{text}");
    }
}
