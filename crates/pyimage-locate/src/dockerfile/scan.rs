//! The instruction walk: global `ARG`s, stages, `FROM`, `COPY --from`, `RUN --mount=from=`, following BuildKit's
//! scoping: `FROM` (and its `--platform`) sees only the `ARG`s declared before the first `FROM` (plus the automatic
//! platform ARGs); everything inside a stage sees that stage's `ARG`s (an `ARG NAME` without a value re-imports the
//! global one) and its `ENV`s.

use std::collections::HashMap;

use super::expand::{Lookup, expand};
use super::source::{self, Instruction, LineIndex};
use super::words::{Word, blank_separated, leading_flags, shell_words, split_command};
use super::{
    ArgDecl, ArgDefault, ArgUse, DockerfileScan, Evaluation, ImageKind, ImageUse, MAX_PROBLEMS,
    PlatformFlag, Problem, ProblemKind, ScanOptions, Span, Stage, StageBase, StageId, Unresolvable,
};
use pyimage_model::reference::Reference;

/// BuildKit sets these for every build; their values depend on the platform being built.
const PLATFORM_ARGS: [&str; 8] = [
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
];

/// Instructions BuildKit knows; anything else is an error there.
const INSTRUCTIONS: [&str; 18] = [
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

/// What a name means in a scope, and where that came from.
#[derive(Debug, Clone)]
struct Binding {
    lookup: Lookup,
    declaration: Option<usize>,
    overridden: bool,
    /// The ARG uses behind the value (those of its default), reported along with any use of this binding.
    behind: Vec<ArgUse>,
}

type Scope = HashMap<String, Binding>;

/// A word evaluated in a scope, with its file positions.
struct Evaluated {
    span: Span,
    written: String,
    value: Result<String, Unresolvable>,
    verbatim_span: Option<Span>,
    args: Vec<ArgUse>,
}

struct Scanner<'a> {
    text: &'a str,
    options: &'a ScanOptions,
    lines: &'a LineIndex,
    escape: char,
    out: DockerfileScan,
    global: Scope,
    stage_scope: Scope,
    /// Stage name (lowercase) → index of the first stage with that name: lookups stay linear in stage count.
    stage_names: std::collections::HashMap<String, usize>,
}

pub(super) fn scan(text: &str, options: &ScanOptions) -> DockerfileScan {
    let lines = LineIndex::new(text);
    let mut scanner = Scanner {
        text,
        options,
        lines: &lines,
        escape: '\\',
        out: DockerfileScan::default(),
        global: Scope::new(),
        stage_scope: Scope::new(),
        stage_names: std::collections::HashMap::new(),
    };
    for name in PLATFORM_ARGS {
        let binding = scanner.platform_binding(name);
        scanner.global.insert(name.to_owned(), binding);
    }
    // Instructions are scanned as the physical pass reads them; the directives are complete by the first one.
    let mut directives_read = false;
    let source = source::read(text, &lines, |source, instruction| {
        if !directives_read {
            directives_read = true;
            scanner.directives(source);
        }
        scanner.instruction(instruction);
    });
    if !directives_read {
        scanner.directives(&source);
    }
    // The physical pass and the instruction walk each find problems; report the first ones in file order.
    let out = &mut scanner.out;
    out.problems.extend(source.problems);
    out.problems.sort_by_key(|problem| problem.span.start);
    out.more_problems += source.more_problems + out.problems.len().saturating_sub(MAX_PROBLEMS);
    out.problems.truncate(MAX_PROBLEMS);
    if let Some(image) = out.images.iter().find(|image| {
        TEMPLATE_MARKS
            .iter()
            .any(|mark| image.written.contains(mark))
    }) {
        out.skipped = Some(crate::manifests::Skipped {
            reason: crate::manifests::SkipReason::TemplatedDockerfile,
            span: image.span,
            line: image.line,
            column: image.column,
        });
        out.images.clear();
    }
    scanner.out
}

/// What opens a template's placeholder (Jinja, Go templates, Helm): never part of an image reference. (Closing
/// marks are not: `${A:-${B}}` ends with `}}`.)
const TEMPLATE_MARKS: [&str; 2] = ["{{", "{%"];

impl Scanner<'_> {
    fn position(&self, offset: usize) -> (usize, usize) {
        self.lines.position(self.text, offset)
    }

    fn problem(&mut self, kind: ProblemKind, span: Span) {
        if self.out.problems.len() >= MAX_PROBLEMS {
            self.out.more_problems += 1;
            return;
        }
        let (line, column) = self.position(span.start);
        self.out.problems.push(Problem {
            kind,
            span,
            line,
            column,
        });
    }

    fn platform_binding(&self, name: &str) -> Binding {
        match self.options.build_args.get(name) {
            Some(value) => Binding {
                lookup: Lookup::Value(value.clone()),
                declaration: None,
                overridden: true,
                behind: Vec::new(),
            },
            None => Binding {
                lookup: Lookup::Unknowable(Unresolvable::PlatformArg {
                    name: name.to_owned(),
                }),
                declaration: None,
                overridden: false,
                behind: Vec::new(),
            },
        }
    }

    fn current_stage(&self) -> Option<usize> {
        self.out.stages.len().checked_sub(1)
    }

    /// `# syntax=docker/dockerfile:1` names the frontend image; its first word is the reference.
    /// Takes the file's directives (and its escape character), and the `# syntax=` image as the first image use.
    fn directives(&mut self, source: &source::Source) {
        self.escape = source.escape;
        self.out.escape = source.escape;
        self.out.directives = source.directives.clone();
        self.syntax_directive();
    }

    fn syntax_directive(&mut self) {
        let Some(directive) = self.out.directives.iter().find(|d| d.name == "syntax") else {
            return;
        };
        let len = directive
            .value
            .find(char::is_whitespace)
            .unwrap_or(directive.value.len());
        let span = Span::new(directive.value_span.start, directive.value_span.start + len);
        let written = span.text(self.text).unwrap_or("").to_owned();
        let (line, column) = self.position(span.start);
        let reference = Reference::parse_normalized(&written);
        self.out.images.push(ImageUse {
            kind: ImageKind::Syntax,
            span,
            written: written.clone(),
            evaluation: Evaluation::Resolved {
                text: written,
                reference,
            },
            verbatim_span: Some(span),
            args: Vec::new(),
            line,
            column,
            stage: None,
            platform: None,
        });
    }

    fn instruction(&mut self, instruction: &Instruction) {
        let line = instruction.text.as_str();
        let Some((command, args_start)) = split_command(line) else {
            return;
        };
        let name = command.text.to_ascii_lowercase();
        let command_span = instruction.file_span(command.start, command.end);
        if !INSTRUCTIONS.contains(&name.as_str()) {
            self.problem(
                ProblemKind::UnknownInstruction {
                    name: command.text.to_owned(),
                },
                command_span,
            );
            return;
        }
        if name == "from" {
            self.from(instruction, args_start);
            return;
        }
        let Some(stage) = self.current_stage() else {
            if name == "arg" {
                self.arg(instruction, args_start, None);
            } else {
                self.problem(
                    ProblemKind::InstructionBeforeFrom {
                        name: command.text.to_owned(),
                    },
                    command_span,
                );
            }
            return;
        };
        match name.as_str() {
            "arg" => self.arg(instruction, args_start, Some(stage)),
            "env" => self.env(instruction, args_start),
            "copy" => self.copy(instruction, args_start, stage),
            "run" => self.run(instruction, args_start, stage),
            _ => {}
        }
    }

    /// Evaluates `line[start..end]` of an instruction in `scope`.
    fn evaluate(
        &self,
        instruction: &Instruction,
        start: usize,
        end: usize,
        scope: &Scope,
    ) -> Evaluated {
        let line = instruction.text.as_str();
        let lookup = |name: &str| {
            scope
                .get(name)
                .map_or(Lookup::Unset, |binding| binding.lookup.clone())
        };
        let expansion = expand(line, start, end, self.escape, &lookup);
        let span = instruction.file_span(start, end);
        let written = span.text(self.text).unwrap_or("").to_owned();
        // Each use once: `ARG B=${A}${A}` then `ARG C=${B}${B}` reaches A's two uses twice through B, and a chain
        // of such lines doubled the list at every line (16,000 uses, 87 MB, for 40 lines of a 1.3 KB file).
        let mut args = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for read in &expansion.reads {
            let binding = scope.get(&read.name);
            let declaration = binding.and_then(|b| b.declaration);
            let direct = ArgUse {
                name: read.name.clone(),
                span: instruction.file_span(read.start, read.end),
                declaration,
                default_span: declaration
                    .and_then(|d| self.out.args.get(d))
                    .and_then(|decl| decl.default.as_ref())
                    .map(|default| default.span),
                overridden: binding.is_some_and(|b| b.overridden),
            };
            let behind = binding.into_iter().flat_map(|b| b.behind.iter());
            for arg_use in std::iter::once(&direct).chain(behind) {
                if seen.insert(arg_use.span) {
                    args.push(arg_use.clone());
                }
            }
        }
        let verbatim_span = match &expansion.value {
            Ok(value) if instruction.is_contiguous(start, end) => verbatim(&written, value, span),
            _ => None,
        };
        Evaluated {
            span,
            written,
            value: expansion.value,
            verbatim_span,
            args,
        }
    }

    fn arg(&mut self, instruction: &Instruction, args_start: usize, stage: Option<usize>) {
        let line = instruction.text.as_str();
        for word in shell_words(line, args_start, self.escape) {
            let (name_end, default_range) = match word.text.find('=') {
                Some(eq) => (word.start + eq, Some((word.start + eq + 1, word.end))),
                None => (word.end, None),
            };
            let Some(name) = line.get(word.start..name_end).filter(|n| !n.is_empty()) else {
                continue;
            };
            let name = name.to_owned();
            let name_span = instruction.file_span(word.start, name_end);
            let declaration = self.out.args.len();
            let scope = if stage.is_some() {
                &self.stage_scope
            } else {
                &self.global
            };
            let default = default_range.map(|(start, end)| {
                let evaluated = self.evaluate(instruction, start, end, scope);
                ArgDefault {
                    span: evaluated.span,
                    written: evaluated.written,
                    value: evaluated.value,
                    verbatim_span: evaluated.verbatim_span,
                    args: evaluated.args,
                }
            });
            let binding = self.bind(
                &name,
                name_span,
                declaration,
                default.as_ref(),
                stage.is_some(),
            );
            let (line_no, _) = self.position(name_span.start);
            self.out.args.push(ArgDecl {
                name: name.clone(),
                name_span,
                default,
                stage,
                line: line_no,
            });
            if stage.is_some() {
                self.stage_scope.insert(name, binding);
            } else {
                self.global.insert(name, binding);
            }
        }
    }

    /// What an `ARG` declaration binds its name to. A stage's `ARG NAME` that re-imports a global ARG counts as a
    /// use of the global one, at the stage declaration's name.
    fn bind(
        &self,
        name: &str,
        name_span: Span,
        declaration: usize,
        default: Option<&ArgDefault>,
        in_stage: bool,
    ) -> Binding {
        if let Some(value) = self.options.build_args.get(name) {
            return Binding {
                lookup: Lookup::Value(value.clone()),
                declaration: Some(declaration),
                overridden: true,
                behind: Vec::new(),
            };
        }
        if let Some(default) = default {
            return Binding {
                lookup: match &default.value {
                    Ok(value) => Lookup::Value(value.clone()),
                    Err(why) => Lookup::Unknowable(why.clone()),
                },
                declaration: Some(declaration),
                overridden: false,
                behind: default.args.clone(),
            };
        }
        // `ARG NAME` inside a stage brings the global value into the stage.
        if in_stage && let Some(global) = self.global.get(name) {
            let mut binding = global.clone();
            if binding.declaration.is_some() {
                binding.behind.insert(
                    0,
                    ArgUse {
                        name: name.to_owned(),
                        span: name_span,
                        declaration: binding.declaration,
                        default_span: binding
                            .declaration
                            .and_then(|d| self.out.args.get(d))
                            .and_then(|d| d.default.as_ref())
                            .map(|d| d.span),
                        overridden: binding.overridden,
                    },
                );
            }
            return binding;
        }
        if PLATFORM_ARGS.contains(&name) {
            let mut binding = self.platform_binding(name);
            binding.declaration = Some(declaration);
            return binding;
        }
        Binding {
            lookup: Lookup::DeclaredWithoutValue,
            declaration: Some(declaration),
            overridden: false,
            behind: Vec::new(),
        }
    }

    fn env(&mut self, instruction: &Instruction, args_start: usize) {
        let words = shell_words(&instruction.text, args_start, self.escape);
        let mut names = Vec::new();
        match words.first() {
            // Legacy `ENV NAME value`: one variable, the rest is its value.
            Some(first) if !first.text.contains('=') => names.push(first.text.to_owned()),
            _ => {
                for word in &words {
                    if let Some((name, _)) = word.text.split_once('=') {
                        names.push(name.to_owned());
                    }
                }
            }
        }
        for name in names {
            let binding = Binding {
                lookup: Lookup::Unknowable(Unresolvable::EnvVariable { name: name.clone() }),
                declaration: None,
                overridden: false,
                behind: Vec::new(),
            };
            self.stage_scope.insert(name, binding);
        }
    }

    fn platform_flag(&self, instruction: &Instruction, value: Word<'_>) -> PlatformFlag {
        let evaluated = self.evaluate(instruction, value.start, value.end, &self.global);
        PlatformFlag {
            written: evaluated.written,
            span: evaluated.span,
            value: evaluated.value,
        }
    }

    fn from(&mut self, instruction: &Instruction, args_start: usize) {
        let line = instruction.text.as_str();
        let index = self.out.stages.len();
        let (flags, rest) = leading_flags(line, args_start);
        let platform = flags
            .iter()
            .filter(|flag| flag.name == "platform")
            .find_map(|flag| flag.value)
            .map(|value| self.platform_flag(instruction, value));
        let words = blank_separated(line, rest);
        let from_span = instruction.file_span(0, line.len());
        let (from_line, _) = self.position(from_span.start);
        let mut name = None;
        let mut name_span = None;
        match words.as_slice() {
            [_] => {}
            [_, as_word, stage_name] if as_word.text.eq_ignore_ascii_case("as") => {
                let span = instruction.file_span(stage_name.start, stage_name.end);
                let lower = stage_name.text.to_lowercase();
                if !is_valid_stage_name(&lower) {
                    self.problem(
                        ProblemKind::InvalidStageName {
                            name: lower.clone(),
                        },
                        span,
                    );
                }
                if self.stage_names.contains_key(&lower) {
                    self.problem(
                        ProblemKind::DuplicateStageName {
                            name: lower.clone(),
                        },
                        span,
                    );
                }
                name = Some(lower);
                name_span = Some(span);
            }
            _ => self.problem(ProblemKind::FromArguments { count: words.len() }, from_span),
        }
        self.stage_scope = Scope::new();
        let base = match words.first() {
            None => StageBase::Missing,
            Some(base_word) => {
                let mut evaluated =
                    self.evaluate(instruction, base_word.start, base_word.end, &self.global);
                if let Err(Unresolvable::Undeclared {
                    name: variable,
                    declared_in_stage,
                }) = &mut evaluated.value
                {
                    *declared_in_stage = self
                        .out
                        .args
                        .iter()
                        .find(|arg| &arg.name == variable && arg.stage.is_some())
                        .and_then(|arg| arg.stage);
                }
                let stage_ref = evaluated.value.as_ref().ok().and_then(|value| {
                    if value == "scratch" {
                        return Some(StageBase::Scratch);
                    }
                    let lower = value.to_lowercase();
                    self.stage_names.get(&lower).map(|&i| StageBase::Stage(i))
                });
                match stage_ref {
                    Some(base) => base,
                    None => {
                        let stage = StageId {
                            index,
                            name: name.clone(),
                        };
                        StageBase::Image(self.push_image(
                            ImageKind::From,
                            evaluated,
                            stage,
                            platform.clone(),
                        ))
                    }
                }
            }
        };
        if let Some(name) = &name {
            self.stage_names.entry(name.clone()).or_insert(index);
        }
        self.out.stages.push(Stage {
            index,
            name,
            name_span,
            base,
            platform,
            line: from_line,
        });
    }

    fn push_image(
        &mut self,
        kind: ImageKind,
        evaluated: Evaluated,
        stage: StageId,
        platform: Option<PlatformFlag>,
    ) -> usize {
        let (line, column) = self.position(evaluated.span.start);
        let evaluation = match evaluated.value {
            Ok(text) => {
                let reference = Reference::parse_normalized(&text);
                Evaluation::Resolved { text, reference }
            }
            Err(why) => Evaluation::Unresolvable(why),
        };
        self.out.images.push(ImageUse {
            kind,
            span: evaluated.span,
            written: evaluated.written,
            evaluation,
            verbatim_span: evaluated.verbatim_span,
            args: evaluated.args,
            line,
            column,
            stage: Some(stage),
            platform,
        });
        self.out.images.len() - 1
    }

    /// `--from=` of `COPY` or of a mount: a stage name, a stage index, or an image.
    fn copy_source(
        &mut self,
        instruction: &Instruction,
        start: usize,
        end: usize,
        stage: usize,
        kind: ImageKind,
    ) {
        let evaluated = self.evaluate(instruction, start, end, &self.stage_scope);
        if let Ok(value) = &evaluated.value {
            if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                let in_range = value.parse::<usize>().is_ok_and(|index| index <= stage);
                if !in_range {
                    self.problem(
                        ProblemKind::StageIndexOutOfRange {
                            index: value.clone(),
                        },
                        evaluated.span,
                    );
                }
                return;
            }
            if self.stage_names.contains_key(&value.to_lowercase()) {
                return;
            }
        }
        let stage_id = StageId {
            index: stage,
            name: self.out.stages.get(stage).and_then(|s| s.name.clone()),
        };
        self.push_image(kind, evaluated, stage_id, None);
    }

    fn copy(&mut self, instruction: &Instruction, args_start: usize, stage: usize) {
        let (flags, _) = leading_flags(&instruction.text, args_start);
        for flag in flags.iter().filter(|flag| flag.name == "from") {
            if let Some(value) = flag.value {
                self.copy_source(
                    instruction,
                    value.start,
                    value.end,
                    stage,
                    ImageKind::CopyFrom,
                );
            }
        }
    }

    fn run(&mut self, instruction: &Instruction, args_start: usize, stage: usize) {
        let (flags, _) = leading_flags(&instruction.text, args_start);
        for flag in flags.iter().filter(|flag| flag.name == "mount") {
            let Some(value) = flag.value else { continue };
            for (start, end) in mount_from_values(value) {
                self.copy_source(instruction, start, end, stage, ImageKind::MountFrom);
            }
        }
    }
}

/// The `from=` values of a `--mount` option list (`type=cache,from=image,target=/x`), as logical ranges. Fields are
/// separated by commas outside double quotes, as in BuildKit's CSV reading.
fn mount_from_values(value: Word<'_>) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut field_start = 0;
    let mut in_quotes = false;
    let text = value.text;
    let mut fields = Vec::new();
    for (at, c) in text.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                fields.push((field_start, at));
                field_start = at + 1;
            }
            _ => {}
        }
    }
    fields.push((field_start, text.len()));
    for (start, end) in fields {
        let Some(field) = text.get(start..end) else {
            continue;
        };
        let Some((key, _)) = field.split_once('=') else {
            continue;
        };
        if key.trim().eq_ignore_ascii_case("from") {
            let value_start = value.start + start + key.len() + 1;
            let value_end = value.start + end;
            if value_end > value_start {
                found.push((value_start, value_end));
            }
        }
    }
    found
}

/// BuildKit's stage name rule, `^[a-z][a-z0-9-_.]*$` (checked after lower-casing).
fn is_valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// Where `value` is written literally within `written` (at `span`): the whole word, or the inside of one pair of
/// quotes around it.
fn verbatim(written: &str, value: &str, span: Span) -> Option<Span> {
    if written == value {
        return Some(span);
    }
    for quote in ['"', '\''] {
        if let Some(inner) = written
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
            && inner == value
        {
            return Some(Span::new(span.start + 1, span.end - 1));
        }
    }
    None
}
