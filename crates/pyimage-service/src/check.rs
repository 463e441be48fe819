//! The `check` use case: which files (a walk, or one text from standard input), each read and checked against the
//! policy in parallel (`pyimage_policy::check::check_file`, with the lock when `--locked`), the results merged in the
//! order the renderers promise, and `[[ignore]]` entries that matched nothing reported. Offline: no registry.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pyimage_locate::dockerfile::ScanOptions;
use pyimage_model::lock::Lock;
use pyimage_policy::check::inventory::{FileInventory, SeenImage, inventory_file};
use pyimage_policy::check::{
    CheckContext, Date, FileKind, FileReport, Finding, InputError, Policy, Severity, Skipped,
    check_file, unused_ignores,
};
use pyimage_store::files::{self, FileError, Tree, Walk};
use rayon::prelude::*;

use crate::error::{ErrorKind, Outcome, ServiceError};
use crate::sources::{ComposeVariables, read_source};

/// What to check.
pub enum Inputs<'a> {
    /// Files and directories (the current directory when empty), walked in `tree`.
    Paths(&'a [PathBuf]),
    /// One text read from standard input, checked as the file `name` would be.
    Stdin {
        /// The name that decides its kind, environment and shown path.
        name: &'a Path,
        /// The text.
        text: String,
    },
}

/// Everything a check needs besides the inputs.
pub struct CheckRequest<'a> {
    /// Where walks happen and what paths are shown relative to.
    pub tree: Tree<'a>,
    /// The policy.
    pub policy: &'a Policy,
    /// The configuration's text (snippets of unused `[[ignore]]` entries point into it).
    pub config_text: &'a str,
    /// The lock, with `--locked`.
    pub lock: Option<&'a Lock>,
    /// Today, for end-of-life decisions.
    pub today: Date,
    /// `--build-arg`s.
    pub build: &'a ScanOptions,
}

/// Everything one run of `check` produced.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Number of files checked.
    pub files_scanned: usize,
    /// Files not checked, with the reason: a skip directive (at its line) or a file a walk does not read (a
    /// symlink, a FIFO).
    pub skipped: Vec<FileError>,
    /// Files that could not be read or parsed, in path order (they are not counted in `files_scanned`).
    pub errors: Vec<FileError>,
    /// Findings in path, then file order.
    pub findings: Vec<Finding>,
    /// Texts of the files findings point into (for snippets).
    pub texts: BTreeMap<String, String>,
}

impl CheckReport {
    /// What the run came to: an input error when a file could not be read or parsed, a policy failure for a
    /// deny-level finding (input errors outrank it). Skipped files do not count.
    pub fn outcome(&self) -> Outcome {
        let denied = self.findings.iter().any(|f| f.severity == Severity::Deny);
        Outcome::OK
            .and_if(denied, ErrorKind::Policy)
            .and_if(!self.errors.is_empty(), ErrorKind::Input)
    }

    /// Puts everything in the order the renderers promise: findings by path, position and rule; skipped files
    /// and errors by path.
    fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            let (fa, fb) = (a.file(), b.file());
            (fa.path.as_str(), fa.span.start, fa.line, a.rule.id).cmp(&(
                fb.path.as_str(),
                fb.span.start,
                fb.line,
                b.rule.id,
            ))
        });
        self.skipped.sort();
        self.errors.sort();
    }
}

/// The lock `check --locked` compares with, and whether its file exists.
#[derive(Debug)]
pub struct LockedBaseline {
    /// The lock (empty when the file does not exist).
    pub lock: Lock,
    /// Where it is.
    pub path: PathBuf,
    /// Whether the file exists.
    pub exists: bool,
}

impl LockedBaseline {
    /// Reads the lock at `path`. A missing file reads as an empty lock: a tree with nothing `pin` would pin needs no
    /// lock (`pin` writes none there), and [`LockedBaseline::verdict`] decides after the check.
    pub fn read(path: &Path) -> Result<Self, ServiceError> {
        let lock =
            pyimage_store::lock_file::read(path).map_err(|e| ServiceError::input(e.to_string()))?;
        Ok(LockedBaseline {
            exists: path.exists(),
            path: path.to_path_buf(),
            lock,
        })
    }

    /// What a missing lock means once the tree is checked: nothing when no reference needed it; an input error
    /// naming the lock and `pyimage pin` when some reference did (a PY008 finding), rather than one finding per
    /// reference blaming each for a file that was never written.
    pub fn verdict(&self, report: &CheckReport) -> Result<(), ServiceError> {
        let needed = report
            .findings
            .iter()
            .filter(|finding| finding.rule.id == "PY008")
            .count();
        if self.exists || needed == 0 {
            return Ok(());
        }
        Err(ServiceError::input(format!(
            "--locked: {} does not exist, and {needed} reference(s) must be locked; create it with `pyimage pin`",
            self.path.display()
        )))
    }
}

/// One file to check.
struct Input {
    shown: String,
    kind: FileKind,
    source: Source,
    /// Compose interpolation variables (`.env` beside the file, or `--env-file`).
    variables: BTreeMap<String, String>,
    /// Named on the command line: never passed over in silence.
    named: bool,
}

enum Source {
    File(PathBuf),
    Text(String),
}

/// Checks `inputs` under `request`. Files are read and checked in parallel; a file that cannot be read or parsed
/// is an error in the report and the rest goes on. A standard-input name of no known kind is an input error.
pub fn check(
    inputs: Inputs<'_>,
    request: &CheckRequest<'_>,
    variables: &mut ComposeVariables,
) -> Result<CheckReport, ServiceError> {
    let (mut errors, mut walk) = (Vec::new(), Walk::default());
    let reading_stdin = matches!(inputs, Inputs::Stdin { .. });
    let inputs = gather(inputs, request, variables, &mut errors, &mut walk)?;
    errors.extend(walk.errors);
    let context = CheckContext {
        today: request.today,
        lock: request.lock,
        build: request.build,
        signatures: None,
    };
    let checked: Vec<(Input, Checked)> = inputs
        .into_par_iter()
        .map(|input| {
            let result = check_input(&input, request.policy, &context);
            (input, result)
        })
        .collect();
    let mut report = CheckReport {
        skipped: walk.passed_over,
        ..CheckReport::default()
    };
    let mut used = BTreeSet::new();
    for (input, result) in checked {
        let (file, text) = match result {
            Err(error) => {
                errors.push(error);
                continue;
            }
            Ok(checked) => checked,
        };
        let scan = FileScan {
            not_a_manifest: file.not_a_manifest,
            skipped: file.skipped,
            error: file.error,
        };
        if !scan.settle(
            &input,
            &mut report.skipped,
            &mut errors,
            &mut report.files_scanned,
        ) {
            continue;
        }
        used.extend(file.used_ignores.iter().copied());
        if !file.findings.is_empty()
            && let Some(text) = text
        {
            report.texts.insert(input.shown.clone(), text);
        }
        report.findings.extend(file.findings);
    }
    // An `[[ignore]]` that matched nothing is itself a finding — unless only one text from stdin was checked.
    if !reading_stdin {
        let unused = unused_ignores(request.policy, &used);
        if let Some(first) = unused.first() {
            report
                .texts
                .insert(first.file().path.clone(), request.config_text.to_owned());
        }
        report.findings.extend(unused);
    }
    report.errors = errors;
    report.sort();
    Ok(report)
}

/// The files to read — a walk's, or the one text from standard input — each with its Compose variables.
fn gather(
    inputs: Inputs<'_>,
    request: &CheckRequest<'_>,
    variables: &mut ComposeVariables,
    errors: &mut Vec<FileError>,
    walk: &mut Walk,
) -> Result<Vec<Input>, ServiceError> {
    let gathered = match inputs {
        Inputs::Stdin { name, text } => {
            // The name stands where the current directory is: its kind comes from the whole path.
            let Some(kind) = files::kind_of(name, request.tree.cwd) else {
                return Err(ServiceError::input(format!(
                    "--stdin-filename {}: not a Dockerfile, YAML or JSON name (Dockerfile, Dockerfile.*, Dockerfile-*, *.Dockerfile, compose.yaml, *.yaml, *.json)",
                    name.display()
                )));
            };
            vec![Input {
                shown: files::relative(name, request.tree.base, request.tree.cwd),
                kind,
                variables: variables.for_file(name, kind, errors),
                source: Source::Text(text),
                named: true,
            }]
        }
        Inputs::Paths(paths) => files::discover(paths, &request.tree, walk)
            .into_iter()
            .map(|found| Input {
                variables: variables.for_file(&found.path, found.kind, errors),
                shown: found.policy_path,
                kind: found.kind,
                named: found.named,
                source: Source::File(found.path),
            })
            .collect(),
    };
    // `-vv`: what is read, and as what (a file read as the wrong kind is otherwise invisible).
    for input in &gathered {
        let kind = match input.kind {
            FileKind::Dockerfile => "Dockerfile",
            FileKind::Manifest(manifest) => manifest.describe(),
        };
        tracing::debug!(file = %input.shown, kind, "reading");
    }
    Ok(gathered)
}

/// Reads `input` (through the bounded reader) and hands its text to `use_text` with the check context its Compose
/// variables call for.
fn with_text<R>(
    input: &Input,
    context: &CheckContext<'_>,
    use_text: impl FnOnce(&str, &CheckContext<'_>) -> R,
) -> Result<R, FileError> {
    let owned;
    let text = match &input.source {
        Source::Text(text) => text.as_str(),
        Source::File(path) => {
            owned = read_source(path)
                .map_err(|message| FileError::file(input.shown.clone(), message))?;
            owned.as_str()
        }
    };
    if input.variables.is_empty() {
        return Ok(use_text(text, context));
    }
    let build = ScanOptions {
        build_args: context.build.build_args.clone(),
        variables: input.variables.clone(),
    };
    Ok(use_text(
        text,
        &CheckContext {
            build: &build,
            signatures: None,
            ..*context
        },
    ))
}

/// Every image reference the inputs hold, Python or not, with what pyimage made of it (`pyimage ls`): the same
/// walk, reading and scan as [`check`], so what it lists is what `check` judged.
#[derive(Debug, Default)]
pub struct InventoryReport {
    /// Number of files read.
    pub files_scanned: usize,
    /// Every image, by path and position.
    pub images: Vec<SeenImage>,
    /// Files not read, with why (a template, a symlink, a FIFO).
    pub skipped: Vec<FileError>,
    /// Files that could not be read or parsed (images before a parse error are listed).
    pub errors: Vec<FileError>,
}

impl InventoryReport {
    /// An input error when a file could not be read or parsed; listing never fails on policy.
    pub fn outcome(&self) -> Outcome {
        Outcome::OK.and_if(!self.errors.is_empty(), ErrorKind::Input)
    }
}

/// Lists every image of `inputs` (see [`InventoryReport`]); `request.lock`, when given, is what the lock column
/// compares with.
pub fn inventory(
    inputs: Inputs<'_>,
    request: &CheckRequest<'_>,
    variables: &mut ComposeVariables,
) -> Result<InventoryReport, ServiceError> {
    let (mut errors, mut walk) = (Vec::new(), Walk::default());
    let inputs = gather(inputs, request, variables, &mut errors, &mut walk)?;
    errors.extend(walk.errors);
    let context = CheckContext {
        today: request.today,
        lock: request.lock,
        build: request.build,
        signatures: None,
    };
    let listed: Vec<(Input, Result<FileInventory, FileError>)> = inputs
        .into_par_iter()
        .map(|input| {
            let listed = with_text(&input, &context, |text, context| {
                inventory_file(
                    &input.shown,
                    text,
                    input.kind,
                    request.policy,
                    context,
                    request.lock,
                )
            });
            (input, listed)
        })
        .collect();
    let mut report = InventoryReport {
        skipped: walk.passed_over,
        ..InventoryReport::default()
    };
    for (input, listed) in listed {
        let file = match listed {
            Ok(file) => file,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        let scan = FileScan {
            not_a_manifest: file.not_a_manifest,
            skipped: file.skipped,
            error: file.error,
        };
        if scan.settle(
            &input,
            &mut report.skipped,
            &mut errors,
            &mut report.files_scanned,
        ) {
            report.images.extend(file.images);
        }
    }
    report.images.sort_by(|a, b| {
        (a.path.as_str(), a.line, a.column).cmp(&(b.path.as_str(), b.line, b.column))
    });
    report.skipped.sort();
    errors.sort();
    report.errors = errors;
    Ok(report)
}

/// What scanning one file came to besides its findings or images: the one merge `check` and `inventory` share.
struct FileScan {
    not_a_manifest: bool,
    skipped: Option<Skipped>,
    error: Option<InputError>,
}

impl FileScan {
    /// Merges the outcome into a run's lists and count; `false` when the file is no file pyimage reads (nothing of
    /// it is kept). A walk passes over `package.json` in silence; a file named on the command line never is.
    fn settle(
        self,
        input: &Input,
        skipped: &mut Vec<FileError>,
        errors: &mut Vec<FileError>,
        files_scanned: &mut usize,
    ) -> bool {
        if self.not_a_manifest {
            if input.named {
                errors.push(FileError::file(&input.shown, files::NOT_A_MANIFEST));
            }
            return false;
        }
        if let Some(skip) = self.skipped {
            skipped.push(FileError::at(
                &input.shown,
                skip.line,
                Some(skip.column),
                skip.reason.to_string(),
            ));
        }
        match self.error {
            None => *files_scanned += 1,
            Some(error) => errors.push(FileError::at(
                &input.shown,
                error.line,
                Some(error.column),
                format!(
                    "{} (fix the YAML, or exclude the file with [policy] exclude)",
                    error.message
                ),
            )),
        }
        true
    }
}

/// A file's report and, when it has findings, its text (for snippets); or why it could not be read.
type Checked = Result<(FileReport, Option<String>), FileError>;

fn check_input(input: &Input, policy: &Policy, context: &CheckContext<'_>) -> Checked {
    with_text(input, context, |text, context| {
        let report = check_file(&input.shown, text, input.kind, policy, context);
        let keep = (!report.findings.is_empty()).then(|| text.to_owned());
        (report, keep)
    })
}
