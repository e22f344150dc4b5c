#!/usr/bin/env python3
"""Independent references for the in-process all-MiniLM-L6-v2 embedder's tests and benchmarks.

  reference.py tokens MODEL_DIR COUNT SEED   generated strings and Hugging Face tokenizers' ids (JSON lines)
  reference.py embed MODEL_DIR               texts (a JSON list on stdin) -> embeddings (JSON list), numpy
  reference.py bench MODEL_DIR BATCH TEXTS   texts/s of the numpy pass on a JSON list of texts in a file

The forward pass is written here from the model's published architecture (BERT, mean pooling,
L2 normalisation) with numpy alone: padding to the batch's longest text with an attention mask,
as sentence-transformers runs it, so it checks the Swift encoder's unpadded packing too.
"""
import json
import math
import random
import struct
import sys
import time

import numpy as np
from tokenizers import Tokenizer


def tokenizer(model_dir):
    with open(f"{model_dir}/sentence_bert_config.json") as handle:
        max_length = json.load(handle)["max_seq_length"]
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(max_length)
    return tok


# --- generated strings ---------------------------------------------------------------------------

WORDS = ["memory", "agent", "rocket", "launch", "Friday", "coordinate", "weather", "stadium", "unbelievable",
         "tokenization", "naïve", "café", "Zürich", "façade", "Ångström", "İstanbul", "straße", "ﬁnance",
         "Ｆｕｌｌｗｉｄｔｈ", "東京", "北京大学", "한국어", "日本語のテキスト", "Привет", "Ελληνικά", "مرحبا", "हिन्दी",
         "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[cls]", "don't", "e-mail", "U.S.A.", "$100", "50%", "#tag",
         "@user", "<html>", "x^2", "a|b", "~tilde", "`tick`", "C++", "3.14159", "2026-12-01", "😀", "👍🏽", "👨‍👩‍👧",
         "🥰", "🫠", "🧑‍🚀", "❤️", "™", "©", "°C", "µs", "½", "…", "—", "«quote»", "¿qué?", "¡hola!"]
SPECIAL = ["\t", "\n", "\r", "\x00", "\x07", "\x1b", "\x7f", "\u00ad", "\u200b", "\u200c", "\u200d", "\u2060",
           "\ufeff", "\ufffd", "\u202e", "\u00a0", "\u3000", "\u2028", "\u0301", "\u0308", "\u20dd", "\U000e0041",
           "\ue000", "\U000f0000", "\u0378", "\U0001fae9"]


def random_scalar(rng):
    while True:
        plane = rng.random()
        if plane < 0.6:
            code = rng.randrange(0x20, 0x3000)
        elif plane < 0.85:
            code = rng.randrange(0x3000, 0x10000)
        else:
            code = rng.randrange(0x10000, 0x110000)
        if not 0xD800 <= code <= 0xDFFF:
            return chr(code)


def generated(rng, index):
    kind = index % 10
    if kind == 0:
        return "" if index % 20 == 0 else " " * rng.randrange(1, 4)
    if kind == 1:  # over the 256-token limit
        return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(150, 400)))
    if kind == 2:  # words too long for WordPiece, and long words that split into many pieces
        return rng.choice(["a" * rng.randrange(95, 130), "supercalifragilistic" * rng.randrange(3, 8), "x" + "é" * 120])
    if kind == 3:  # random code points, any plane
        return "".join(random_scalar(rng) for _ in range(rng.randrange(1, 40)))
    if kind == 4:
        return "".join(rng.choice(SPECIAL + [" ", "a", "b"]) for _ in range(rng.randrange(1, 30)))
    if kind == 5:  # printable ASCII soup
        return "".join(chr(rng.randrange(0x20, 0x7F)) for _ in range(rng.randrange(1, 80)))
    pieces = []
    for _ in range(rng.randrange(1, 25)):
        choice = rng.random()
        if choice < 0.6:
            word = rng.choice(WORDS)
            pieces.append(word.upper() if rng.random() < 0.2 else word)
        elif choice < 0.8:
            pieces.append(rng.choice(SPECIAL))
        else:
            pieces.append(random_scalar(rng))
    return rng.choice(["", " ", "  "]).join(pieces)


def tokens(model_dir, count, seed):
    tok = tokenizer(model_dir)
    rng = random.Random(seed)
    for index in range(count):
        text = generated(rng, index)
        print(json.dumps({"text": text, "ids": tok.encode(text).ids}))


# --- the forward pass ----------------------------------------------------------------------------

def load_weights(model_dir):
    with open(f"{model_dir}/model.safetensors", "rb") as handle:
        data = handle.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    start = 8 + length
    weights = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] != "F32":
            continue
        begin, end = entry["data_offsets"]
        weights[name] = np.frombuffer(data, dtype="<f4", count=(end - begin) // 4, offset=start + begin).reshape(entry["shape"])
    return weights


def erf(x):
    # Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7); numpy has no erf.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def layer_norm(x, weight, bias, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def forward(w, ids, mask, heads=12):
    batch, length = ids.shape
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length] \
        + w["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    hidden = x.shape[-1]
    size = hidden // heads
    additive = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
    for layer in range(6):
        p = f"encoder.layer.{layer}."
        def linear(v, name):
            return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]
        def split(v):
            return v.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)
        q, k, v = (split(linear(x, f"attention.self.{n}")) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + additive
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = layer_norm(linear(context, "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        inner = linear(x, "intermediate.dense")
        inner = 0.5 * inner * (1.0 + erf(inner / math.sqrt(2.0)))
        x = layer_norm(linear(inner, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def padded(tok, texts, mask_type=np.float32):
    """Token ids padded to the batch's longest text, and the attention mask."""
    encodings = tok.encode_batch(texts)
    length = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(texts), length), dtype=np.int64)
    mask = np.zeros((len(texts), length), dtype=mask_type)
    for row, encoding in enumerate(encodings):
        ids[row, :len(encoding.ids)] = encoding.ids
        mask[row, :len(encoding.ids)] = 1
    return ids, mask


def embed_batch(tok, w, texts):
    return forward(w, *padded(tok, texts))


def embed(model_dir):
    texts = json.load(sys.stdin)
    tok, w = tokenizer(model_dir), load_weights(model_dir)
    vectors = [embed_batch(tok, w, texts[i:i + 16]) for i in range(0, len(texts), 16)]
    json.dump(np.concatenate(vectors).astype(float).tolist() if vectors else [], sys.stdout)


def bench(model_dir, batch, texts_file):
    with open(texts_file) as handle:
        texts = json.load(handle)
    tok, w = tokenizer(model_dir), load_weights(model_dir)
    embed_batch(tok, w, texts[:batch])
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        embed_batch(tok, w, texts[i:i + batch])
    print(json.dumps({"texts_per_second": len(texts) / (time.perf_counter() - started)}))


if __name__ == "__main__":
    command, model_dir = sys.argv[1], sys.argv[2]
    if command == "tokens":
        tokens(model_dir, int(sys.argv[3]), int(sys.argv[4]))
    elif command == "embed":
        embed(model_dir)
    elif command == "bench":
        bench(model_dir, int(sys.argv[3]), sys.argv[4])
