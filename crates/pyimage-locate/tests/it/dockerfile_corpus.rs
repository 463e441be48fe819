#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::unwrap_used,
    clippy::expect_used
)]
//! The hand-written corpus of tricky Dockerfiles (`testdata/dockerfile/corpus/`) and the official Python
//! Dockerfiles, with the exact image references each must yield, plus a property test that the scanner never panics
//! and that every span it reports is a valid slice of the input.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use pyimage_locate::dockerfile::{
    self, DockerfileScan, ImageKind, ScanOptions, Span, StageBase, Unresolvable,
};

fn testdata(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/dockerfile")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// One expected image: kind, text as written, evaluated text (or `!` + the unresolvable variable), line, column.
type Expected<'a> = (ImageKind, &'a str, &'a str, usize, usize);

fn summary(scan: &DockerfileScan) -> Vec<(ImageKind, String, String, usize, usize)> {
    scan.images
        .iter()
        .map(|image| {
            let value = match image.unresolvable() {
                Some(why) => format!("!{}", why.variable().unwrap_or("syntax")),
                None => image.text().unwrap_or_default().to_owned(),
            };
            (
                image.kind,
                image.written.clone(),
                value,
                image.line,
                image.column,
            )
        })
        .collect()
}

/// Every span of a scan is a char-boundary slice of `text`, and each `written` is exactly its span's text.
fn assert_spans(text: &str, scan: &DockerfileScan) {
    let check = |span: Span, what: &str| {
        assert!(
            span.start <= span.end && text.get(span.range()).is_some(),
            "{what}: {span:?} is not a slice of the text"
        );
    };
    for image in &scan.images {
        check(image.span, "image");
        assert_eq!(&text[image.span.range()], image.written);
        if let Some(verbatim) = image.verbatim_span {
            check(verbatim, "verbatim");
            assert_eq!(Some(&text[verbatim.range()]), image.text());
        }
        for arg in &image.args {
            check(arg.span, "arg use");
            if let Some(default) = arg.default_span {
                check(default, "arg default");
            }
        }
        if let Some(platform) = &image.platform {
            check(platform.span, "platform");
            assert_eq!(&text[platform.span.range()], platform.written);
        }
    }
    for arg in &scan.args {
        // The name is the logical one: a continuation inside it is in the span but not in the name.
        check(arg.name_span, "arg name");
        if let Some(default) = &arg.default {
            check(default.span, "default");
            assert_eq!(&text[default.span.range()], default.written);
            if let (Some(verbatim), Ok(value)) = (default.verbatim_span, &default.value) {
                assert_eq!(&text[verbatim.range()], value);
            }
        }
    }
    for stage in &scan.stages {
        if let Some(span) = stage.name_span {
            check(span, "stage name");
        }
    }
    for problem in &scan.problems {
        check(problem.span, "problem");
    }
    for directive in &scan.directives {
        check(directive.value_span, "directive");
        assert_eq!(&text[directive.value_span.range()], directive.value);
    }
}

fn check_file(file: &str, expected: &[Expected<'_>]) -> (String, DockerfileScan) {
    let text = testdata(file);
    let scan = dockerfile::scan(&text);
    assert_spans(&text, &scan);
    let expected: Vec<_> = expected
        .iter()
        .map(|(k, w, v, l, c)| (*k, (*w).to_owned(), (*v).to_owned(), *l, *c))
        .collect();
    assert_eq!(summary(&scan), expected, "{file}");
    (text, scan)
}

use ImageKind::{CopyFrom, From, MountFrom, Syntax};

#[test]
fn backtick_escape() {
    let (text, scan) = check_file(
        "corpus/backtick.Dockerfile",
        &[
            (
                From,
                "${BASE}",
                "mcr.microsoft.com/windows/servercore:ltsc2022",
                3,
                6,
            ),
            (
                From,
                "python:3.12-windowsservercore-ltsc2022",
                "python:3.12-windowsservercore-ltsc2022",
                7,
                6,
            ),
        ],
    );
    assert_eq!(scan.escape, '`');
    // The ARG default is where a rewrite of the first reference goes.
    let default = scan.images[0].args[0].default_span.unwrap();
    assert_eq!(
        &text[default.range()],
        "mcr.microsoft.com/windows/servercore:ltsc2022"
    );
    assert_eq!(scan.stages[1].name.as_deref(), Some("final"));
    assert!(scan.problems.is_empty(), "{:?}", scan.problems);
}

#[test]
fn heredocs_are_skipped() {
    let (_, scan) = check_file(
        "corpus/heredoc.Dockerfile",
        &[
            (
                Syntax,
                "docker/dockerfile:1.7",
                "docker/dockerfile:1.7",
                1,
                10,
            ),
            (From, "python:3.12-slim", "python:3.12-slim", 2, 6),
        ],
    );
    assert_eq!(scan.stages.len(), 2);
    assert_eq!(scan.stages[1].base, StageBase::Stage(0));
    assert!(scan.problems.is_empty(), "{:?}", scan.problems);
}

#[test]
fn continuations_with_comments_and_blank_lines() {
    let (text, scan) = check_file(
        "corpus/continuation-comments.Dockerfile",
        &[
            (From, "python:3.12-slim", "python:3.12-slim", 3, 5),
            (
                From,
                "docker.io/library/python:3.12\\\n-slim",
                "docker.io/library/python:3.12-slim",
                9,
                6,
            ),
        ],
    );
    assert_eq!(scan.stages[0].name.as_deref(), Some("builder"));
    assert_eq!(scan.stages[1].name.as_deref(), Some("final"));
    // Split by a continuation: reported, but not rewritable in place.
    assert_eq!(scan.images[0].verbatim_span, Some(scan.images[0].span));
    assert_eq!(scan.images[1].verbatim_span, None);
    assert_eq!(
        scan.images[0].span,
        Span::new(
            text.find("python:3.12-slim").unwrap(),
            text.find("python:3.12-slim").unwrap() + 16
        )
    );
    let kinds: Vec<_> = scan.problems.iter().map(|p| p.kind.to_string()).collect();
    assert_eq!(kinds, ["empty continuation line"]);
}

#[test]
fn crlf_and_bom() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let uv = format!("ghcr.io/astral-sh/uv:0.5@{digest}");
    let (text, scan) = check_file(
        "corpus/crlf-bom.Dockerfile",
        &[
            (Syntax, "docker/dockerfile:1", "docker/dockerfile:1", 1, 10),
            (From, "python:${PY}-slim", "python:3.12-slim", 3, 8),
            (CopyFrom, &uv, &uv, 4, 13),
        ],
    );
    assert!(text.starts_with('\u{feff}'));
    assert_eq!(scan.images[0].span, Span::new(12, 31));
    let py = &scan.images[1].args[0];
    assert_eq!(py.name, "PY");
    assert_eq!(&text[py.default_span.unwrap().range()], "3.12");
    assert!(scan.problems.is_empty(), "{:?}", scan.problems);
}

#[test]
fn arg_shadowing_follows_buildkit_scopes() {
    let (text, scan) = check_file(
        "corpus/arg-shadowing.Dockerfile",
        &[
            (From, "${IMAGE}", "python:3.11-slim", 3, 6),
            (MountFrom, "${IMAGE}", "python:3.11-slim", 6, 29),
            (From, "python:${TAG}", "python:3.11", 7, 6),
        ],
    );
    // FROM ${IMAGE}: IMAGE's default, and TAG inside it, are both reported with their default spans.
    let used: Vec<_> = scan.images[0]
        .args
        .iter()
        .map(|a| (a.name.as_str(), &text[a.default_span.unwrap().range()]))
        .collect();
    assert_eq!(used, [("IMAGE", "\"python:${TAG}-slim\""), ("TAG", "3.11")]);
    let image_default = scan.args[1].default.as_ref().unwrap();
    assert_eq!(image_default.value.as_deref(), Ok("python:3.11-slim"));
    assert_eq!(image_default.verbatim_span, None);
    // Stage ARG TAG=3.13 does not reach the second FROM.
    assert_eq!(scan.args[2].stage, Some(0));
}

#[test]
fn platform_stage_index_and_unresolvable() {
    let (text, scan) = check_file(
        "corpus/platform.Dockerfile",
        &[
            (From, "golang:1.23", "golang:1.23", 1, 32),
            (From, "python:3.12-slim", "python:3.12-slim", 3, 29),
            (CopyFrom, "${TARGETARCH}-tools", "!TARGETARCH", 7, 13),
            (From, "$UNDECLARED", "!UNDECLARED", 8, 6),
        ],
    );
    let platform = scan.stages[0].platform.as_ref().unwrap();
    assert_eq!(platform.written, "$BUILDPLATFORM");
    assert_eq!(
        platform.value,
        Err(Unresolvable::PlatformArg {
            name: "BUILDPLATFORM".into()
        })
    );
    assert_eq!(&text[platform.span.range()], "$BUILDPLATFORM");
    assert_eq!(
        scan.stages[1].platform.as_ref().unwrap().value.as_deref(),
        Ok("linux/amd64")
    );
    // With build arguments, the platform ARG resolves.
    let options = ScanOptions {
        build_args: BTreeMap::from([("TARGETARCH".to_owned(), "arm64".to_owned())]),
        ..ScanOptions::default()
    };
    let with_args = dockerfile::scan_with(&text, &options);
    assert_eq!(with_args.images[2].text(), Some("arm64-tools"));
    assert!(with_args.images[2].args[0].overridden);
}

#[test]
fn official_python_dockerfiles() {
    for (file, base, line) in [
        (
            "docker-library-python/3.12_slim-bookworm_Dockerfile",
            "debian:bookworm-slim",
            7,
        ),
        (
            "docker-library-python/3.13_alpine3.23_Dockerfile",
            "alpine:3.23",
            7,
        ),
        (
            "docker-library-python/3.14_trixie_Dockerfile",
            "buildpack-deps:trixie",
            7,
        ),
    ] {
        check_file(file, &[(From, base, base, line, 6)]);
    }
}

#[test]
fn build_args_override_defaults() {
    let text = "ARG PYTHON=3.12\nFROM python:${PYTHON}-slim\n";
    let options = ScanOptions {
        build_args: BTreeMap::from([("PYTHON".to_owned(), "3.13".to_owned())]),
        ..ScanOptions::default()
    };
    let scan = dockerfile::scan_with(text, &options);
    assert_eq!(scan.images[0].text(), Some("python:3.13-slim"));
    assert!(scan.images[0].args[0].overridden);
    // Undeclared build args change nothing.
    let options = ScanOptions {
        build_args: BTreeMap::from([("OTHER".to_owned(), "x".to_owned())]),
        ..ScanOptions::default()
    };
    assert_eq!(
        dockerfile::scan_with(text, &options).images[0].text(),
        Some("python:3.12-slim")
    );
}

#[test]
fn quoted_arg_default_has_an_inner_verbatim_span() {
    let text = "ARG\tVARIANT=\"1.60.0-bullseye\" \nFROM\trust:${VARIANT}\n";
    let scan = dockerfile::scan(text);
    let default = scan.args[0].default.as_ref().unwrap();
    assert_eq!(default.span, Span::new(12, 29));
    assert_eq!(default.verbatim_span, Some(Span::new(13, 28)));
    assert_eq!(scan.images[0].span, Span::new(36, 51));
    assert_eq!(scan.images[0].column, 6);
}

#[test]
fn directives_follow_buildkit_rules() {
    // Case-insensitive keys, leading white space allowed, a blank line or other comment ends them.
    let scan =
        dockerfile::scan(" # EsCaPe=`\n# syntax = a/b:1 extra\n\n# escape=\\\nFROM x `\n  AS y\n");
    assert_eq!(scan.escape, '`');
    assert_eq!(scan.directives.len(), 2);
    assert_eq!(scan.images[0].written, "a/b:1");
    assert_eq!(scan.stages[0].name.as_deref(), Some("y"));
    // A repeated directive is a problem, not a panic.
    let scan = dockerfile::scan("# escape=`\n# escape=\\\nFROM x\n");
    assert_eq!(
        scan.problems[0].kind.to_string(),
        "only one escape parser directive can be used"
    );
    // After an instruction, `# syntax=` is a comment.
    let scan = dockerfile::scan("FROM alpine:3.13.5\n# syntax=docker/dockerfile:1.1.7\n");
    assert_eq!(scan.images.len(), 1);
}

#[test]
fn unicode_columns_are_characters() {
    let text = "# é\nFROM   ünïcode:1 AS x\n";
    let scan = dockerfile::scan(text);
    assert_eq!(scan.images[0].written, "ünïcode:1");
    assert_eq!((scan.images[0].line, scan.images[0].column), (2, 8));
    assert!(scan.images[0].reference_error().is_some());
}

fn dockerfile_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("FROM ".to_owned()),
        Just("from ".to_owned()),
        Just("ARG ".to_owned()),
        Just("COPY --from=".to_owned()),
        Just("RUN --mount=type=cache,from=".to_owned()),
        Just("ENV A=".to_owned()),
        Just(" AS ".to_owned()),
        Just("--platform=".to_owned()),
        Just("$".to_owned()),
        Just("${".to_owned()),
        Just(":-".to_owned()),
        Just(":+".to_owned()),
        Just("}".to_owned()),
        Just("\\".to_owned()),
        Just("`".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("<<EOF".to_owned()),
        Just("<<-\"EOF\"".to_owned()),
        Just("EOF".to_owned()),
        Just("\tEOF".to_owned()),
        Just("# escape=`\n".to_owned()),
        Just("# syntax=".to_owned()),
        Just("#".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("=".to_owned()),
        Just(",".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("é".to_owned()),
        Just("python:3.12".to_owned()),
        Just("0".to_owned()),
        "[a-zA-Z0-9:/@._-]{1,8}",
        any::<char>().prop_map(String::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_and_spans_are_slices(pieces in prop::collection::vec(dockerfile_piece(), 0..40)) {
        let text: String = pieces.concat();
        let scan = dockerfile::scan(&text);
        assert_spans(&text, &scan);
    }

    #[test]
    fn never_panics_on_arbitrary_text(text in any::<String>()) {
        let scan = dockerfile::scan(&text);
        assert_spans(&text, &scan);
    }
}

#[test]
fn problems_are_reported_and_scanning_goes_on() {
    let text = "RUN early\nFROM a:1 AS x\nFROM b:1 AS X\nCOPY --from=5 / /\nENV IMG=c:1\nCOPY --from=$IMG / /\nFROM d:1 e\nFROM 9bad AS 9bad\nRUN <<EOF\nFROM hidden:1\n";
    let scan = dockerfile::scan(text);
    assert_spans(text, &scan);
    let problems: Vec<_> = scan
        .problems
        .iter()
        .map(|p| (p.kind.to_string(), p.line))
        .collect();
    assert_eq!(
        problems,
        [
            ("no build stage in current context for RUN".to_owned(), 1),
            ("duplicate stage name \"x\"".to_owned(), 3),
            ("invalid stage index 5".to_owned(), 4),
            ("FROM requires either one or three arguments, found 2".to_owned(), 7),
            (
                "invalid name for build stage: \"9bad\", name can't start with a number or contain symbols"
                    .to_owned(),
                8
            ),
            ("unterminated heredoc EOF".to_owned(), 9),
        ]
    );
    let found: Vec<_> = summary(&scan)
        .into_iter()
        .map(|(_, w, v, l, _)| (w, v, l))
        .collect();
    assert_eq!(
        found,
        [
            ("a:1".to_owned(), "a:1".to_owned(), 2),
            ("b:1".to_owned(), "b:1".to_owned(), 3),
            ("$IMG".to_owned(), "!IMG".to_owned(), 6),
            ("d:1".to_owned(), "d:1".to_owned(), 7),
            ("9bad".to_owned(), "9bad".to_owned(), 8),
        ]
    );
    assert_eq!(
        scan.images[2].unresolvable(),
        Some(&Unresolvable::EnvVariable { name: "IMG".into() })
    );
}

/// Issue 21 (4): a template's placeholder where an image goes (`FROM {{ base_image }}`, `FROM {{.Base}}`,
/// `COPY --from={% raw %}…`) makes the file a template: skipped with the reason, as a templated YAML file is, and
/// nothing in it is offered to `pin`. A placeholder elsewhere (`RUN pip install {{ packages }}`) is text.
#[test]
fn a_template_placeholder_where_an_image_goes_skips_the_file() {
    for (text, line, column) in [
        ("FROM {{ base_image }}\nRUN pip install app\n", 1, 6),
        ("ARG X=1\nFROM {{.Base}} AS build\n", 2, 6),
        (
            "FROM python:3.12-slim AS build\nCOPY --from={{ builder }} /a /b\n",
            2,
            13,
        ),
    ] {
        let scan = dockerfile::scan(text);
        let skipped = scan
            .skipped
            .as_ref()
            .unwrap_or_else(|| panic!("not skipped: {text}"));
        assert_eq!((skipped.line, skipped.column), (line, column), "{text}");
        assert!(
            skipped.reason.to_string().contains("templated"),
            "{}",
            skipped.reason
        );
        let candidates = pyimage_locate::pin::candidates(
            pyimage_locate::FileKind::Dockerfile,
            text,
            &ScanOptions::default(),
            &|_| true,
        );
        assert!(candidates.is_empty(), "{candidates:?}");
    }
    let scan = dockerfile::scan("FROM python:3.12-slim\nRUN pip install {{ packages }}\n");
    assert!(scan.skipped.is_none());
    assert_eq!(scan.images.len(), 1);
}
