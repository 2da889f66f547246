//! Judging generic assignments (`api_key = "..."`, `password: ...`): is the
//! name really a credential's, and is the value really a credential?
//! Vendor-prefixed tokens never come here; their shape is proof enough.

use super::rules::RuleKind;

/// The whole identifier around an assignment's name match: the regex starts at
/// the keyword, so walk back over identifier characters (bounded, so a
/// pathological line cannot make this quadratic).
pub(super) fn full_identifier(text: &str, name_start: usize, name_end: usize) -> &str {
    const MAX_PREFIX: usize = 64;
    let bytes = text.as_bytes();
    let mut start = name_start;
    while start > 0 && name_start - start < MAX_PREFIX && is_identifier_byte(bytes[start - 1]) {
        start -= 1;
    }
    // Only ASCII bytes were stepped over, so `start` is a char boundary.
    &text[start..name_end]
}

fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-')
}

/// Splits `myAPIKey_v2.secret-name` into `my`, `api`, `key`, `v2`, `secret`,
/// `name` (lower-cased): separators and camelCase humps both break words.
fn identifier_words(identifier: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = identifier.chars().collect();
    for (index, &ch) in chars.iter().enumerate() {
        if !ch.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let previous = index.checked_sub(1).map(|before| chars[before]);
        let next = chars.get(index + 1).copied();
        let starts_hump = ch.is_ascii_uppercase()
            && previous.is_some_and(|before| {
                before.is_ascii_lowercase()
                    || before.is_ascii_digit()
                    || (before.is_ascii_uppercase() && next.is_some_and(|after| after.is_ascii_lowercase()))
            });
        if starts_hump && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(ch.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Words that make a name about something other than a credential, wherever
/// they appear (`public_key`, `max_tokens`, `next_page_token`, `tokenizer`).
#[rustfmt::skip]
const NEVER_CREDENTIAL_WORDS: &[&str] = &[
    "public", "pub", "publishable", "csrf", "xsrf", "tokenizer", "tokenizers", "tokenize",
    "keyword", "keywords", "keyboard", "keystroke", "keypress", "keycode", "keyframe", "keyframes",
    "monkey", "turkey", "donkey", "hotkey", "cursor", "page", "pagination", "next", "continuation",
    "max", "min", "num", "count", "total", "bypass", "compass", "passport", "passenger", "passive",
    "passthrough", "passing", "passed",
];

/// Last words that make a name describe a credential rather than hold one
/// (`token_url`, `secret_name`, `api_key_id`, `password_min_length`).
#[rustfmt::skip]
const NON_CREDENTIAL_LAST_WORDS: &[&str] = &[
    "url", "uri", "urls", "endpoint", "host", "hostname", "port", "version", "name", "names", "id",
    "ids", "type", "types", "kind", "length", "len", "size", "file", "filename", "path", "paths",
    "dir", "directory", "env", "var", "variable", "header", "field", "label", "prefix", "suffix",
    "format", "regex", "pattern", "hint", "limit", "timeout", "ttl", "expiry", "expires",
    "expiration", "at", "enabled", "disabled", "required", "policy", "mode", "scope", "scopes",
    "method", "helper", "template", "hash", "hashed", "algorithm", "alg", "location", "ref", "arn",
    "index", "idx", "list", "placeholder", "example", "description", "desc", "title", "text",
    "message", "msg", "error", "prompt", "rotation", "lifetime", "duration", "age", "usage",
    "source", "provider", "manager", "service", "class", "factory", "handler", "storage", "schema",
    "audience", "issuer", "encoding", "checksum", "digest", "reset", "strength", "encryption",
    "chars", "charset", "alphabet",
];

/// Qualifiers that make `<qualifier>_key` a lookup key, not a secret key.
#[rustfmt::skip]
const NON_CREDENTIAL_KEY_QUALIFIERS: &[&str] = &[
    "primary", "foreign", "sort", "partition", "cache", "hash", "map", "dict", "object", "lookup",
    "index", "unique", "composite", "natural", "surrogate", "range", "row", "column", "attribute",
    "field", "item", "entry", "registry", "translation", "i18n", "locale", "message", "react",
    "list", "shortcut", "hot", "public", "pub", "sequence", "schema", "bucket", "group", "route",
    "state", "storage", "store", "cookie", "session", "query", "param", "config", "setting",
    "metadata", "meta", "label", "tag", "idempotency", "dedup", "dedupe", "join", "shard",
];

/// Whether an assignment's identifier names a credential of the rule's kind.
pub(super) fn assignment_name_is_credential(kind: RuleKind, identifier: &str) -> bool {
    let words = identifier_words(identifier);
    let Some(last) = words.last() else {
        return false;
    };
    if words.iter().any(|word| NEVER_CREDENTIAL_WORDS.contains(&word.as_str()))
        || NON_CREDENTIAL_LAST_WORDS.contains(&last.as_str())
    {
        return false;
    }
    let compact: String = words.concat();
    match kind {
        RuleKind::GenericPassword => {
            ["password", "passwd", "passphrase", "pwd"].iter().any(|needle| compact.contains(needle))
                || words.iter().any(|word| word == "pass")
        }
        RuleKind::GenericSecret => {
            let strong = ["secret", "token", "apikey", "credential", "creds"]
                .iter()
                .any(|needle| compact.contains(needle))
                || words.iter().any(|word| word == "auth");
            if strong {
                return true;
            }
            // A bare `..._key` needs a qualifier, and not a lookup-key one.
            let Some(key_at) = words.iter().rposition(|word| word == "key") else {
                return false;
            };
            key_at + 1 == words.len()
                && key_at > 0
                && !NON_CREDENTIAL_KEY_QUALIFIERS.contains(&words[key_at - 1].as_str())
        }
        RuleKind::Vendor | RuleKind::Named => true,
    }
}

/// `OPENAI_API_KEY`, `db_password`: several words in snake or upper case.
/// A quoted single word or a dashed phrase followed by a comma is far more
/// often an item in a list than a name.
pub(super) fn looks_like_environment_variable(identifier: &str) -> bool {
    let shouty = !identifier.bytes().any(|byte| byte.is_ascii_lowercase());
    (shouty || identifier.contains('_')) && identifier_words(identifier).len() >= 2
}

/// How many of lower-case, upper-case, digit and other characters occur.
pub(super) fn character_classes(value: &str) -> usize {
    let mut seen = [false; 4];
    for ch in value.chars() {
        let class = if ch.is_ascii_lowercase() {
            0
        } else if ch.is_ascii_uppercase() {
            1
        } else if ch.is_ascii_digit() {
            2
        } else {
            3
        };
        seen[class] = true;
    }
    seen.iter().filter(|&&present| present).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_on_separators_and_humps() {
        assert_eq!(identifier_words("myAPIKey_v2.secret-name"), ["my", "api", "key", "v2", "secret", "name"]);
        assert_eq!(identifier_words("OPENAI_API_KEY"), ["openai", "api", "key"]);
        assert_eq!(identifier_words("$aws"), ["aws"]);
        assert!(identifier_words("__").is_empty());
    }

    #[test]
    fn credential_names_are_told_from_names_about_credentials() {
        let secret = |name| assignment_name_is_credential(RuleKind::GenericSecret, name);
        let password = |name| assignment_name_is_credential(RuleKind::GenericPassword, name);
        for name in ["api_key", "OPENAI_API_KEY", "clientSecret", "GITHUB_TOKEN", "stripe_key", "user_auth"] {
            assert!(secret(name), "{name}");
        }
        for name in [
            "public_key",
            "max_tokens",
            "token_url",
            "secret_name",
            "api_key_id",
            "primary_key",
            "key",
            "keyword",
            "tokenizer",
            "next_page_token",
        ] {
            assert!(!secret(name), "{name}");
        }
        for name in ["password", "DB_PASSWORD", "adminPwd", "smtp_pass", "passphrase"] {
            assert!(password(name), "{name}");
        }
        for name in ["passport_number", "bypass_cache", "password_min_length", "password_hash"] {
            assert!(!password(name), "{name}");
        }
    }

    #[test]
    fn comma_pairs_need_an_environment_variable_name() {
        assert!(looks_like_environment_variable("OPENAI_API_KEY"));
        assert!(looks_like_environment_variable("api_token"));
        assert!(!looks_like_environment_variable("PASS"));
        assert!(!looks_like_environment_variable("hash-iterate-key"));
        assert!(!looks_like_environment_variable("baseKey"));
    }
}
