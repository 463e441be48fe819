//! Finding every image reference in a Dockerfile, with the exact bytes it occupies.
//!
//! `pyimage check` reports references where they are written and can rewrite them (pin a digest, move a tag)
//! without touching any other byte of the file. That needs a Dockerfile reader that keeps positions, which general
//! Dockerfile parsers do not, so this module has its own, following BuildKit's rules:
//!
//! * `source` joins continued lines and skips comments, parser directives and heredoc bodies, remembering where
//!   every byte came from;
//! * `words` splits an instruction the way BuildKit splits that instruction;
//! * `expand` evaluates `$V` / `${V:-default}` with the `ARG`s in scope;
//! * `scan` walks the instructions: global `ARG`s, stages (`FROM … AS name`), `COPY --from`, `RUN --mount=from=`.
//!
//! The result, a [`DockerfileScan`], lists every [`ImageUse`] with its span, evaluated text and parsed
//! [`Reference`]; stage names, `scratch` and stage indexes are recognised and not reported as images. A reference
//! built from `ARG`s is evaluated with the defaults (or the build arguments passed in [`ScanOptions`]) and names the
//! span of each default it used, because that is where a rewrite must go. Nothing here panics or fails on any
//! input: what BuildKit would reject is reported as a [`Problem`], and scanning goes on.

mod expand;
pub use expand::MAX_NESTING;
mod scan;
pub(crate) mod source;
mod words;

use std::collections::BTreeMap;
use std::ops::Range;

use thiserror::Error;

use pyimage_model::reference::{Reference, ReferenceError};

pub use source::Directive;

/// A byte range `start..end` in the scanned text. Always on `char` boundaries and within the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The span as a range, for slicing: `&text[span.range()]`.
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span is empty.
    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// The text the span covers, or `None` if it does not fit `text`.
    pub fn text(self, text: &str) -> Option<&str> {
        text.get(self.range())
    }
}

impl From<Span> for Range<usize> {
    fn from(span: Span) -> Self {
        span.range()
    }
}

/// Where an image is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageKind {
    /// The `# syntax=` directive: the image of the Dockerfile frontend BuildKit runs.
    Syntax,
    /// The base image of a stage: `FROM image`.
    From,
    /// `COPY --from=image`.
    CopyFrom,
    /// `RUN --mount=…,from=image`.
    MountFrom,
}

/// Why a reference (or a default, or a `--platform`) cannot be evaluated without running the build.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Unresolvable {
    /// `$NAME` names an `ARG` declared without a default, and no build argument was given.
    #[error("ARG {name} has no default value")]
    ArgWithoutDefault {
        /// The ARG without a default (as written after `$`).
        name: String,
    },
    /// `$NAME` is not in scope. `FROM` sees only the `ARG`s declared before the first `FROM`.
    #[error("{name} is not declared{}", match declared_in_stage {
        Some(stage) => format!(" before the first FROM (an ARG {name} in stage {stage} is not visible to FROM)"),
        None => String::new(),
    })]
    Undeclared {
        /// The variable name, as written after `$`.
        name: String,
        /// An `ARG` of that name inside this stage (0-based index), which `FROM` cannot see.
        declared_in_stage: Option<usize>,
    },
    /// An automatic platform `ARG` (`TARGETARCH`, `BUILDPLATFORM`, …), set by BuildKit for each build.
    #[error("{name} is set by BuildKit for each target platform")]
    PlatformArg {
        /// The platform ARG (`TARGETARCH`, `BUILDPLATFORM`, …).
        name: String,
    },
    /// A variable set by `ENV`, which pyimage does not evaluate.
    #[error("{name} is set by ENV")]
    EnvVariable {
        /// The name the `ENV` instruction sets.
        name: String,
    },
    /// A Compose file interpolates `$NAME` from the environment or `.env`, and it is set in neither the `.env`
    /// beside the file nor an `--env-file` (pyimage does not read the shell's environment).
    #[error("{name} is interpolated by Compose and set in no .env or --env-file")]
    ComposeVariable {
        /// The name Compose would interpolate (`TAG` in `python:${TAG}`).
        name: String,
    },
    /// `${NAME:?}` / `${NAME?}`: the build fails unless NAME is passed.
    #[error("{name} is required (${{{name}:?}}) and has no value")]
    Required {
        /// The required variable, unset or empty.
        name: String,
    },
    /// A pattern substitution (`${NAME#…}`, `${NAME%…}`, `${NAME/…}`) pyimage does not evaluate.
    #[error("substitution ${{{name}{modifier}…}} is not evaluated")]
    UnsupportedModifier {
        /// The variable the substitution applies to.
        name: String,
        /// The pattern operator: `#`, `%` or `/`.
        modifier: String,
    },
    /// A value the running system fills in: a GitHub Actions `${{ … }}` expression, a GitLab CI variable, a Cloud
    /// Build substitution, an empty Helm tag.
    #[error("{name} is {what}")]
    Runtime {
        /// The expression or variable as written (`${{ matrix.image }}`).
        name: String,
        /// Who fills it in.
        what: String,
    },
    /// The word does not parse (unterminated quote, missing `}`); BuildKit would reject it.
    #[error("{message}")]
    Syntax {
        /// BuildKit's wording where known.
        message: String,
    },
}

impl Unresolvable {
    /// The ARG or variable responsible, if any.
    pub fn variable(&self) -> Option<&str> {
        match self {
            Unresolvable::ArgWithoutDefault { name }
            | Unresolvable::Undeclared { name, .. }
            | Unresolvable::PlatformArg { name }
            | Unresolvable::EnvVariable { name }
            | Unresolvable::ComposeVariable { name }
            | Unresolvable::Required { name }
            | Unresolvable::Runtime { name, .. }
            | Unresolvable::UnsupportedModifier { name, .. } => Some(name),
            Unresolvable::Syntax { .. } => None,
        }
    }
}

/// What the reference text evaluates to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluation {
    /// Evaluated (with ARG defaults and build arguments), and parsed as Docker would.
    Resolved {
        /// The evaluated text (`python:3.12-slim` for `python:${PY}`).
        text: String,
        /// The reference, or Docker's error for it.
        reference: Result<Reference, ReferenceError>,
    },
    /// Depends on something only the build knows.
    Unresolvable(Unresolvable),
}

/// The repository of a reference written with variables, when every byte of it is literal and only the tag or
/// digest holds a variable: `localhost:5000/frappe/erpnext` for `localhost:5000/frappe/erpnext:${VERSION}`, `node`
/// for `node:${NODE_TAG}`; `None` when a variable (`$…`, `{{ … }}`) is part of the name or registry
/// (`${REGISTRY}/python:3.12`) or there is no variable at all. An unresolvable reference whose repository is known
/// this way is known not to be a Python image whatever the variable holds (when the repository is not one).
pub fn literal_repository(written: &str) -> Option<&str> {
    let variable = written
        .find('$')
        .into_iter()
        .chain(written.find("{{"))
        .min()?;
    let literal = &written[..variable];
    let name_start = literal.rfind('/').map_or(0, |slash| slash + 1);
    let end = match literal.find('@') {
        Some(at) => at,
        None => name_start + literal[name_start..].find(':')?,
    };
    let repository = &written[..end];
    (!repository.is_empty() && !repository.ends_with('/')).then_some(repository)
}

/// A use of an `ARG` (or other variable) in a reference or default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgUse {
    /// The variable name.
    pub name: String,
    /// Where `$NAME` / `${NAME…}` is written.
    pub span: Span,
    /// The declaration in [`DockerfileScan::args`] whose value was used, if any.
    pub declaration: Option<usize>,
    /// The span of that declaration's default value as written (where a rewrite of the value goes).
    pub default_span: Option<Span>,
    /// The value came from [`ScanOptions::build_args`], not from the default.
    pub overridden: bool,
}

/// The default value of an `ARG`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDefault {
    /// The value as written, after `=` (quotes included); empty for `ARG NAME=`.
    pub span: Span,
    /// `text[span]`.
    pub written: String,
    /// The value after quote removal and substitution.
    pub value: Result<String, Unresolvable>,
    /// Where exactly `value` is written, if it is written literally (inside the quotes for `"…"`): replacing these
    /// bytes replaces the value and nothing else.
    pub verbatim_span: Option<Span>,
    /// Variables the default itself uses.
    pub args: Vec<ArgUse>,
}

/// An `ARG` declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    /// The ARG name, as written (`PYTHON_VERSION`).
    pub name: String,
    /// Where the name is written.
    pub name_span: Span,
    /// The default, if any.
    pub default: Option<ArgDefault>,
    /// `None` for a global ARG (before the first `FROM`), else the stage index.
    pub stage: Option<usize>,
    /// 1-based line of the name.
    pub line: usize,
}

/// A `--platform=` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformFlag {
    /// The value as written after `--platform=` (`linux/amd64`, `$BUILDPLATFORM`).
    pub written: String,
    /// Where the value is written.
    pub span: Span,
    /// The evaluated value (`$BUILDPLATFORM` is unresolvable unless passed as a build argument).
    pub value: Result<String, Unresolvable>,
}

/// A stage of a multi-stage build, as an [`ImageUse`] refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageId {
    /// 0-based index (what `COPY --from=0` means).
    pub index: usize,
    /// The name after `AS`, lower-cased as BuildKit does.
    pub name: Option<String>,
}

/// One image reference found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUse {
    /// Where the image is used.
    pub kind: ImageKind,
    /// The reference text as written: for `FROM ${BASE}` the span of `${BASE}`; for a reference split by a line
    /// continuation, the whole run including the continuation.
    pub span: Span,
    /// `text[span]`.
    pub written: String,
    /// The evaluated text and parsed reference, or why it cannot be evaluated.
    pub evaluation: Evaluation,
    /// Where the evaluated text is written literally, if it is (no variables, quotes, escapes or continuations in
    /// it): replacing exactly these bytes rewrites the reference.
    pub verbatim_span: Option<Span>,
    /// The `ARG`s the reference used, in order, including those used by their defaults.
    pub args: Vec<ArgUse>,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based column of `span.start`, in characters.
    pub column: usize,
    /// The stage the use belongs to (`None` for the syntax directive).
    pub stage: Option<StageId>,
    /// `FROM --platform=…`.
    pub platform: Option<PlatformFlag>,
}

impl ImageUse {
    /// The evaluated text, if the reference could be evaluated.
    pub fn text(&self) -> Option<&str> {
        match &self.evaluation {
            Evaluation::Resolved { text, .. } => Some(text),
            Evaluation::Unresolvable(_) => None,
        }
    }

    /// The parsed reference, if evaluated and valid.
    pub fn reference(&self) -> Option<&Reference> {
        match &self.evaluation {
            Evaluation::Resolved {
                reference: Ok(reference),
                ..
            } => Some(reference),
            _ => None,
        }
    }

    /// Docker's error for the evaluated text, if it is not a valid reference.
    pub fn reference_error(&self) -> Option<&ReferenceError> {
        match &self.evaluation {
            Evaluation::Resolved {
                reference: Err(error),
                ..
            } => Some(error),
            _ => None,
        }
    }

    /// Why the reference cannot be evaluated, if it cannot.
    pub fn unresolvable(&self) -> Option<&Unresolvable> {
        match &self.evaluation {
            Evaluation::Unresolvable(why) => Some(why),
            Evaluation::Resolved { .. } => None,
        }
    }
}

/// What a stage starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageBase {
    /// An image: index into [`DockerfileScan::images`].
    Image(usize),
    /// An earlier stage (its index).
    Stage(usize),
    /// `FROM scratch`.
    Scratch,
    /// `FROM` had no argument.
    Missing,
}

/// A build stage (`FROM … [AS name]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 0-based index.
    pub index: usize,
    /// The name after `AS`, lower-cased as BuildKit does.
    pub name: Option<String>,
    /// Where the name is written.
    pub name_span: Option<Span>,
    /// What the stage starts from.
    pub base: StageBase,
    /// `--platform=…`.
    pub platform: Option<PlatformFlag>,
    /// 1-based line of the `FROM`.
    pub line: usize,
}

/// Something BuildKit would reject or warn about, found while scanning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// The bytes at fault: the offending name or value, or an empty span where only a position applies.
    pub span: Span,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based column of `span.start`, in characters.
    pub column: usize,
}

/// The kinds of [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProblemKind {
    /// A parser directive appears twice (BuildKit: an error).
    #[error("only one {name} parser directive can be used")]
    DuplicateDirective {
        /// The directive's key, lower-cased (`syntax`, `escape`, `check`).
        name: String,
    },
    /// `# escape=` with something other than `\` or `` ` ``.
    #[error("invalid escape token '{value}' does not match ` or \\")]
    InvalidEscape {
        /// The value as written after `escape=`.
        value: String,
    },
    /// A blank line inside a continued instruction (deprecated by BuildKit).
    #[error("empty continuation line")]
    EmptyContinuationLine,
    /// A heredoc without its terminator line.
    #[error("unterminated heredoc {name}")]
    UnterminatedHeredoc {
        /// The terminator that was not found.
        name: String,
    },
    /// Not a Dockerfile instruction (e.g. `FROM\` glued to the next line's text).
    #[error("unknown instruction: {name}")]
    UnknownInstruction {
        /// The word as written.
        name: String,
    },
    /// An instruction other than `ARG` before the first `FROM`.
    #[error("no build stage in current context for {name}")]
    InstructionBeforeFrom {
        /// The instruction keyword as written (`RUN`, `COPY`, …).
        name: String,
    },
    /// `FROM` needs `image` or `image AS name`.
    #[error("FROM requires either one or three arguments, found {count}")]
    FromArguments {
        /// Number of arguments found.
        count: usize,
    },
    /// A stage name BuildKit refuses.
    #[error(
        "invalid name for build stage: {name:?}, name can't start with a number or contain symbols"
    )]
    InvalidStageName {
        /// The name after `AS`, lower-cased.
        name: String,
    },
    /// Two stages with one name.
    #[error("duplicate stage name {name:?}")]
    DuplicateStageName {
        /// The repeated name after `AS`, lower-cased.
        name: String,
    },
    /// `--from=N` names a stage that does not exist before this one.
    #[error("invalid stage index {index}")]
    StageIndexOutOfRange {
        /// The number after `--from=`, after evaluation (`3` in `--from=3`).
        index: String,
    },
}

/// Inputs that change how references evaluate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanOptions {
    /// `--build-arg NAME=value`: overrides the default of a declared `ARG` (and sets platform ARGs).
    pub build_args: BTreeMap<String, String>,
    /// Compose interpolation variables: the `.env` beside a Compose file, or the `--env-file`s.
    pub variables: BTreeMap<String, String>,
}

impl ScanOptions {
    /// No build arguments and no Compose variables: what a webhook or a report knows of a build (nothing).
    pub const NONE: ScanOptions = ScanOptions {
        build_args: BTreeMap::new(),
        variables: BTreeMap::new(),
    };
}

/// Everything found in one Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DockerfileScan {
    /// Parser directives at the top.
    pub directives: Vec<Directive>,
    /// The escape character in effect (`\` or `` ` ``).
    pub escape: char,
    /// Image references, in file order.
    pub images: Vec<ImageUse>,
    /// Build stages, in file order.
    pub stages: Vec<Stage>,
    /// `ARG` declarations, in file order.
    pub args: Vec<ArgDecl>,
    /// What BuildKit would reject or warn about, in file order: the first [`MAX_PROBLEMS`].
    pub problems: Vec<Problem>,
    /// How many more problems were found and not kept: a file that is not a Dockerfile has one on every line,
    /// and keeping them all would cost memory in proportion to its lines for nothing anyone reads.
    pub more_problems: usize,
    /// Set when the file is a template (`Dockerfile.j2`, `dockerfile.tmpl`): a placeholder (`{{ … }}`, `{% … %}`)
    /// stands where an image goes, so the file is not a Dockerfile until rendered. Its images are then not listed
    /// (`images` is empty): like a templated YAML file, it is reported as skipped, with the reason, at the first
    /// such placeholder. A placeholder elsewhere (`RUN pip install {{ packages }}`) is text.
    pub skipped: Option<crate::manifests::Skipped>,
}

/// Most problems a scan keeps (see [`DockerfileScan::more_problems`]).
pub const MAX_PROBLEMS: usize = 200;

/// Scans a Dockerfile with ARG defaults only.
pub fn scan(text: &str) -> DockerfileScan {
    scan::scan(text, &ScanOptions::default())
}

/// Scans a Dockerfile with build arguments.
pub fn scan_with(text: &str, options: &ScanOptions) -> DockerfileScan {
    scan::scan(text, options)
}

/// Whether a file name (not a path) names a Dockerfile: `Dockerfile`, `Containerfile`, `*.Dockerfile`,
/// `Dockerfile.*`, `Dockerfile-*` and `Dockerfile_*` (and the same for `Containerfile`), ignoring ASCII case, but
/// not `*.dockerignore`. A `Dockerfile-*` / `Dockerfile_*` name ending in the extension of another kind of file
/// (`Dockerfile-README.md`, `dockerfile_lint.yml`) is that other kind.
pub fn is_dockerfile_name(file_name: &str) -> bool {
    /// Extensions that say a `Dockerfile-…` name is documentation, configuration or code about Dockerfiles.
    const OTHER_KINDS: [&str; 14] = [
        ".md", ".txt", ".rst", ".yml", ".yaml", ".json", ".toml", ".sh", ".py", ".go", ".rs",
        ".js", ".ts", ".lock",
    ];
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".dockerignore") {
        return false;
    }
    ["dockerfile", "containerfile"].iter().any(|base| {
        lower == *base
            || lower
                .strip_suffix(base)
                .is_some_and(|stem| stem.len() > 1 && stem.ends_with('.'))
            || lower
                .strip_prefix(base)
                .is_some_and(|rest| rest.len() > 1 && rest.starts_with('.'))
            || lower.strip_prefix(base).is_some_and(|rest| {
                rest.len() > 1
                    && rest.starts_with(['-', '_'])
                    && !OTHER_KINDS.iter().any(|ext| rest.ends_with(ext))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_of_an_unresolvable_reference_when_it_is_written_literally() {
        for (written, repository) in [
            (
                "localhost:5000/frappe/erpnext:${ERPNEXT_VERSION}",
                Some("localhost:5000/frappe/erpnext"),
            ),
            ("node:${NODE_TAG}", Some("node")),
            ("python:${V}-slim", Some("python")),
            ("python:$V", Some("python")),
            ("ghcr.io/org/app@${DIGEST}", Some("ghcr.io/org/app")),
            ("python:${{ matrix.python }}", Some("python")),
            ("${REGISTRY}/python:3.12", None),
            ("registry:5000/${NAME}:1.0", None),
            ("${BASE}", None),
            ("python:3.12", None),
            (":${TAG}", None),
        ] {
            assert_eq!(literal_repository(written), repository, "{written}");
        }
    }

    #[test]
    fn dockerfile_names() {
        for yes in [
            "Dockerfile",
            "dockerfile",
            "Containerfile",
            "app.Dockerfile",
            "Dockerfile.dev",
            "x.containerfile",
            "Dockerfile-dev",
            "Dockerfile_dev",
            "Containerfile-ci",
            "Dockerfile-py3.12",
            "Dockerfile.j2",
        ] {
            assert!(is_dockerfile_name(yes), "{yes}");
        }
        for no in [
            "Dockerfile.dockerignore",
            "Dockerfiles",
            "compose.yaml",
            ".Dockerfile",
            "Dockerfile.",
            "Dockerfile-",
            "dockerfile_lint.yml",
            "Dockerfile-README.md",
            "Dockerfile_test.go",
            "dockerfile-check.sh",
        ] {
            assert!(!is_dockerfile_name(no), "{no}");
        }
    }
}
