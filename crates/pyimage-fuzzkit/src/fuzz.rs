//! The fuzz harness (issue 15, "fuzz targets"): a target runs on generated input — random text built from a
//! format's own tokens ([`crate::tokens`]) mixed with arbitrary characters — and must return (an answer or an error)
//! without panicking, within a peak heap linear in the input ([`Budget`]), measured by [`crate::meter`].
//! `PYIMAGE_FUZZ_CASES` sets the cases per target (default 1000; CI runs that). The inputs come from a fixed seed, so
//! CI judges the same inputs every run; `PYIMAGE_FUZZ_SEED=random` (or a number) explores others, and a failure names
//! its seed.
//!
//! There is no wall-clock guard: an input that makes a parser loop for ever is caught by the test run's own time
//! limit, and the blow-ups found so far (exponential ARG expansion, one `String` per character, re-read YAML merges,
//! YAML positions) all held memory in proportion to their work, which the budget bounds — on generated inputs and
//! on the same inputs repeated to [`SCALED_LEN`] bytes.

use std::io::Write as _;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

use crate::meter;

/// The generator's seed: [`SEED`] unless `PYIMAGE_FUZZ_SEED` says `random` or another number.
pub fn seed() -> u64 {
    match std::env::var("PYIMAGE_FUZZ_SEED").as_deref() {
        Ok("random") => rand_seed(),
        Ok(number) => number
            .parse()
            .expect("PYIMAGE_FUZZ_SEED: random or a number"),
        Err(_) => SEED,
    }
}

/// The fixed seed CI runs with.
pub const SEED: u64 = 20_261_130;

/// A seed from the clock, for exploring (and shown on failure, to replay).
fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(SEED, |elapsed| elapsed.as_nanos() as u64)
}

/// Cases per target: `PYIMAGE_FUZZ_CASES`, default 1000.
pub fn cases() -> u32 {
    std::env::var("PYIMAGE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// Text made of `tokens` and arbitrary characters, up to `max` pieces.
pub fn text_of(tokens: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(tokens).prop_map(str::to_owned),
            1 => any::<char>().prop_map(String::from),
            1 => "[a-z0-9.:@/_-]{1,12}",
        ],
        0..max,
    )
    .prop_map(|pieces| pieces.concat())
}

/// How a target's memory is judged: the most heap it may hold at once is a fixed allowance (tables, a rendered
/// message, an expansion's 64 KiB result cap) plus a small multiple of the input; and whether its inputs are also
/// measured repeated (see [`SCALE_EVERY`]).
#[derive(Clone, Copy)]
pub struct Budget {
    /// Heap allowed per byte of input, beyond [`Budget::FIXED`].
    pub per_input_byte: usize,
    /// Whether inputs are also measured repeated (see [`SCALE_EVERY`]).
    pub repeat: bool,
}

impl Budget {
    /// Heap allowed whatever the input (tables, a rendered message, an expansion's 64 KiB result cap).
    pub const FIXED: usize = 256 * 1024;
    /// The parsers written here, and YAML in block style.
    pub const PARSER: Budget = Budget {
        per_input_byte: 64,
        repeat: true,
    };
    /// The lock and `pyimage.toml`: the toml crate's spanned document holds up to ~77 bytes per byte, valid
    /// (`[[paths]]` tables) or not (a file of `=`).
    pub const TOML: Budget = Budget {
        per_input_byte: 128,
        repeat: true,
    };
    /// JSON (and YAML in flow style): saphyr tokenizes a flow collection ahead of its events, about 57 bytes per
    /// byte of a one-line Kubernetes `List` (block style: next to nothing).
    pub const FLOW: Budget = Budget {
        per_input_byte: 128,
        repeat: true,
    };
    /// Generated documents whose structure a repetition would break (a target that asserts they parse).
    pub const STRUCTURED: Budget = Budget {
        per_input_byte: 64,
        repeat: false,
    };

    /// The most heap an input of `len` bytes may take.
    pub fn allows(self, len: usize) -> usize {
        Self::FIXED + self.per_input_byte * len
    }
}

/// Every this many cases, the input is also repeated to at least [`SCALED_LEN`] bytes and measured again: generated
/// inputs are small, and linear memory shows only on large ones (a repeated `ARG A=${A}${A}` line is the doubling
/// bomb; repeated `<<: [*a, *a]` the merge-key bomb).
pub const SCALE_EVERY: usize = 8;
/// The least length a repeated input is measured at (see [`SCALE_EVERY`]).
pub const SCALED_LEN: usize = 32 * 1024;

/// What one target used at most: (peak heap, input length) for generated and for scaled inputs.
#[derive(Default, Clone, Copy)]
struct Largest {
    generated: (usize, usize),
    scaled: (usize, usize),
}

/// Runs `target` on `cases()` inputs of `strategy` and on repeated ones (see [`SCALE_EVERY`]); a panic or a peak
/// heap over [`Budget::PARSER`] fails with the input. The largest peaks are printed.
pub fn fuzz(name: &str, strategy: impl Strategy<Value = String>, target: impl Fn(&str)) {
    fuzz_measured(name, strategy, Budget::PARSER, |text| {
        target(text);
        0
    });
}

/// [`fuzz`] with its own [`Budget`], for a target that returns how many bytes of results it may legitimately hold
/// beyond it (`check_file`'s findings: each carries its message, fix and decisions).
pub fn fuzz_measured(
    name: &str,
    strategy: impl Strategy<Value = String>,
    budget: Budget,
    target: impl Fn(&str) -> usize,
) {
    let seed = seed();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    });
    let largest = std::cell::Cell::new(Largest::default());
    let case = std::cell::Cell::new(0usize);
    let result = runner.run(&strategy, |input| {
        case.set(case.get() + 1);
        let scaled = (budget.repeat && case.get().is_multiple_of(SCALE_EVERY) && !input.is_empty())
            .then(|| input.repeat(SCALED_LEN.div_ceil(input.len())));
        for (text, is_scaled) in
            std::iter::once((&input, false)).chain(scaled.as_ref().map(|s| (s, true)))
        {
            let (results, peak) = meter::measure(|| target(text));
            let shown: String = text.chars().take(2000).collect();
            prop_assert!(
                peak <= budget.allows(text.len()) + results,
                "{name}: {peak} bytes of heap for {} bytes of input ({results} for results): {shown:?}",
                text.len()
            );
            let mut seen = largest.get();
            let slot = if is_scaled {
                &mut seen.scaled
            } else {
                &mut seen.generated
            };
            if peak > slot.0 {
                *slot = (peak, text.len());
            }
            largest.set(seen);
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{name}: {error} (replay: PYIMAGE_FUZZ_SEED={seed})");
    }
    let Largest { generated, scaled } = largest.get();
    // Written past the harness's capture: CI's log keeps each target's figures.
    let _ = writeln!(
        std::io::stderr(),
        "{name}: largest peak heap {} bytes for {} generated bytes; {} bytes for {} repeated bytes",
        generated.0,
        generated.1,
        scaled.0,
        scaled.1
    );
}
