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
            match object.get("params") {
                None | Some(Value::Null | Value::Object(_) | Value::Array(_)) => {}
                Some(_) => return Err(invalid(&answer_id, "\"params\" must be an object or an array")),
            }
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
                log::warn!("reading the client failed: {e}");
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
                Output::Note(note) => log::warn!("{note}"),
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
                log::warn!("writing to the client failed: {e}");
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
