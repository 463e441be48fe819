//! Announcing moves: one JSON document per recorded event ([`Payload`]), POSTed to each `--notify` URL with a
//! timeout and retries. Deliveries run beside polling and never stall it; failures are counted and logged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pyimage_policy::sbom::PackageChange;
use pyimage_store::Event;
use serde::Serialize;

use super::facts::{Changes, TagState};

/// The JSON document announcing one move.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payload {
    /// `docker.io/library/python`.
    pub repository: String,
    /// `3.12-slim`.
    pub tag: String,
    /// `new-tag`, `rebuild`, `patch`, `newer-line`, `other` or `removed`.
    pub kind: String,
    /// Index digest before.
    pub from: Option<String>,
    /// Index digest after.
    pub to: Option<String>,
    /// Python before.
    pub python_from: Option<String>,
    /// Python after.
    pub python_to: Option<String>,
    /// When it was seen (RFC 3339 UTC).
    pub observed_at: String,
    /// Per-platform manifest digests after the move (never the index digest).
    pub platforms: std::collections::BTreeMap<String, String>,
    /// The base image digest after the move.
    pub base_digest: Option<String>,
    /// The docker-library/python commit after.
    pub commit: Option<String>,
    /// Packages added, removed, upgraded or downgraded (of `packages_platform`).
    pub packages: Vec<PackageChange>,
    /// The platform whose SBOM the package changes come from.
    pub packages_platform: Option<String>,
    /// One line for chat tools (Slack-compatible `text`).
    pub text: String,
    /// Attestations left out of this move, and why (an SBOM over the size limit).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

impl Payload {
    /// The payload of a recorded event.
    pub fn of(event: &Event) -> Payload {
        let state: TagState = serde_json::from_value(event.state.clone()).unwrap_or_default();
        let changes: Changes = serde_json::from_value(event.changes.clone()).unwrap_or_default();
        Payload {
            repository: event.repository.clone(),
            tag: event.tag.clone(),
            kind: event.kind.clone(),
            from: event.from_digest.clone(),
            to: event.to_digest.clone(),
            python_from: event.python_from.clone(),
            python_to: event.python_to.clone(),
            observed_at: event.observed_at.clone(),
            unread: state.unread,
            platforms: state.platforms,
            base_digest: state.base_digest,
            commit: state.commit,
            text: summary(event, &changes.packages),
            packages: changes.packages,
            packages_platform: changes.packages_platform,
        }
    }
}

/// `python:3.12-slim rebuild sha256:aaaa… → sha256:bbbb… (Python 3.12.14 → 3.12.14; 3 packages changed)`, as
/// Slack mrkdwn ([`mrkdwn`]).
pub fn summary(event: &Event, packages: &[PackageChange]) -> String {
    let short = |d: &Option<String>| match d {
        Some(d) => d.chars().take(19).collect::<String>() + "…",
        None => "(none)".to_owned(),
    };
    let python = match (&event.python_from, &event.python_to) {
        (Some(a), Some(b)) if a != b => format!("Python {a} → {b}"),
        (_, Some(b)) => format!("Python {b}"),
        (Some(a), None) => format!("Python {a}"),
        (None, None) => "Python unknown".to_owned(),
    };
    let text = format!(
        "{}:{} {} {} → {} ({python}; {} package{} changed)",
        event
            .repository
            .strip_prefix("docker.io/library/")
            .unwrap_or(&event.repository),
        event.tag,
        event.kind,
        short(&event.from_digest),
        short(&event.to_digest),
        packages.len(),
        if packages.len() == 1 { "" } else { "s" },
    );
    mrkdwn(&text)
}

/// `text` safe in a Slack message: `&`, `<` and `>` escaped as Slack asks (so `<!channel>` or a `<url|label>` in
/// registry text is shown, not acted on), and control characters (a newline) written as `\u{…}`.
pub fn mrkdwn(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// One `--notify` URL: what is POSTed to, and how it may be shown. A webhook URL is a secret (Slack's carries its
/// token in the path, others `user:password@` or `?token=`): logs and messages name its scheme, host and port only.
#[derive(Debug, Clone)]
pub struct Webhook {
    url: reqwest::Url,
    shown: String,
}

impl Webhook {
    /// Parses a `--notify` URL: `http://` or `https://` with a host, nothing else.
    pub fn parse(text: &str) -> Result<Webhook, String> {
        let refused = |why: &str| {
            format!(
                "--notify {:?}: {why}; give an http:// or https:// URL (or - for JSON lines on stdout)",
                shown_of_text(text)
            )
        };
        let url = reqwest::Url::parse(text).map_err(|e| refused(&format!("not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refused(&format!(
                "scheme {}: is not http or https",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(refused("no host"));
        }
        let shown = shown_of(&url);
        Ok(Webhook { url, shown })
    }

    /// `https://hooks.example.com:443/…`: how the webhook is named in logs and messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

fn shown_of(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}/…", url.scheme()),
        None => format!("{}://{host}/…", url.scheme()),
    }
}

/// A URL that did not parse, shown without what could be a secret: up to the host at most.
fn shown_of_text(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            + "…";
    };
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = host.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{host}/…")
}

/// A reqwest error without the URL it names (the URL is the secret), with its causes: `connection refused`.
fn cause(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Delivers payloads to webhooks: each POST has a timeout, failures are retried with backoff, and deliveries run in
/// background tasks ([`Notifier::finish`] waits for them, up to a deadline). Redirects are never followed: a 302
/// would turn the POST into a bodyless GET, a 307 would re-send the payload to whatever host the receiver names; a
/// redirect is a failed delivery that says where it pointed.
#[derive(Clone)]
pub struct Notifier {
    http: reqwest::Client,
    webhooks: Vec<Webhook>,
    retries: u32,
    backoff: Duration,
    failed: Arc<AtomicU64>,
    delivered: Arc<AtomicU64>,
    tasks: Arc<tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Notifier {
    /// A notifier for webhook URLs (each checked by [`Webhook::parse`]): `timeout` per attempt, `retries` after the
    /// first attempt, doubling `backoff`.
    pub fn new(
        urls: Vec<String>,
        timeout: Duration,
        retries: u32,
        backoff: Duration,
    ) -> Result<Self, String> {
        let webhooks = urls
            .iter()
            .map(|url| Webhook::parse(url))
            .collect::<Result<Vec<_>, _>>()?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the webhook client: {e}"))?;
        Ok(Notifier {
            http,
            webhooks,
            retries,
            backoff,
            failed: Arc::default(),
            delivered: Arc::default(),
            tasks: Arc::default(),
        })
    }

    /// Starts delivering one payload to every URL; returns at once.
    pub async fn send(&self, payload: &Payload) {
        let mut tasks = self.tasks.lock().await;
        tasks.retain(|t| !t.is_finished());
        for webhook in &self.webhooks {
            let (http, webhook, body) = (self.http.clone(), webhook.clone(), payload.clone());
            let (retries, backoff) = (self.retries, self.backoff);
            let (failed, delivered) = (Arc::clone(&self.failed), Arc::clone(&self.delivered));
            tasks.push(tokio::spawn(async move {
                let host = webhook.shown();
                let mut delay = backoff;
                for attempt in 0..=retries {
                    match http.post(webhook.url.clone()).json(&body).send().await {
                        Ok(response) if response.status().is_success() => {
                            delivered.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        Ok(response) if response.status().is_redirection() => {
                            let to = response
                                .headers()
                                .get(reqwest::header::LOCATION)
                                .and_then(|l| l.to_str().ok())
                                .map_or_else(|| "nowhere".to_owned(), shown_of_text);
                            tracing::warn!(
                                webhook = %host, status = %response.status(), to = %to, attempt,
                                "webhook answered with a redirect, which pyimage does not follow: give --notify the final URL"
                            );
                        }
                        Ok(response) => {
                            tracing::warn!(webhook = %host, status = %response.status(), attempt, "webhook refused a notification")
                        }
                        Err(error) => tracing::warn!(webhook = %host, error = %cause(error), attempt, "webhook delivery failed"),
                    }
                    if attempt < retries {
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                }
                failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(webhook = %host, tag = %body.tag, "notification not delivered after {} attempts", retries + 1);
            }));
        }
    }

    /// Waits for every delivery in flight, for at most `within` when given (stopping on SIGTERM: Kubernetes kills
    /// 30 s after it); a delivery still running then is abandoned and counted as failed.
    pub async fn finish(&self, within: Option<Duration>) {
        let tasks: Vec<_> = std::mem::take(&mut *self.tasks.lock().await);
        let deadline = within.map(|d| tokio::time::Instant::now() + d);
        for mut task in tasks {
            let done = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, &mut task).await.is_ok(),
                None => {
                    let _ = (&mut task).await;
                    true
                }
            };
            if !done {
                task.abort();
                self.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!("notification not delivered: stopping before the webhook answered");
            }
        }
    }

    /// `(delivered, failed)` so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.delivered.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_text_shows_mentions_and_links_instead_of_acting_on_them() {
        assert_eq!(
            mrkdwn("3.12 <!channel> <http://x|y> & a\nb"),
            "3.12 &lt;!channel&gt; &lt;http://x|y&gt; &amp; a\\u{a}b"
        );
    }

    #[test]
    fn webhooks_are_http_and_shown_by_host() {
        let hook = Webhook::parse("https://u:p@hooks.example.com/services/T/B/secret?x=1").unwrap();
        assert_eq!(hook.shown(), "https://hooks.example.com/…");
        for bad in ["file:///etc/passwd", "ftp://h/x", "h/x", "http://"] {
            let error = Webhook::parse(bad).unwrap_err();
            assert!(error.contains("--notify"), "{error}");
        }
        let error = Webhook::parse("gopher://u:Secret@h/x").unwrap_err();
        assert!(!error.contains("Secret"), "{error}");
    }
}
