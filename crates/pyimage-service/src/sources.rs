//! The files a run of `check`, `pin` or `update` works on, found and read once: the walk (`pyimage_store::files`),
//! each file read as UTF-8 through the bounded reader, and the Compose variables each file is interpolated with (the
//! `.env` beside it, or the `--env-file`s instead, as `docker compose` does). Problems are collected per file; one
//! bad file never stops a run.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use pyimage_locate::manifests::{ManifestKind, parse_dotenv};
use pyimage_policy::check::FileKind;
use pyimage_store::bounded::{read_regular, read_text};
use pyimage_store::files::{self, FileError, Found, MAX_SOURCE_BYTES, Tree, Walk};

use crate::SourceText;

/// Largest `.env` or `--env-file` pyimage reads.
const MAX_DOTENV_BYTES: u64 = 1024 * 1024;

/// What a run found and read.
#[derive(Debug, Default)]
pub struct Gathered {
    /// The files read, in walk order, with where each came from.
    pub found: Vec<Found>,
    /// Their texts, one per entry of `found`.
    pub sources: Vec<SourceText>,
    /// Files that could not be found, walked, read or interpolated.
    pub errors: Vec<FileError>,
    /// Symlinks, FIFOs and devices met in a walk: not read, listed.
    pub passed_over: Vec<FileError>,
}

/// Walks `paths` (the current directory when empty) in `tree` and reads every file found.
pub fn gather(paths: &[PathBuf], tree: &Tree<'_>, variables: &mut ComposeVariables) -> Gathered {
    let mut walk = Walk::default();
    let found = files::discover(paths, tree, &mut walk);
    let mut gathered = Gathered {
        errors: walk.errors,
        passed_over: walk.passed_over,
        ..Gathered::default()
    };
    for file in found {
        match read_source(&file.path) {
            // A JSON file named on the command line that holds nothing to pin is never passed over in silence.
            Ok(text) if file.named && not_a_manifest(file.kind, &text) => gathered.errors.push(
                FileError::file(file.path.display().to_string(), files::NOT_A_MANIFEST),
            ),
            Ok(text) => {
                gathered.sources.push(SourceText {
                    // The path as `check` shows it (relative to the configuration's directory), not `./path`.
                    shown: file.policy_path.clone(),
                    kind: file.kind,
                    text,
                    variables: variables.for_file(&file.path, file.kind, &mut gathered.errors),
                });
                gathered.found.push(file);
            }
            Err(message) => gathered
                .errors
                .push(FileError::file(file.policy_path.clone(), message)),
        }
    }
    gathered
}

/// Whether `text`, of `kind`, is a JSON file that is no manifest (`package.json`).
fn not_a_manifest(kind: FileKind, text: &str) -> bool {
    kind == FileKind::Manifest(ManifestKind::Json)
        && pyimage_locate::manifests::scan(ManifestKind::Json, text, Default::default())
            .not_a_manifest
}

/// Reads a source file as UTF-8 text; the error says what is wrong and what to do (the caller names the file).
pub fn read_source(path: &Path) -> Result<String, String> {
    let bytes =
        read_regular(path, MAX_SOURCE_BYTES).map_err(|error| format!("cannot read: {error}"))?;
    String::from_utf8(bytes).map_err(|error| {
        format!(
            "not UTF-8 text (invalid byte at offset {}): save it as UTF-8, or exclude it with [policy] exclude",
            error.utf8_error().valid_up_to()
        )
    })
}

/// Compose interpolation variables: the `--env-file`s, else the `.env` beside each Compose file.
#[derive(Debug, Default)]
pub struct ComposeVariables {
    given: Option<BTreeMap<String, String>>,
    by_directory: HashMap<PathBuf, BTreeMap<String, String>>,
}

impl ComposeVariables {
    /// No `--env-file`: each Compose file takes the `.env` beside it, as `docker compose` does.
    pub fn beside_each_file() -> Self {
        ComposeVariables::default()
    }

    /// The `--env-file`s, later files winning (each may refer to variables of the earlier ones). An unreadable or
    /// invalid file is an error naming it (and its line).
    pub fn from_env_files(files: &[PathBuf]) -> Result<Self, String> {
        let mut given: Option<BTreeMap<String, String>> = None;
        for file in files {
            let text = read_text(file, MAX_DOTENV_BYTES)
                .map_err(|error| format!("--env-file {}: cannot read: {error}", file.display()))?;
            let variables = parse_dotenv(&text, given.as_ref().unwrap_or(&BTreeMap::new()))
                .map_err(|error| format!("--env-file {}:{error}", file.display()))?;
            given = Some(variables);
        }
        Ok(ComposeVariables {
            given,
            by_directory: HashMap::new(),
        })
    }

    /// The variables for the file at `path` (empty for kinds other than Compose). An unreadable or invalid `.env`
    /// is reported in `errors` and its Compose file is read without it.
    pub fn for_file(
        &mut self,
        path: &Path,
        kind: FileKind,
        errors: &mut Vec<FileError>,
    ) -> BTreeMap<String, String> {
        if kind != FileKind::Manifest(ManifestKind::Compose) {
            return BTreeMap::new();
        }
        if let Some(given) = &self.given {
            return given.clone();
        }
        let directory = path.parent().unwrap_or(Path::new("")).to_path_buf();
        if let Some(known) = self.by_directory.get(&directory) {
            return known.clone();
        }
        let dotenv = directory.join(".env");
        let shown = dotenv.display().to_string();
        let variables = match read_text(&dotenv, MAX_DOTENV_BYTES) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(error) => {
                errors.push(FileError::file(
                    shown,
                    format!("{error}: Compose variables from it are not used"),
                ));
                BTreeMap::new()
            }
            Ok(text) => match parse_dotenv(&text, &BTreeMap::new()) {
                Ok(variables) => variables,
                Err(error) => {
                    errors.push(FileError::at(
                        shown,
                        error.line,
                        None,
                        format!("{}: Compose variables from it are not used", error.message),
                    ));
                    BTreeMap::new()
                }
            },
        };
        self.by_directory.insert(directory, variables.clone());
        variables
    }
}
