#!/usr/bin/env python3
"""Functional checks on our own validation comments, by category.

`training-data/validation.jsonl` tags every comment with a category
(identity_neutral, identity_attack, counter_speech, negated, insult, ...).
This script scores them with a model and prints, per category, the mean
P(uncivil) and the share the policy lets through, then the ROC AUC of the
contrasts that bag-of-words models get wrong: attacks on a group against
neutral mentions of groups, insults against negated or quoted ones.

    python3 bench/categories.py [--model PATH] [--civility target/release/civility]
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CONTRASTS = [
    # (name, uncivil categories, civil categories)
    ("identity: attack vs neutral mention", ["identity_attack"], ["identity_neutral"]),
    ("insult vs negated insult word", ["insult"], ["negated"]),
    ("hate vs counter-speech quoting it", ["identity_attack", "insult"], ["counter_speech"]),
    ("uncivil vs civil political disagreement",
     ["insult", "hostile_other", "profanity", "threat"], ["civil_disagreement"]),
    ("obfuscated uncivil vs all civil", ["obfuscated"],
     ["civil_disagreement", "praise", "question", "sarcasm_civil", "neutral_report",
      "counter_speech", "identity_neutral", "negated"]),
]


def roc_auc(pos, neg):
    """Probability that a random positive outranks a random negative (ties 1/2)."""
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model file (default: the built-in model)")
    ap.add_argument("--civility", default=str(REPO / "target/release/civility"))
    ap.add_argument("--data", default=str(REPO / "training-data/validation.jsonl"))
    args = ap.parse_args()
    rows = [json.loads(l) for l in open(args.data, encoding="utf-8") if l.strip()]
    cmd = [args.civility, "score", "--jsonl"] + (["--model", args.model] if args.model else [])
    stdin = "\n".join(json.dumps({"id": r["id"], "text": r["text"]}) for r in rows)
    out = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True).stdout
    verdicts = {v["id"]: v for v in map(json.loads, out.splitlines())}
    by_cat = {}
    for r in rows:
        by_cat.setdefault(r["category"], []).append(verdicts[r["id"]])
    print(f"{'category':<20} {'n':>4} {'label':>8} {'mean P(uncivil)':>16} {'allowed':>8}")
    for cat in sorted(by_cat):
        vs = by_cat[cat]
        label = next(r["incivility"] for r in rows if r["category"] == cat)
        mean = sum(v["incivility"] for v in vs) / len(vs)
        allowed = sum(v["decision"] == "allow" for v in vs) / len(vs)
        print(f"{cat:<20} {len(vs):>4} {label:>8} {mean:>16.3f} {allowed:>8.0%}")
    print()
    for name, unc, civ in CONTRASTS:
        pos = [v["incivility"] for c in unc for v in by_cat.get(c, [])]
        neg = [v["incivility"] for c in civ for v in by_cat.get(c, [])]
        auc = roc_auc(pos, neg)
        print(f"{name:<45} ROC AUC {'-' if auc is None else f'{auc:.3f}'} ({len(pos)} vs {len(neg)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
