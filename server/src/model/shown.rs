//! Spec and plan text as Concord shows it outside its own file: chunk titles and summaries,
//! heading titles, work-item titles and acceptance criteria are copied into findings, the
//! crosswalk, `status`, hovers, links, symbols, completion and the queue. They pass through here
//! once, when the model is built: anything secret-shaped is replaced by its redacted form (the
//! secret itself is reported where it is written, by its file's own `secret` finding), and the
//! text is cut to a length a message can carry. The source files are never rewritten from it.

use crate::config::Config;
use crate::secrets::SecretFinding;

/// The most characters of a title that are shown (then `…`).
pub const TITLE_CHARS: usize = 200;
/// The most characters of a chunk summary or an acceptance criterion that are shown (then `…`).
pub const TEXT_CHARS: usize = 1000;

/// `text` redacted and cut to `max_chars`, with the secrets to report in it (offsets into
/// `text`, for the caller to position a finding). Everything secret-shaped is redacted, even
/// what the baseline or an inline allow accepts (accepted is not the same as fit to copy); only
/// what they do not accept is reported.
pub fn shown_with_secrets(config: &Config, text: &str, max_chars: usize) -> (String, Vec<SecretFinding>) {
    let reported = config.secrets().scan(text);
    (shown(config, text, max_chars), reported)
}

/// `text` redacted and cut to `max_chars`.
pub fn shown(config: &Config, text: &str, max_chars: usize) -> String {
    truncate(&config.secrets().scrub(text), max_chars)
}

/// At most `max_chars` characters of `text`; a cut one ends in `…`.
pub fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("", 0), "");
    }

    #[test]
    fn secret_shaped_text_is_redacted_before_it_is_cut() {
        let config = Config::default();
        let token = format!("{}{}", "gh", "p_R4nd0mTok3nXq9LmZ2vB8sW1eY7uJ5kH3gF6");
        let (shown, found) = shown_with_secrets(&config, &format!("Use {token} here"), 200);
        assert_eq!(found.len(), 1);
        assert!(!shown.contains(&token), "{shown}");
        assert!(shown.starts_with("Use ghp_…(40 chars) here"), "{shown}");
    }
}
