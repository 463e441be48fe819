//! Issue 15: hostile Dockerfiles and Compose files must not crash, hang or eat memory. Each case failed before
//! the fix: the ARG doubling chain took 41 s and 19.7 GB at 24 lines (#6), nested `${A:-${A:-…}}` overflowed the
//! stack (#7), one `String` per character made a 100 MB word cost gigabytes (#11), stage lookup was quadratic
//! (#12). Bounds here are on work the test can count — the peak heap ([`meter`]), sizes and counts of results —
//! never on wall-clock time (issue: no assertion on elapsed time in a functional test). Where a blow-up was one of
//! time alone, the case says what guards it now.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pyimage_fuzzkit::meter::{self, MIB, assert_heap};
use pyimage_locate::dockerfile::{self, Evaluation, Unresolvable};
use pyimage_locate::manifests;

/// `ARG A1=${A0}${A0}` … doubling `lines` times.
fn doubling(lines: usize) -> String {
    let mut text = String::from("ARG A0=xxxxxxxxxxxxxxxx\n");
    for i in 1..=lines {
        text.push_str(&format!("ARG A{i}=${{A{}}}${{A{}}}\n", i - 1, i - 1));
    }
    text.push_str(&format!("FROM python:${{A{lines}}}\n"));
    text
}

pyimage_fuzzkit::measured_tests! {
    #[test]
    fn arg_doubling_is_bounded_and_reported_on_its_line() {
        let text = doubling(40);
        let (scan, peak) = meter::measure(|| dockerfile::scan(&text));
        // Each ARG value is capped at 64 KiB, and each use is listed once: this took 87 MB when the uses behind an ARG
        // were copied into every ARG built from it (16,000 of them by the 40th line).
        assert_heap("ARG doubling", peak, 2 * MIB);
        // The 41 s went where the 19.7 GB went (every doubling copied the value), so this bound is also the time
        // guard: it replaces a 10 s wall-clock ceiling. (Longer chains still cost the square of their length: every
        // ARG lists every use behind it, 3.8 MB at 160 lines and 49 MB at 640; see `ArgDefault::args`.)
        let image = scan.images.last().unwrap();
        assert_eq!(image.line, 42);
        match &image.evaluation {
            Evaluation::Unresolvable(Unresolvable::Syntax { message }) => {
                assert!(message.contains("expands to more than"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deeply_nested_defaults_are_an_error_not_a_stack_overflow() {
        for (depth, expected) in [(2_000, "nested"), (20_000, "longer than")] {
            let word = format!("{}python:3.12{}", "${A:-".repeat(depth), "}".repeat(depth));
            let text = format!("FROM {word}\n");
            let (scan, peak) = meter::measure(|| dockerfile::scan(&text));
            assert_heap("nested defaults", peak, MIB + 64 * text.len());
            match &scan.images[0].evaluation {
                Evaluation::Unresolvable(Unresolvable::Syntax { message }) => {
                    assert!(message.contains(expected), "{message}")
                }
                other => panic!("{other:?}"),
            }
        }
        // Shallow nesting still evaluates.
        let scan = dockerfile::scan("FROM ${A:-${B:-${C:-python:3.12}}}\n");
        assert!(
            matches!(&scan.images[0].evaluation, Evaluation::Resolved { text, .. } if text == "python:3.12")
        );
    }

    #[test]
    fn a_huge_word_is_refused_before_it_is_expanded() {
        let text = format!("FROM python:{}\n", "a".repeat(20 * MIB));
        let (scan, peak) = meter::measure(|| dockerfile::scan(&text));
        // Refused before expansion: a copy or two of the word, not the 11.8 GB one `String` per character cost (those
        // allocations were the time, too: the heap bound replaces a 10 s wall-clock ceiling).
        assert_heap("a 20 MiB word", peak, 3 * text.len());
        match &scan.images[0].evaluation {
            Evaluation::Unresolvable(Unresolvable::Syntax { message }) => {
                assert!(message.contains("longer than"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn many_stages_scan_in_linear_work() {
        // 50k stages took 5.6 s with a quadratic lookup (each FROM compared its name with every stage before it). That
        // search allocated nothing, so no heap bound sees it; the lookup is a map since. What this test holds is the
        // rest of linear work: each stage is a result (its image use, its stage, its name) of about a kilobyte, at
        // 12,500 stages as at 50,000. A quadratic search would now only show as a slow run under the test run's own
        // time limit (a 20 s wall-clock ceiling stood here before).
        let stages = |count: usize| {
            let mut text = String::new();
            for i in 0..count {
                text.push_str(&format!("FROM python:3.12 AS s{i}\n"));
            }
            text.push_str(&format!("FROM s{}\n", count - 1));
            text
        };
        let (quarter, quarter_peak) = meter::measure(|| dockerfile::scan(&stages(12_500)));
        let (scan, peak) = meter::measure(|| dockerfile::scan(&stages(50_000)));
        assert_heap("50,000 stages", peak, 2048 * 50_001);
        assert_heap("50,000 stages against 12,500", peak, 5 * quarter_peak);
        assert_eq!(quarter.stages.len(), 12_501);
        assert_eq!(scan.stages.len(), 50_001);
        assert_eq!(
            scan.stages.last().map(|stage| &stage.base),
            Some(&dockerfile::StageBase::Stage(49_999))
        );
    }

    #[test]
    fn deeply_nested_compose_defaults_are_an_error_not_a_stack_overflow() {
        let depth = 20_000;
        let value = format!("{}python:3.12{}", "${A:-".repeat(depth), "}".repeat(depth));
        let text = format!("services:\n  app:\n    image: \"{value}\"\n");
        let (scan, peak) = meter::measure(|| manifests::scan_compose(&text));
        assert_heap("nested Compose defaults", peak, MIB + 64 * text.len());
        let image = &scan.images[0];
        match &image.evaluation {
            Evaluation::Unresolvable(Unresolvable::Syntax { message }) => {
                assert!(message.contains("nested"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        let shallow = manifests::scan_compose(
            "services:\n  app:\n    image: ${A:-${B:-python:3.12}}\n",
        );
        assert!(
            matches!(&shallow.images[0].evaluation, Evaluation::Resolved { text, .. } if text == "python:3.12")
        );
    }

    /// Issue 15 #8: 15 levels of `<<: [*a, *a, …]` in about a kilobyte ran past 60 s: each merged mapping is now read
    /// once per lookup, whatever the number of aliases to it.
    #[test]
    fn yaml_merge_key_bomb_is_linear() {
        let mut text = String::from("x0: &a0 {image: python:3.12}\n");
        for level in 1..=15 {
            let aliases = vec![format!("*a{}", level - 1); 10].join(", ");
            text.push_str(&format!("x{level}: &a{level}\n  <<: [{aliases}]\n"));
        }
        text.push_str("services:\n  app:\n    <<: *a15\n");
        assert!(text.len() < 2000, "{}", text.len());
        let (scan, peak) = meter::measure(|| manifests::scan_compose(&text));
        assert_heap("merge-key bomb", peak, MIB);
        assert_eq!(scan.images.len(), 1, "{scan:?}");
        // Unbounded, the bomb is 10^15 reads that hold little at a time: not slow but endless, so what stops a
        // regression now is the test run's own time limit (a 10 s wall-clock ceiling stood here before).
    }

    /// Deep YAML nesting (found by the memory-measuring fuzz targets): 32 KiB of `? ` (16,000 nested mappings) took
    /// 2.8 s and 300 bytes per input byte — closing each collection searched all the open ones, so the time grew
    /// quadratically. Nesting past 1,000 levels is now an error on its line, and closing is O(1) below it.
    #[test]
    fn deep_yaml_nesting_is_an_error_in_linear_work() {
        for unit in ["? ", "- ", "["] {
            let text = unit.repeat(512 * 1024 / unit.len());
            // Closing each collection searched all the open ones: that held 300 bytes per input byte too, which this
            // bound sees (a 10 s wall-clock ceiling stood here before).
            let (scan, peak) = meter::measure(|| manifests::scan_compose(&text));
            assert_heap(
                &format!("deep nesting {unit:?}"),
                peak,
                MIB + 8 * text.len(),
            );
            let error = scan.error.expect("too deep is an error");
            // Flow collections stop earlier, at the parser's own limit (256).
            assert!(
                error.message.contains("nested more than 1000")
                    || error.message.contains("recursion limit"),
                "{unit:?}: {error:?}"
            );
        }
        // Just under the limit, many times over: every close is cheap (a 10 s wall-clock ceiling stood here before).
        // What the test counts is the heap, linear in the lines: four times the lines, at most five times the peak
        // (measured: 1.7 MB for 50 lines, 6.5 MB for 200, about 18 bytes per input byte).
        let line = format!("{}x\n", "- ".repeat(900));
        let (_, quarter_peak) = meter::measure(|| manifests::scan_compose(&line.repeat(50)));
        let text = line.repeat(200);
        let (scan, peak) = meter::measure(|| manifests::scan_compose(&text));
        assert!(scan.error.is_none(), "{:?}", scan.error);
        assert_heap("900 levels, 200 times", peak, MIB + 32 * text.len());
        assert_heap("900 levels, 200 times against 50", peak, 5 * quarter_peak);
    }

    /// Found by the memory-measuring fuzz targets. A Dockerfile of one-character lines (each an unknown instruction)
    /// held ~370 bytes per line: every instruction was kept until the scan, and every problem too. Instructions are
    /// scanned as they are read and a scan keeps its first problems, counting the rest. (Its `pyimage.toml` twin is in
    /// pyimage-policy's tests.)
    #[test]
    fn one_character_lines_stay_small() {
        let text = "R\n".repeat(256 * 1024);
        let (scan, peak) = meter::measure(|| dockerfile::scan(&text));
        assert_heap(
            "a Dockerfile of one-character lines",
            peak,
            MIB + 32 * text.len(),
        );
        assert_eq!(scan.problems.len(), dockerfile::MAX_PROBLEMS);
        assert_eq!(scan.more_problems, 256 * 1024 - dockerfile::MAX_PROBLEMS);
    }
}
