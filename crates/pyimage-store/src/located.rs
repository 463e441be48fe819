//! A message at a file position: the one JSON shape (`path`, `line`, `column`, `message`) in which `check`, `pin`
//! and `update` report a file they could not read, parse, plan or write.

/// A problem with a file, at a position when it has one: reported and the run goes on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct FileError {
    /// The file (or the path given) as shown.
    pub path: String,
    /// 1-based line, when the problem has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, when the problem has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl FileError {
    /// A problem with a whole file (unreadable, not UTF-8, not a known kind).
    pub fn file(path: impl Into<String>, message: impl Into<String>) -> Self {
        FileError {
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// A problem at a line (and column, when known) of a file.
    pub fn at(
        path: impl Into<String>,
        line: usize,
        column: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        FileError {
            path: path.into(),
            line: Some(line),
            column,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FileError {
    /// `path:line:column: message` (position parts only when known).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}
