#!/usr/bin/env python3
"""Retrieval quality of recall's modes on a generated memory corpus, side by side in one run.

A seeded generator writes what agents are asked to remember: facts about people (a person has
several; each kind of fact is held by many people, so the name decides), events on dates, tickets
with codes, and stand-alone facts asked about in words they do not share. Each question has one
memory that answers it:
  name       "does Priya Raman have a dog?"   for "Priya Raman adopted a golden retriever puppy"
  date/code  "what happened on 14 March 2024?", "status of ticket QX-4821?"
  paraphrase "when does the rocket go up?"    for "Falcon launch moved to Friday" (no shared word)
The service (`soma serve` on the embedded default: SQLite, all-MiniLM-L6-v2) is asked in vector,
keyword and hybrid mode (weighted fusion at several keyword weights, and rrf); beside it, the BM25
reference (PyPI bm25s on the service's own words, `soma words`) and an exact cosine search in numpy
over embeddings from the independent numpy encoder (Tests/MiniLMReference/reference.py).
Reported: nDCG@10 and Recall@10 per question kind and overall.

    scripts/bench_retrieval.py [--binary .build/release/soma] [--people 150] [--seed 1]
"""
import argparse
import json
import math
import os
import pathlib
import random
import subprocess
import sys
import time

import bm25s
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts/bench"))
from soma_service import Service  # noqa: E402
MODEL = os.environ.get("SOMA_EMBEDDER_MODEL_DIR", "/usr/local/share/soma/models/all-MiniLM-L6-v2")

FIRST = ["Priya", "Tomasz", "Amara", "Lars", "Mei", "Diego", "Ingrid", "Kofi", "Yusuf", "Elena", "Rafael", "Sunita",
         "Henrik", "Aiko", "Mateo", "Nadia", "Oluwaseun", "Greta", "Ravi", "Chiara", "Bartek", "Leilani", "Farid", "Saoirse"]
LAST = ["Raman", "Kowalczyk", "Okafor", "Lindqvist", "Tanaka", "Alvarez", "Haugen", "Mensah", "Demir", "Petrova",
        "Moreau", "Iyer", "Brennan", "Nakamura", "Quispe", "Haddad", "Adeyemi", "Fischer", "Varga", "Costa"]
# (memory, question): the question shares no content word with the memory but the person's name.
PERSONAL = [
    ("{n} adopted a golden retriever puppy", "does {n} have a dog?"),
    ("{n} is allergic to peanuts", "what food makes {n} sick?"),
    ("{n} moved to Lisbon last spring", "where does {n} live now?"),
    ("{n} runs a marathon every autumn", "what sport does {n} do?"),
    ("{n} plays the cello in a community orchestra", "which instrument does {n} perform?"),
    ("{n} is learning Japanese on weekends", "what language is {n} studying?"),
    ("{n} prefers tea over coffee", "what does {n} like to drink?"),
    ("{n} works as a nurse at the city hospital", "what is {n}'s job?"),
    ("{n} drives an old red pickup truck", "what vehicle does {n} own?"),
    ("{n} broke a wrist skiing in the Alps", "how did {n} get injured?"),
    ("{n} is vegetarian and avoids meat", "what diet does {n} follow?"),
    ("{n} has two daughters in primary school", "does {n} have kids?"),
    ("{n} is afraid of flying", "what makes {n} nervous when travelling?"),
    ("{n} grows tomatoes in the back garden", "what vegetables does {n} cultivate?"),
    ("{n} reads science fiction novels before bed", "what books does {n} enjoy?"),
    ("{n} volunteers at the animal shelter on Sundays", "how does {n} help out in the community?"),
]
EVENTS = ["the server room lost power", "the quarterly board meeting was held", "the new office opened downtown",
          "the payroll system was upgraded", "a water leak flooded the basement", "the product launch was postponed",
          "the audit team visited", "the client signed the renewal contract", "the marketing campaign went live",
          "the data center migration finished"]
EVENT_QUESTIONS = ["what happened on {d}?", "what took place on {d}?", "which event was on {d}?"]
TICKETS = ["login page times out", "invoice totals are rounded wrongly", "export drops the last row",
           "password reset email never arrives", "dashboard shows yesterday's numbers", "mobile app crashes on start"]
TICKET_QUESTIONS = ["what is ticket {c} about?", "status of ticket {c}?", "{c}"]
PARAPHRASES = [
    ("Falcon launch moved to Friday", "when does the rocket go up?"),
    ("The quarterly budget review is in room 4B", "where is the meeting about money?"),
    ("The database password rotates every 90 days", "how often do credentials change?"),
    ("Our office closes early on public holidays", "when does the workplace shut on vacation days?"),
    ("The customer prefers invoices by email", "how should we send the bill to the client?"),
    ("Heavy rain is forecast for the weekend", "will Saturday be wet?"),
    ("The espresso machine on the third floor is broken", "where can't I get a coffee?"),
    ("Parking permits must be renewed each January", "when do I need a new car pass?"),
    ("The fire drill is scheduled for next Tuesday morning", "when is the evacuation practice?"),
    ("New hires get a laptop on their first day", "what equipment do starters receive?"),
    ("The cafeteria stops serving lunch at two", "until when can I eat at the canteen?"),
    ("Travel expenses need a manager's signature", "who must approve my trip costs?"),
    ("The wifi password is printed on the fridge", "where do I find the network key?"),
    ("Backups run every night at midnight", "how often is data copied for safety?"),
    ("The team offsite will be in the mountains", "where is the group retreat?"),
    ("Sarah from finance approves all expenses", "who signs off on spending?"),
]
# Questions nothing in the corpus answers: the best score they get is what a threshold must stay above.
UNRELATED = ["what is the boiling point of mercury?", "how do I bake sourdough bread?", "who won the 1998 world cup?",
             "which planet has the most moons?", "how many strings does a violin have?", "what is the capital of Peru?",
             "when was the printing press invented?", "how tall is Mount Kilimanjaro?", "what do koalas eat?",
             "who painted the Sistine Chapel ceiling?", "how does photosynthesis work?", "what is a prime number?",
             "where do penguins live?", "what language is spoken in Brazil?", "how fast can a cheetah run?",
             "what is the chemical symbol for gold?"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def generate(people, seed):
    rng = random.Random(seed)
    names = rng.sample([f"{f} {l}" for f in FIRST for l in LAST], people)
    memories, questions = [], []

    def add(text, question=None, kind=None):
        memories.append(text)
        if question:
            questions.append((kind, question, len(memories) - 1))

    for name in names:
        for memory, question in rng.sample(PERSONAL, 6):
            add(memory.format(n=name), question.format(n=name) if rng.random() < 0.25 else None, "name")
    dates = set()
    while len(dates) < people:
        dates.add((rng.randint(2022, 2025), rng.randint(1, 12), rng.randint(1, 28)))
    for year, month, day in sorted(dates):
        written = f"{day} {MONTHS[month - 1]} {year}"
        add(f"On {written} {rng.choice(EVENTS)}", rng.choice(EVENT_QUESTIONS).format(d=written) if rng.random() < 0.4 else None, "date/code")
    codes = {f"{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}-{rng.randint(1000, 9999)}" for _ in range(people)}
    for code in sorted(codes):
        add(f"Ticket {code}: {rng.choice(TICKETS)}", rng.choice(TICKET_QUESTIONS).format(c=code) if rng.random() < 0.4 else None, "date/code")
    for memory, question in PARAPHRASES:
        add(memory, question, "paraphrase")
    order = list(range(len(memories)))
    rng.shuffle(order)
    position = {old: new for new, old in enumerate(order)}
    return [memories[i] for i in order], [(kind, question, position[answer]) for kind, question, answer in questions]


def ndcg_recall(ranked, answer, k=10):
    top = ranked[:k]
    if answer in top:
        return 1 / math.log2(top.index(answer) + 2), 1.0
    return 0.0, 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build/release/soma"))
    parser.add_argument("--people", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--weights", default="0.3,0.4,0.5,0.6")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a setting for the service (repeatable)")
    parser.add_argument("--json", help="also write the figures here")
    arguments = parser.parse_args()
    memories, questions = generate(arguments.people, arguments.seed)
    print(f"{len(memories)} memories, {len(questions)} questions "
          f"({', '.join(f'{k} {sum(q[0] == k for q in questions)}' for k in ('name', 'date/code', 'paraphrase'))})", flush=True)

    rankings = {}  # method -> list of ranked memory indices per question
    service = Service(arguments.binary, dict(setting.split("=", 1) for setting in arguments.set))
    try:
        started = time.time()
        for at in range(0, len(memories), 256):
            items = [{"coord": str(i), "payload": {"text": text}} for i, text in enumerate(memories[at:at + 256], at)]
            service.call("POST", "/v1/memories/bulk", {"items": items})
        print(f"stored in {time.time() - started:.1f} s", flush=True)
        methods = [("vector", {"mode": "vector"}), ("keyword", {"mode": "keyword"}), ("hybrid rrf", {"mode": "hybrid", "fusion": "rrf"})]
        methods += [(f"hybrid w={w}", {"mode": "hybrid", "fusion": "weighted", "keyword_weight": float(w)}) for w in arguments.weights.split(",")]
        answer_scores, unrelated_scores = {}, {}
        for label, extra in methods:
            rankings[label], answer_scores[label] = [], []
            for kind, q, answer in questions:
                hits = service.call("POST", "/v1/memories/search", {"query": q, "top_k": 10, **extra})["results"]
                rankings[label].append([int(hit["memory"]["coord"]) for hit in hits])
                if hits and int(hits[0]["memory"]["coord"]) == answer:
                    answer_scores[label].append(hits[0]["score"])
            unrelated_scores[label] = [max([hit["score"] for hit in service.call("POST", "/v1/memories/search", {"query": q, "top_k": 1, **extra})["results"]], default=0)
                                       for q in UNRELATED]
    finally:
        service.stop()

    words = subprocess.run([arguments.binary, "words"], input="\n".join(memories + [q for _, q, _ in questions]) + "\n",
                           capture_output=True, text=True, check=True).stdout.splitlines()
    reference = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    reference.index([json.loads(line) for line in words[:len(memories)]], show_progress=False)
    rankings["bm25s reference"] = []
    for line in words[len(memories):]:
        scores = reference.get_scores(json.loads(line)) if json.loads(line) else np.zeros(len(memories))
        rankings["bm25s reference"].append([int(i) for i in np.argsort(-scores, kind="stable")[:10] if scores[i] > 0])

    embed = ROOT / "Tests/MiniLMReference/reference.py"
    started = time.time()
    vectors = json.loads(subprocess.run([sys.executable, str(embed), "embed", MODEL], input=json.dumps(memories + [q for _, q, _ in questions]),
                                        capture_output=True, text=True, check=True).stdout)
    print(f"numpy reference embedded {len(vectors)} texts in {time.time() - started:.0f} s", flush=True)
    matrix = np.array(vectors[:len(memories)], dtype=np.float64)
    rankings["numpy exact cosine"] = [list(np.argsort(-(matrix @ np.array(v)), kind="stable")[:10]) for v in vectors[len(memories):]]

    kinds = ["name", "date/code", "paraphrase"]
    figures = {}
    print(f"\n{'method':<20} " + " ".join(f"{k + ' nDCG':>16} {'R@10':>6}" for k in kinds + ["all"]))
    for method, ranked in rankings.items():
        row = {}
        for kind in kinds + ["all"]:
            picked = [(r, q) for r, q in zip(ranked, questions) if kind == "all" or q[0] == kind]
            scores = [ndcg_recall([int(x) for x in r], q[2]) for r, q in picked]
            row[kind] = (sum(s[0] for s in scores) / len(scores), sum(s[1] for s in scores) / len(scores))
        figures[method] = row
        print(f"{method:<20} " + " ".join(f"{row[k][0]:>16.3f} {row[k][1]:>6.3f}" for k in kinds + ["all"]))
    print(f"\n{'scores':<20} {'answers ranked first: p10':>26} {'median':>7}   {'best hit of an unrelated question: median':>42} {'max':>6}")
    for label in answer_scores:
        answers, unrelated = sorted(answer_scores[label]), sorted(unrelated_scores[label])
        print(f"{label:<20} {answers[len(answers) // 10]:>26.3f} {answers[len(answers) // 2]:>7.3f}   {unrelated[len(unrelated) // 2]:>42.3f} {unrelated[-1]:>6.3f}")
    if arguments.json:
        with open(arguments.json, "w") as handle:
            json.dump(figures, handle, indent=1)


if __name__ == "__main__":
    main()
