//! The admission JSON reader ([`crate::admission::json`]) against serde_json, on the real payloads and on
//! mutations of them: the same verdict (JSON or not) and the same values, read whole (`serde_json::Value`), read
//! over (`IgnoredAny`) and read as a review (`AdmissionReview`, which keeps some strings and skips the rest).

use proptest::prelude::*;
use serde::de::IgnoredAny;

use super::{AdmissionReview, PAYLOADS, Value};
use crate::admission::json;

/// Whether two values are the same; floats may differ in their last digits (serde_json's default float reading
/// is not always correctly rounded, Rust's is), never in kind.
fn same_value(ours: &Value, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Value::Number(a), Value::Number(b)) => {
            a.is_u64() == b.is_u64()
                && a.is_i64() == b.is_i64()
                && a.is_f64() == b.is_f64()
                && match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) if a.is_f64() => {
                        x == y || (x - y).abs() <= x.abs().max(y.abs()) * 1e-15
                    }
                    _ => a == b,
                }
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((k, x), (l, y))| k == l && same_value(x, y))
        }
        _ => ours == theirs,
    }
}

/// Whether both readers agree on `text` read whole, read over, and read as a review; what differs, if not.
fn disagreement(text: &str) -> Option<String> {
    match (
        json::from_str::<Value>(text),
        serde_json::from_str::<Value>(text),
    ) {
        (Ok(ours), Ok(theirs)) if !same_value(&ours, &theirs) => {
            return Some(format!("values differ: {ours} against {theirs}"));
        }
        (Ok(_), Ok(_)) | (Err(_), Err(_)) => {}
        (ours, theirs) => return Some(format!("as a value: ours {ours:?}, serde_json {theirs:?}")),
    }
    let ours = json::from_str::<IgnoredAny>(text).map(drop);
    let theirs = serde_json::from_str::<IgnoredAny>(text).map(drop);
    if ours.is_ok() != theirs.is_ok() {
        return Some(format!("read over: ours {ours:?}, serde_json {theirs:?}"));
    }
    let theirs =
        serde_json::from_str::<AdmissionReview<'_>>(text).map(|review| format!("{review:?}"));
    // The serde path, the fast path of the usual shape (when it takes the text) and the two as the webhook
    // calls them.
    let fast = json::usual_review(text).map(|review| Ok(format!("{review:?}")));
    for (path, ours) in [
        (
            "serde path",
            Some(json::from_str::<AdmissionReview<'_>>(text).map(|review| format!("{review:?}"))),
        ),
        ("fast path", fast),
        (
            "AdmissionReview::parse",
            Some(AdmissionReview::parse(text.as_bytes()).map(|review| format!("{review:?}"))),
        ),
    ] {
        match (ours, &theirs) {
            (Some(Ok(ours)), Ok(theirs)) if &ours != theirs => {
                return Some(format!("{path}: reviews differ:\n{ours}\n{theirs}"));
            }
            (None, _) | (Some(Ok(_)), Ok(_)) | (Some(Err(_)), Err(_)) => {}
            (Some(ours), theirs) => {
                return Some(format!(
                    "{path}: as a review: ours {ours:?}, serde_json {theirs:?}"
                ));
            }
        }
    }
    None
}

/// Pieces a mutation puts into a payload: every kind of token, each escape (paired and lone surrogates), numbers at
/// and past their limits, control characters, whitespace, broken structure.
const PIECES: &[&str] = &[
    "\"",
    "\\",
    "\\\"",
    "\\u00e9",
    "\\ud83d\\ude00",
    "\\ud83d",
    "\\udc00",
    "\\ud83dx",
    "\\ud83d\\u0041",
    "\\ud83d\\n",
    "\\x",
    "\\u12",
    "\\uZZZZ",
    "1e400",
    "-1e400",
    "1e-400",
    "-0",
    "01",
    "1.",
    ".5",
    "1e",
    "1e+",
    "-",
    "1.5e-3",
    "2.5E+7",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "[]",
    "{}",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "null",
    "nul",
    "tru",
    "true",
    "false",
    "fals",
    " ",
    "\n",
    "\t",
    "\r",
    "\u{1}",
    "\u{1f}",
    "\u{7f}",
    "é",
    "\u{202e}",
    "\"k\":1,",
    ",]",
    ",}",
    "[1,]",
    "{\"a\":1,}",
    "{\"a\"}",
    "{1:2}",
    "\"request\":null,",
    "\"request\":{\"uid\":7},",
    "\"dryRun\":\"yes\",",
    "\"object\":[],",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Cut the text at this fraction of its length.
    Truncate(f64),
    /// Put a piece at this fraction of the length.
    Insert(f64, usize),
    /// Put a piece in place of the byte at this fraction of the length.
    Replace(f64, usize),
    /// Take out the byte at this fraction of the length.
    Remove(f64),
}

fn any_mutation() -> impl Strategy<Value = Mutation> {
    let place = 0.0..1.0f64;
    let piece = 0..PIECES.len();
    prop_oneof![
        place.clone().prop_map(Mutation::Truncate),
        (place.clone(), piece.clone()).prop_map(|(at, piece)| Mutation::Insert(at, piece)),
        (place.clone(), piece).prop_map(|(at, piece)| Mutation::Replace(at, piece)),
        place.prop_map(Mutation::Remove),
    ]
}

/// The text with the mutations done in order; `None` when one cuts a character in two.
fn mutated(text: &str, mutations: &[Mutation]) -> Option<String> {
    let mut bytes = text.as_bytes().to_vec();
    for mutation in mutations {
        let at = |fraction: f64| ((bytes.len() as f64 * fraction) as usize).min(bytes.len());
        match *mutation {
            Mutation::Truncate(fraction) => bytes.truncate(at(fraction)),
            Mutation::Insert(fraction, piece) => {
                let at = at(fraction);
                bytes.splice(at..at, PIECES[piece].bytes());
            }
            Mutation::Replace(fraction, piece) => {
                let at = at(fraction);
                let end = (at + 1).min(bytes.len());
                bytes.splice(at..end, PIECES[piece].bytes());
            }
            Mutation::Remove(fraction) => {
                let at = at(fraction);
                if at < bytes.len() {
                    bytes.remove(at);
                }
            }
        }
    }
    String::from_utf8(bytes).ok()
}

#[test]
fn both_readers_read_every_real_payload_alike() {
    for (name, text) in PAYLOADS {
        assert_eq!(disagreement(text), None, "{name}");
        let compact = serde_json::to_string(&serde_json::from_str::<Value>(text).expect("JSON"))
            .expect("serializable");
        assert_eq!(disagreement(&compact), None, "{name}, compact");
    }
}

#[test]
fn every_real_admission_review_takes_the_fast_path() {
    let mut reviews = 0;
    for (name, text) in PAYLOADS {
        let value: Value = serde_json::from_str(text).expect("JSON");
        // Most sources give the request alone: the API server sends it inside a review.
        let review = match (value.get("request"), value.get("uid")) {
            (Some(_), _) => value,
            (None, Some(_)) => serde_json::json!({
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "request": value,
            }),
            (None, None) => continue,
        };
        for text in [review.to_string(), format!("{review:#}")] {
            assert!(json::usual_review(&text).is_some(), "{name}: {text}");
            assert_eq!(disagreement(&text), None, "{name}");
        }
        reviews += 1;
    }
    assert!(
        reviews >= 18,
        "{reviews} AdmissionReviews among the payloads"
    );
}

#[test]
fn shapes_the_fast_path_leaves_to_serde_are_read_alike() {
    let object = |view: &str| format!("{{\"request\":{{\"uid\":\"u\",\"object\":{view}}}}}");
    let deep = |depth: usize| format!("{}\"x\"{}", "{\"spec\":".repeat(depth), "}".repeat(depth));
    for text in [
        "{\"request\":null}".to_owned(),
        "{\"request\":{\"uid\":\"u\",\"uid\":\"v\"}}".to_owned(),
        "{\"request\":{\"uid\":\"u\"},\"request\":{\"uid\":\"u\"}}".to_owned(),
        "{\"request\":{\"kind\":{\"kind\":\"Pod\"}}}".to_owned(),
        "{\"request\":{\"uid\":\"u\",\"kind\":null}}".to_owned(),
        "{\"request\":{\"uid\":\"u\",\"kind\":[\"\",\"v1\",\"Pod\"]}}".to_owned(),
        "[\"admission.k8s.io/v1\",\"AdmissionReview\",{\"uid\":\"u\"}]".to_owned(),
        "{\"request\":{\"uid\":\"u\",\"name\":null,\"dryRun\":null,\"userInfo\":null}}".to_owned(),
        "{\"request\":{\"uid\":\"u\",\"operation\":null}}".to_owned(),
        "{\"request\":{\"uid\":\"u\",\"dryRun\":1}}".to_owned(),
        "{\"request\":{\"u\\u0069d\":\"u\"}}".to_owned(),
        object("{\"spec\":{\"containers\":[{\"image\":123456789012345678901234567890}]}}"),
        object("{\"spec\":{\"containers\":[{\"image\":1e400}]}}"),
        object("{\"spec\":{\"containers\":[{\"image\":-0}]}}"),
        object("{\"spec\":{\"containers\":[{\"image\":-12345678901234567}]}}"),
        object("{\"spec\":{\"containers\":[{\"image\":\"python:3.12\",\"image\":\"x\"}]}}"),
        object("\"a string\""),
        object("[{\"metadata\":{\"name\":\"n\"}},true,false,null]"),
        object(&deep(97)),
        object(&deep(98)),
        object(&deep(124)),
        object(&deep(125)),
        object(&deep(126)),
        object(&deep(2000)),
        format!("{} ", object("{}")),
        format!("{} x", object("{}")),
    ] {
        assert_eq!(disagreement(&text), None, "{text:?}");
    }
}

#[test]
fn each_piece_alone_and_in_a_review_is_read_alike() {
    for piece in PIECES {
        for text in [
            (*piece).to_owned(),
            format!("[{piece}]"),
            format!("\"{piece}\""),
            format!("{{\"request\":{{\"uid\":\"{piece}\"}}}}"),
            format!("{{\"request\":{{\"uid\":\"u\",\"options\":\"{piece}\"}}}}"),
            format!("{{\"request\":{{\"uid\":\"u\",\"options\":[{piece}]}}}}"),
            format!("{{\"request\":{{\"uid\":\"u\",\"object\":{{\"spec\":[{piece}]}}}}}}"),
        ] {
            assert_eq!(disagreement(&text), None, "{text:?}");
        }
    }
}

#[test]
fn kept_values_nest_to_serde_jsons_limit_and_skipped_ones_deeper() {
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    for depth in [1, 126, 127, 128, 129, 1000] {
        let text = nested(depth);
        assert_eq!(disagreement(&text), None, "depth {depth}");
        let review = format!("{{\"request\":{{\"uid\":\"u\",\"options\":{text}}}}}");
        assert_eq!(disagreement(&review), None, "skipped, depth {depth}");
        let kept = format!("{{\"request\":{{\"uid\":\"u\",\"object\":{{\"spec\":{text}}}}}}}");
        assert_eq!(disagreement(&kept), None, "kept, depth {depth}");
    }
    assert!(json::from_str::<Value>(&nested(127)).is_ok());
    assert!(json::from_str::<Value>(&nested(128)).is_err());
    assert!(json::from_str::<IgnoredAny>(&nested(100_000)).is_ok());
}

#[test]
fn an_error_names_its_line_and_column() {
    let error = json::from_str::<Value>("{\n  \"request\": [1,]\n}").expect_err("a trailing comma");
    assert_eq!(error.to_string(), "trailing comma at line 2 column 17");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn both_readers_agree_on_mutated_payloads(
        payload in 0..PAYLOADS.len(),
        mutations in proptest::collection::vec(any_mutation(), 1..4),
    ) {
        let Some(text) = mutated(PAYLOADS[payload].1, &mutations) else {
            return Ok(());
        };
        prop_assert_eq!(disagreement(&text), None, "{:?}", text);
    }
}

/// The first quote, backslash or control character, one byte at a time: what `string_stop` must find.
fn first_stop(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
        .map(|offset| from + offset)
}

#[test]
fn a_string_ends_at_its_first_quote_backslash_or_control_character_whatever_the_byte() {
    // Every byte value at every place of two words and a tail, after plain bytes and after bytes just above
    // the stops (0x21, 0x23, 0x5B, 0x5D, 0x7F) and non-ASCII ones, with a second stop after it.
    for filler in [b'a', 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xA2, 0xFF] {
        for byte in 0..=255u8 {
            for place in 0..19 {
                let mut bytes = vec![filler; 19];
                bytes[place] = byte;
                assert_eq!(
                    json::string_stop(&bytes, 0),
                    first_stop(&bytes, 0),
                    "{byte:#04x} at {place} among {filler:#04x}"
                );
                bytes.push(b'"');
                for from in [0, 1, 7, 8, 9] {
                    assert_eq!(
                        json::string_stop(&bytes, from),
                        first_stop(&bytes, from),
                        "{byte:#04x} at {place} among {filler:#04x}, from {from}"
                    );
                }
            }
        }
    }
}

proptest! {
    #[test]
    fn string_ends_are_found_in_any_bytes(
        bytes in proptest::collection::vec(
            prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x20u8..=0x7F, 0x80u8..=0xFF],
            0..40,
        ),
        from in 0usize..41,
    ) {
        prop_assert_eq!(json::string_stop(&bytes, from), first_stop(&bytes, from));
    }
}
