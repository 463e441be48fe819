//! Issue 15 (#11): locating images in a YAML file keeps memory linear in the input with a small constant. A
//! counting global allocator measures the peak of live heap bytes while a generated multi-megabyte Compose file
//! is scanned ([`meter`]); it was about 30 bytes per input byte (a `usize` per character, a copy of the text, an
//! owned `String` and a 64-bit span per scalar).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::fmt::Write as _;

use pyimage_fuzzkit::meter;
use pyimage_locate::manifests;

/// A Compose file of `services` services in the shape of `scripts/bench-yaml-memory`: plain, quoted and tagged
/// images, lists, comments, environment mappings, merge keys and services that build.
fn compose(services: usize) -> String {
    let tags = [
        "3.12-slim",
        "3.13",
        "3.12.14-slim-trixie",
        "3.11-alpine",
        "latest",
        "3",
    ];
    let mut text =
        String::from("x-common: &common\n  restart: unless-stopped\n  init: true\nservices:\n");
    for i in 0..services {
        let tag = tags[i * 7 % tags.len()];
        let _ = match i % 10 {
            0..3 => write!(
                text,
                "  s{i}:\n    image: python:{tag}\n    restart: unless-stopped\n"
            ),
            3..6 => write!(
                text,
                "  s{i}:\n    image: python:{tag}\n    working_dir: /app\n    environment:\n      PYTHONUNBUFFERED: \"1\"\n"
            ),
            6 => write!(
                text,
                "  s{i}:\n    image: \"python:{tag}\"\n    ports: [\"80{:02}:80\"]\n    init: true\n",
                i % 100
            ),
            7 => write!(
                text,
                "  s{i}:\n    <<: *common\n    image: 'docker.io/library/python:{tag}'\n    init: true\n"
            ),
            8 => write!(
                text,
                "  s{i}:  # worker {i}\n    image: python:{tag}\n    command: [python, -m, w{i}]\n    init: true\n"
            ),
            _ => write!(text, "  s{i}:\n    build: .\n    image: example/app{i}:1\n"),
        };
    }
    text
}

/// The peak heap of locating the images of `text` (handed out one at a time, as `check` takes them), per input
/// byte.
fn peak_per_input_byte(text: &str) -> f64 {
    let mut images = 0;
    let (scan, peak) = meter::measure(|| {
        manifests::scan_each(
            manifests::ManifestKind::Compose,
            text,
            manifests::ScanInputs::default(),
            &mut |image| {
                images += 1;
                assert!(image.reference().is_some(), "{image:?}");
            },
        )
    });
    assert_eq!(scan.error, None);
    // Every service but the one in ten that builds.
    assert_eq!(images, 36_000);
    peak as f64 / text.len() as f64
}

/// Most heap, per input byte, that locating images may take. Measured: 4.6, ASCII or not; with the YAML reader
/// before issue 15 #11 (and the images handed out the same way), 30.6.
const MAX_PER_INPUT_BYTE: f64 = 8.0;

pyimage_fuzzkit::measured_tests! {
    #[test]
    fn locating_images_in_a_large_compose_file_takes_a_small_constant_per_input_byte() {
        let ascii = compose(40_000);
        assert!(ascii.len() > 3_000_000, "{}", ascii.len());
        let per_byte = peak_per_input_byte(&ascii);
        assert!(
            per_byte <= MAX_PER_INPUT_BYTE,
            "ASCII text: {per_byte:.2} bytes per input byte"
        );
        // Characters of several bytes take the other path from characters to bytes.
        let accented = ascii.replace("# worker", "# trabajador ñandú ☕ 😀");
        let per_byte = peak_per_input_byte(&accented);
        assert!(
            per_byte <= MAX_PER_INPUT_BYTE,
            "non-ASCII text: {per_byte:.2} bytes per input byte"
        );
    }
}
