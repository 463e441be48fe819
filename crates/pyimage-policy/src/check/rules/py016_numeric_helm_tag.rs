//! PY016 `numeric-helm-tag`: a Helm values tag written as an unquoted number, which Helm renders as a number.

use super::{Hit, ImageCheck};

declare_rule! {
    NumericHelmTag,
    id: "PY016",
    name: "numeric-helm-tag",
    severity: Warn,
    summary: "Helm values tag written as an unquoted number (`tag: 3.10`), which Helm renders as `3.1`.",
    what: "Reports a `tag:` (or `newTag:`) of an image map in Helm values written as a bare number. YAML reads it \
as a number and Helm's templates print the number in its shortest form: `3.10` becomes `3.1`, `3.20` becomes \
`3.2`, `010` becomes `8`. pyimage judges the tag as written, but the cluster pulls what Helm renders. A number that \
renders as written (`3.12`) is still reported: the next minor release with a trailing zero changes it silently.",
    why: "`python:3.1` is Python 3.1 (end of life in 2012, and no such tag is published today): the chart fails to \
pull, or pulls a different image than the one reviewed.",
    example: "# values.yaml\nimage:\n  repository: python\n  tag: 3.10",
    fix: "Quote the tag: `tag: \"3.10\"`.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let numeric = image.numeric_tag?;
    let message = if numeric.rendered == numeric.written {
        format!(
            "tag {} is an unquoted number: Helm renders it as a number (as written today, but `3.10` would \
render as `3.1`)",
            numeric.written
        )
    } else {
        format!(
            "tag {} is an unquoted number: Helm renders it as {}, so the chart pulls {} rather than the tag \
reviewed",
            numeric.written, numeric.rendered, numeric.rendered
        )
    };
    Some(Hit::new(
        message,
        format!("quote the tag: `tag: \"{}\"`", numeric.written),
    ))
}
