//! The framing layer in front of the protocol framework: every byte from the client passes
//! through here. The framework ends the session on the first frame it cannot decode, so this
//! layer reads the `Content-Length` frames itself, checks that each body is one JSON-RPC 2.0
//! message, answers the bad ones itself (Parse error / Invalid Request), and forwards only
//! messages the framework is known to accept, re-serialised from what was checked.
//!
//! [`Deframer`] is the pure part (bytes in, [`Output`]s out); [`read_client`] and
//! [`write_client`] connect it to the streams. Replies and the server's own output go through
//! one writer, a whole frame at a time, so frames never interleave.

use std::borrow::Cow;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// The longest header section accepted (the protocol's headers are two short lines).
pub const MAX_HEADER_BYTES: usize = 8 * 1024;
/// The largest body accepted; a larger frame is refused and its bytes skipped unread.
pub const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const READ_CHUNK: usize = 64 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_bytes: usize,
    pub body_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { header_bytes: MAX_HEADER_BYTES, body_bytes: MAX_BODY_BYTES }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// One checked JSON-RPC 2.0 message body, for the server.
    Forward(Vec<u8>),
    /// An answer the framing layer gives the client itself.
    Reply(Value),
    /// What was dropped or changed, and why: for the log.
    Note(String),
}

#[derive(Debug)]
enum State {
    /// Expecting a header section.
    Header,
    /// Header read; waiting for `length` body bytes.
    Body { length: usize },
    /// Discarding the body of a refused frame.
    Skip { remaining: u64 },
    /// After a header that could not be read: discarding bytes up to the next `Content-Length`.
    Resync { skipped: u64 },
}

pub struct Deframer {
    limits: Limits,
    state: State,
    buffer: Vec<u8>,
    /// Bytes of input consumed before `buffer[0]`, for positions in notes.
    offset: u64,
    /// Frames seen so far (1-based in notes).
    frames: u64,
    /// Where the current frame's header started.
    frame_start: u64,
}

impl Default for Deframer {
    fn default() -> Self {
        Deframer::new(Limits::default())
    }
}

impl Deframer {
    pub fn new(limits: Limits) -> Deframer {
        Deframer { limits, state: State::Header, buffer: Vec::new(), offset: 0, frames: 0, frame_start: 0 }
    }

    /// Take the next bytes of input; whatever they complete is appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Output>) {
        self.buffer.extend_from_slice(bytes);
        let buffer = std::mem::take(&mut self.buffer);
        let mut consumed = 0;
        while let Some(used) = self.step(&buffer[consumed..], self.offset + consumed as u64, out) {
            consumed += used;
        }
        self.buffer = buffer;
        self.buffer.drain(..consumed);
        self.offset += consumed as u64;
    }

    /// The input has ended: say what an unfinished frame lost.
    pub fn finish(&mut self, out: &mut Vec<Output>) {
        let pending = self.buffer.len();
        let note = match self.state {
            State::Header if self.buffer.iter().all(u8::is_ascii_whitespace) => None,
            State::Header => Some(format!(
                "input ended inside the header of frame {} at byte {}; {pending} bytes dropped",
                self.frames + 1,
                self.offset
            )),
            State::Body { length } => Some(format!(
                "input ended inside frame {} at byte {}: {pending} of its {length} body bytes arrived; dropped",
                self.frames, self.frame_start
            )),
            State::Skip { remaining } => Some(format!(
                "input ended while skipping refused frame {}; {remaining} declared bytes never arrived",
                self.frames
            )),
            State::Resync { skipped } => Some(format!(
                "input ended while looking for the next header; {} bytes skipped",
                skipped + pending as u64
            )),
        };
        out.extend(note.map(Output::Note));
        self.offset += pending as u64;
        self.buffer.clear();
        self.state = State::Header;
    }

    /// One step on `buf`, the unconsumed input starting at input byte `position`: how many
    /// bytes it consumed, or `None` when it needs more input. A step that consumes nothing
    /// always changes the state, so the loop in `feed` ends.
    fn step(&mut self, buf: &[u8], position: u64, out: &mut Vec<Output>) -> Option<usize> {
        match self.state {
            State::Header => {
                // Line breaks between frames are tolerated.
                let blank = buf.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
                if blank > 0 {
                    return Some(blank);
                }
                if buf.is_empty() {
                    return None;
                }
                let scan = scan_header(buf, self.limits.header_bytes)?;
                self.frames += 1;
                self.frame_start = position;
                Some(self.after_header(scan, position, out))
            }
            State::Body { length } => {
                if buf.len() < length {
                    return None;
                }
                check_body(&buf[..length], self.frames, self.frame_start, out);
                self.state = State::Header;
                Some(length)
            }
            State::Skip { remaining } => {
                if remaining == 0 {
                    self.state = State::Header;
                    return Some(0);
                }
                if buf.is_empty() {
                    return None;
                }
                let n = remaining.min(buf.len() as u64);
                self.state = State::Skip { remaining: remaining - n };
                Some(n as usize)
            }
            State::Resync { skipped } => match find_content_length(buf) {
                Some(0) => {
                    if skipped > 0 {
                        out.push(Output::Note(format!(
                            "found the next header at byte {position} after skipping {skipped} bytes"
                        )));
                    }
                    self.state = State::Header;
                    Some(0)
                }
                Some(i) => {
                    self.state = State::Resync { skipped: skipped + i as u64 };
                    Some(i)
                }
                None => {
                    // Keep a tail that could be the start of a "Content-Length" split across reads.
                    let drop = buf.len().saturating_sub(CONTENT_LENGTH.len() - 1);
                    if drop == 0 {
                        return None;
                    }
                    self.state = State::Resync { skipped: skipped + drop as u64 };
                    Some(drop)
                }
            },
        }
    }

    /// Act on a scanned header section; returns the bytes it consumed.
    fn after_header(&mut self, scan: HeaderScan, position: u64, out: &mut Vec<Output>) -> usize {
        let frame = self.frames;
        let refuse = |out: &mut Vec<Output>, why: &str, then: &str| {
            out.push(Output::Note(format!(
                "dropped frame {frame} at byte {position}: bad header: {why}; {then}"
            )));
            out.push(error_reply(Value::Null, PARSE_ERROR, format!("Parse error: bad header: {why}")));
        };
        const RESYNC: &str = "skipping to the next Content-Length header";
        match scan {
            HeaderScan::Complete { end, length: Some(length), problem: None } => {
                if length > self.limits.body_bytes {
                    let limit = self.limits.body_bytes;
                    out.push(Output::Note(format!(
                        "refused frame {frame} at byte {position}: its body of {length} bytes is larger than \
                         the limit of {limit} bytes; skipping it"
                    )));
                    out.push(error_reply(
                        Value::Null,
                        INVALID_REQUEST,
                        format!("Invalid Request: a frame of {length} bytes is larger than the limit of {limit} bytes"),
                    ));
                    self.state = State::Skip { remaining: length };
                } else {
                    // At most the body limit, far below usize::MAX.
                    self.state = State::Body { length: length as usize };
                }
                end
            }
            HeaderScan::Complete { end, length, problem } => {
                let problem = problem
                    .unwrap_or(Problem { why: "no Content-Length header".into(), length_trusted: false });
                match length {
                    Some(length) if problem.length_trusted => {
                        refuse(out, &problem.why, "skipping its body");
                        self.state = State::Skip { remaining: length };
                    }
                    _ => {
                        refuse(out, &problem.why, RESYNC);
                        self.state = State::Resync { skipped: 0 };
                    }
                }
                end
            }
            HeaderScan::Malformed { line_start, why } => {
                refuse(out, &why, RESYNC);
                self.state = State::Resync { skipped: 0 };
                // From just past the bad line's start, so a header glued after garbage is found.
                line_start + 1
            }
            HeaderScan::TooLong => {
                let why = format!("no end of the header section within {} bytes", self.limits.header_bytes);
                refuse(out, &why, RESYNC);
                self.state = State::Resync { skipped: 0 };
                1
            }
        }
    }
}

const CONTENT_LENGTH: &[u8] = b"content-length";

/// Where the next `Content-Length` (any case) starts in `buf`.
fn find_content_length(buf: &[u8]) -> Option<usize> {
    buf.windows(CONTENT_LENGTH.len()).position(|w| w.eq_ignore_ascii_case(CONTENT_LENGTH))
}

struct Problem {
    why: String,
    /// The declared length can still be used to skip the body.
    length_trusted: bool,
}

enum HeaderScan {
    /// A header section ending with an empty line at `end`.
    Complete { end: usize, length: Option<u64>, problem: Option<Problem> },
    /// A line that is not `Name: value`.
    Malformed { line_start: usize, why: String },
    /// No empty line within the limit.
    TooLong,
}

/// Read a header section from the start of `buf`; `None` when it is not complete yet.
fn scan_header(buf: &[u8], limit: usize) -> Option<HeaderScan> {
    let mut length: Option<u64> = None;
    let mut problem: Option<Problem> = None;
    let mut at = 0;
    loop {
        let Some(newline) = memchr::memchr(b'\n', &buf[at..]) else {
            return (buf.len() > limit).then_some(HeaderScan::TooLong);
        };
        let line_end = at + newline + 1;
        if line_end > limit {
            return Some(HeaderScan::TooLong);
        }
        let line = &buf[at..at + newline];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Some(HeaderScan::Complete { end: line_end, length, problem });
        }
        let (name, value) = match split_header_line(line) {
            Ok(field) => field,
            Err(why) => return Some(HeaderScan::Malformed { line_start: at, why }),
        };
        if name.eq_ignore_ascii_case("content-length") {
            match value.parse::<u64>() {
                Ok(n) if value.bytes().all(|b| b.is_ascii_digit()) => {
                    if length.is_some_and(|l| l != n) && problem.is_none() {
                        problem = Some(Problem {
                            why: "two different Content-Length headers".into(),
                            length_trusted: false,
                        });
                    }
                    length = Some(n);
                }
                _ => {
                    problem.get_or_insert(Problem {
                        why: format!("Content-Length {value:?} is not a byte count"),
                        length_trusted: false,
                    });
                }
            }
        } else if name.eq_ignore_ascii_case("content-type") {
            let charset = value
                .split(';')
                .skip(1)
                .filter_map(|p| p.trim().split_once('='))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case("charset"))
                .map(|(_, v)| v.trim().trim_matches('"'));
            if let Some(charset) = charset {
                if !charset.eq_ignore_ascii_case("utf-8") && !charset.eq_ignore_ascii_case("utf8") {
                    problem.get_or_insert(Problem {
                        why: format!("charset {charset:?} (only utf-8 is served)"),
                        length_trusted: true,
                    });
                }
            }
        }
        at = line_end;
    }
}

/// `Name: value` with a token name and printable ASCII value.
fn split_header_line(line: &[u8]) -> Result<(&str, &str), String> {
    let Some(colon) = memchr::memchr(b':', line) else {
        return Err(format!("a {}-byte line with no ':'", line.len()));
    };
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    if name.is_empty() || !name.iter().all(token) {
        return Err("a header name that is not a token".into());
    }
    if !value.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b)) {
        return Err("a header value with control or non-ASCII bytes".into());
    }
    // Both halves are ASCII, hence UTF-8.
    let name = std::str::from_utf8(name).map_err(|e| e.to_string())?;
    let value = std::str::from_utf8(value).map_err(|e| e.to_string())?;
    Ok((name, value.trim_matches([' ', '\t'])))
}

/// Check one body and decide: forward it, or answer it.
fn check_body(body: &[u8], frame: u64, position: u64, out: &mut Vec<Output>) {
    let dropped =
        |why: &str| format!("dropped frame {frame} at byte {position} ({} bytes): {why}", body.len());
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => {
            out.push(Output::Note(dropped(&format!("not UTF-8 (body byte {})", e.valid_up_to()))));
            out.push(error_reply(Value::Null, PARSE_ERROR, "Parse error: the body is not UTF-8".into()));
            return;
        }
    };
    let (text, surrogates) = replace_lone_surrogates(text);
    let value: Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(e) => {
            out.push(Output::Note(dropped(&format!("not JSON: {e}"))));
            out.push(error_reply(Value::Null, PARSE_ERROR, format!("Parse error: {e}")));
            return;
        }
    };
    match value {
        Value::Array(items) if items.is_empty() => {
            out.push(Output::Note(dropped("an empty batch")));
            out.push(error_reply(Value::Null, INVALID_REQUEST, "Invalid Request: an empty batch".into()));
        }
        Value::Array(items) => {
            // The language server protocol has no batches: refused as a whole, with one error
            // per request in it (notifications and responses get none, as JSON-RPC says).
            let replies: Vec<Value> = items
                .iter()
                .filter_map(|item| match check_message(item) {
                    Ok(Kind::Request(id)) => Some(error_response(
                        id,
                        INVALID_REQUEST,
                        "Invalid Request: batches are not served; send each message in its own frame".into(),
                    )),
                    Ok(Kind::Notification | Kind::Response) => None,
                    Err(invalid) => Some(invalid.into_response()),
                })
                .collect();
            out.push(Output::Note(dropped(&format!(
                "a batch of {} messages (batches are not served); {} answered",
                items.len(),
                replies.len()
            ))));
            if !replies.is_empty() {
                out.push(Output::Reply(Value::Array(replies)));
            }
        }
        message => match check_message(&message) {
            Ok(_) => {
                if surrogates > 0 {
                    out.push(Output::Note(format!(
                        "frame {frame} at byte {position} ({}): replaced {surrogates} lone UTF-16 surrogate \
                         escape(s) with U+FFFD",
                        describe(&message)
                    )));
                }
                let bytes = serde_json::to_vec(&message).expect("a JSON value serialises");
                out.push(Output::Forward(bytes));
            }
            Err(invalid) => {
                out.push(Output::Note(dropped(&invalid.why)));
                out.push(Output::Reply(invalid.into_response()));
            }
        },
    }
}

/// The method and id of a message, for notes (never its parameters: they may hold secrets).
fn describe(message: &Value) -> String {
    match (message.get("method").and_then(Value::as_str), message.get("id")) {
        (Some(method), Some(id)) => format!("{method}, id {id}"),
        (Some(method), None) => method.to_string(),
        (None, Some(id)) => format!("response to id {id}"),
        (None, None) => "message".into(),
    }
}

enum Kind {
    Request(Value),
    Notification,
    Response,
}

struct Invalid {
    /// The id to answer with: the request's own when it has a usable one, else null.
    id: Value,
    why: String,
}

impl Invalid {
    fn into_response(self) -> Value {
        error_response(self.id, INVALID_REQUEST, format!("Invalid Request: {}", self.why))
    }
}

fn usable_id(id: &Value) -> bool {
    id.is_string() || id.as_i64().is_some()
}

/// Is `value` one JSON-RPC 2.0 message in the shape the framework decodes?
fn check_message(value: &Value) -> Result<Kind, Invalid> {
    let invalid = |id: &Value, why: &str| Invalid { id: id.clone(), why: why.to_string() };
    let Some(object) = value.as_object() else {
        let kind = match value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            _ => "an array",
        };
        return Err(invalid(&Value::Null, &format!("a message is an object, not {kind}")));
    };
    let method = object.get("method");
    let id = object.get("id");
    // Only a request-shaped message is answered with its own id.
    let answer_id = match (method, id) {
        (Some(Value::String(_)), Some(id)) if usable_id(id) => id.clone(),
        _ => Value::Null,
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return Err(invalid(&answer_id, "\"jsonrpc\" must be \"2.0\" (only JSON-RPC 2.0 is served)"));
    }
    match method {
        Some(Value::String(_)) => {
            if object.contains_key("result") || object.contains_key("error") {
                return Err(invalid(
                    &Value::Null,
                    "a message with a method cannot carry a result or an error",
                ));
            }
            // Params of the wrong shape are the server's to answer (Invalid params): the
            // framework decodes any value there.
            match id {
                None => Ok(Kind::Notification),
                Some(id) if usable_id(id) => Ok(Kind::Request(id.clone())),
                Some(_) => Err(invalid(&Value::Null, "\"id\" must be an integer or a string")),
            }
        }
        Some(_) => Err(invalid(&Value::Null, "\"method\" must be a string")),
        None => {
            match id {
                Some(id) if usable_id(id) || id.is_null() => {}
                Some(_) => return Err(invalid(&Value::Null, "\"id\" must be an integer, a string or null")),
                None => {
                    return Err(invalid(
                        &Value::Null,
                        "neither a request (no \"method\") nor a response (no \"id\")",
                    ))
                }
            }
            match (object.get("result"), object.get("error")) {
                (Some(_), None) => Ok(Kind::Response),
                (None, Some(error)) => check_error_object(error).map(|()| Kind::Response),
                (Some(_), Some(_)) => {
                    Err(invalid(&Value::Null, "a response cannot carry both a result and an error"))
                }
                (None, None) => Err(invalid(&Value::Null, "a response needs a \"result\" or an \"error\"")),
            }
        }
    }
}

/// `{"code": integer, "message": string, "data"?: any}` and nothing else (the framework
/// refuses other members).
fn check_error_object(error: &Value) -> Result<(), Invalid> {
    let invalid = |why: &str| Err(Invalid { id: Value::Null, why: why.to_string() });
    let Some(error) = error.as_object() else { return invalid("\"error\" must be an object") };
    if error.get("code").and_then(Value::as_i64).is_none() {
        return invalid("\"error.code\" must be an integer");
    }
    if !error.get("message").is_some_and(Value::is_string) {
        return invalid("\"error.message\" must be a string");
    }
    if let Some(key) = error.keys().find(|k| !matches!(k.as_str(), "code" | "message" | "data")) {
        return invalid(&format!("\"error\" has an unknown member {key:?}"));
    }
    Ok(())
}

fn error_response(id: Value, code: i64, message: String) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

fn error_reply(id: Value, code: i64, message: String) -> Output {
    Output::Reply(error_response(id, code, message))
}

/// JSON text with every `\uD800`-`\uDFFF` escape that is not half of a surrogate pair replaced
/// by `\uFFFD` (the JSON parser refuses lone surrogates; an editor buffer can hold one), and
/// how many were replaced. U+FFFD is one UTF-16 unit too, so UTF-16 positions are unchanged.
fn replace_lone_surrogates(text: &str) -> (Cow<'_, str>, usize) {
    let bytes = text.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        let hex = bytes.get(at..at + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut fixed = String::new();
    let mut copied = 0;
    let mut count = 0;
    let mut i = 0;
    while let Some(found) = memchr::memchr(b'\\', &bytes[i..]) {
        let at = i + found;
        match unit(at) {
            Some(0xD800..=0xDBFF) if matches!(unit(at + 6), Some(0xDC00..=0xDFFF)) => i = at + 12,
            Some(0xD800..=0xDFFF) => {
                fixed.push_str(&text[copied..at]);
                fixed.push_str("\\uFFFD");
                copied = at + 6;
                count += 1;
                i = at + 6;
            }
            // Any other escape (`\\` included) is two bytes or more; skip its backslash and the
            // character after it so an escaped backslash never starts an escape.
            _ => i = at + 2,
        }
        if i >= bytes.len() {
            break;
        }
    }
    if count == 0 {
        return (Cow::Borrowed(text), 0);
    }
    fixed.push_str(&text[copied..]);
    (Cow::Owned(fixed), count)
}

/// A body in a frame as the protocol sends it.
pub fn encode_frame(body: &[u8]) -> Vec<u8> {
    let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    frame.extend_from_slice(body);
    frame
}

/// Read the client, forward checked frames to the server, and send the layer's own answers to
/// the writer. Returns when the client's input ends (dropping `server` tells the server) or the
/// server stops reading.
pub async fn read_client<C, S>(mut client: C, mut server: S, replies: mpsc::Sender<Vec<u8>>)
where
    C: AsyncRead + Unpin,
    S: AsyncWrite + Unpin,
{
    let mut deframer = Deframer::default();
    let mut chunk = vec![0; READ_CHUNK];
    let mut outputs = Vec::new();
    loop {
        let ended = match client.read(&mut chunk).await {
            Ok(0) => true,
            Ok(n) => {
                deframer.feed(&chunk[..n], &mut outputs);
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the client failed");
                true
            }
        };
        if ended {
            deframer.finish(&mut outputs);
        }
        for output in outputs.drain(..) {
            match output {
                Output::Forward(body) => {
                    if server.write_all(&encode_frame(&body)).await.is_err() {
                        return;
                    }
                }
                Output::Reply(reply) => {
                    let body = serde_json::to_vec(&reply).expect("a JSON value serialises");
                    let _ = replies.send(encode_frame(&body)).await;
                }
                Output::Note(note) => tracing::warn!("{note}"),
            }
        }
        if ended {
            return;
        }
    }
}

/// Copy the server's output and the framing layer's replies to the client, a whole frame at a
/// time. Returns when the server's output ends.
pub async fn write_client<S, C>(mut server: S, mut replies: mpsc::Receiver<Vec<u8>>, mut client: C)
where
    S: AsyncRead + Unpin,
    C: AsyncWrite + Unpin,
{
    let mut pending: Vec<u8> = Vec::new();
    let mut chunk = vec![0; READ_CHUNK];
    let mut replies_open = true;
    let mut client_gone = false;
    loop {
        let frames: Vec<Vec<u8>> = tokio::select! {
            read = server.read(&mut chunk) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    pending.extend_from_slice(&chunk[..n]);
                    let mut frames = Vec::new();
                    while let Some(end) = whole_frame(&pending) {
                        frames.push(pending.drain(..end).collect());
                    }
                    frames
                }
            },
            reply = replies.recv(), if replies_open => match reply {
                Some(frame) => vec![frame],
                None => {
                    replies_open = false;
                    Vec::new()
                }
            },
        };
        for frame in frames {
            if client_gone {
                continue;
            }
            if let Err(e) = write_frame(&mut client, &frame).await {
                // Keep draining the server so it never blocks on a client that has gone.
                tracing::warn!(error = %e, "writing to the client failed");
                client_gone = true;
            }
        }
    }
    if !pending.is_empty() && !client_gone {
        let _ = write_frame(&mut client, &pending).await;
    }
}

async fn write_frame<C: AsyncWrite + Unpin>(client: &mut C, frame: &[u8]) -> std::io::Result<()> {
    client.write_all(frame).await?;
    client.flush().await
}

/// The length of the whole frame at the start of the server's own output, once it is all there.
fn whole_frame(output: &[u8]) -> Option<usize> {
    let header_end = memchr::memmem::find(output, b"\r\n\r\n")? + 4;
    let header = std::str::from_utf8(&output[..header_end]).ok()?;
    let length: usize = header.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim().eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
    })?;
    (output.len() >= header_end + length).then_some(header_end + length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    fn frame(body: &str) -> Vec<u8> {
        encode_frame(body.as_bytes())
    }

    /// Everything the layer does with `input`, one output a line: `-> ` forwarded to the
    /// server, `<- ` answered to the client, `## ` logged. Fed whole and one byte at a time,
    /// which must agree.
    fn run(input: &[u8], limits: Limits) -> String {
        let render = |outputs: Vec<Output>| -> String {
            outputs
                .into_iter()
                .map(|o| match o {
                    Output::Forward(body) => format!("-> {}\n", String::from_utf8(body).unwrap()),
                    Output::Reply(reply) => format!("<- {reply}\n"),
                    Output::Note(note) => format!("## {note}\n"),
                })
                .collect()
        };
        let mut whole = Vec::new();
        let mut deframer = Deframer::new(limits);
        deframer.feed(input, &mut whole);
        deframer.finish(&mut whole);
        let mut bytewise = Vec::new();
        let mut deframer = Deframer::new(limits);
        for byte in input {
            deframer.feed(std::slice::from_ref(byte), &mut bytewise);
        }
        deframer.finish(&mut bytewise);
        let (whole, bytewise) = (render(whole), render(bytewise));
        assert_eq!(whole, bytewise, "fed whole vs one byte at a time");
        whole
    }

    fn check(input: &[u8], expected: Expect) {
        expected.assert_eq(&run(input, Limits::default()));
    }

    const SHUTDOWN: &str = r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;

    /// `garbage` then a shutdown request: what the layer makes of the garbage, and that the
    /// shutdown still reaches the server.
    fn then_shutdown(garbage: &[u8], expected: Expect) {
        let mut input = garbage.to_vec();
        input.extend(frame(SHUTDOWN));
        expected.assert_eq(&run(&input, Limits::default()));
    }

    #[test]
    fn good_frames_pass_in_order() {
        let mut input =
            frame(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"capabilities":{}}}"#);
        input.extend(b"\r\n");
        input.extend(b"content-length:52\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n");
        input.extend(br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#);
        input.extend(frame(r#"{"jsonrpc":"2.0","id":"a","result":null}"#));
        input.extend(frame(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"no","data":[1]}}"#));
        check(
            &input,
            expect![[r#"
                -> {"jsonrpc":"2.0","id":0,"method":"initialize","params":{"capabilities":{}}}
                -> {"jsonrpc":"2.0","method":"initialized","params":{}}
                -> {"jsonrpc":"2.0","id":"a","result":null}
                -> {"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"no","data":[1]}}
            "#]],
        );
    }

    #[test]
    fn bodies_that_are_not_one_message() {
        then_shutdown(
            &frame("[]"),
            expect![[r#"
                ## dropped frame 1 at byte 0 (2 bytes): an empty batch
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: an empty batch"}}
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        then_shutdown(
            &frame("{}"),
            expect![[r#"
                ## dropped frame 1 at byte 0 (2 bytes): "jsonrpc" must be "2.0" (only JSON-RPC 2.0 is served)
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: \"jsonrpc\" must be \"2.0\" (only JSON-RPC 2.0 is served)"}}
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        then_shutdown(
            &frame("null"),
            expect![[r#"
                ## dropped frame 1 at byte 0 (4 bytes): a message is an object, not null
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: a message is an object, not null"}}
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        then_shutdown(
            &frame(r#"{"id":5,"method":"hover","params":[]}"#),
            expect![[r#"
                ## dropped frame 1 at byte 0 (37 bytes): "jsonrpc" must be "2.0" (only JSON-RPC 2.0 is served)
                <- {"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"Invalid Request: \"jsonrpc\" must be \"2.0\" (only JSON-RPC 2.0 is served)"}}
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        then_shutdown(
            &frame(r#"{"jsonrpc":"2.0","id":1.5,"method":"shutdown"}"#),
            expect![[r#"
                ## dropped frame 1 at byte 0 (46 bytes): "id" must be an integer or a string
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: \"id\" must be an integer or a string"}}
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        then_shutdown(
            &frame("{\"jsonrpc\":\"2.0\",\"id\":9223372036854775808,\"method\":\"x\"}"),
            expect![[r###"
                ## dropped frame 1 at byte 0 (55 bytes): "id" must be an integer or a string
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: \"id\" must be an integer or a string"}}
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "###]],
        );
        then_shutdown(
            &frame(r#"{"jsonrpc":"2.0","method":1,"params":"bar"}"#),
            expect![[r#"
                ## dropped frame 1 at byte 0 (43 bytes): "method" must be a string
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: \"method\" must be a string"}}
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        then_shutdown(
            &frame(r#"{"jsonrpc":"2.0","id":3,"method":"x","params":"bar"}"#),
            expect![[r#"
                -> {"jsonrpc":"2.0","id":3,"method":"x","params":"bar"}
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
    }

    #[test]
    fn responses_the_framework_could_not_decode() {
        then_shutdown(
            &[
                frame(r#"{"jsonrpc":"2.0","id":2,"error":{"code":1,"message":"m","extra":0}}"#),
                frame(r#"{"jsonrpc":"2.0","id":2,"error":{"code":1.5,"message":"m"}}"#),
                frame(r#"{"jsonrpc":"2.0","id":2,"result":1,"error":{"code":1,"message":"m"}}"#),
                frame(r#"{"jsonrpc":"2.0","id":2}"#),
                frame(r#"{"jsonrpc":"2.0","id":2,"method":"m","result":1}"#),
            ]
            .concat(),
            expect![[r###"
                ## dropped frame 1 at byte 0 (67 bytes): "error" has an unknown member "extra"
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: \"error\" has an unknown member \"extra\""}}
                ## dropped frame 2 at byte 89 (59 bytes): "error.code" must be an integer
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: \"error.code\" must be an integer"}}
                ## dropped frame 3 at byte 170 (68 bytes): a response cannot carry both a result and an error
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: a response cannot carry both a result and an error"}}
                ## dropped frame 4 at byte 260 (24 bytes): a response needs a "result" or an "error"
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: a response needs a \"result\" or an \"error\""}}
                ## dropped frame 5 at byte 306 (48 bytes): a message with a method cannot carry a result or an error
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: a message with a method cannot carry a result or an error"}}
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "###]],
        );
    }

    #[test]
    fn batches_are_refused_as_a_whole() {
        then_shutdown(
            &frame(
                r#"[{"jsonrpc":"2.0","id":7,"method":"shutdown"},{"jsonrpc":"2.0","method":"initialized"},
                   {"jsonrpc":"2.0","id":"r","result":1},3]"#,
            ),
            expect![[r###"
                ## dropped frame 1 at byte 0 (147 bytes): a batch of 4 messages (batches are not served); 2 answered
                <- [{"jsonrpc":"2.0","id":7,"error":{"code":-32600,"message":"Invalid Request: batches are not served; send each message in its own frame"}},{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: a message is an object, not a number"}}]
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "###]],
        );
        // Only notifications: nothing to answer, but logged.
        check(
            &frame(r#"[{"jsonrpc":"2.0","method":"initialized"}]"#),
            expect![[r#"
                ## dropped frame 1 at byte 0 (42 bytes): a batch of 1 messages (batches are not served); 0 answered
            "#]],
        );
    }

    #[test]
    fn bodies_that_are_not_json() {
        then_shutdown(
            b"Content-Length: 4\r\n\r\n\"\xff\xfe\"",
            expect![[r#"
                ## dropped frame 1 at byte 0 (4 bytes): not UTF-8 (body byte 1)
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: the body is not UTF-8"}}
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        then_shutdown(
            &[frame(r#"{"jsonrpc":"2.0","#), frame(""), frame(&"[".repeat(200))].concat(),
            expect![[r###"
                ## dropped frame 1 at byte 0 (17 bytes): not JSON: EOF while parsing a value at line 1 column 17
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: EOF while parsing a value at line 1 column 17"}}
                ## dropped frame 2 at byte 39 (0 bytes): not JSON: EOF while parsing a value at line 1 column 0
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: EOF while parsing a value at line 1 column 0"}}
                ## dropped frame 3 at byte 60 (200 bytes): not JSON: recursion limit exceeded at line 1 column 128
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: recursion limit exceeded at line 1 column 128"}}
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "###]],
        );
    }

    #[test]
    fn bad_headers_skip_to_the_next_frame() {
        then_shutdown(
            b"Content-Type: foo\r\n\r\n{}",
            expect![[r#"
                ## dropped frame 1 at byte 0: bad header: no Content-Length header; skipping to the next Content-Length header
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: bad header: no Content-Length header"}}
                ## found the next header at byte 23 after skipping 2 bytes
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        then_shutdown(
            b"Contnt-Lngth 2\r\n\r\n[]",
            expect![[r#"
                ## dropped frame 1 at byte 0: bad header: a 14-byte line with no ':'; skipping to the next Content-Length header
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: bad header: a 14-byte line with no ':'"}}
                ## found the next header at byte 20 after skipping 19 bytes
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        then_shutdown(
            b"Content-Length: abc\r\n\r\n[]",
            expect![[r#"
                ## dropped frame 1 at byte 0: bad header: Content-Length "abc" is not a byte count; skipping to the next Content-Length header
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: bad header: Content-Length \"abc\" is not a byte count"}}
                ## found the next header at byte 25 after skipping 2 bytes
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        then_shutdown(
            b"Content-Length: 99999999999999999999999\r\n\r\n[]",
            expect![[r#"
                ## dropped frame 1 at byte 0: bad header: Content-Length "99999999999999999999999" is not a byte count; skipping to the next Content-Length header
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: bad header: Content-Length \"99999999999999999999999\" is not a byte count"}}
                ## found the next header at byte 45 after skipping 2 bytes
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        then_shutdown(
            b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n[]",
            expect![[r#"
                ## dropped frame 1 at byte 0: bad header: two different Content-Length headers; skipping to the next Content-Length header
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: bad header: two different Content-Length headers"}}
                ## found the next header at byte 42 after skipping 2 bytes
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        // Garbage glued before a header: the header is still found.
        then_shutdown(
            b"{\"a\":1}",
            expect![[r#"
                ## dropped frame 1 at byte 0: bad header: a header name that is not a token; skipping to the next Content-Length header
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: bad header: a header name that is not a token"}}
                ## found the next header at byte 7 after skipping 6 bytes
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
        // Another charset: the declared length is still trusted to skip the body.
        then_shutdown(
            b"Content-Length: 2\r\nContent-Type: application/json; charset=utf-16\r\n\r\n{}",
            expect![[r#"
                ## dropped frame 1 at byte 0: bad header: charset "utf-16" (only utf-8 is served); skipping its body
                <- {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: bad header: charset \"utf-16\" (only utf-8 is served)"}}
                -> {"jsonrpc":"2.0","id":1,"method":"shutdown"}
            "#]],
        );
    }

    #[test]
    fn headers_and_bodies_are_bounded() {
        let limits = Limits { header_bytes: 64, body_bytes: 10 };
        let mut input = b"X-Padding: ".to_vec();
        input.extend([b'a'; 100]);
        input.extend(b"\r\n");
        input.extend(frame(&format!("[{}]", " ".repeat(20))));
        input.extend(frame("[]"));
        expect![[r#"
            ## dropped frame 1 at byte 0: bad header: no end of the header section within 64 bytes; skipping to the next Content-Length header
            <- {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: bad header: no end of the header section within 64 bytes"}}
            ## found the next header at byte 113 after skipping 112 bytes
            ## refused frame 2 at byte 113: its body of 22 bytes is larger than the limit of 10 bytes; skipping it
            <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: a frame of 22 bytes is larger than the limit of 10 bytes"}}
            ## dropped frame 3 at byte 157 (2 bytes): an empty batch
            <- {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: an empty batch"}}
        "#]]
        .assert_eq(&run(&input, limits));
    }

    #[test]
    fn a_huge_declared_length_is_skipped_without_allocating_it() {
        let mut deframer = Deframer::default();
        let mut out = Vec::new();
        deframer.feed(b"Content-Length: 18446744073709551615\r\n\r\n", &mut out);
        deframer.feed(&[b'x'; 100_000], &mut out);
        assert!(deframer.buffer.capacity() < 1 << 20, "{}", deframer.buffer.capacity());
        deframer.finish(&mut out);
        let notes: Vec<_> = out.iter().filter(|o| matches!(o, Output::Note(_))).collect();
        assert_eq!(notes.len(), 2, "{out:?}");
        assert!(matches!(&out[1], Output::Reply(r) if r["error"]["code"] == -32600), "{out:?}");
    }

    #[test]
    fn input_that_ends_inside_a_frame_is_logged() {
        check(
            b"Content-Length: 10\r\n\r\n{\"js",
            expect![[r#"
                ## input ended inside frame 1 at byte 0: 4 of its 10 body bytes arrived; dropped
            "#]],
        );
        check(
            b"Content-Len",
            expect![[r#"
                ## input ended inside the header of frame 1 at byte 0; 11 bytes dropped
            "#]],
        );
        check(b"\r\n\r\n", expect![""]);
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let open = |text: &str| {
            frame(&format!(
                r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"text":"{text}"}}}}}}"#
            ))
        };
        check(
            &[open(r"a\ud800b"), open(r"\uDC00\ud83d\ude00\\ud800\ud800")].concat(),
            expect![[r###"
                ## frame 1 at byte 0 (textDocument/didOpen): replaced 1 lone UTF-16 surrogate escape(s) with U+FFFD
                -> {"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"text":"a�b"}}}
                ## frame 2 at byte 117 (textDocument/didOpen): replaced 2 lone UTF-16 surrogate escape(s) with U+FFFD
                -> {"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"text":"�😀\\ud800�"}}}
            "###]],
        );
    }

    /// A small deterministic generator: the same streams on every run.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn random_streams_never_panic_and_framed_garbage_never_loses_a_good_frame() {
        let mut seed = 0x9E37_79B9_7F4A_7C15;
        let alphabet: &[u8] = b"{}[]\":,0123456789.-eE \r\nContent-Length\\ud800\xff\xfe";
        for _ in 0..500 {
            let len = (xorshift(&mut seed) % 300) as usize;
            let bytes: Vec<u8> =
                (0..len).map(|_| alphabet[(xorshift(&mut seed) % alphabet.len() as u64) as usize]).collect();
            let mut out = Vec::new();
            let mut deframer = Deframer::new(Limits { header_bytes: 64, body_bytes: 128 });
            for piece in bytes.chunks(1 + (xorshift(&mut seed) % 7) as usize) {
                deframer.feed(piece, &mut out);
            }
            deframer.finish(&mut out);

            // Good frames with garbage bodies (in their own frames) between them: every good
            // one reaches the server, in order.
            let mut input = Vec::new();
            let mut sent = Vec::new();
            for n in 0..5 {
                input.extend(encode_frame(&bytes[..bytes.len() * n / 5]));
                let good = format!(r#"{{"jsonrpc":"2.0","id":{n},"method":"m"}}"#);
                input.extend(encode_frame(good.as_bytes()));
                sent.push(good);
            }
            let mut out = Vec::new();
            let mut deframer = Deframer::default();
            deframer.feed(&input, &mut out);
            let forwarded: Vec<String> = out
                .into_iter()
                .filter_map(|o| match o {
                    Output::Forward(body) => Some(String::from_utf8(body).unwrap()),
                    _ => None,
                })
                .filter(|body| body.contains(r#""method":"m""#))
                .collect();
            assert_eq!(forwarded, sent, "garbage {:?}", String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn the_writer_keeps_frames_whole() {
        let output = [frame("{\"a\":1}"), frame("{\"b\":2}")].concat();
        assert_eq!(whole_frame(&output), Some(frame("{\"a\":1}").len()));
        assert_eq!(whole_frame(&output[..5]), None);
        assert_eq!(whole_frame(&output[..24]), None);
    }
}
