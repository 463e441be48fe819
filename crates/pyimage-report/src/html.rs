//! The HTML document: a header, then the drift timelines, the stale pins (worst first) and the admission summary.
//! Server-rendered, readable without script, narrow screens included (wide tables scroll inside their own box).
//! Elements carry `data-*` attributes with the raw facts (tag, counts, digests) for tests and scrapers.

use std::fmt::Write as _;

use pyimage_model::time::rfc3339_utc;

use crate::escape::{escape, short_digest};
use crate::palette::{BACKGROUND, BAD, BAND, GOOD, KIND_COLOURS, MUTED, TEXT, kind_colour};
use crate::svg::{kind_label, kind_slug, timeline_svg};
use crate::{AdmissionSection, ChainSection, Outcome, Report, StaleSection, TagMove, Timeline};
use pyimage_policy::chain::Status;

const DAY: u64 = 86_400;
/// Package changes shown per move in tables and hover text; the rest is counted.
const TOP_PACKAGES: usize = 3;

/// The whole page.
pub fn render(report: &Report) -> String {
    let now = report.generated_at;
    let mut page = String::with_capacity(16 * 1024);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{css}</style></head><body><main>\
         <h1>{title}</h1><p class=\"muted\">Generated {generated} from {source}.</p>",
        title = escape(&report.title),
        css = stylesheet(),
        generated = rfc3339_utc(now),
        source = escape(&report.source),
    );
    drift_section(&mut page, &report.timelines, now);
    if let Some(stale) = &report.stale {
        stale_section(&mut page, stale, now);
    }
    if let Some(chains) = &report.chains {
        chain_section(&mut page, chains);
    }
    if let Some(admission) = &report.admission {
        admission_section(&mut page, admission);
    }
    page.push_str("</main></body></html>\n");
    page
}

fn drift_section(page: &mut String, timelines: &[Timeline], now: u64) {
    page.push_str("<section id=\"drift\"><h2>Tag drift</h2>");
    if timelines.is_empty() {
        page.push_str("<p>No tags are watched yet: run <code>pyimage watch</code>.</p></section>");
        return;
    }
    page.push_str("<ul class=\"legend\" aria-label=\"Kinds of moves\">");
    for (kind, colour) in KIND_COLOURS {
        let _ = write!(
            page,
            "<li><span class=\"swatch\" style=\"background:{colour}\"></span>{}</li>",
            kind_label(kind)
        );
    }
    page.push_str("</ul>");
    for (index, timeline) in timelines.iter().enumerate() {
        let within = |days: u64| {
            timeline
                .moves
                .iter()
                .filter(|step| step.at + days * DAY >= now)
                .count()
        };
        let (last30, last90) = (within(30), within(90));
        let _ = write!(
            page,
            "<article class=\"tag\" data-tag=\"{reference}\" data-moves=\"{total}\" data-moves-30d=\"{last30}\" \
             data-moves-90d=\"{last90}\" data-current=\"{current}\"><h3>{reference}</h3><p>",
            reference = escape(&timeline.reference),
            total = timeline.moves.len(),
            current = escape(timeline.current_digest.as_deref().unwrap_or("")),
        );
        match &timeline.current_digest {
            Some(digest) => {
                let _ = write!(page, "Now {}", digest_html(digest));
            }
            None => page.push_str("Current digest unknown"),
        }
        if let Some(python) = &timeline.current_python {
            let _ = write!(page, " (Python {})", escape(python));
        }
        let _ = write!(
            page,
            ". <strong>{last30}</strong> move(s) in the last 30 days, <strong>{last90}</strong> in the last 90, \
             {} in all.</p>",
            timeline.moves.len()
        );
        // On a narrow screen the picture keeps a legible size and scrolls sideways inside its own box.
        page.push_str("<div class=\"scroll\">");
        page.push_str(&timeline_svg(timeline, now, &format!("timeline-{index}")));
        page.push_str("</div>");
        moves_table(page, timeline);
        page.push_str("</article>");
    }
    page.push_str("</section>");
}

fn moves_table(page: &mut String, timeline: &Timeline) {
    if timeline.moves.is_empty() {
        return;
    }
    let _ = write!(
        page,
        "<details><summary>All {} move(s) of {}</summary><div class=\"scroll\"><table>\
         <thead><tr><th scope=\"col\">When</th><th scope=\"col\">Kind</th><th scope=\"col\">From → to</th>\
         <th scope=\"col\">Python</th><th scope=\"col\">Packages</th></tr></thead><tbody>",
        timeline.moves.len(),
        escape(&timeline.reference)
    );
    for step in timeline.moves.iter().rev() {
        let _ = write!(
            page,
            "<tr data-kind=\"{slug}\"><td>{when}</td><td style=\"color:{colour}\">{kind}</td><td>{from} → {to}</td>\
             <td>{python}</td><td>{packages}</td></tr>",
            slug = kind_slug(step.kind),
            when = rfc3339_utc(step.at),
            colour = kind_colour(step.kind),
            kind = kind_label(step.kind),
            from = step
                .old_digest
                .as_deref()
                .map_or("(first seen)".to_owned(), digest_html),
            to = digest_html(&step.new_digest),
            python = escape(&python_change(step)),
            packages = escape(&package_summary(step)),
        );
    }
    page.push_str("</tbody></table></div></details>");
}

/// The hover text of one mark: when, kind, old → new digest, Python, top package changes.
pub fn move_title(step: &TagMove) -> String {
    let mut title = format!("{} · {}", rfc3339_utc(step.at), kind_label(step.kind));
    let _ = write!(
        title,
        "\n{} → {}",
        step.old_digest
            .as_deref()
            .map_or("(first seen)".to_owned(), short_digest),
        short_digest(&step.new_digest)
    );
    let python = python_change(step);
    if !python.is_empty() {
        let _ = write!(title, "\nPython {python}");
    }
    let packages = package_summary(step);
    if !packages.is_empty() {
        let _ = write!(title, "\n{packages}");
    }
    title
}

fn python_change(step: &TagMove) -> String {
    match (&step.python_before, &step.python_after) {
        (Some(before), Some(after)) if before != after => format!("{before} → {after}"),
        (_, Some(after)) => after.clone(),
        (Some(before), None) => before.clone(),
        (None, None) => String::new(),
    }
}

fn package_summary(step: &TagMove) -> String {
    let mut shown: Vec<String> = step
        .packages
        .iter()
        .take(TOP_PACKAGES)
        .map(crate::PackageChange::describe)
        .collect();
    if step.packages.len() > TOP_PACKAGES {
        shown.push(format!("and {} more", step.packages.len() - TOP_PACKAGES));
    }
    shown.join("; ")
}

fn stale_section(page: &mut String, stale: &StaleSection, now: u64) {
    let mut pins: Vec<&crate::StalePin> = stale.pins.iter().collect();
    // Worst first: stale before current, then more moves behind, then stale for longer.
    pins.sort_by(|a, b| {
        a.is_current()
            .cmp(&b.is_current())
            .then(b.moves_behind.cmp(&a.moves_behind))
            .then(
                a.stale_since
                    .unwrap_or(u64::MAX)
                    .cmp(&b.stale_since.unwrap_or(u64::MAX)),
            )
            .then(a.reference.cmp(&b.reference))
    });
    let stale_count = pins.iter().filter(|pin| !pin.is_current()).count();
    let _ = write!(
        page,
        "<section id=\"stale\"><h2>Stale pins</h2><p>{stale_count} of {} pin(s) in {} are behind their tag.</p>\
         <div class=\"scroll\"><table><thead><tr><th scope=\"col\">Reference</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Pinned</th><th scope=\"col\">Current</th><th scope=\"col\">Stale since</th>\
         <th scope=\"col\">Moves behind</th></tr></thead><tbody>",
        pins.len(),
        escape(&stale.source)
    );
    for pin in pins {
        let (status, class) = if pin.is_current() {
            ("current", "good")
        } else {
            ("stale", "bad")
        };
        let since = match pin.stale_since {
            Some(at) => format!(
                "{} ({} days)",
                rfc3339_utc(at),
                now.saturating_sub(at) / DAY
            ),
            None if pin.is_current() => String::new(),
            None => "unknown".to_owned(),
        };
        let _ = write!(
            page,
            "<tr data-reference=\"{reference}\" data-status=\"{status}\" data-moves-behind=\"{behind}\">\
             <td><code>{reference}</code></td><td class=\"{class}\">{status}</td><td>{pinned}</td><td>{current}</td>\
             <td>{since}</td><td>{behind}</td></tr>",
            reference = escape(&pin.reference),
            behind = pin.moves_behind,
            pinned = digest_html(&pin.pinned_digest),
            current = pin
                .current_digest
                .as_deref()
                .map_or("unknown".to_owned(), digest_html),
        );
    }
    page.push_str("</tbody></table></div></section>");
}

/// One collapsible table per tag (open when a link is broken): link, status, evidence and what to do.
fn chain_section(page: &mut String, section: &ChainSection) {
    let _ = write!(
        page,
        "<section id=\"chain\"><h2>Chain of trust</h2><p class=\"muted\">{}</p>",
        escape(&section.scope)
    );
    if section.tags.is_empty() {
        page.push_str("<p>No watched tag to show.</p></section>");
        return;
    }
    for tag in &section.tags {
        let count = |status: Status| tag.links.iter().filter(|l| l.status == status).count();
        let broken = count(Status::Broken);
        let _ = write!(
            page,
            "<details class=\"chain\" data-tag=\"{reference}\" data-broken=\"{broken}\"{open}><summary><code>{reference}\
             </code> {digest}: {ok} ok, {broken} broken, {unknown} unknown, {na} not applicable</summary>\
             <div class=\"scroll\"><table><thead><tr><th scope=\"col\">Link</th><th scope=\"col\">Status</th>\
             <th scope=\"col\">Evidence</th></tr></thead><tbody>",
            reference = escape(&tag.reference),
            open = if broken > 0 { " open" } else { "" },
            digest = tag.digest.as_deref().map_or_else(String::new, digest_html),
            ok = count(Status::Ok),
            unknown = count(Status::Unknown),
            na = count(Status::NotApplicable),
        );
        for link in &tag.links {
            let class = match link.status {
                Status::Ok => "good",
                Status::Broken => "bad",
                Status::Unknown | Status::NotApplicable => "",
            };
            let evidence: Vec<String> = link.evidence.iter().map(|e| escape(e)).collect();
            let fix = link.fix.as_deref().map_or_else(String::new, |fix| {
                let label = if link.status == Status::Broken {
                    "Fix"
                } else {
                    "To settle it"
                };
                format!("<br><strong>{label}:</strong> {}", escape(fix))
            });
            let _ = write!(
                page,
                "<tr data-link=\"{id}\" data-status=\"{status}\"><td>{title}</td><td class=\"{class}\">{status}</td>\
                 <td>{evidence}{fix}</td></tr>",
                id = link.link,
                status = link.status.as_str(),
                title = escape(link.title),
                evidence = evidence.join("<br>"),
            );
        }
        page.push_str("</tbody></table></div></details>");
    }
    page.push_str("</section>");
}

fn admission_section(page: &mut String, admission: &AdmissionSection) {
    page.push_str("<section id=\"admission\"><h2>Admission</h2>");
    let mut environments: Vec<(&str, [usize; 4])> = Vec::new();
    for decision in &admission.decisions {
        let slot = match environments
            .iter()
            .position(|(env, _)| *env == decision.environment)
        {
            Some(slot) => slot,
            None => {
                environments.push((&decision.environment, [0; 4]));
                environments.len() - 1
            }
        };
        if let Some((_, counts)) = environments.get_mut(slot) {
            counts[decision.outcome as usize] += 1;
        }
    }
    environments.sort_by(|a, b| a.0.cmp(b.0));
    page.push_str(
        "<h3>Decisions per environment</h3><div class=\"scroll\"><table><thead><tr><th scope=\"col\">Environment</th>\
         <th scope=\"col\">Allowed</th><th scope=\"col\">Warned</th><th scope=\"col\">Patched</th>\
         <th scope=\"col\">Denied</th></tr></thead><tbody>",
    );
    for (environment, [allowed, warned, patched, denied]) in &environments {
        let _ = write!(
            page,
            "<tr data-environment=\"{env}\"><td>{env}</td><td>{allowed}</td><td>{warned}</td><td>{patched}</td>\
             <td>{denied}</td></tr>",
            env = escape(environment)
        );
    }
    page.push_str("</tbody></table></div><h3>Registries</h3><ul>");
    for registry in &admission.registries {
        let (word, class) = if registry.ok {
            ("answers", "good")
        } else {
            ("failing", "bad")
        };
        let _ = write!(
            page,
            "<li data-registry=\"{name}\"><code>{name}</code> <span class=\"{class}\">{word}</span>: {detail}</li>",
            name = escape(&registry.registry),
            detail = escape(&registry.detail)
        );
    }
    page.push_str(
        "</ul><h3>Last decisions</h3><div class=\"scroll\"><table><thead><tr><th scope=\"col\">When</th>\
         <th scope=\"col\">Namespace</th><th scope=\"col\">Object</th><th scope=\"col\">Image</th>\
         <th scope=\"col\">Decision</th><th scope=\"col\">Rule</th></tr></thead><tbody>",
    );
    for decision in &admission.decisions {
        let class = match decision.outcome {
            Outcome::Denied => "bad",
            Outcome::Allowed | Outcome::Patched => "good",
            Outcome::Warned => "",
        };
        let _ = write!(
            page,
            "<tr data-outcome=\"{outcome}\"><td>{when}</td><td>{namespace}</td><td>{object}</td>\
             <td><code>{image}</code></td><td class=\"{class}\">{outcome}</td><td>{rule}</td></tr>",
            outcome = decision.outcome.label(),
            when = rfc3339_utc(decision.at),
            namespace = escape(&decision.namespace),
            object = escape(&decision.object),
            image = escape(&decision.image),
            rule = escape(decision.rule.as_deref().unwrap_or("")),
        );
    }
    page.push_str("</tbody></table></div></section>");
}

/// A digest shortened, with the full one in a tooltip and in the text for copy-paste (visually hidden).
fn digest_html(digest: &str) -> String {
    format!(
        "<code title=\"{full}\" data-digest=\"{full}\">{short}</code>",
        full = escape(digest),
        short = escape(&short_digest(digest))
    )
}

fn stylesheet() -> String {
    format!(
        "body{{margin:0;background:{BACKGROUND};color:{TEXT};font:16px/1.5 system-ui,-apple-system,'Segoe UI',\
         Roboto,'DejaVu Sans',sans-serif}}main{{max-width:72rem;margin:0 auto;padding:1rem}}\
         h1{{font-size:1.6rem;margin:.5rem 0}}h2{{font-size:1.3rem;margin-top:2rem;border-bottom:1px solid {BAND}}}\
         h3{{font-size:1.1rem;margin:1.2rem 0 .3rem;overflow-wrap:anywhere}}.muted{{color:{MUTED}}}\
         code{{font:.9em/1.4 ui-monospace,'DejaVu Sans Mono',monospace;overflow-wrap:anywhere}}\
         svg.timeline{{display:block;width:100%;min-width:34rem;height:auto;max-height:6rem}}\
         .legend{{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem}}\
         .swatch{{display:inline-block;width:.9rem;height:.9rem;border-radius:50%;margin-right:.35rem;\
         vertical-align:-.1rem}}.scroll{{overflow-x:auto}}table{{border-collapse:collapse;width:100%;\
         font-size:.9rem}}th,td{{text-align:left;padding:.3rem .5rem;border-bottom:1px solid {BAND};\
         vertical-align:top}}th{{background:{BAND}}}.good{{color:{GOOD};font-weight:600}}\
         .bad{{color:{BAD};font-weight:600}}details{{margin:.4rem 0 1rem}}summary{{cursor:pointer}}"
    )
}
