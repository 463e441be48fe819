//! The `pyimage check` sections of `pyimage.toml` (`[policy]`, `[environments.*]`, `[[paths]]`, `[rules]`,
//! `[[ignore]]`) and their translation into a [`Policy`], keeping the line of every setting so that findings can
//! name the line that decided them. Invalid values are errors with `path:line:column`.

use std::path::Path;

use anyhow::{Context, bail};
use pyimage_core::Float;
use pyimage_core::check::{
    Date, EnvSettings, Ignore, Origin, PathRule, Policy, Severity, SourcePattern, find_rule,
    policy::path_glob,
};
use serde::Deserialize;
use toml::Spanned;

use crate::config::LoadedConfig;

/// `[policy]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicySection {
    /// Repositories that mirror `docker.io/library/python` (patterns, `*` allowed).
    #[serde(default)]
    pub mirrors: Vec<Spanned<String>>,
    /// When set, every image must come from one of these.
    #[serde(default)]
    pub allowed_sources: Vec<Spanned<String>>,
    /// Environment of paths no `[[paths]]` entry matches (default `dev`).
    pub default_environment: Option<Spanned<String>>,
    /// Path globs never checked when walking directories.
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    /// End-of-life overrides: `"3.10" = "2026-10-31"`.
    #[serde(default)]
    pub eol: std::collections::BTreeMap<String, Spanned<String>>,
}

/// `[environments.NAME]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSection {
    /// Coarsest tag allowed: `latest`, `major`, `minor` or `patch`.
    pub float: Option<Spanned<String>>,
    /// Digest required.
    pub digest: Option<bool>,
    /// Pre-release Python allowed.
    pub prerelease: Option<bool>,
    /// What `pyimage update` may change: `none`, `digest` (rebuilds) or `patch` (also newer patch releases).
    pub update: Option<Spanned<String>>,
}

/// `[[paths]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathEntry {
    /// Glob over paths relative to the configuration's directory.
    pub pattern: Spanned<String>,
    /// Environment name.
    pub environment: Spanned<String>,
}

/// `[[ignore]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    /// Rule IDs or names.
    pub rules: Vec<Spanned<String>>,
    /// Path globs (default: all).
    #[serde(default)]
    pub paths: Vec<Spanned<String>>,
    /// Image patterns (default: all).
    #[serde(default)]
    pub images: Vec<Spanned<String>>,
    /// Why (mandatory).
    pub reason: String,
}

/// Turns byte offsets of the configuration text into lines and origins.
struct Locator<'a> {
    text: &'a str,
    path: &'a str,
}

impl Locator<'_> {
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn origin(&self, span: std::ops::Range<usize>) -> Origin {
        let (line, column) = self.position(span.start);
        let text = self
            .text
            .lines()
            .nth(line - 1)
            .unwrap_or_default()
            .trim()
            .to_owned();
        Origin::Config { line, column, text }
    }

    fn error(
        &self,
        span: std::ops::Range<usize>,
        message: impl std::fmt::Display,
    ) -> anyhow::Error {
        let (line, column) = self.position(span.start);
        anyhow::anyhow!("{}:{line}:{column}: {message}", self.path)
    }
}

/// Command-line settings that override the configuration.
#[derive(Debug, Default)]
pub struct Overrides {
    /// `--env`.
    pub environment: Option<String>,
    /// `--deny`/`--warn`/`--allow`, in order given.
    pub severities: Vec<(String, Severity)>,
}

/// Builds the policy from the configuration (if any) and command-line overrides.
pub fn build_policy(
    config: &LoadedConfig,
    overrides: &Overrides,
) -> anyhow::Result<(Policy, Vec<globset::GlobMatcher>)> {
    let shown_path = config
        .path
        .as_deref()
        .map_or_else(|| "pyimage.toml".to_owned(), |p| p.display().to_string());
    let at = Locator {
        text: &config.text,
        path: &shown_path,
    };
    let file = &config.file;
    let mut policy = Policy {
        config_path: config.path.as_ref().map(|_| shown_path.clone()),
        ..Policy::default()
    };
    let section = &file.policy;
    for mirror in &section.mirrors {
        policy.mirrors.push(
            SourcePattern::new(mirror.get_ref(), at.origin(mirror.span()))
                .map_err(|e| at.error(mirror.span(), e))?,
        );
    }
    for source in &section.allowed_sources {
        policy.allowed_sources.push(
            SourcePattern::new(source.get_ref(), at.origin(source.span()))
                .map_err(|e| at.error(source.span(), e))?,
        );
    }
    if let Some(default) = &section.default_environment {
        policy.default_environment = (default.get_ref().clone(), at.origin(default.span()));
    }
    let mut exclude = Vec::new();
    for glob in &section.exclude {
        exclude.push(path_glob(glob.get_ref()).map_err(|e| at.error(glob.span(), e))?);
    }
    for (line, date) in &section.eol {
        let version = line.split_once('.').and_then(|(major, minor)| {
            Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?))
        });
        let Some(version) = version else {
            bail!(at.error(
                date.span(),
                format!("[policy.eol] key {line:?} is not a Python line like \"3.10\"")
            ));
        };
        let Some(parsed) = Date::parse(date.get_ref()) else {
            bail!(at.error(
                date.span(),
                format!(
                    "[policy.eol] {line} = {:?} is not a date: write YYYY-MM-DD or YYYY-MM",
                    date.get_ref()
                )
            ));
        };
        policy.eol.insert(version, (parsed, at.origin(date.span())));
    }
    for (name, environment) in &file.environments {
        let origin = at.origin(environment.span());
        let base = EnvSettings::builtin(name).unwrap_or(EnvSettings {
            float: Float::Latest,
            update: pyimage_core::check::policy::UpdatePolicy::Digest,
            digest: false,
            prerelease: false,
            origin: origin.clone(),
        });
        let section = environment.get_ref();
        let float = match &section.float {
            Some(float) => match Float::from_name(float.get_ref()) {
                Some(Float::Pinned) => bail!(at.error(
                    float.span(),
                    "float = \"pinned\" is not a tag level: write digest = true to require digests"
                )),
                Some(level) => level,
                None => bail!(at.error(
                    float.span(),
                    format!(
                        "float = {:?}: expected one of latest, major, minor, patch",
                        float.get_ref()
                    )
                )),
            },
            None => base.float,
        };
        let update = match &section.update {
            Some(update) => pyimage_core::check::policy::UpdatePolicy::from_name(update.get_ref())
                .ok_or_else(|| {
                    at.error(
                        update.span(),
                        format!(
                            "update = {:?}: expected one of none, digest, patch",
                            update.get_ref()
                        ),
                    )
                })?,
            None => base.update,
        };
        policy.environments.insert(
            name.clone(),
            EnvSettings {
                float,
                update,
                digest: section.digest.unwrap_or(base.digest),
                prerelease: section.prerelease.unwrap_or(base.prerelease),
                origin,
            },
        );
    }
    for entry in &file.paths {
        let value = entry.get_ref();
        policy.paths.push(
            PathRule::new(
                value.pattern.get_ref(),
                value.environment.get_ref(),
                at.origin(value.pattern.span()),
            )
            .map_err(|e| at.error(value.pattern.span(), e))?,
        );
    }
    for (key, severity) in &file.rules {
        let Some(rule) = find_rule(key) else {
            bail!(at.error(
                severity.span(),
                format!("[rules] {key}: no such rule (`pyimage check --list-rules` lists them)")
            ));
        };
        let Some(level) = Severity::from_name(severity.get_ref()) else {
            bail!(at.error(
                severity.span(),
                format!(
                    "[rules] {key} = {:?}: expected allow, warn or deny",
                    severity.get_ref()
                )
            ));
        };
        policy
            .severities
            .insert(rule.id, (level, at.origin(severity.span())));
    }
    for entry in &file.ignore {
        let value = entry.get_ref();
        let mut rules = Vec::new();
        for rule in &value.rules {
            match find_rule(rule.get_ref()) {
                Some(meta) => rules.push(meta.id),
                None => bail!(at.error(
                    rule.span(),
                    format!("[[ignore]] names unknown rule {:?}", rule.get_ref())
                )),
            }
        }
        if value.reason.trim().is_empty() {
            bail!(at.error(entry.span(), "[[ignore]] needs a reason"));
        }
        let mut paths = Vec::new();
        for glob in &value.paths {
            paths.push((
                glob.get_ref().clone(),
                path_glob(glob.get_ref()).map_err(|e| at.error(glob.span(), e))?,
            ));
        }
        let mut images = Vec::new();
        for image in &value.images {
            images.push(
                SourcePattern::new(image.get_ref(), at.origin(image.span()))
                    .map_err(|e| at.error(image.span(), e))?,
            );
        }
        policy.ignores.push(Ignore {
            rules,
            paths,
            images,
            reason: value.reason.clone(),
            origin: at.origin(entry.span()),
        });
    }
    if let Some(environment) = &overrides.environment {
        policy.environment_override = Some((
            environment.clone(),
            Origin::CommandLine(format!("--env {environment}")),
        ));
    }
    for (rule, severity) in &overrides.severities {
        let Some(meta) = find_rule(rule) else {
            bail!("--{severity} {rule}: no such rule (`pyimage check --list-rules` lists them)");
        };
        policy.severities.insert(
            meta.id,
            (
                *severity,
                Origin::CommandLine(format!("--{severity} {rule}")),
            ),
        );
    }
    policy
        .validate()
        .map_err(anyhow::Error::msg)
        .with_context(|| match &config.path {
            Some(path) => format!("config {}", path.display()),
            None => "command line".to_owned(),
        })?;
    Ok((policy, exclude))
}

/// The directory paths in the configuration are relative to.
pub fn base_dir(config: &LoadedConfig) -> Option<&Path> {
    config.path.as_deref().and_then(Path::parent)
}
