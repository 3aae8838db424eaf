#!/usr/bin/env python3
"""Turn `civility eval --json` output (on stdin) into Markdown for the model card.

    civility eval --config models/default.toml --json | bench/eval_tables.py heads "Held-out split"
    civility eval ... --only SOURCE --json | bench/eval_tables.py row SOURCE
"""
import json
import sys


def f(x):
    return "-" if x is None else f"{x:.3f}"


def heads(title, e):
    print(f"\n**{title}** ({e['comments']} comments)\n")
    print("| head | n | positives | ROC AUC | PR AUC | threshold | precision | recall | F1 | ECE |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for h in e["heads"]:
        b = h.get("binary")
        if b:
            print(
                f"| {h['name']} | {h['n']} | {b['positives']} | {f(b['roc_auc'])} | {f(b['pr_auc'])} "
                f"| {b['threshold']:.2f} | {f(b['precision'])} | {f(b['recall'])} | {f(b['f1'])} | {f(b['ece'])} |"
            )
    for h in e["heads"]:
        m = h.get("multiclass")
        if m:
            per = ", ".join(f"{l} {x:.2f}" for l, x in zip(h["labels"], m["per_label_f1"]))
            print(
                f"\n{h['name']}: n = {h['n']}, macro-F1 {m['macro_f1']:.3f}, "
                f"accuracy {m['accuracy']:.3f} (F1 per label: {per})"
            )


def row(source, e):
    h = next(h for h in e["heads"] if h["name"] == "incivility")
    b = h.get("binary")
    if b:
        print(f"| {source} | {h['n']} | {b['positives']} | {f(b['roc_auc'])} | {f(b['pr_auc'])} |")


if __name__ == "__main__":
    kind, title = sys.argv[1], sys.argv[2]
    evaluation = json.load(sys.stdin)
    {"heads": heads, "row": row}[kind](title, evaluation)
