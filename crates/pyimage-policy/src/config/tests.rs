//! Configuration parsing: every diagnostic with its position, origins of settings, namespaces, overrides.

use super::*;
use crate::check::Scope;

fn parse(text: &str) -> Result<Settings, ConfigError> {
    Settings::parse(text, "pyimage.toml", &Overrides::default())
}

fn messages(error: &ConfigError) -> Vec<String> {
    error.to_string().lines().map(str::to_owned).collect()
}

#[test]
fn every_problem_is_reported_with_its_position() {
    let text = "\
[policy]
mirrors = []
allowed_sources = []

[environments.test]
float = \"patchy\"
digest = \"yes\"

[rules]
PY001 = \"deny\"
PY777 = \"warn\"
PY002 = \"loud\"

[[ignore]]
rules = [\"PY005\"]

[[paths]]
pattern = \"a/**\"
environment = \"staging\"

[registries.\"docker.io\"]
endpoint = \"http://127.0.0.1:5000\"
mirorrs = []
";
    let error = parse(text).expect_err("invalid");
    let lines = messages(&error);
    let expected = [
        ("pyimage.toml:3:1:", "allowed_sources"),
        ("pyimage.toml:6:9:", "patchy"),
        ("pyimage.toml:7:10:", "digest must be true or false"),
        ("pyimage.toml:11:1:", "PY777"),
        ("pyimage.toml:12:9:", "loud"),
        ("pyimage.toml:14:1:", "reason"),
        ("pyimage.toml:19:15:", "staging"),
        ("pyimage.toml:21:13:", "insecure = true"),
        ("pyimage.toml:23:1:", "mirorrs"),
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for ((prefix, needle), line) in expected.iter().zip(&lines) {
        assert!(
            line.starts_with(prefix) && line.contains(needle),
            "{line} (want {prefix} … {needle})"
        );
    }
}

#[test]
fn syntax_errors_do_not_hide_later_problems() {
    let error = parse("[policy\nmirrors = 1\n[rules]\nPY999 = \"deny\"\n").expect_err("invalid");
    let lines = messages(&error);
    assert!(
        lines.iter().any(|l| l.starts_with("pyimage.toml:1:")),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains("PY999")), "{lines:#?}");
}

#[test]
fn settings_remember_their_lines() {
    let text = "\
[policy]
default-environment = \"test\"
mirrors = [\"registry.example.com/dockerhub/library/python\"]

[environments.prod]
digest = true

[[paths]]
pattern = \"deploy/prod/**\"
environment = \"prod\"

[[namespaces]]
match = \"prod-*\"
environment = \"prod\"

[rules]
untagged = \"warn\"
";
    let settings = parse(text).expect("valid");
    let policy = &settings.policy;
    let line_of = |origin: &Origin| match origin {
        Origin::Config { line, .. } => *line,
        other => panic!("{other:?}"),
    };
    assert_eq!(line_of(&policy.default_environment.1), 2);
    assert_eq!(line_of(&policy.environments["prod"].origin), 5);
    assert!(policy.environments["prod"].digest);
    let (environment, origin) = policy.environment_for("deploy/prod/app.yaml");
    assert_eq!((environment, line_of(origin)), ("prod", 9));
    let namespace = Scope::Namespace {
        name: "prod-eu".into(),
        labels: BTreeMap::new(),
    };
    let (environment, origin) = policy.environment_of(&namespace);
    assert_eq!((environment, line_of(origin)), ("prod", 13));
    assert_eq!(policy.severities["PY001"].0, Severity::Warn);
    assert!(
        matches!(&policy.severities["PY001"].1, Origin::Config { text, .. } if text == "untagged = \"warn\"")
    );
    assert_eq!(policy.mirrors.len(), 1);
}

#[test]
fn namespaces_need_an_environment_that_exists_and_a_selector() {
    let error = parse("[[namespaces]]\nmatch = \"team-*\"\nenvironment = \"qa\"\n\n[[namespaces]]\nenvironment = \"prod\"\n")
        .expect_err("invalid");
    let lines = messages(&error);
    assert!(
        lines[0].starts_with("pyimage.toml:3:15:") && lines[0].contains("\"qa\""),
        "{lines:#?}"
    );
    assert!(
        lines[1].starts_with("pyimage.toml:5:1:") && lines[1].contains("`match`"),
        "{lines:#?}"
    );
    let settings = parse("[[namespaces]]\nlabels = { tier = \"prod\" }\nenvironment = \"prod\"\n")
        .expect("labels only");
    let labelled = Scope::Namespace {
        name: "anything".into(),
        labels: BTreeMap::from([("tier".to_owned(), "prod".to_owned())]),
    };
    assert_eq!(settings.policy.environment_of(&labelled).0, "prod");
}

#[test]
fn command_line_overrides_are_checked_too() {
    let overrides = Overrides {
        environment: Some("staging".into()),
        severities: vec![
            ("PY999".into(), Severity::Deny),
            ("floating-tag".into(), Severity::Allow),
        ],
    };
    let error = Settings::builtin(&overrides).expect_err("invalid");
    let lines = messages(&error);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("--deny PY999: no such rule")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("--env staging: unknown environment")),
        "{lines:#?}"
    );
    let fine = Overrides {
        environment: Some("prod".into()),
        severities: vec![("floating-tag".into(), Severity::Allow)],
    };
    let settings = Settings::builtin(&fine).expect("valid");
    assert_eq!(settings.policy.environment_for("x/Dockerfile").0, "prod");
    assert!(
        matches!(&settings.policy.severities["PY003"], (Severity::Allow, Origin::CommandLine(flag)) if flag == "--allow floating-tag")
    );
}

#[test]
fn registries_and_exclude() {
    let text = "\
[registries.\"docker.io\"]
endpoint = \"http://127.0.0.1:5000\"
insecure = true
mirrors = [\"http://127.0.0.1:5001\"]

[policy]
exclude = [\"vendor/**\"]
";
    let settings = parse(text).expect("valid");
    let hub = settings.registries.settings("docker.io");
    assert_eq!(hub.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
    assert!(hub.insecure);
    assert_eq!(hub.mirrors, ["http://127.0.0.1:5001"]);
    assert!(settings.exclude[0].is_match("vendor/a/Dockerfile"));
}

#[test]
fn eol_overrides() {
    let settings = parse("[policy.eol]\n\"3.10\" = \"2026-10-31\"\n").expect("valid");
    assert_eq!(settings.policy.eol[&(3, 10)].0, Date::ymd(2026, 10, 31));
    let error =
        parse("[policy.eol]\n\"3\" = \"2026-10-31\"\n\"3.11\" = \"soon\"\n").expect_err("invalid");
    let lines = messages(&error);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines[0].starts_with("pyimage.toml:2:1:"), "{lines:#?}");
    assert!(
        lines[1].starts_with("pyimage.toml:3:10:") && lines[1].contains("soon"),
        "{lines:#?}"
    );
}

#[test]
fn misspelt_rule_names_get_a_suggestion() {
    let error = parse("[rules]\nfloatng-tag = \"warn\"\n\n[[ignore]]\nrules = [\"PY0006\"]\nreason = \"legacy\"\n")
        .expect_err("invalid");
    let lines = messages(&error);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].starts_with("pyimage.toml:2:1:")
            && lines[0].contains("no such rule; did you mean PY003 (floating-tag)?"),
        "{lines:#?}"
    );
    assert!(
        lines[1].contains("did you mean PY006 (end-of-life)?"),
        "{lines:#?}"
    );
    let overrides = Overrides {
        environment: None,
        severities: vec![("lates".into(), Severity::Deny)],
    };
    let error = Settings::builtin(&overrides).expect_err("invalid");
    assert_eq!(
        messages(&error),
        ["--deny lates: no such rule; did you mean PY002 (latest)?"]
    );
}

#[test]
fn store_section() {
    let settings = Settings::parse(
        "[store]\nurl = \"postgres://pyimage@db/pyimage\"\n",
        "pyimage.toml",
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        settings.store.url.as_deref(),
        Some("postgres://pyimage@db/pyimage")
    );
    let error = Settings::parse(
        "[store]\nurl = \"mysql://db\"\nretention = 3\n",
        "pyimage.toml",
        &Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("pyimage.toml:2:7"), "{error}");
    assert!(
        error.contains("is not sqlite:PATH or postgres://"),
        "{error}"
    );
    assert!(error.contains("retention"), "{error}");
}

#[test]
fn update_controls_per_environment() {
    let settings = parse(
        "[environments.prod]\ncooldown = \"7d\"\npromote-from = \"test\"\npromote-after = \"3d\"\n\
         promote-lock = \"../test/pyimage.lock\"\n[environments.test]\ncooldown = \"12h\"\n",
    )
    .unwrap();
    let prod = &settings.policy.environments["prod"];
    assert_eq!(
        prod.cooldown,
        Some(std::time::Duration::from_secs(7 * 86_400))
    );
    assert_eq!(
        prod.promotion,
        Some(Promotion {
            from: "test".to_owned(),
            after: std::time::Duration::from_secs(3 * 86_400),
            lock: Some("../test/pyimage.lock".to_owned()),
        })
    );
    let test = &settings.policy.environments["test"];
    assert_eq!(
        test.cooldown,
        Some(std::time::Duration::from_secs(12 * 3_600))
    );
    assert_eq!(test.promotion, None);
    let error = parse(
        "[environments.prod]\ncooldown = \"a week\"\npromote-after = \"3d\"\n\
         [environments.test]\npromote-from = \"test\"\n",
    )
    .unwrap_err();
    let text = messages(&error).join("\n");
    assert!(
        text.contains("pyimage.toml:2:12") && text.contains("cooldown = \"a week\""),
        "{text}"
    );
    assert!(text.contains("promote-after needs promote-from"), "{text}");
    assert!(text.contains("names this environment"), "{text}");
}

#[test]
fn trust_section() {
    let settings = Settings::parse(
        "[trust]\npython_org = \"http://127.0.0.1:8080/ftp/python/\"\ntrusted_root = \"root.json\"\n\
         [trust.python_lines.\"3.18\"]\nidentity = \"someone@python.org\"\nissuer = \"https://github.com/login/oauth\"\n",
        "pyimage.toml",
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        settings.trust.python_org.as_deref(),
        Some("http://127.0.0.1:8080/ftp/python")
    );
    assert_eq!(settings.trust.trusted_root.as_deref(), Some("root.json"));
    assert_eq!(
        settings.trust.python_lines,
        [(
            "3.18".to_owned(),
            "someone@python.org".to_owned(),
            "https://github.com/login/oauth".to_owned()
        )]
    );
    let error = Settings::parse(
        "[trust]\npython_org = \"ftp://x\"\n[trust.python_lines.\"3.x\"]\nidentity = \"a\"\nissuer = \"b\"\n\
         [trust.python_lines.\"3.19\"]\nidentity = \"a\"\n",
        "pyimage.toml",
        &Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("is not an http(s) URL"), "{error}");
    assert!(error.contains("\"3.x\" is not a release line"), "{error}");
    assert!(error.contains("needs both identity"), "{error}");
}

#[test]
fn signature_rules_and_keys() {
    let settings = parse(
        "[trust.keys]\nacme = \"keys/acme.pub\"\n\
         [[trust.signatures]]\nimages = [\"registry.acme.example/python/*\"]\nkeys = [\"acme\", \"dhi\"]\n\
         environments = [\"prod\"]\ntransparency_log = true\n\
         [[trust.signatures]]\nimages = [\"dhi.io/python\"]\nkeys = [\"dhi\"]\n",
    )
    .unwrap();
    assert_eq!(settings.trust.keys.len(), 1);
    assert_eq!(settings.trust.keys[0].name, "acme");
    assert_eq!(settings.trust.keys[0].path, "keys/acme.pub");
    assert_eq!(settings.trust.keys[0].at, "pyimage.toml:2");
    let rules = &settings.policy.signatures;
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].keys, ["acme", "dhi"]);
    assert!(rules[0].transparency_log);
    assert_eq!(rules[0].at, "pyimage.toml:3");
    let ours =
        pyimage_model::Reference::parse_normalized("registry.acme.example/python/python:3.12")
            .unwrap();
    let dhi = pyimage_model::Reference::parse_normalized("dhi.io/python:3.13").unwrap();
    assert_eq!(
        settings
            .policy
            .signature_rule("prod", &ours)
            .map(|r| r.at.as_str()),
        Some("pyimage.toml:3")
    );
    assert!(settings.policy.signature_rule("dev", &ours).is_none());
    assert_eq!(
        settings
            .policy
            .signature_rule("dev", &dhi)
            .map(|r| r.at.as_str()),
        Some("pyimage.toml:8")
    );

    let error = parse(
        "[trust.keys]\ndhi = \"mine.pub\"\n[[trust.signatures]]\nimages = [\"x.example/p\"]\nkeys = [\"acme\"]\n\
         environments = [\"qa\"]\n[[trust.signatures]]\nkeys = []\n",
    )
    .unwrap_err();
    let messages = messages(&error);
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("pyimage.toml:2:7: [trust.keys] \"dhi\" is built in")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("no key named \"acme\"")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("unknown environment \"qa\"")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("needs `images`")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("must name at least one key")),
        "{messages:?}"
    );
}

#[test]
fn trust_tuf_keys() {
    let settings = Settings::parse(
        "[trust]\ntuf_url = \"https://tuf.example/sigstore/\"\ntuf_root = \"tuf/root.json\"\n",
        "pyimage.toml",
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        settings.trust.tuf_url.as_deref(),
        Some("https://tuf.example/sigstore")
    );
    assert_eq!(settings.trust.tuf_root.as_deref(), Some("tuf/root.json"));
    let settings = Settings::parse(
        "[trust]\ntuf_url = \"none\"\n",
        "pyimage.toml",
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(settings.trust.tuf_url.as_deref(), Some("none"));
    let error = Settings::parse(
        "[trust]\ntuf_url = \"tuf-repo-cdn.sigstore.dev\"\n",
        "pyimage.toml",
        &Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("pyimage.toml:2:11")
            && error.contains("neither an http(s) URL nor \"none\""),
        "{error}"
    );
}

#[test]
fn a_namespace_known_by_name_gets_the_environment_of_its_scope() {
    let settings = parse(
        "[environments.prod]\n[environments.qa]\n\n\
         [[namespaces]]\nlabels = { tier = \"prod\" }\nenvironment = \"prod\"\n\n\
         [[namespaces]]\nlabels = { \"kubernetes.io/metadata.name\" = \"payments\" }\nenvironment = \"prod\"\n\n\
         [[namespaces]]\nmatch = \"prod-*\"\nlabels = { \"kubernetes.io/metadata.name\" = \"prod-eu\" }\nenvironment = \"prod\"\n\n\
         [[namespaces]]\nmatch = \"qa-*\"\nenvironment = \"qa\"\n",
    )
    .expect("valid");
    let mut forced = settings.policy.clone();
    forced.environment_override = Some(("qa".into(), Origin::CommandLine("--env qa".into())));
    for policy in [&settings.policy, &forced] {
        for name in ["payments", "prod-eu", "prod-us", "qa-1", "tier", "", "dev"] {
            assert_eq!(
                policy.namespace_environment(name),
                policy
                    .environment_of(&crate::admission::namespace_scope(name))
                    .0,
                "{name}"
            );
        }
    }
    assert_eq!(settings.policy.namespace_environment("payments"), "prod");
    assert_eq!(settings.policy.namespace_environment("prod-us"), "dev");
    assert_eq!(settings.policy.namespace_environment("qa-1"), "qa");
}
