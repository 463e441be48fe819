//! A progress bar for runs that take more than a moment (`pin`, `update`, `watch` polls): references done of those
//! planned, and the last one finished. Drawn on standard error only when it is a terminal, never with `--quiet`,
//! never into a pipe or a CI log; cleared when the command's resolver goes away.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyimage_registry::RegistryClient;
use pyimage_service::Resolver;
use pyimage_service::progress::Progress;

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: no progress bars.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether a bar may be drawn: standard error is a terminal (not `TERM=dumb`) and `--quiet` was not given.
fn wanted() -> bool {
    !QUIET.load(Ordering::Relaxed)
        && std::io::stderr().is_terminal()
        && std::env::var("TERM").map_or(true, |term| term != "dumb")
}

/// A resolver over `client` that draws a bar when one is [`wanted`].
pub fn resolver(client: RegistryClient) -> Resolver {
    let resolver = Resolver::new(client);
    if wanted() {
        resolver.with_progress(Arc::new(Bar::new()))
    } else {
        resolver
    }
}

/// An indicatif bar on standard error, made when work is planned and cleared when it settles (a `watch` run gets
/// one per poll).
#[derive(Default)]
struct Bar(Mutex<Option<indicatif::ProgressBar>>);

impl Bar {
    fn new() -> Bar {
        Bar::default()
    }

    fn with_bar(&self, action: impl FnOnce(&indicatif::ProgressBar)) {
        if let Ok(mut slot) = self.0.lock() {
            let bar = slot.get_or_insert_with(|| {
                let bar = indicatif::ProgressBar::with_draw_target(
                    Some(0),
                    indicatif::ProgressDrawTarget::stderr(),
                );
                let style = indicatif::ProgressStyle::with_template(
                    "{spinner} {pos}/{len} resolved  {wide_msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
                bar.set_style(style);
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            });
            action(bar);
        }
    }
}

impl Progress for Bar {
    fn planned(&self, items: usize) {
        self.with_bar(|bar| bar.inc_length(u64::try_from(items).unwrap_or(u64::MAX)));
    }

    fn finished(&self, item: &str) {
        self.with_bar(|bar| {
            bar.set_message(item.to_owned());
            bar.inc(1);
        });
    }

    fn settled(&self) {
        if let Ok(mut slot) = self.0.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.settled();
    }
}
