//! The two reviewers' wire formats: Anthropic Messages (the assistant manager, JSON through a
//! forced tool call) and OpenAI Chat Completions or Responses (the primary decider, strict JSON
//! schema output; any OpenAI-compatible server works). Answers are validated locally against the
//! schema whatever the provider claims. Keys come from environment variables and never appear in
//! a message, a log or a file.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Retry like the official SDKs: these statuses and any 5xx, at most two retries, honouring
/// `retry-after-ms` then `retry-after`, each wait capped; without them an exponential backoff
/// with jitter, so that many reviewers refused at once do not come back at once.
const RETRY_STATUSES: &[u16] = &[408, 409, 429];
const MAX_RETRIES: usize = 2;
const MAX_WAIT: Duration = Duration::from_secs(8);

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub base_url: String,
    pub model: String,
    pub key: Option<String>,
}

/// A provider endpoint from the configuration; the key is read from the named environment
/// variable, never from a file.
pub fn endpoint(base: &str, model: &str, key_env: &str) -> Endpoint {
    Endpoint {
        base_url: base.to_string(),
        model: model.to_string(),
        key: std::env::var(key_env).ok().filter(|k| !k.is_empty()),
    }
}

/// Ask once, and once more if the answer fails `check` (the schema, then what a schema cannot
/// say); then give up with the last reason.
pub fn ask_twice(
    mut ask: impl FnMut() -> Result<Value, String>,
    check: impl Fn(&Value) -> Result<(), String>,
) -> Result<Value, String> {
    let mut last = String::new();
    for _ in 0..2 {
        match ask().and_then(|v| check(&v).map(|_| v)) {
            Ok(v) => return Ok(v),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build().into()
}

/// POST a JSON body; retries retryable statuses and connection failures. Errors name the URL
/// and status, never a header. The body is scrubbed before it leaves (no key Concord reads, of
/// this provider or another, and nothing secret-shaped is ever sent), and so is any error text
/// (a 401 body may echo the key it refused).
fn post(url: &str, headers: &[(&str, String)], body: &Value, deadline: Instant) -> Result<Value, String> {
    let answer = post_unscrubbed(url, headers, &super::scrub::text(&body.to_string()), deadline)
        .map_err(|e| super::scrub::text(&e))?;
    record_usage(body["model"].as_str().unwrap_or(""), &answer);
    Ok(answer)
}

/// Tokens a provider reported for one model.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

thread_local! {
    /// The usage reported to this thread since [`take_usage`] was last called: a review runs on
    /// one thread, so parallel reviews keep their counts apart.
    static USAGE: std::cell::RefCell<Vec<Usage>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The `usage` object of an answer: Chat Completions (`prompt_tokens`, `completion_tokens`),
/// Anthropic and the Responses API (`input_tokens`, `output_tokens`).
fn record_usage(model: &str, answer: &Value) {
    let Some(usage) = answer.get("usage") else { return };
    let count = |keys: &[&str]| keys.iter().find_map(|k| usage.get(*k).and_then(Value::as_u64)).unwrap_or(0);
    let input = count(&["input_tokens", "prompt_tokens"]);
    let output = count(&["output_tokens", "completion_tokens"]);
    let model = answer.get("model").and_then(Value::as_str).filter(|m| !m.is_empty()).unwrap_or(model);
    USAGE.with(|all| {
        let mut all = all.borrow_mut();
        match all.iter_mut().find(|u| u.model == model) {
            Some(u) => {
                u.input_tokens += input;
                u.output_tokens += output;
            }
            None => all.push(Usage { model: model.to_string(), input_tokens: input, output_tokens: output }),
        }
    });
}

/// The usage recorded on this thread since the last call, by model.
pub fn take_usage() -> Vec<Usage> {
    USAGE.with(|all| std::mem::take(&mut *all.borrow_mut()))
}

fn post_unscrubbed(
    url: &str,
    headers: &[(&str, String)],
    body: &str,
    deadline: Instant,
) -> Result<Value, String> {
    let mut attempt = 0;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(format!("{url}: no answer within the time limit"));
        }
        let mut request = agent(remaining).post(url).header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let (retryable, wait, failure) = match request.send(body) {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let text = response.body_mut().read_to_string().unwrap_or_default();
                if (200..300).contains(&status) {
                    return serde_json::from_str(&text)
                        .map_err(|e| format!("{url}: the answer is not JSON ({e})"));
                }
                let wait = retry_after(response.headers());
                let detail: String = text.chars().take(300).collect();
                let retryable = should_retry(response.headers())
                    .unwrap_or(RETRY_STATUSES.contains(&status) || status >= 500);
                (retryable, wait, format!("{url}: HTTP {status}: {detail}"))
            }
            Err(e) => (true, None, format!("{url}: {}", e.to_string().chars().take(300).collect::<String>())),
        };
        if !retryable || attempt == MAX_RETRIES {
            return Err(failure);
        }
        let wait = wait.unwrap_or_else(|| backoff(attempt)).min(MAX_WAIT);
        if Instant::now() + wait >= deadline {
            return Err(format!("{failure} (no time left to retry)"));
        }
        std::thread::sleep(wait);
        attempt += 1;
    }
}

/// 0.5 s, 1 s, 2 s, ... less up to a quarter at random (as the SDKs do).
fn backoff(attempt: usize) -> Duration {
    use std::hash::{BuildHasher, RandomState};
    let base = 500u64 << attempt.min(10);
    let random = RandomState::new().hash_one(Instant::now()) % 1000;
    Duration::from_millis(base - base * random / 4000)
}

/// The server's own word on retrying, as the official SDKs read it: `x-should-retry: true` or
/// `false` overrides the status list.
fn should_retry(headers: &ureq::http::HeaderMap) -> Option<bool> {
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()).map(str::trim) {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    }
}

fn retry_after(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Some(Duration::from_millis(ms.max(0.0) as u64));
    }
    get("retry-after")
        .and_then(|v| v.parse::<f64>().ok())
        .map(|s| Duration::from_millis((s.max(0.0) * 1000.0) as u64))
}

/// The assistant manager: risks, missing deliverables, test gaps, follow-ups, a recommendation.
pub fn anthropic_json(
    endpoint: &Endpoint,
    system: &str,
    prompt: &str,
    tool: &str,
    schema: &Value,
    deadline: Instant,
) -> Result<Value, String> {
    let key = endpoint.key.as_ref().ok_or("no Anthropic API key in the environment")?;
    let body = json!({
        "model": endpoint.model,
        "max_tokens": 4096,
        "system": system,
        "messages": [{ "role": "user", "content": prompt }],
        "tools": [{ "name": tool, "description": "Record the review.", "input_schema": schema }],
        "tool_choice": { "type": "tool", "name": tool },
    });
    let url = format!("{}/v1/messages", endpoint.base_url.trim_end_matches('/'));
    let headers = [("x-api-key", key.clone()), ("anthropic-version", "2023-06-01".to_string())];
    let answer = post(&url, &headers, &body, deadline)?;
    let blocks = answer.get("content").and_then(Value::as_array).ok_or("the answer has no content")?;
    if let Some(input) =
        blocks.iter().find(|b| b.get("type") == Some(&json!("tool_use"))).and_then(|b| b.get("input"))
    {
        return Ok(input.clone());
    }
    // Some compatible servers answer in text: take a JSON object from it.
    let text: String = blocks.iter().filter_map(|b| b.get("text").and_then(Value::as_str)).collect();
    json_in_text(&text).ok_or_else(|| "the answer holds neither a tool call nor a JSON object".to_string())
}

/// The primary decider, through Chat Completions or the Responses API.
pub fn openai_json(
    endpoint: &Endpoint,
    api: &str,
    system: &str,
    prompt: &str,
    name: &str,
    schema: &Value,
    deadline: Instant,
) -> Result<Value, String> {
    let mut headers = Vec::new();
    if let Some(key) = &endpoint.key {
        headers.push(("authorization", format!("Bearer {key}")));
    }
    let base = endpoint.base_url.trim_end_matches('/');
    let text = if api == "responses" {
        let body = json!({
            "model": endpoint.model,
            "input": [{ "role": "system", "content": system }, { "role": "user", "content": prompt }],
            "text": { "format": { "type": "json_schema", "name": name, "strict": true, "schema": schema } },
        });
        let answer = post(&format!("{base}/responses"), &headers, &body, deadline)?;
        answer
            .get("output")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|item| item.get("content").and_then(Value::as_array).cloned().unwrap_or_default())
            .filter(|c| c.get("type") == Some(&json!("output_text")))
            .filter_map(|c| c.get("text").and_then(Value::as_str).map(str::to_string))
            .collect::<String>()
    } else {
        let body = json!({
            "model": endpoint.model,
            "messages": [{ "role": "system", "content": system }, { "role": "user", "content": prompt }],
            "response_format": { "type": "json_schema", "json_schema": { "name": name, "strict": true, "schema": schema } },
        });
        let answer = post(&format!("{base}/chat/completions"), &headers, &body, deadline)?;
        let message = answer.pointer("/choices/0/message").ok_or("the answer has no choices")?;
        if let Some(refusal) = message.get("refusal").and_then(Value::as_str) {
            return Err(format!("the model refused: {refusal}"));
        }
        message.get("content").and_then(Value::as_str).unwrap_or("").to_string()
    };
    json_in_text(&text).ok_or_else(|| "the answer is not a JSON object".to_string())
}

/// Vectors for `inputs`, in order, from an OpenAI-compatible `POST {base}/embeddings` (OpenAI,
/// Ollama, llama.cpp, vLLM): `{"model", "input": [...]}` in, `{"data": [{"index", "embedding"}]}`
/// out. The answer must give each input exactly one vector of finite numbers, all of one length.
pub fn openai_embeddings(
    endpoint: &Endpoint,
    inputs: &[String],
    deadline: Instant,
) -> Result<Vec<Vec<f64>>, String> {
    let mut headers = Vec::new();
    if let Some(key) = &endpoint.key {
        headers.push(("authorization", format!("Bearer {key}")));
    }
    let url = format!("{}/embeddings", endpoint.base_url.trim_end_matches('/'));
    let body = json!({ "model": endpoint.model, "input": inputs });
    let answer = post(&url, &headers, &body, deadline)?;
    let data = answer
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{url}: the answer has no `data` array"))?;
    let mut vectors: Vec<Option<Vec<f64>>> = vec![None; inputs.len()];
    for (n, item) in data.iter().enumerate() {
        let index = item.get("index").and_then(Value::as_u64).map_or(n, |i| i as usize);
        let slot = vectors.get_mut(index).ok_or_else(|| {
            format!("{url}: data[{n}] has index {index}, but {} inputs were sent", inputs.len())
        })?;
        if slot.is_some() {
            return Err(format!("{url}: two vectors for input {index}"));
        }
        let numbers = item.get("embedding").and_then(Value::as_array).ok_or_else(|| {
            format!("{url}: data[{n}] has no `embedding` array (base64 answers are not asked for)")
        })?;
        let vector: Option<Vec<f64>> = numbers.iter().map(|v| v.as_f64().filter(|f| f.is_finite())).collect();
        match vector {
            Some(vector) if !vector.is_empty() => *slot = Some(vector),
            _ => return Err(format!("{url}: data[{n}].embedding is not a non-empty array of numbers")),
        }
    }
    let vectors: Vec<Vec<f64>> = vectors
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| format!("{url}: no vector for input {i}")))
        .collect::<Result<_, _>>()?;
    if let Some(first) = vectors.first() {
        if let Some(other) = vectors.iter().find(|v| v.len() != first.len()) {
            return Err(format!("{url}: vectors of different lengths ({} and {})", first.len(), other.len()));
        }
    }
    Ok(vectors)
}

fn json_in_text(text: &str) -> Option<Value> {
    let text = text.trim();
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
        return Some(v);
    }
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    serde_json::from_str::<Value>(&text[start..=end]).ok().filter(Value::is_object)
}

/// Validate against the strict-mode subset of JSON Schema the review schemas use: `type`
/// (a name or a list), `enum`, `properties`, `required`, `additionalProperties: false`, `items`.
pub fn validate(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(types) = schema.get("type") {
        let names: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = |t: &str| match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "null" => value.is_null(),
            _ => false,
        };
        if !names.iter().any(|t| fits(t)) {
            return Err(format!("{at}: expected {}", names.join(" or ")));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            return Err(format!("{at}: {value} is not one of {}", Value::Array(options.clone())));
        }
    }
    if let (Some(object), Some(properties)) =
        (value.as_object(), schema.get("properties").and_then(Value::as_object))
    {
        for key in
            schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
        {
            if !object.contains_key(key) {
                return Err(format!("{at}: `{key}` is missing"));
            }
        }
        for (key, item) in object {
            match properties.get(key) {
                Some(sub) => validate(sub, item, &format!("{at}.{key}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}: unexpected `{key}`"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (n, item) in items.iter().enumerate() {
            validate(schema, item, &format!("{at}[{n}]"))?;
        }
    }
    Ok(())
}

/// The review decision schema (docs/schemas/review-decision.schema.json), as sent to a provider:
/// without `$schema` and `$id`, which strict structured output does not accept.
pub fn decision_schema() -> Value {
    let mut schema: Value =
        serde_json::from_str(include_str!("../../../docs/schemas/review-decision.schema.json"))
            .expect("the decision schema is JSON");
    if let Some(object) = schema.as_object_mut() {
        for key in ["$schema", "$id", "title", "description"] {
            object.remove(key);
        }
    }
    schema
}

/// What the assistant manager returns.
pub fn assistant_schema() -> Value {
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["recommendation", "risks", "missing_deliverables", "test_gaps", "followups"],
        "properties": {
            "recommendation": { "type": "string", "enum": ["accept", "partial", "reject", "blocked"] },
            "risks": { "type": "array", "items": {
                "type": "object", "additionalProperties": false,
                "required": ["id", "severity", "description", "evidence"],
                "properties": {
                    "id": { "type": "string" },
                    "severity": { "type": "string", "enum": ["low", "medium", "high", "critical"] },
                    "description": { "type": "string" },
                    "evidence": { "type": ["string", "null"] }
                }
            }},
            "missing_deliverables": strings,
            "test_gaps": strings,
            "followups": { "type": "array", "items": {
                "type": "object", "additionalProperties": false,
                "required": ["title", "summary", "blocking", "scope_paths"],
                "properties": {
                    "title": { "type": "string" }, "summary": { "type": "string" },
                    "blocking": { "type": "boolean" }, "scope_paths": strings
                }
            }}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_at_most_a_quarter_of_jitter() {
        for attempt in 0..4 {
            let base = Duration::from_millis(500 << attempt);
            for _ in 0..50 {
                let wait = backoff(attempt);
                assert!(wait <= base && wait >= base * 3 / 4, "{attempt}: {wait:?}");
            }
        }
    }

    #[test]
    fn the_decision_schema_is_strict_and_validates() {
        let schema = decision_schema();
        assert!(schema.get("$schema").is_none());
        let good = json!({
            "wbs_id": "WBS-005", "decision": "accept", "recommended_status": "done", "summary": "ok",
            "risks": [], "missing_deliverables": [], "test_gaps": [], "followups": [], "acceptance": [], "owner_questions": []
        });
        validate(&schema, &good, "decision").unwrap();
        let mut bad = good.clone();
        bad["decision"] = json!("ship it");
        assert!(validate(&schema, &bad, "decision").unwrap_err().contains("not one of"));
        let mut extra = good.clone();
        extra["confidence"] = json!(0.9);
        assert!(validate(&schema, &extra, "decision").unwrap_err().contains("unexpected"));
        let mut missing = good;
        missing.as_object_mut().unwrap().remove("summary");
        assert!(validate(&schema, &missing, "decision").unwrap_err().contains("missing"));
    }

    #[test]
    fn json_is_found_in_chatty_text() {
        assert_eq!(json_in_text("Here you go:\n```json\n{\"a\": 1}\n```"), Some(json!({ "a": 1 })));
        assert_eq!(json_in_text("no json"), None);
    }
}
