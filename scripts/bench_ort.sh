#!/usr/bin/env bash
# The in-process all-MiniLM-L6-v2 encoder against ONNX Runtime on the same model and texts, alternated
# in one run: at 1 and at 2 threads, each round runs `soma embedder-bench` and ONNX Runtime fp32 and
# int8 (per-channel weights) one after another, the order rotated every round.
#   scripts/bench_ort.sh [ROUNDS, default 4] [SECONDS per figure, default 3]
# Installs onnx and onnxruntime from PyPI (pinned), builds both ONNX graphs from the model's own
# safetensors (scripts/bench/ort_minilm.py: nothing downloaded at run time), checks the fp32 graph
# against the numpy reference (it stops if the lowest cosine is under 0.9999), then prints per thread
# count and figure each engine's median and soma's ratio to each ONNX Runtime engine with its spread
# (the lowest and highest ratio within a round). SOMA_BENCH_PRECISIONS="fp32 int8" adds soma's int8.
source "$(dirname "$0")/bench/common.sh"  # strict mode, the repository root, wrk, a release build
rounds="${1:-4}"
seconds="${2:-3}"
model="${SOMA_EMBEDDER_MODEL_DIR:-/usr/local/share/soma/models/all-MiniLM-L6-v2}"
python3 -m pip install --quiet --disable-pip-version-check onnx==1.23.2 onnxruntime==1.32.0 2>&1 | grep -v 'as the .root. user' || true
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== building the ONNX graphs from $model and checking them"
python3 scripts/bench/ort_minilm.py build "$model" "$work" 2>&1 | grep -v -e MergeShapeInfo -e 'pre-processing before quantization'
.build/release/soma embedder-bench --model-dir "$model" --seconds 0.1 --no-sgemm --texts "$work/texts.json" >/dev/null

engines=()
for precision in ${SOMA_BENCH_PRECISIONS:-fp32}; do engines+=("soma-$precision"); done
engines+=(ort-fp32 ort-int8)
run() {  # engine threads round
    local engine="$1" threads="$2" round="$3" out
    case "$engine" in
        soma-*) out=$(.build/release/soma embedder-bench --model-dir "$model" --precision "${engine#soma-}" \
            --threads "$threads" --seconds "$seconds" --no-sgemm | tr -d '\n') ;;
        ort-*) out=$(python3 scripts/bench/ort_minilm.py bench "$work" "$model" "${engine#ort-}" "$threads" "$seconds" "$work/texts.json") ;;
    esac
    echo "$engine $threads $round $out" >>"$work/results.txt"
}
for threads in 1 2; do
    for round in $(seq 1 "$rounds"); do
        for shift in $(seq 0 $((${#engines[@]} - 1))); do
            run "${engines[$(((shift + round) % ${#engines[@]}))]}" "$threads" "$round"
        done
        echo "threads $threads round $round done" >&2
    done
done
python3 - "$work/results.txt" <<'PY'
import collections, json, statistics, sys
runs = collections.defaultdict(dict)  # (engine, threads) -> round -> report
for line in open(sys.argv[1]):
    engine, threads, round_, report = line.split(" ", 3)
    runs[engine, int(threads)][int(round_)] = json.loads(report)
figures = ["short_batch32_texts_per_second", "short_batch1_texts_per_second", "long_batch32_texts_per_second",
           "long_batch1_texts_per_second", "query_p50_ms"]
engines = sorted({e for e, _ in runs}, key=lambda e: (not e.startswith("soma"), e))
for threads in (1, 2):
    print(f"\n{threads} thread(s), medians of {len(runs[engines[0], threads])} rounds; soma/ort as speed (>1 is soma faster), spread per round")
    print("| figure | " + " | ".join(engines) + " | " + " | ".join(f"{s}/{o}" for s in engines if s.startswith("soma") for o in engines if o.startswith("ort")) + " |")
    print("|---" * (1 + len(engines) + sum(1 for s in engines if s.startswith("soma")) * sum(1 for o in engines if o.startswith("ort"))) + "|")
    for figure in figures:
        cells = [f"{statistics.median(r[figure] for r in runs[e, threads].values()):.1f}" for e in engines]
        for s in (e for e in engines if e.startswith("soma")):
            for o in (e for e in engines if e.startswith("ort")):
                ratios = [(runs[o, threads][k][figure] / runs[s, threads][k][figure]) if figure.endswith("_ms")
                          else (runs[s, threads][k][figure] / runs[o, threads][k][figure]) for k in runs[s, threads]]
                cells.append(f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})")
        print(f"| {figure} | " + " | ".join(cells) + " |")
PY
