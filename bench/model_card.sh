#!/usr/bin/env bash
# Prints, as Markdown, the validation tables of models/README.md for a
# model and its training configuration: per-head metrics on the held-out
# split, incivility per source, and our own validation comments.
#
# Usage: bench/model_card.sh [MODEL] [CONFIG] [CIVILITY]
# Needs the corpora of ../shared/datasets. For the cross-corpus table run
# bench/cross_corpus.sh; for the scikit-learn comparison bench/baselines.py.
set -euo pipefail
model=${1:-models/default.civ}
config=${2:-models/default.toml}
civility=${3:-target/release/civility}

here=$(dirname "$0")

"$civility" eval --model "$model" --config "$config" --split holdout --json \
  | python3 "$here/eval_tables.py" heads "Held-out split, all sources"
"$civility" eval --model "$model" --config "$config" --only ours-validation --json \
  | python3 "$here/eval_tables.py" heads "Our validation comments (training-data/validation.jsonl)"

echo
echo "**Incivility on the held-out part of each source**"
echo
echo "| source | n | uncivil | ROC AUC | PR AUC |"
echo "|---|---|---|---|---|"
for source in ours civil-comments davidson wikipedia wikipedia-context cc-sentences \
  implicit-hate identity-remarks sbf sbf-test gab-hate gab-hate-test hatexplain toxigen; do
  grep -q "name = \"$source\"" "$config" || continue
  "$civility" eval --model "$model" --config "$config" --only "$source" --split holdout --json \
    | python3 "$here/eval_tables.py" row "$source"
done
