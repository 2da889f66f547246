//! `concord ingest --summarize` and `--embed`: summaries written by a model and vector
//! embeddings, from an OpenAI-compatible server (the review's settings; `[ingest]` for
//! embeddings). Each answer is checked here whatever the server claims, and kept in a cache
//! under the cache folder keyed by the chunk's fingerprint and the model, so a chunk whose text
//! did not change is never sent again. A failure is an error before anything is written; the
//! answers that did arrive stay in the cache for the next run. Keys come from environment
//! variables only.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{json, Value};

use super::Section;
use crate::ops::github::is_loopback;
use crate::ops::llm::{self, Endpoint};
use crate::workspace::Workspace;

/// `summary_by` of an entry whose summary a model wrote.
pub const BY_MODEL: &str = "model";

/// A model's summary may be at most this long (characters).
pub const MAX_SUMMARY_CHARS: usize = 600;

/// At most this much of a section's text is sent to be summarised or embedded (characters):
/// enough for the gist, within every common model's context.
const MAX_SECTION_CHARS: usize = 6_000;

/// Chunks per summary request, and their text in characters at most.
const SUMMARY_BATCH: usize = 16;
const SUMMARY_BATCH_CHARS: usize = 48_000;

/// Texts per embeddings request.
const EMBED_BATCH: usize = 64;

/// Bumped when the prompt, the schema or the embedded text changes: older answers are not used.
const CACHE_FORMAT: u32 = 1;

/// Entries kept in a cache file besides those of the current spec (older texts that may come
/// back, such as a reverted edit).
const CACHE_SPARE: usize = 20_000;

const SYSTEM: &str = "You summarise sections of a product specification for an index that people and coding agents read. For each section you are given, write one summary of one to three sentences saying what the section requires or decides, in the section's own language, without markdown. Use at most 400 characters. Return exactly one summary for each section ID you were given, and no other IDs.";

fn summary_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["summaries"],
        "properties": {
            "summaries": { "type": "array", "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["id", "summary"],
                "properties": { "id": { "type": "string" }, "summary": { "type": "string" } }
            }}
        }
    })
}

/// Model answers kept on disk, by key (model and fingerprint); the file is read on the first
/// look-up, so a run where every entry is current does not read it.
struct ModelCache<V> {
    path: Option<PathBuf>,
    stored: Option<HashMap<String, V>>,
    used: BTreeMap<String, V>,
    added: bool,
}

#[derive(Serialize, Deserialize)]
struct CacheFile<V> {
    format: u32,
    entries: Vec<(String, V)>,
}

impl<V: Clone + Serialize + DeserializeOwned> ModelCache<V> {
    /// The cache file `name` in the workspace's cache folder (none when the cache is off).
    fn open(ws: &Workspace, name: &str) -> ModelCache<V> {
        let path = crate::workspace::cache_dir(&ws.root, &ws.config, None).map(|dir| dir.join(name));
        ModelCache { path, stored: None, used: BTreeMap::new(), added: false }
    }

    /// What the file holds; a file that does not decode is ignored (and replaced on save).
    fn stored(&mut self) -> &HashMap<String, V> {
        let path = self.path.as_ref();
        self.stored.get_or_insert_with(|| {
            path.and_then(|p| std::fs::read(p).ok())
                .and_then(|bytes| postcard::from_bytes::<CacheFile<V>>(&bytes).ok())
                .filter(|file| file.format == CACHE_FORMAT)
                .map(|file| file.entries.into_iter().collect())
                .unwrap_or_default()
        })
    }

    fn get(&mut self, key: &str) -> Option<V> {
        let value = self.stored().get(key)?.clone();
        self.used.insert(key.to_string(), value.clone());
        Some(value)
    }

    fn put(&mut self, key: String, value: V) {
        self.used.insert(key, value);
        self.added = true;
    }

    /// Write it back when something was added: this run's entries first, then older ones up to
    /// [`CACHE_SPARE`]. Never fatal: the cache only saves requests.
    fn save(self) {
        let Some(path) = self.path.filter(|_| self.added) else { return };
        let mut entries: Vec<(String, V)> = self.used.into_iter().collect();
        let mut older: Vec<(String, V)> = self
            .stored
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| entries.binary_search_by(|(e, _)| e.as_str().cmp(k.as_str())).is_err())
            .collect();
        older.sort_by(|a, b| a.0.cmp(&b.0));
        entries.extend(older.into_iter().take(CACHE_SPARE));
        let write = || -> std::io::Result<()> {
            let dir = path.parent().ok_or_else(|| std::io::Error::other("no folder"))?;
            crate::cache::make_cache_dir(dir)?;
            let bytes = postcard::to_stdvec(&CacheFile { format: CACHE_FORMAT, entries })
                .map_err(std::io::Error::other)?;
            crate::fsutil::write_atomic(&path, &bytes)
        };
        if let Err(e) = write() {
            tracing::debug!(path = %path.display(), "the ingest cache was not written: {e}");
        }
    }
}

/// The server a request goes to, with its key from `key_env`. A key is required unless the
/// server runs on this machine (Ollama, llama.cpp and vLLM take none by default).
fn endpoint(base: &str, model: &str, key_env: &str, what: &str) -> Result<Endpoint, String> {
    let key = std::env::var(key_env).ok().filter(|k| !k.is_empty());
    if key.is_none() && !is_loopback(base) {
        return Err(format!(
            "{what} needs an API key for {base}: set the environment variable {key_env} (or point the base URL at a server on this machine)"
        ));
    }
    Ok(Endpoint { base_url: base.to_string(), model: model.to_string(), key })
}

/// The section's words (markdown removed), cut to at most [`MAX_SECTION_CHARS`].
fn section_text(section: &Section) -> String {
    let text = crate::model::fingerprint::normalise(&section.body);
    match text.char_indices().nth(MAX_SECTION_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Positions of the entries the markdown defines, by ID.
fn derived_positions<'s>(
    entries: &[Value],
    sections: &'s BTreeMap<String, Section>,
) -> Vec<(usize, &'s str, &'s Section)> {
    entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let (id, section) = sections.get_key_value(e.get("id")?.as_str()?)?;
            Some((i, id.as_str(), section))
        })
        .collect()
}

/// Give each chunk the markdown defines a model's summary, unless it has one for its current
/// text: from the cache, else asked for in batches. Returns the line for the message.
pub fn summarize(
    ws: &Workspace,
    entries: &mut [Value],
    sections: &BTreeMap<String, Section>,
    dry_run: bool,
) -> Result<String, String> {
    let review = &ws.config.review;
    let model = &review.openai_model;
    let mut cache: ModelCache<String> = ModelCache::open(ws, "ingest-summaries.bin");
    let mut missing = Vec::new();
    let (mut kept, mut cached) = (0, 0);
    for (i, id, section) in derived_positions(entries, sections) {
        if entries[i].get("summary_by").and_then(Value::as_str) == Some(BY_MODEL) {
            kept += 1;
            continue;
        }
        match cache.get(&format!("{model}\n{}", section.fingerprint)) {
            Some(summary) => {
                set_summary(&mut entries[i], summary);
                cached += 1;
            }
            None => missing.push((i, id, section)),
        }
    }
    if dry_run || missing.is_empty() {
        let asked = if missing.is_empty() {
            "none to ask for".to_string()
        } else {
            format!("would ask {model} for {} (--dry-run: no request made)", missing.len())
        };
        return Ok(format!("summaries: {kept} kept, {cached} from the cache, {asked}"));
    }
    let result = (|| {
        let endpoint = endpoint(&review.openai_base_url, model, &review.openai_key_env, "--summarize")?;
        let schema = summary_schema();
        let mut requests = 0;
        for batch in summary_batches(&missing) {
            let texts: Vec<Value> = batch
                .iter()
                .map(|(_, id, s)| json!({ "id": id, "title": s.title, "text": section_text(s) }))
                .collect();
            let prompt = format!(
                "Summarise each of these {} sections:\n{}",
                batch.len(),
                serde_json::to_string_pretty(&json!({ "sections": texts })).expect("json")
            );
            let wanted: Vec<&str> = batch.iter().map(|(_, id, _)| *id).collect();
            let mut last = String::new();
            let mut summaries = None;
            // Asked twice: a model's answer that misses an ID is often right the second time.
            for _ in 0..2 {
                requests += 1;
                let deadline = Instant::now() + Duration::from_secs(ws.config.llm_timeout_secs);
                let answer = llm::openai_json(
                    &endpoint,
                    &review.openai_api,
                    SYSTEM,
                    &prompt,
                    "chunk_summaries",
                    &schema,
                    deadline,
                )?;
                match llm::validate(&schema, &answer, "answer").and_then(|_| summaries_of(&answer, &wanted)) {
                    Ok(found) => {
                        summaries = Some(found);
                        break;
                    }
                    Err(e) => last = e,
                }
            }
            let summaries = summaries.ok_or_else(|| {
                format!("{model} did not give a usable summary for {} ({last})", wanted.join(", "))
            })?;
            for ((i, _, section), summary) in batch.iter().zip(summaries) {
                cache.put(format!("{model}\n{}", section.fingerprint), summary.clone());
                set_summary(&mut entries[*i], summary);
            }
        }
        Ok(requests)
    })();
    cache.save();
    let requests = result.map_err(|e: String| format!("--summarize: {e}; nothing was written"))?;
    Ok(format!(
        "summaries: {kept} kept, {cached} from the cache, {} written by {model} ({requests} requests)",
        missing.len()
    ))
}

fn set_summary(entry: &mut Value, summary: String) {
    if let Some(object) = entry.as_object_mut() {
        object.insert("summary".into(), json!(summary));
        object.insert("summary_by".into(), json!(BY_MODEL));
    }
}

/// The missing chunks in requests of at most [`SUMMARY_BATCH`] chunks and about
/// [`SUMMARY_BATCH_CHARS`] characters.
fn summary_batches<'m, 's>(
    missing: &'m [(usize, &'s str, &'s Section)],
) -> Vec<&'m [(usize, &'s str, &'s Section)]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = 0;
    for (n, (_, _, section)) in missing.iter().enumerate() {
        let size = section.body.len().min(MAX_SECTION_CHARS * 4);
        if n > start && (n - start == SUMMARY_BATCH || chars + size > SUMMARY_BATCH_CHARS) {
            out.push(&missing[start..n]);
            start = n;
            chars = 0;
        }
        chars += size;
    }
    if start < missing.len() {
        out.push(&missing[start..]);
    }
    out
}

/// The answer's summaries in the order of `wanted`: each requested ID exactly once, no other
/// ID, each summary one non-empty line of at most [`MAX_SUMMARY_CHARS`] characters.
pub fn summaries_of(answer: &Value, wanted: &[&str]) -> Result<Vec<String>, String> {
    let items = answer.get("summaries").and_then(Value::as_array).ok_or("the answer has no `summaries`")?;
    let mut found: BTreeMap<&str, String> = BTreeMap::new();
    for item in items {
        let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
        let text = item.get("summary").and_then(Value::as_str).unwrap_or_default();
        if !wanted.contains(&id) {
            return Err(format!("a summary for {id:?}, which was not asked for"));
        }
        let summary = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if summary.is_empty() {
            return Err(format!("the summary of {id} is empty"));
        }
        let chars = summary.chars().count();
        if chars > MAX_SUMMARY_CHARS {
            return Err(format!(
                "the summary of {id} is {chars} characters long; at most {MAX_SUMMARY_CHARS} are allowed"
            ));
        }
        if found.insert(id, summary).is_some() {
            return Err(format!("two summaries for {id}"));
        }
    }
    wanted.iter().map(|id| found.remove(id).ok_or_else(|| format!("no summary for {id}"))).collect()
}

/// Give each chunk the markdown defines an embedding from the configured model, unless it has
/// one from that model for its current text: from the cache, else asked for in batches.
pub fn embed(
    ws: &Workspace,
    entries: &mut [Value],
    sections: &BTreeMap<String, Section>,
    dry_run: bool,
) -> Result<String, String> {
    let settings = &ws.config.ingest;
    let review = &ws.config.review;
    let base =
        if settings.embed_base_url.is_empty() { &review.openai_base_url } else { &settings.embed_base_url };
    let key_env =
        if settings.embed_key_env.is_empty() { &review.openai_key_env } else { &settings.embed_key_env };
    let model = &settings.embed_model;
    let mut cache: ModelCache<Vec<f64>> = ModelCache::open(ws, "ingest-embeddings.bin");
    let mut missing = Vec::new();
    let (mut kept, mut cached) = (0, 0);
    for (i, _, section) in derived_positions(entries, sections) {
        let entry = &entries[i];
        if entry.get("embedding").is_some()
            && entry.get("embedding_model").and_then(Value::as_str) == Some(model)
        {
            kept += 1;
            continue;
        }
        match cache.get(&format!("{model}\n{}", section.fingerprint)) {
            Some(vector) => {
                set_embedding(&mut entries[i], vector, model);
                cached += 1;
            }
            None => missing.push((i, section)),
        }
    }
    if dry_run || missing.is_empty() {
        let asked = if missing.is_empty() {
            "none to ask for".to_string()
        } else {
            format!("would ask {model} for {} (--dry-run: no request made)", missing.len())
        };
        return Ok(format!("embeddings: {kept} kept, {cached} from the cache, {asked}"));
    }
    let result = (|| {
        let endpoint = endpoint(base, model, key_env, "--embed")?;
        let mut requests = 0;
        for batch in missing.chunks(EMBED_BATCH) {
            let inputs: Vec<String> = batch
                .iter()
                .map(|(_, s)| {
                    format!("{}\n{}", crate::model::fingerprint::normalise(&s.title), section_text(s))
                })
                .collect();
            requests += 1;
            let deadline = Instant::now() + Duration::from_secs(ws.config.llm_timeout_secs);
            let vectors = llm::openai_embeddings(&endpoint, &inputs, deadline)?;
            for ((i, section), vector) in batch.iter().zip(vectors) {
                cache.put(format!("{model}\n{}", section.fingerprint), vector.clone());
                set_embedding(&mut entries[*i], vector, model);
            }
        }
        Ok(requests)
    })();
    cache.save();
    let requests = result.map_err(|e: String| format!("--embed: {e}; nothing was written"))?;
    Ok(format!(
        "embeddings: {kept} kept, {cached} from the cache, {} made by {model} ({requests} requests)",
        missing.len()
    ))
}

fn set_embedding(entry: &mut Value, vector: Vec<f64>, model: &str) {
    if let Some(object) = entry.as_object_mut() {
        object.insert("embedding".into(), json!(vector));
        object.insert("embedding_model".into(), json!(model));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_checked_against_what_was_asked() {
        let wanted = ["TD-0001", "TD-0002"];
        let answer = |items: Value| json!({ "summaries": items });
        let good = answer(json!([
            { "id": "TD-0002", "summary": "Receipts  by\nemail." },
            { "id": "TD-0001", "summary": "Refunds go back to the card." }
        ]));
        assert_eq!(
            summaries_of(&good, &wanted).unwrap(),
            ["Refunds go back to the card.", "Receipts by email."]
        );
        // (answer, words of the error)
        let cases = [
            (answer(json!([{ "id": "TD-0001", "summary": "x" }])), "no summary for TD-0002"),
            (
                answer(json!([{ "id": "TD-0001", "summary": "x" }, { "id": "TD-0009", "summary": "y" }])),
                "not asked for",
            ),
            (
                answer(json!([{ "id": "TD-0001", "summary": " " }, { "id": "TD-0002", "summary": "y" }])),
                "is empty",
            ),
            (
                answer(json!([{ "id": "TD-0001", "summary": "a" }, { "id": "TD-0001", "summary": "b" }])),
                "two summaries",
            ),
            (
                answer(
                    json!([{ "id": "TD-0001", "summary": "long ".repeat(200) }, { "id": "TD-0002", "summary": "y" }]),
                ),
                "at most 600",
            ),
            (json!({ "text": "hello" }), "no `summaries`"),
        ];
        for (answer, words) in cases {
            let error = summaries_of(&answer, &wanted).unwrap_err();
            assert!(error.contains(words), "{answer}: {error}");
        }
        assert!(llm::validate(&summary_schema(), &json!({ "summaries": [{ "id": "x" }] }), "answer").is_err());
    }

    #[test]
    fn a_key_is_needed_unless_the_server_is_on_this_machine() {
        for local in ["http://localhost:11434/v1", "http://127.0.0.1:8080/v1", "http://[::1]:8000/v1"] {
            assert!(is_loopback(local), "{local}");
        }
        for remote in
            ["https://api.openai.com/v1", "http://10.0.0.5:8000/v1", "http://localhost.example.com/v1"]
        {
            assert!(!is_loopback(remote), "{remote}");
        }
    }

    #[test]
    fn batches_are_bounded_in_count_and_size() {
        let small = Section { title: "t".into(), body: "x".repeat(100), fingerprint: "f".into() };
        let big = Section { title: "t".into(), body: "x".repeat(40_000), fingerprint: "f".into() };
        let missing: Vec<(usize, &str, &Section)> =
            (0..40).map(|i| (i, "ID", if i == 3 { &big } else { &small })).collect();
        let sizes: Vec<usize> = summary_batches(&missing).iter().map(|b| b.len()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 40);
        assert!(sizes.iter().all(|&n| n <= SUMMARY_BATCH), "{sizes:?}");
    }
}
