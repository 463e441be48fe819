//! Headless Chromium (Debian's `chromium`) for the page tests: the DOM Chromium builds from a page after its layout
//! ran, layout facts measured in the page ([`Browser::dom`] with a probe), and screenshots kept as artifacts. A
//! width under 500 px (headless Chromium's narrowest window) is a frame of that width inside the window, which
//! gives the page a phone's layout viewport.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail, ensure};

/// Headless Chromium will not make a window narrower than this.
pub const MIN_WINDOW: u32 = 500;

/// The script a page copy gets to record layout facts in `<html data-layout>` (JSON): the document's scroll width,
/// the viewport width, the width of every `svg.timeline`, the first heading's height.
const PROBE: &str = "<script>document.documentElement.dataset.layout = JSON.stringify({\
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,\
    svgWidths: [...document.querySelectorAll('svg.timeline')].map(s => Math.round(s.getBoundingClientRect().width)),\
    h1: document.querySelector('h1') ? document.querySelector('h1').getBoundingClientRect().height : 0});</script>";

/// Chromium working in one output folder (pages, probes and screenshots are written there and kept).
pub struct Browser {
    output: PathBuf,
    profile: tempfile::TempDir,
}

/// What Chromium made of a page at one width.
pub struct Rendered {
    /// The DOM of the page itself, serialised after load.
    pub dom: String,
    /// The layout facts the probe recorded (see [`PROBE`]).
    pub layout: serde_json::Value,
}

impl Browser {
    /// A browser writing into `output` (created), with a profile of its own.
    pub fn new(output: &Path) -> Result<Browser> {
        std::fs::create_dir_all(output)
            .with_context(|| format!("creating {}", output.display()))?;
        Ok(Browser {
            output: output.to_path_buf(),
            profile: tempfile::tempdir().context("a Chromium profile directory")?,
        })
    }

    fn chromium(&self, window_width: u32, window_height: u32) -> Command {
        let mut command = Command::new("chromium");
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--disable-dev-shm-usage",
                "--allow-file-access-from-files",
            ])
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .arg(format!(
                "--window-size={},{window_height}",
                window_width.max(MIN_WINDOW)
            ));
        command
    }

    fn run(&self, mut command: Command) -> Result<String> {
        let output = command
            .output()
            .context("running chromium (Debian package chromium; scripts/test installs it)")?;
        if !output.status.success() {
            bail!(
                "chromium failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        String::from_utf8(output.stdout).context("chromium's DOM is not UTF-8")
    }

    /// A page that shows `page_name` (a file in the output folder) in a frame `width` px wide and copies the
    /// frame's `data-layout` to its own root element.
    fn framed(&self, page_name: &str, width: u32, name: &str) -> Result<PathBuf> {
        let wrapper = format!(
            "<!DOCTYPE html><html><body style=\"margin:0\"><iframe src=\"{page_name}\" title=\"page\" \
             style=\"width:{width}px;height:2400px;border:0;display:block\" \
             onload=\"document.documentElement.dataset.layout = this.contentDocument.documentElement.dataset.layout || ''\">\
             </iframe></body></html>"
        );
        let path = self.output.join(format!("{name}-frame.html"));
        std::fs::write(&path, wrapper).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// The DOM and layout of `page` (HTML text) at `width` px; `name` names the files kept.
    pub fn render(&self, page: &str, width: u32, name: &str) -> Result<Rendered> {
        let probe_name = format!("{name}-probe.html");
        let probe_path = self.output.join(&probe_name);
        let with_probe = match page.rfind("</body>") {
            Some(at) => format!("{}{PROBE}{}", &page[..at], &page[at..]),
            None => format!("{page}{PROBE}"),
        };
        std::fs::write(&probe_path, with_probe)
            .with_context(|| format!("writing {}", probe_path.display()))?;
        let frame = self.framed(&probe_name, width, name)?;
        let mut framed = self.chromium(width, 1200);
        framed
            .arg("--dump-dom")
            .arg(format!("file://{}", frame.display()));
        let framed_dom = self.run(framed)?;
        let mut direct = self.chromium(width, 1200);
        direct
            .arg("--dump-dom")
            .arg(format!("file://{}", probe_path.display()));
        let dom = self.run(direct)?;
        let start = framed_dom
            .find("data-layout=\"")
            .context("the layout probe did not run")?
            + "data-layout=\"".len();
        let end = start
            + framed_dom[start..]
                .find('"')
                .context("unterminated data-layout")?;
        let layout = serde_json::from_str(&framed_dom[start..end].replace("&quot;", "\""))
            .context("the layout probe's JSON")?;
        Ok(Rendered { dom, layout })
    }

    /// A PNG screenshot of the page file `page_path` (in the output folder) at `width` px, kept as `NAME.png`.
    pub fn screenshot(&self, page_path: &Path, width: u32, name: &str) -> Result<PathBuf> {
        let png = self.output.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&png);
        let target = if width < MIN_WINDOW {
            let file_name = page_path.file_name().context("a page file name")?;
            self.framed(&file_name.to_string_lossy(), width, name)?
        } else {
            page_path.to_path_buf()
        };
        let mut command = self.chromium(width, 2400);
        command
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}", target.display()));
        self.run(command)?;
        let bytes = std::fs::read(&png).with_context(|| format!("reading {}", png.display()))?;
        ensure!(
            bytes.get(1..4) == Some(b"PNG"),
            "{} is not a PNG",
            png.display()
        );
        let png_width = bytes
            .get(16..20)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes);
        ensure!(
            png_width == Some(width.max(MIN_WINDOW)),
            "{}: {png_width:?} px wide",
            png.display()
        );
        Ok(png)
    }
}
