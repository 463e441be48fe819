//! `pyimage completions` and `pyimage man`: generated from the binary's own clap definition, so they are tested for
//! what a user does with them — bash loads the script and completes subcommands, and every command has a page.

use std::process::Command;

use crate::support::{pyimage, stdout, tempdir};

/// The subcommands `pyimage --help` lists (the ground truth the generated files must cover).
fn subcommands() -> Vec<String> {
    let help = stdout(&pyimage().run(&["--help"]));
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_loads_the_completion_script_and_completes_every_subcommand() {
    let output = pyimage().run(&["completions", "bash"]);
    assert!(output.status.success(), "{output:?}");
    let dir = tempdir("completions");
    let script = dir.path().join("pyimage.bash");
    std::fs::write(&script, &output.stdout).unwrap();
    // What bash's programmable completion does on `pyimage <TAB>`: the completion function fills COMPREPLY.
    let probe = format!(
        "source {}; COMP_WORDS=(pyimage ''); COMP_CWORD=1; COMP_LINE='pyimage '; COMP_POINT=8; \
         _pyimage pyimage '' pyimage; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let completed = Command::new("bash").args(["-c", &probe]).output().unwrap();
    assert!(completed.status.success(), "{completed:?}");
    let words = String::from_utf8(completed.stdout).unwrap();
    let words: Vec<&str> = words.lines().collect();
    let expected = subcommands();
    assert!(expected.len() >= 10, "{expected:?}");
    for name in &expected {
        assert!(
            words.contains(&name.as_str()),
            "{name} not completed: {words:?}"
        );
    }
}

#[test]
fn every_shell_gets_a_script_naming_the_commands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = pyimage().run(&["completions", shell]);
        assert!(output.status.success(), "{shell}: {output:?}");
        let script = stdout(&output);
        assert!(script.contains("provenance"), "{shell}: {script}");
    }
    let bad = pyimage().run(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn man_writes_one_page_per_command_with_its_options() {
    let dir = tempdir("man");
    let output = pyimage().run(&["man", "--out", dir.path().to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let top = std::fs::read_to_string(dir.path().join("pyimage.1")).unwrap();
    assert!(top.contains(".TH pyimage 1"), "{top}");
    for name in subcommands() {
        let page = dir.path().join(format!("pyimage-{name}.1"));
        let text = std::fs::read_to_string(&page)
            .unwrap_or_else(|error| panic!("{}: {error}", page.display()));
        assert!(text.contains(&format!(".TH pyimage-{name} 1")), "{text}");
        assert!(text.contains("pyimage 0."), "footer names pyimage: {text}");
    }
    let check = std::fs::read_to_string(dir.path().join("pyimage-check.1")).unwrap();
    assert!(check.contains("locked"), "{check}");
    // Without --out the top-level page goes to standard output.
    assert!(stdout(&pyimage().run(&["man"])).contains(".TH pyimage 1"));
}

/// The documentation site's reference pages (`docs/reference/`) are exactly what `pyimage docs` writes today: one
/// page per command (from the clap definition), one per rule (from its metadata), and their indexes. A changed
/// option, help text or rule without regenerated pages fails here; so does a page left for a command that is gone.
/// The pages do not depend on the environment that generates them (an option's `env` value is not shown).
#[test]
fn the_documentation_reference_pages_are_fresh() {
    let dir = tempdir("docs-reference");
    let output = pyimage()
        .env("PYIMAGE_TODAY", "2001-02-03")
        .env("PYIMAGE_STORE", "postgres://someone:secret@db/h")
        .run(&["docs", "--out", dir.path().to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/reference");
    let list = |root: &std::path::Path| -> Vec<String> {
        let mut files: Vec<String> = ["commands", "rules"]
            .iter()
            .flat_map(|sub| {
                std::fs::read_dir(root.join(sub))
                    .into_iter()
                    .flatten()
                    .map(move |entry| {
                        format!("{sub}/{}", entry.unwrap().file_name().to_string_lossy())
                    })
            })
            .collect();
        files.sort();
        files
    };
    let fresh = list(dir.path());
    assert_eq!(
        list(&committed),
        fresh,
        "docs/reference lists other pages than `pyimage docs` writes: regenerate with \
         `cargo run -p pyimage -- docs --out docs/reference` (after removing docs/reference)"
    );
    for file in &fresh {
        let generated = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(
            !generated.contains("2001-02-03") && !generated.contains("secret"),
            "{file}"
        );
        assert_eq!(
            std::fs::read_to_string(committed.join(file)).unwrap(),
            generated,
            "docs/reference/{file} is stale: regenerate with `cargo run -p pyimage -- docs --out docs/reference`"
        );
    }
    // Every visible command has its page.
    for command in subcommands() {
        assert!(
            fresh.contains(&format!("commands/{command}.md")),
            "{command}"
        );
    }
}
