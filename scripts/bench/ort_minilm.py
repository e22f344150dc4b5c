#!/usr/bin/env python3
"""all-MiniLM-L6-v2 on ONNX Runtime, the anchor the in-process encoder is measured against.

  ort_minilm.py build MODEL_DIR OUT_DIR      fp32 and int8 ONNX graphs from the model's safetensors, checked
  ort_minilm.py bench OUT_DIR MODEL_DIR PRECISION THREADS SECONDS TEXTS
                                            texts/s and a query's latency, the keys `soma embedder-bench` prints

No package ships an fp32 ONNX export of this model and nothing is downloaded at run time: `build` writes
the BERT graph node by node with the `onnx` package's helper API from the same safetensors the service
loads, checks it against the numpy reference forward pass (Tests/MiniLMReference/reference.py), then
quantises it with ONNX Runtime's own dynamic quantiser: int8 weights per output channel, activations
quantised at run time, only the products with constant weights (as the in-process INT8 path does).
Tokenisation (Hugging Face `tokenizers`) is inside the timed loop, as in the service.
"""
import json
import math
import os
import random
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "MiniLMReference"))
import reference  # noqa: E402

HEADS = 12
LAYERS = 6
PUBLISHED = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]


class Graph:
    def __init__(self):
        self.nodes, self.initializers, self.count = [], [], 0

    def constant(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, kind, inputs, name=None, **attributes):
        self.count += 1
        output = f"{kind.lower()}_{self.count}"
        self.nodes.append(helper.make_node(kind, inputs, [output], name=name or output, **attributes))
        return output

    def linear(self, x, weights, prefix):
        # PyTorch keeps [out, in]; MatMul wants [in, out]. Named so the quantiser can be told which to take.
        w = self.constant(prefix + ".weight_t", weights[prefix + ".weight"].T)
        b = self.constant(prefix + ".bias", weights[prefix + ".bias"])
        return self.op("Add", [self.op("MatMul", [x, w], name="linear:" + prefix), b])

    def layer_norm(self, x, weights, prefix):
        return self.op("LayerNormalization", [x, self.constant(prefix + ".weight", weights[prefix + ".weight"]),
                                              self.constant(prefix + ".bias", weights[prefix + ".bias"])], axis=-1, epsilon=1e-12)


def build_graph(weights):
    g = Graph()
    hidden = weights["embeddings.word_embeddings.weight"].shape[1]
    size = hidden // HEADS
    shape = g.op("Shape", ["input_ids"])
    one = g.constant("one", np.array([1], dtype=np.int64))
    length = g.op("Gather", [shape, one], axis=0)
    places = g.op("Slice", [g.constant("places", weights["embeddings.position_embeddings.weight"]),
                            g.constant("zero", np.array([0], dtype=np.int64)), length, g.constant("axis_0", np.array([0], dtype=np.int64))])
    x = g.op("Add", [g.op("Gather", [g.constant("words", weights["embeddings.word_embeddings.weight"]), "input_ids"]), places])
    x = g.op("Add", [x, g.constant("token_type", weights["embeddings.token_type_embeddings.weight"][0])])
    x = g.layer_norm(x, weights, "embeddings.LayerNorm")
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    # 0 where a token is present, -1e9 where it is padding: [B, 1, 1, L].
    additive = g.op("Mul", [g.op("Sub", [g.constant("f_one", np.array(1, dtype=np.float32)), mask]),
                            g.constant("minus_big", np.array(-1e9, dtype=np.float32))])
    additive = g.op("Unsqueeze", [additive, g.constant("axes_1_2", np.array([1, 2], dtype=np.int64))])
    heads_shape = g.constant("heads_shape", np.array([0, 0, HEADS, size], dtype=np.int64))
    merged_shape = g.constant("merged_shape", np.array([0, 0, hidden], dtype=np.int64))
    scale = g.constant("scale", np.array(1 / math.sqrt(size), dtype=np.float32))
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}."

        def heads(name, perm):
            return g.op("Transpose", [g.op("Reshape", [g.linear(x, weights, p + "attention.self." + name), heads_shape])], perm=perm)
        q, k, v = heads("query", [0, 2, 1, 3]), heads("key", [0, 2, 3, 1]), heads("value", [0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), additive])
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        context = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), merged_shape])
        x = g.layer_norm(g.op("Add", [g.linear(context, weights, p + "attention.output.dense"), x]), weights, p + "attention.output.LayerNorm")
        inner = g.linear(x, weights, p + "intermediate.dense")
        erf = g.op("Erf", [g.op("Div", [inner, g.constant(f"root_two_{layer}", np.array(math.sqrt(2), dtype=np.float32))])])
        gelu = g.op("Mul", [g.op("Mul", [inner, g.op("Add", [erf, "f_one"])]), g.constant(f"half_{layer}", np.array(0.5, dtype=np.float32))])
        x = g.layer_norm(g.op("Add", [g.linear(gelu, weights, p + "output.dense"), x]), weights, p + "output.LayerNorm")
    mask3 = g.op("Unsqueeze", [mask, g.constant("axis_2", np.array([2], dtype=np.int64))])
    summed = g.op("ReduceSum", [g.op("Mul", [x, mask3]), "one"], keepdims=0)
    norm = g.op("ReduceL2", [summed], axes=[-1], keepdims=1)
    g.nodes.append(helper.make_node("Div", [summed, norm], ["embedding"], name="normalise"))
    graph = helper.make_graph(
        g.nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "length"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])], g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


class Engine:
    def __init__(self, path, model_dir, threads):
        import onnxruntime
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.tokenizer = reference.tokenizer(model_dir)

    def embed(self, texts):
        ids, mask = reference.padded(self.tokenizer, texts, np.int64)
        return self.session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]


def cosines(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def build(model_dir, out_dir):
    from onnxruntime.quantization import QuantType, quantize_dynamic
    os.makedirs(out_dir, exist_ok=True)
    weights = reference.load_weights(model_dir)
    fp32, int8 = f"{out_dir}/minilm-fp32.onnx", f"{out_dir}/minilm-int8.onnx"
    model = build_graph(weights)
    onnx.save(model, fp32)
    linear = [node.name for node in model.graph.node if node.name.startswith("linear:")]
    quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8, nodes_to_quantize=linear)
    rng = random.Random(7)  # the reference test's generated texts: unicode, blanks, over-long
    texts = [reference.generated(rng, i) for i in range(200)] + PUBLISHED + ["Falcon launch moved to Friday"]
    tok = reference.tokenizer(model_dir)
    expected = np.concatenate([reference.embed_batch(tok, weights, texts[i:i + 16]) for i in range(0, len(texts), 16)])
    report = {}
    for name, path in (("fp32", fp32), ("int8", int8)):
        engine = Engine(path, model_dir, 1)
        actual = np.concatenate([engine.embed(texts[i:i + 16]) for i in range(0, len(texts), 16)])
        agreement = cosines(actual, expected)
        pub = engine.embed(PUBLISHED)
        report[name] = {"cosine_to_numpy_mean": float(agreement.mean()), "cosine_to_numpy_min": float(agreement.min()),
                        "published": [float(pub[0] @ pub[1]), float(pub[0] @ pub[2]), float(pub[1] @ pub[2])]}
    print(json.dumps(report, indent=1))
    if report["fp32"]["cosine_to_numpy_min"] < 0.9999:
        sys.exit(f"the fp32 graph disagrees with the numpy reference: {report['fp32']}")


def bench(out_dir, model_dir, precision, threads, seconds, texts_file):
    with open(texts_file) as handle:
        sets = json.load(handle)
    engine = Engine(f"{out_dir}/minilm-{precision}.onnx", model_dir, threads)
    report = {"engine": f"onnxruntime {precision}", "threads": threads}
    for name in ("short", "long"):
        texts = sets[name]
        for batch in (1, 32):
            engine.embed(texts[:batch])
            done, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                start = (done % len(texts)) // batch * batch
                chunk = texts[start:start + batch]
                engine.embed(chunk)
                done += len(chunk)
            report[f"{name}_batch{batch}_texts_per_second"] = done / (time.perf_counter() - started)
    latencies = []
    for text in sets["short"][:500]:
        started = time.perf_counter()
        engine.embed([text])
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    report["query_p50_ms"] = latencies[len(latencies) // 2]
    report["query_p99_ms"] = latencies[len(latencies) * 99 // 100]
    print(json.dumps(report))


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "bench":
        bench(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]), sys.argv[7])
    else:
        sys.exit(__doc__)
