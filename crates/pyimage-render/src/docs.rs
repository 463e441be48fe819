//! The reference pages of the documentation site (`pyimage docs`): one page per command from what its `--help`
//! prints, one page per rule from the rule's metadata, and an index of each. The CLI hands over the commands' help
//! (it owns the command-line definition); the pages' shape is decided here.

use pyimage_policy::check::RULES;

/// One command as `pyimage COMMAND --help` describes it.
#[derive(Debug, Clone)]
pub struct CommandHelp {
    /// The command's name (`check`).
    pub name: String,
    /// Its one-line description.
    pub about: String,
    /// Its long help, as printed.
    pub help: String,
}

/// Every reference page: (path relative to the reference directory, Markdown text).
pub fn reference_pages(commands: &[CommandHelp]) -> Vec<(String, String)> {
    let mut pages = Vec::new();
    let mut index = String::from(
        "# Commands\n\nEvery command, with what `pyimage COMMAND --help` prints. Generated from the command-line \
definition (`pyimage docs`).\n\n| command | what it does |\n|---|---|\n",
    );
    for CommandHelp { name, about, help } in commands {
        index.push_str(&format!("| [`pyimage {name}`]({name}.md) | {about} |\n"));
        pages.push((
            format!("commands/{name}.md"),
            format!(
                "# pyimage {name}\n\n{about}\n\n```text\n{}\n```\n",
                help.trim_end()
            ),
        ));
    }
    pages.push(("commands/index.md".to_owned(), index));
    let mut rules = String::from(
        "# Rules\n\nEvery rule `pyimage check` and the admission webhook apply, with its default severity. \
Generated from the rules' metadata (`pyimage docs`); `pyimage check --explain RULE` prints the same page.\n\n\
| ID | name | default | summary |\n|---|---|---|---|\n",
    );
    for rule in RULES {
        let file = format!("{}-{}.md", rule.id, rule.name);
        rules.push_str(&format!(
            "| [{}]({file}) | `{}` | {} | {} |\n",
            rule.id,
            rule.name,
            rule.default_severity,
            rule.summary.replace('|', "\\|")
        ));
        pages.push((
            format!("rules/{file}"),
            rule.markdown().replacen("#### ", "# ", 1),
        ));
    }
    pages.push(("rules/index.md".to_owned(), rules));
    pages
}
