//! A JSON parser that keeps the byte span of every value, so that a loader can say
//! "`priority` must be must/should/could" at the exact line and column of the value.
//! serde_json gives positions only for syntax errors; ops files need them for meaning too.
//!
//! Values under keys named in `skip_keys` (e.g. a chunk's large `embedding`) are checked
//! for syntax but not built, which keeps a tens-of-MB index cheap to load.

use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq)]
pub struct Json<'a> {
    pub value: Value<'a>,
    /// Byte offsets of the value in the source text.
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// The number's source text, parsed on demand.
    Number(&'a str),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<Member<'a>>),
    /// A value under a skipped key: syntactically valid, contents not kept.
    Skipped,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member<'a> {
    pub key: Cow<'a, str>,
    pub key_start: usize,
    pub value: Json<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

const MAX_DEPTH: usize = 256;

pub fn parse<'a>(text: &'a str, skip_keys: &[&str]) -> Result<Json<'a>, SyntaxError> {
    let mut parser = Parser { text, bytes: text.as_bytes(), at: 0, skip_keys, depth: 0 };
    parser.skip_bom();
    parser.skip_whitespace();
    let value = parser.value()?;
    parser.skip_whitespace();
    if parser.at < parser.bytes.len() {
        return Err(parser.error("unexpected text after the JSON value (is a comma or bracket missing, or are two documents concatenated?)"));
    }
    Ok(value)
}

impl<'a> Json<'a> {
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match &self.value {
            Value::Object(members) => members.iter().find(|m| m.key == key).map(|m| &m.value),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        match &self.value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_members(&self) -> Option<&[Member<'a>]> {
        match &self.value {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// A word for the value's type, for messages ("expected a string, found an array").
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
            Value::Skipped => "a value",
        }
    }
}

/// The keys of one object so far, to refuse a key given twice: readers disagree on which value
/// wins (the first, the last), so a duplicate makes the file ambiguous, and a writer that kept
/// one of them would silently drop the other.
#[derive(Default)]
struct Keys<'a> {
    /// Small objects (most of them) are searched in order; big ones through a map.
    few: Vec<(Cow<'a, str>, usize)>,
    many: std::collections::HashMap<Cow<'a, str>, usize>,
}

impl<'a> Keys<'a> {
    const FEW: usize = 16;

    fn insert(&mut self, parser: &Parser, key: Cow<'a, str>, at: usize) -> Result<(), SyntaxError> {
        let first = if self.many.is_empty() {
            self.few.iter().find(|(k, _)| *k == key).map(|(_, at)| *at)
        } else {
            self.many.get(&key).copied()
        };
        if let Some(first) = first {
            let line = parser.bytes[..first].iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(SyntaxError {
                offset: at,
                message: format!(
                    "duplicate key `{key}` in one object (it is first on line {line}): readers disagree on which one counts; keep one"
                ),
            });
        }
        if self.many.is_empty() && self.few.len() < Self::FEW {
            self.few.push((key, at));
        } else {
            self.many.extend(self.few.drain(..));
            self.many.insert(key, at);
        }
        Ok(())
    }
}

struct Parser<'a, 's> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    skip_keys: &'s [&'s str],
    depth: usize,
}

impl<'a> Parser<'a, '_> {
    fn error(&self, message: &str) -> SyntaxError {
        SyntaxError { offset: self.at.min(self.bytes.len()), message: message.to_string() }
    }

    fn eof_error(&self, what: &str) -> SyntaxError {
        SyntaxError {
            offset: self.bytes.len(),
            message: format!("the file ends inside {what}: it looks truncated"),
        }
    }

    fn skip_bom(&mut self) {
        if self.text.starts_with('\u{feff}') {
            self.at = 3;
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn value(&mut self) -> Result<Json<'a>, SyntaxError> {
        let start = self.at;
        let value = match self.bytes.get(self.at) {
            None => return Err(self.eof_error("a value")),
            Some(b'{') => self.nested(Self::object)?,
            Some(b'[') => self.nested(Self::array)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => Value::Number(self.number()?),
            Some(_) => {
                return Err(
                    self.error("expected a JSON value (object, array, string, number, true, false or null)")
                )
            }
        };
        Ok(Json { value, start, end: self.at })
    }

    /// Check a value's syntax without building it (a large `embedding` array costs no memory).
    fn skip(&mut self) -> Result<(), SyntaxError> {
        match self.bytes.get(self.at) {
            Some(open @ (b'[' | b'{')) => {
                let close = if *open == b'[' { b']' } else { b'}' };
                if self.depth >= MAX_DEPTH {
                    return Err(self.error("nesting is deeper than 256 levels"));
                }
                self.depth += 1;
                self.at += 1;
                self.skip_whitespace();
                if self.bytes.get(self.at) == Some(&close) {
                    self.at += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                let mut keys = Keys::default();
                loop {
                    self.skip_whitespace();
                    if close == b'}' {
                        let key_start = self.at;
                        let key = self.member_key()?;
                        keys.insert(self, key.clone(), key_start)?;
                    }
                    self.skip()?;
                    if self.after_element(close)? {
                        self.depth -= 1;
                        return Ok(());
                    }
                }
            }
            _ => self.value().map(|_| ()),
        }
    }

    fn nested(
        &mut self,
        parse: fn(&mut Self) -> Result<Value<'a>, SyntaxError>,
    ) -> Result<Value<'a>, SyntaxError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error("nesting is deeper than 256 levels"));
        }
        self.depth += 1;
        let value = parse(self);
        self.depth -= 1;
        value
    }

    fn literal(&mut self, word: &str, value: Value<'a>) -> Result<Value<'a>, SyntaxError> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error(&format!("expected `{word}`")))
        }
    }

    fn number(&mut self) -> Result<&'a str, SyntaxError> {
        let start = self.at;
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        match self.bytes.get(self.at) {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("expected a digit in the number")),
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            if !matches!(self.bytes.get(self.at), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit after the decimal point"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            if !matches!(self.bytes.get(self.at), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit in the exponent"));
            }
            self.digits();
        }
        Ok(&self.text[start..self.at])
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        debug_assert_eq!(self.bytes[self.at], b'"');
        self.at += 1;
        let start = self.at;
        // Fast path: no escapes, borrow straight from the source.
        loop {
            match self.bytes.get(self.at) {
                None => return Err(self.eof_error("a string")),
                Some(b'"') => {
                    let s = &self.text[start..self.at];
                    self.at += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(0..=0x1f) => {
                    return Err(
                        self.error("control character inside a string (a line break must be written as \\n)")
                    )
                }
                Some(_) => self.at += 1,
            }
        }
        let mut out = String::from(&self.text[start..self.at]);
        loop {
            match self.bytes.get(self.at) {
                None => return Err(self.eof_error("a string")),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(&mut out)?;
                }
                Some(0..=0x1f) => {
                    return Err(
                        self.error("control character inside a string (a line break must be written as \\n)")
                    )
                }
                Some(_) => {
                    let run_start = self.at;
                    while let Some(&b) = self.bytes.get(self.at) {
                        if b == b'"' || b == b'\\' || b < 0x20 {
                            break;
                        }
                        self.at += 1;
                    }
                    out.push_str(&self.text[run_start..self.at]);
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), SyntaxError> {
        let Some(&b) = self.bytes.get(self.at) else {
            return Err(self.eof_error("a string"));
        };
        self.at += 1;
        let ch = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                // A surrogate pair is one character; a lone surrogate becomes U+FFFD, and an
                // escape after a lone high surrogate is read as its own character.
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF if self.bytes[self.at..].starts_with(b"\\u") => {
                        let after_high = self.at;
                        self.at += 2;
                        let low = self.hex4()?;
                        if (0xDC00..=0xDFFF).contains(&low) {
                            char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                                .unwrap_or('\u{fffd}')
                        } else {
                            self.at = after_high;
                            '\u{fffd}'
                        }
                    }
                    _ => char::from_u32(unit).unwrap_or('\u{fffd}'),
                }
            }
            _ => {
                self.at -= 1;
                return Err(self
                    .error("invalid escape in a string (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"));
            }
        };
        out.push(ch);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let digits = self.bytes.get(self.at..self.at + 4).ok_or_else(|| self.eof_error("a string"))?;
        // Exactly four hex digits: `from_str_radix` alone would also take a sign (`\u+abc`).
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(self.error("expected four hex digits after \\u"));
        }
        let value = digits.iter().fold(0, |n, &d| n * 16 + char::from(d).to_digit(16).unwrap_or(0));
        self.at += 4;
        Ok(value)
    }

    fn array(&mut self) -> Result<Value<'a>, SyntaxError> {
        self.at += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value()?);
            if self.after_element(b']')? {
                return Ok(Value::Array(items));
            }
        }
    }

    fn object(&mut self) -> Result<Value<'a>, SyntaxError> {
        self.at += 1;
        let mut members: Vec<Member<'a>> = Vec::new();
        let mut keys = Keys::default();
        self.skip_whitespace();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_whitespace();
            let key_start = self.at;
            let key = self.member_key()?;
            keys.insert(self, key.clone(), key_start)?;
            let value = if self.skip_keys.contains(&key.as_ref()) {
                let start = self.at;
                self.skip()?;
                Json { value: Value::Skipped, start, end: self.at }
            } else {
                self.value()?
            };
            members.push(Member { key, key_start, value });
            if self.after_element(b'}')? {
                return Ok(Value::Object(members));
            }
        }
    }

    /// An object member's key and its `:`, leaving the parser at the value.
    fn member_key(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        match self.bytes.get(self.at) {
            Some(b'"') => {}
            None => return Err(self.eof_error("an object")),
            Some(_) => return Err(self.error("expected a key in double quotes")),
        }
        let key = self.string()?;
        self.skip_whitespace();
        if self.bytes.get(self.at) != Some(&b':') {
            return Err(self.error("expected `:` after the key"));
        }
        self.at += 1;
        self.skip_whitespace();
        Ok(key)
    }

    /// What follows an array element or an object member: a `,` (then `Ok(false)`: more
    /// follow) or the closing `close` (consumed, `Ok(true)`).
    fn after_element(&mut self, close: u8) -> Result<bool, SyntaxError> {
        self.skip_whitespace();
        let (what, expected) = if close == b']' {
            ("an array", "expected `,` or `]` after an array element")
        } else {
            ("an object", "expected `,` or `}` after an object member")
        };
        match self.bytes.get(self.at) {
            Some(b',') => {
                let comma = self.at;
                self.at += 1;
                self.skip_whitespace();
                if self.bytes.get(self.at) == Some(&close) {
                    self.at = comma;
                    return Err(self.error(&format!("trailing comma before `{}`", close as char)));
                }
                Ok(false)
            }
            Some(&c) if c == close => {
                self.at += 1;
                Ok(true)
            }
            None => Err(self.eof_error(what)),
            Some(_) => Err(self.error(expected)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_spans_and_unescapes() {
        let text = r#" {"a": [1, -2.5e3, "x\u00e9\n"], "b": {"c": null}} "#;
        let json = parse(text, &[]).unwrap();
        let a = json.get("a").unwrap();
        assert_eq!(&text[a.start..a.end], r#"[1, -2.5e3, "x\u00e9\n"]"#);
        let items = a.as_array().unwrap();
        assert_eq!(items[1].value, Value::Number("-2.5e3"));
        assert_eq!(items[2].as_str(), Some("xé\n"));
        assert!(json.get("b").unwrap().get("c").unwrap().is_null());
    }

    #[test]
    fn skipped_keys_are_checked_but_not_built() {
        let json = parse(r#"{"embedding": [1, 2, 3], "id": "x"}"#, &["embedding"]).unwrap();
        assert_eq!(json.get("embedding").unwrap().value, Value::Skipped);
        let err = parse(r#"{"embedding": [1, 2,, 3]}"#, &["embedding"]).unwrap_err();
        assert_eq!(err.offset, 20);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases: &[(&str, usize, &str)] = &[
            (r#"{"a": 1,}"#, 7, "trailing comma"),
            (r#"{"a" 1}"#, 5, "expected `:`"),
            (r#"[1, 2"#, 5, "truncated"),
            (r#"{"a": "abc"#, 10, "truncated"),
            (r#"{"a": tru}"#, 6, "expected `true`"),
            (r#"{"a": 1} {"#, 9, "after the JSON value"),
            ("", 0, "truncated"),
            (r#"{"a": "\q"}"#, 8, "invalid escape"),
            (r#"{"a": 01}"#, 7, "expected `,` or `}`"),
            (r#"{"a": "\u+abc"}"#, 9, "four hex digits"),
            (r#"{"a": "\u-abc"}"#, 9, "four hex digits"),
            ("{\"items\": [1],\n \"items\": []}", 16, "duplicate key `items`"),
            (r#"{"a": {"b": 1, "c": 2, "b": 3}}"#, 23, "duplicate key `b`"),
            (r#"{"embedding": {"x": 1, "x": 2}}"#, 23, "duplicate key `x`"),
        ];
        for (text, offset, words) in cases {
            let err = parse(text, &[]).unwrap_err();
            assert_eq!(err.offset, *offset, "{text}: {err:?}");
            assert!(err.message.contains(words), "{text}: {err:?}");
        }
    }

    #[test]
    fn the_same_key_in_different_objects_is_fine() {
        assert!(parse(r#"[{"id": 1}, {"id": 2, "x": {"id": 3}}]"#, &[]).is_ok());
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        let text = format!("{{{}}}", many.join(", "));
        assert!(parse(&text, &[]).is_ok());
        let err = parse(&format!("{{{}, \"k3\": 0}}", many.join(", ")), &[]).unwrap_err();
        assert!(err.message.contains("duplicate key `k3`"), "{err:?}");
    }

    #[test]
    fn surrogates_pair_up_or_become_replacement_characters() {
        let cases: &[(&str, &str)] = &[
            (r#""\ud83d\ude00""#, "\u{1f600}"),
            (r#""\ud800""#, "\u{fffd}"),
            (r#""\udc00x""#, "\u{fffd}x"),
            (r#""\ud800\u0041""#, "\u{fffd}A"),
            (r#""\ud800\ud83d\ude00""#, "\u{fffd}\u{1f600}"),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text, &[]).unwrap().as_str(), Some(*expected), "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        assert!(parse(&text, &[]).unwrap_err().message.contains("nesting"));
    }
}
