#!/usr/bin/env bash
# Cross-corpus validation: for each corpus, train the default configuration
# without it, then evaluate the incivility head on all of it. This predicts
# how the model does on comments from a source it never saw, which is what
# a news site deploying it will experience.
#
# Usage: bench/cross_corpus.sh [CONFIG] [CIVILITY]
# Needs the corpora of ../shared/datasets. Prints one line per corpus.
set -euo pipefail
config=${1:-models/default.toml}
civility=${2:-target/release/civility}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-20s %8s %8s %8s\n' corpus n roc_auc pr_auc
for corpus in civil-comments davidson wikipedia cc-sentences implicit-hate identity-remarks sbf hatexplain toxigen; do
  grep -q "name = \"$corpus\"" "$config" || continue
  exclude=(--exclude "$corpus")
  case $corpus in
    wikipedia) exclude+=(--exclude wikipedia-context) ;;
    goemotions) exclude+=(--exclude goemotions-dev) ;;
    sbf) exclude+=(--exclude sbf-test) ;;
  esac
  "$civility" train --config "$config" "${exclude[@]}" -o "$tmp/m.civ" 2>/dev/null
  "$civility" eval --model "$tmp/m.civ" --config "$config" --only "$corpus" --split all --json \
    | python3 -c '
import json, sys
e = json.load(sys.stdin)
h = next(h for h in e["heads"] if h["name"] == "incivility")
b = h.get("binary")
if b: print("%-20s %8d %8.3f %8.3f" % (sys.argv[1], h["n"], b["roc_auc"] or float("nan"), b["pr_auc"] or float("nan")))
else: print("%-20s %8d %8s %8s" % (sys.argv[1], h["n"], "-", "-"))
' "$corpus"
done
# Our validation comments, with a model that never saw any of our comments:
# how far the public corpora alone carry to news comments.
"$civility" train --config "$config" --exclude ours -o "$tmp/m.civ" 2>/dev/null
"$civility" eval --model "$tmp/m.civ" --config "$config" --only ours-validation --json \
  | python3 -c '
import json, sys
e = json.load(sys.stdin)
h = next(h for h in e["heads"] if h["name"] == "incivility")
print("%-20s %8d %8.3f %8.3f" % ("ours-val (no ours)", h["n"], h["binary"]["roc_auc"], h["binary"]["pr_auc"]))
'
"$civility" train --config "$config" -o "$tmp/all.civ" 2>/dev/null
"$civility" eval --model "$tmp/all.civ" --config "$config" --only ours-validation --json \
  | python3 -c '
import json, sys
e = json.load(sys.stdin)
for h in e["heads"]:
    b = h.get("binary"); m = h.get("multiclass")
    if b: print("ours-validation %-16s n=%d roc_auc=%.3f pr_auc=%.3f ece=%.3f" % (h["name"], h["n"], b["roc_auc"] or float("nan"), b["pr_auc"] or float("nan"), b["ece"] or float("nan")))
    if m: print("ours-validation %-16s n=%d macro_f1=%.3f" % (h["name"], h["n"], m["macro_f1"]))
'
