//! Inputs shared by the benches: our own validation comments.

/// The validation comments of `training-data/`, as realistic input.
pub fn comments() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/training-data/validation.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("training-data/validation.jsonl");
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect()
}

/// A comment of about `len` bytes: the comments from the `first`th on,
/// joined, cut at a character boundary.
pub fn comment_of_length(all: &[String], first: usize, len: usize) -> String {
    let mut s = String::new();
    for c in all.iter().cycle().skip(first) {
        if s.len() >= len {
            break;
        }
        s.push_str(c);
        s.push(' ');
    }
    let mut end = len.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}
