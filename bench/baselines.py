#!/usr/bin/env python3
"""Compare civility with scikit-learn baselines on civility's own split.

Reads a civility training configuration (default: models/default.toml),
splits every source into a training part and a held-out part exactly as
`civility train` does (same label rules, same hash of the text, same
duplicate removal), trains scikit-learn baselines on the training part and
prints their ROC AUC beside civility's on the same evaluation sets:

* held-out: the held-out part of each corpus (and of all of them together);
* cross-corpus: for each corpus C, a model trained without C's sources,
  evaluated on every labelled row of C (skipped when C has one class only);
* tone: macro-F1 of the tone head on the held-out part of GoEmotions.

The baselines, all on the `incivility` head and weighted like civility's
training (source `weight`, times the class-balancing factor of sources
marked `balance`):

* mnb-words: word 1-2-gram counts + MultinomialNB(alpha=1);
* cnb-words: the same counts + ComplementNB(alpha=1) (also used for tone);
* nblr: word 1-2-gram and char_wb 2-5-gram TF-IDF (sublinear tf), scaled by
  the naive Bayes log-count ratio (Wang & Manning 2012, "NBSVM") and fed to
  LogisticRegression(C=4).

Two more columns where their packages are installed (bench/peers.py sets
them up; a note says so when one is skipped):

* fasttext: supervised fastText, wordNgrams=2, other parameters at their
  defaults, one thread (so the same model every run), trained on the same
  training rows. fastText has no sample weights: each row is repeated in
  the training file a random number of times (fixed seed) whose expectation
  is its weight scaled to a mean of 1, and the file is shuffled, so every
  source and label weighs in expectation what it weighs for the others.
  Scored by its probability of the uncivil label. Not used for tone.
* profanity-check: the pretrained model of the alt-profanity-check package
  (TF-IDF + calibrated linear SVM), trained on its own data. Nothing is
  trained: predict_prob is applied to each evaluation set, so its
  cross-corpus rows are not "without the corpus", only the same comments.
  Its package says it was trained on the Davidson tweets (the whole corpus,
  so every davidson row is seen data for it) and on the Jigsaw Toxic Comment
  Classification Challenge (Wikipedia talk-page comments, the source of the
  wikipedia rows, which may overlap). Not used for tone.

civility's numbers come from running its binary: `civility train --config
CONFIG [--exclude SRC ...] -o TMP.civ`, then `civility eval --model TMP.civ
--config CONFIG --only SRC ... --split holdout|all --json`. `civility eval
--only` reads only the named sources, so duplicates are removed within them
only; the evaluation sets of the baselines are built the same way, and the
number of labelled rows of every set is checked against civility's.

Run from anywhere, after `cargo build --release` and with the corpora in
../shared/datasets (about two minutes on two cores):

    python3 bench/baselines.py                  # the whole table
    python3 bench/baselines.py --check-split    # only compare the split
    python3 bench/baselines.py --skip-civility --only-baseline mnb-words
    python3 bench/baselines.py --json /tmp/baselines.json

Requirements: bench/requirements.txt (`pip install -r bench/requirements.txt`);
for the fasttext and profanity-check columns also bench/requirements-peers.txt,
e.g. in a virtualenv that sees the system's packages:

    python3 -m venv ~/.venvs/civility-bench --system-site-packages
    ~/.venvs/civility-bench/bin/pip install -r bench/requirements-peers.txt
    ~/.venvs/civility-bench/bin/python bench/baselines.py --skip-civility

Known limits of the reimplementation of the split (none occurs in the
corpora of models/default.toml; `--check-split` tells):

* Lower-casing: Rust's `char::to_lowercase` is reproduced with Python's
  per-character `str.lower()` (not the whole-string one, whose final-sigma
  rule Rust's per-character mapping lacks), plus a table of the characters
  that Rust 1.95 (Unicode 16) lowercases and Python 3.11 (Unicode 14) does
  not. A newer Rust may add a few more.
* Whitespace: the exact set of Rust's `char::is_whitespace` (Python's
  `str.split()` also splits at U+001C..U+001F).
* JSON: numbers used as labels are formatted like serde_json (shortest
  round-trip digits in its layout: 1.0, 0.00001, 1e-7, 1e+20); Python accepts NaN/Infinity and lone
  surrogate escapes where serde_json rejects the row.
* CSV sources are not supported (civility reads them; the default
  configuration has none).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.naive_bayes import ComplementNB, MultinomialNB

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

# Optional columns and the module each needs; skipped when it does not import.
OPTIONAL = {"fasttext": "fasttext", "profanity-check": "profanity_check"}
BASELINES = ("mnb-words", "cnb-words", "nblr") + tuple(OPTIONAL)
COLUMNS = ("civility",) + BASELINES

# Sources evaluated (and, in cross-corpus runs, left out) together with the
# corpus they belong to. A source in no group is a corpus of its own.
GROUPS = {
    "wikipedia": ("wikipedia", "wikipedia-context"),
    "goemotions": ("goemotions", "goemotions-dev"),
}
# Corpora left out one at a time for the cross-corpus rows.
CROSS_CORPORA = ("civil-comments", "davidson", "wikipedia", "goemotions")
# The corpus whose held-out part measures the tone head.
TONE_CORPUS = "goemotions"

BINARY_HEAD = "incivility"
TONE_HEAD = "tone"


# ---------------------------------------------------------------------------
# Configuration


@dataclass
class Source:
    """One `[[sources]]` entry of the configuration."""

    name: str
    path: Path
    text: str = "text"
    weight: float = 1.0
    max_rows: int | None = None
    holdout_only: bool = False
    balance: bool = False
    rules: dict[str, dict] = field(default_factory=dict)  # head -> label rule


@dataclass
class Head:
    """One `[[heads]]` entry: fixed labels (or None) and the positive one."""

    name: str
    labels: list[str] | None
    positive: str | None


@dataclass
class Config:
    path: Path
    seed: int
    holdout: float
    heads: list[Head]
    sources: list[Source]

    def group(self, corpus: str) -> list[str]:
        """The configured sources of a corpus, in configuration order."""
        members = GROUPS.get(corpus, (corpus,))
        return [s.name for s in self.sources if s.name in members]


def read_config(path: Path) -> Config:
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    split = raw.get("split", {})
    heads = [Head(h["name"], h.get("labels"), h.get("positive")) for h in raw["heads"]]
    sources = []
    for s in raw["sources"]:
        if s.get("format", "jsonl") != "jsonl" or str(s["path"]).lower().endswith(".csv"):
            sys.exit(f"source {s['name']!r}: only JSONL sources are supported")
        sources.append(
            Source(
                name=s["name"],
                path=(path.parent / s["path"]),
                text=s.get("text", "text"),
                weight=float(s.get("weight", 1.0)),
                max_rows=s.get("max_rows"),
                holdout_only=bool(s.get("holdout_only", False)),
                balance=bool(s.get("balance", False)),
                rules=dict(s.get("heads", {})),
            )
        )
    return Config(path, int(split.get("seed", 42)), float(split.get("holdout", 0.1)), heads, sources)


# ---------------------------------------------------------------------------
# Label rules (civility's data::LabelRule)

TESTS = ("contains", "any_of", "all_in", "nonempty", "at_least")


def lookup(row, path: str):
    """The value at a dotted path through nested objects, or None."""
    v = row
    for key in path.split("."):
        if not isinstance(v, dict) or key not in v:
            return None
        v = v[key]
    return v


def serde_number(x: int | float) -> str:
    """A JSON number as serde_json prints it: integers exactly, floats with
    the shortest round-trip digits in its layout (1.0, 0.00001, 1e-7, 1e+20)."""
    if isinstance(x, int) and -(2**63) <= x < 2**64:
        return str(x)
    x = float(x)  # serde_json reads larger integers as floats
    if x == 0:
        return "-0.0" if math.copysign(1, x) < 0 else "0.0"
    sign, digits, exp = Decimal(repr(x)).as_tuple()
    d = "".join(map(str, digits)).rstrip("0")
    exp += len(digits) - len(d)
    kk = len(d) + exp  # position of the decimal point
    if 0 <= exp and kk <= 16:
        s = d + "0" * exp + ".0"
    elif 0 < kk <= 16:
        s = d[:kk] + "." + d[kk:]
    elif -5 < kk <= 0:
        s = "0." + "0" * -kk + d
    elif len(d) == 1:
        s = f"{d}e{kk - 1:+d}"
    else:
        s = f"{d[0]}.{d[1:]}e{kk - 1:+d}"
    return "-" + s if sign else s


def scalar(v) -> str | None:
    """The label text of a JSON scalar; None for null, arrays and objects."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return serde_number(v)
    return None


def rule_label(rule: dict, row: dict) -> str | None:
    """The label a rule reads from a row, or None if unlabelled."""
    v = lookup(row, rule["field"])
    if v is None:
        return rule.get("missing")
    if rule.get("single", False) or rule.get("fractional", False):
        if not (isinstance(v, list) and len(v) == 1):
            return None
        v = v[0]
    if any(t in rule for t in TESTS):
        if isinstance(v, list):
            items = [s for s in map(scalar, v) if s is not None]
        else:
            items = [s for s in [scalar(v)] if s is not None]
        if "contains" in rule:
            holds = rule["contains"] in items
        elif "any_of" in rule:
            holds = any(i in rule["any_of"] for i in items)
        elif "all_in" in rule:
            holds = bool(items) and all(i in rule["all_in"] for i in items)
        elif "nonempty" in rule:
            empty = isinstance(v, (list, str)) and len(v) == 0
            holds = empty != rule["nonempty"]
        else:  # at_least: only numbers compare; anything else is unlabelled
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return None
            holds = float(v) >= rule["at_least"]
        return rule.get("then") if holds else rule.get("else")
    s = scalar(v)
    if s is None:
        return None
    mapping = rule.get("map")
    return mapping.get(s) if mapping else s


def has_fractional_labels(rule: dict, row: dict) -> bool:
    """civility's LabelRule::fractional_labels is non-empty: an array of at
    least two distinct (mapped) values under a `fractional` rule."""
    if not rule.get("fractional", False):
        return False
    v = lookup(row, rule["field"])
    if not isinstance(v, list):
        return False
    mapping = rule.get("map")
    labels = []
    for item in v:
        s = scalar(item)
        if s is None:
            continue
        label = mapping.get(s) if mapping else s
        if label is not None and label not in labels:
            labels.append(label)
    return len(labels) >= 2


# ---------------------------------------------------------------------------
# The split key (civility's data::text_key)

MASK = (1 << 64) - 1
FNV_PRIME = 0x0000_0100_0000_01B3

# Rust's char::is_whitespace (the Unicode White_Space property).
RUST_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WORDS = re.compile(f"[^{RUST_WHITESPACE}]+")
_BLANK = re.compile(f"[{RUST_WHITESPACE}]*")

# Applied before str.lower(): Σ is mapped alone (str.lower() would apply the
# final-sigma rule, char::to_lowercase does not), and the characters whose
# lower case Rust 1.95 (Unicode 16) knows and Python 3.11 (Unicode 14) does
# not. Found by comparing both for every code point.
_LOWER_FIRST = {0x03A3: "\u03c3", 0x1C89: "\u1c8a", 0xA7CB: "\u0264", 0xA7CC: "\ua7cd",
                0xA7CE: "\ua7cf", 0xA7D2: "\ua7d3", 0xA7D4: "\ua7d5", 0xA7DA: "\ua7db",
                0xA7DC: "\u019b"}
_LOWER_FIRST.update({c: chr(c + 0x20) for c in range(0x10D50, 0x10D66)})  # Garay
_LOWER_FIRST.update({c: chr(c + 0x1B) for c in range(0x16EA0, 0x16EB9)})  # Beria Erfe


def text_key(seed: int, text: str) -> int:
    """FNV-1a over the lower-cased words joined by single spaces, seeded,
    then the murmur3 finalizer: bit for bit civility's `text_key`."""
    h = 0xCBF2_9CE4_8422_2325 ^ ((seed * 0x9E37_79B9_7F4A_7C15) & MASK)
    folded = " ".join(_WORDS.findall(text)).translate(_LOWER_FIRST).lower()
    for b in folded.encode("utf-8"):
        h = ((h ^ b) * FNV_PRIME) & MASK
    h ^= h >> 33
    h = (h * 0xFF51_AFD7_ED55_8CCD) & MASK
    h ^= h >> 33
    return h


def unit(h: int) -> float:
    """The fraction in [0, 1) a hash stands for."""
    return (h >> 11) / float(1 << 53)


# ---------------------------------------------------------------------------
# Reading the sources (civility's data::Dataset::load)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


@dataclass
class ParsedSource:
    """A source file read once: its row count and, per row, None if no head
    got a label, else (text, labels in head order, split key)."""

    rows: int
    items: list[tuple[str, tuple[str | None, ...], int] | None]


@dataclass
class Example:
    text: str
    labels: tuple[str | None, ...]  # per head of the configuration
    source: int  # index into config.sources
    holdout: bool
    key: int


@dataclass
class Report:
    """What reading a source did, like the table of `civility train`."""

    name: str
    rows: int = 0
    kept: int = 0
    holdout: int = 0
    dupes: int = 0
    unlabelled: int = 0
    invalid: int = 0
    capped: int = 0


@dataclass
class Dataset:
    examples: list[Example]
    reports: list[Report]

    def part(self, split: str) -> list[Example]:
        """The examples of `split`: "train", "holdout" or "all"."""
        if split == "all":
            return self.examples
        return [e for e in self.examples if e.holdout == (split == "holdout")]


class Reader:
    """Reads each source once and builds datasets from the cached rows for
    any choice of `--exclude` / `--only`, as civility would."""

    def __init__(self, config: Config):
        self.config = config
        self._parsed: dict[str, ParsedSource] = {}

    def parsed(self, source: Source) -> ParsedSource:
        if source.name not in self._parsed:
            self._parsed[source.name] = self._parse(source)
        return self._parsed[source.name]

    def _parse(self, source: Source) -> ParsedSource:
        config = self.config
        rules = [source.rules.get(h.name) for h in config.heads]
        items = []
        with open(source.path, "rb") as f:
            data = f.read()
        for n, raw in enumerate(data.split(b"\n"), 1):
            where = f"{source.path}:{n}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                sys.exit(f"{where}: invalid UTF-8: {e}")
            if _BLANK.fullmatch(line):
                continue
            try:
                row = json.loads(line, parse_constant=_reject_constant)
            except ValueError as e:
                sys.exit(f"{where}: invalid JSON: {e}")
            if not isinstance(row, dict):
                sys.exit(f"{where}: expected a JSON object")
            text = lookup(row, source.text)
            if not isinstance(text, str):
                sys.exit(f"{where}: field {source.text!r} is missing or not a string")
            labels = tuple(rule_label(r, row) if r else None for r in rules)
            for head, label in zip(config.heads, labels):
                if label is not None and head.labels is not None and label not in head.labels:
                    sys.exit(f"{where}: label {label!r} is not one of head {head.name!r}'s labels")
            if all(label is None for label in labels):
                # Rows with only fractional labels (several emotions) train
                # civility's tone head; keep their key for the split counts.
                if any(r and has_fractional_labels(r, row) for r in rules):
                    items.append(("fractional", text_key(config.seed, text)))
                else:
                    items.append(None)
            else:
                items.append((text, labels, text_key(config.seed, text)))
        return ParsedSource(len(items), items)

    def load(self, exclude=(), only=()) -> Dataset:
        """The dataset `civility ... --exclude/--only` would read."""
        config = self.config
        for name in (*exclude, *only):
            if name not in [s.name for s in config.sources]:
                sys.exit(f"there is no source {name!r}")
        seen: set[int] = set()
        seen_fractional: set[int] = set()
        fractional_only: list[tuple[int, int]] = []  # (source index, key)
        examples: list[Example] = []
        reports = []
        for si, source in enumerate(config.sources):
            report = Report(source.name)
            reports.append(report)
            if source.name in exclude or (only and source.name not in only):
                continue
            parsed = self.parsed(source)
            report.rows = parsed.rows
            start = len(examples)
            for item in parsed.items:
                if item is None:
                    report.unlabelled += 1
                    continue
                if item[0] == "fractional":
                    # As civility: held-out ones are unused; the others are
                    # kept aside and count as duplicates of any row with
                    # ordinary labels and the same text, wherever it comes.
                    key = item[1]
                    if source.holdout_only or unit(key) < config.holdout:
                        report.unlabelled += 1
                    elif key in seen or key in seen_fractional:
                        report.dupes += 1
                    else:
                        seen_fractional.add(key)
                        fractional_only.append((si, key))
                        report.kept += 1
                    continue
                text, labels, key = item
                if key in seen:
                    report.dupes += 1
                    continue
                seen.add(key)
                holdout = source.holdout_only or unit(key) < config.holdout
                examples.append(Example(text, labels, si, holdout, key))
                report.kept += 1
                report.holdout += holdout
            if source.max_rows is not None and len(examples) - start > source.max_rows:
                # Keep the rows with the smallest rotated hashes, like
                # civility (their keys stay "seen" for later sources).
                rotl29 = lambda k: ((k << 29) | (k >> 35)) & MASK  # noqa: E731
                mine = sorted(examples[start:], key=lambda e: rotl29(e.key))
                dropped = mine[source.max_rows:]
                examples[start:] = mine[: source.max_rows]
                report.capped = len(dropped)
                report.kept -= len(dropped)
                report.holdout -= sum(e.holdout for e in dropped)
        for si, key in fractional_only:
            if key in seen:
                reports[si].kept -= 1
                reports[si].dupes += 1
        return Dataset(examples, reports)


# ---------------------------------------------------------------------------
# Features: every distinct text is analysed once. Fitting a vectorizer on a
# training subset is the same as keeping the columns of the global count
# matrix that occur in that subset (min_df=1, no max_features), so each
# training set slices the cached matrices instead of re-tokenizing.


class Features:
    def __init__(self, texts: list[str], char: bool):
        self.row = {t: i for i, t in enumerate(texts)}
        t0 = time.time()
        self.words = CountVectorizer(ngram_range=(1, 2), lowercase=True).fit_transform(texts).tocsr()
        self.chars = None
        if char:
            cv = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=True)
            self.chars = cv.fit_transform(texts).tocsr()
        log(f"features of {len(texts)} texts in {time.time() - t0:.0f}s "
            f"(word n-grams {self.words.shape[1]}"
            + (f", char n-grams {self.chars.shape[1]})" if char else ")"))

    def rows(self, examples: list[Example]) -> np.ndarray:
        return np.fromiter((self.row[e.text] for e in examples), dtype=np.int64, count=len(examples))


def fit_vocabulary(matrix: sp.csr_matrix, train_rows, *other_rows):
    """(train, *others) count matrices over the vocabulary of the train rows."""
    train = matrix[train_rows]
    cols = np.flatnonzero(train.getnnz(axis=0))
    return [train[:, cols]] + [matrix[r][:, cols] for r in other_rows]


# ---------------------------------------------------------------------------
# Baselines


def nb_ratio(x: sp.csr_matrix, y: np.ndarray, w: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Wang & Manning's log-count ratio r = log((p/|p|1) / (q/|q|1)) with
    p, q the weighted feature sums of the positive and negative rows."""
    p = alpha + np.asarray(x[y].T @ w[y]).ravel()
    q = alpha + np.asarray(x[~y].T @ w[~y]).ravel()
    return np.log(p / p.sum()) - np.log(q / q.sum())


def nb_log_odds(model, x) -> np.ndarray:
    """Log-odds of class 1 from a naive Bayes model's joint log-likelihood
    (probabilities saturate to 0/1 and would tie in the ROC AUC)."""
    jll = model.predict_joint_log_proba(x)
    return jll[:, 1] - jll[:, 0]


def binary_baselines(
    names, feats: Features, train: list[Example], y, w, evals: list[list[Example]]
) -> dict[str, list[np.ndarray]]:
    """Trains the chosen baselines; returns each one's scores on each
    evaluation set."""
    out: dict[str, list[np.ndarray]] = {}
    tr = feats.rows(train)
    ev = [feats.rows(e) for e in evals]
    if {"mnb-words", "cnb-words"} & set(names):
        xw, *xe = fit_vocabulary(feats.words, tr, *ev)
        for name, cls in (("mnb-words", MultinomialNB), ("cnb-words", ComplementNB)):
            if name in names:
                t0 = time.time()
                model = cls(alpha=1.0).fit(xw, y, sample_weight=w)
                out[name] = [nb_log_odds(model, x) for x in xe]
                log(f"  {name}: {time.time() - t0:.1f}s")
    if "nblr" in names:
        t0 = time.time()
        blocks_tr, blocks_ev = [], [[] for _ in ev]
        for matrix in (feats.words, feats.chars):
            ctr, *cev = fit_vocabulary(matrix, tr, *ev)
            tfidf = TfidfTransformer(sublinear_tf=True).fit(ctr)
            blocks_tr.append(tfidf.transform(ctr))
            for blocks, c in zip(blocks_ev, cev):
                blocks.append(tfidf.transform(c))
        xtr = sp.hstack(blocks_tr, format="csr")
        scale = sp.diags(nb_ratio(xtr, y, w))
        model = LogisticRegression(C=4, max_iter=1000)
        model.fit(xtr @ scale, y, sample_weight=w)
        out["nblr"] = [model.decision_function(sp.hstack(b, format="csr") @ scale) for b in blocks_ev]
        log(f"  nblr: {time.time() - t0:.1f}s ({xtr.shape[1]} features)")
    if "fasttext" in names:
        t0 = time.time()
        with tempfile.TemporaryDirectory(prefix="civility-bench-ft-") as tmp:
            path = Path(tmp) / "train.txt"
            lines = peers.write_fasttext_training(path, [e.text for e in train], y, w)
            model = peers.fasttext_train(path, threads=1)
        out["fasttext"] = [np.array(peers.fasttext_scores(model, [e.text for e in ex])) for ex in evals]
        del model
        log(f"  fasttext: {time.time() - t0:.1f}s ({lines} training lines for {len(train)} rows)")
    if "profanity-check" in names:
        t0 = time.time()
        out["profanity-check"] = [peers.profanity_check_scores([e.text for e in ex]) for ex in evals]
        log(f"  profanity-check: {time.time() - t0:.1f}s (pretrained, predict only)")
    return out


def training_weights(config: Config, train: list[Example], head: int) -> np.ndarray:
    """Source weight times civility's class balance factor: in a source
    marked `balance`, each label of the head gets equal total weight."""
    totals: dict[tuple[int, str], float] = {}
    for e in train:
        k = (e.source, e.labels[head])
        totals[k] = totals.get(k, 0.0) + config.sources[e.source].weight
    w = np.empty(len(train))
    for i, e in enumerate(train):
        source = config.sources[e.source]
        factor = 1.0
        if source.balance:
            mine = [t for (s, _), t in totals.items() if s == e.source]
            if len(mine) > 1:
                factor = sum(mine) / (len(mine) * totals[(e.source, e.labels[head])])
        w[i] = source.weight * factor
    return w


# ---------------------------------------------------------------------------
# civility


class Civility:
    """Runs the civility binary."""

    def __init__(self, binary: Path, config: Path, tmp: Path):
        if not binary.exists():
            sys.exit(f"{binary} not found: run `cargo build --release` or pass --civility")
        self.binary, self.config, self.tmp = binary, config, tmp

    def train(self, exclude=()) -> tuple[Path, dict[str, dict[str, int]]]:
        """Trains; returns the model and the per-source table it printed."""
        out = self.tmp / ("model-" + "-".join(exclude or ["all"]) + ".civ")
        cmd = [str(self.binary), "train", "--config", str(self.config), "-o", str(out)]
        for name in exclude:
            cmd += ["--exclude", name]
        t0 = time.time()
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{run.stderr}")
        log(f"  civility train{''.join(' --exclude ' + e for e in exclude)}: {time.time() - t0:.1f}s")
        return out, parse_source_table(run.stderr)

    def eval(self, model: Path, only, split: str) -> dict:
        cmd = [str(self.binary), "eval", "--model", str(model), "--config", str(self.config),
               "--split", split, "--json"]
        for name in only:
            cmd += ["--only", name]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{run.stderr}")
        return json.loads(run.stdout)


def parse_source_table(stderr: str) -> dict[str, dict[str, int]]:
    """The `source rows kept holdout dupes ...` table of `civility train`."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["source"])
    columns = lines[start].split()[1:]
    table = {}
    for line in lines[start + 1:]:
        cells = line.split()
        if len(cells) != len(columns) + 1 or not all(c.isdigit() for c in cells[1:]):
            break
        table[cells[0]] = dict(zip(columns, map(int, cells[1:])))
    return table


def compare_split(ours: list[Report], theirs: dict[str, dict[str, int]], what: str) -> bool:
    """Prints the differences between our per-source counts and civility's."""
    ok = True
    for r in ours:
        row = theirs.get(r.name)
        if row is None:
            print(f"  {what}: civility printed no row for {r.name}")
            ok = False
            continue
        for column, value in row.items():
            mine = getattr(r, column, None)
            if mine is not None and mine != value:
                print(f"  {what}: {r.name} {column}: ours {mine}, civility {value}")
                ok = False
    if set(theirs) - {r.name for r in ours}:
        print(f"  {what}: civility has sources we lack: {sorted(set(theirs) - {r.name for r in ours})}")
        ok = False
    return ok


def head_report(evaluation: dict, name: str) -> dict | None:
    return next((h for h in evaluation["heads"] if h["name"] == name), None)


# ---------------------------------------------------------------------------
# The benchmark


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fmt(x) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


@dataclass
class EvalSet:
    """One row of the table."""

    title: str
    kind: str  # "holdout" or "cross"
    sources: list[str]  # evaluated with --only these
    split: str  # "holdout" or "all"
    exclude: list[str]  # left out of training
    examples: list[Example] = field(default_factory=list)  # incivility-labelled
    y: np.ndarray | None = None
    scores: dict[str, float | None] = field(default_factory=dict)
    note: str = ""


def build_sets(config: Config, reader: Reader, positive: str, head: int) -> list[EvalSet]:
    """The held-out and cross-corpus evaluation sets, with their rows."""
    sets = [EvalSet("held-out: all sources", "holdout", [], "holdout", [])]
    grouped = set()
    for s in config.sources:
        if s.name in grouped:
            continue
        corpus = next((c for c, members in GROUPS.items() if s.name in members), s.name)
        members = config.group(corpus)
        grouped.update(members)
        sets.append(EvalSet(f"held-out: {'+'.join(members)}", "holdout", members, "holdout", []))
    for corpus in CROSS_CORPORA:
        members = config.group(corpus)
        if members:
            sets.append(EvalSet(f"cross: {'+'.join(members)} (all)", "cross", members, "all", members))
    # Our validation comments scored by models that never saw our own
    # comments: the public corpora alone, on news-style comments.
    names = {s.name for s in config.sources}
    if {"ours", "ours-validation"} <= names:
        sets.append(EvalSet("cross: ours-validation (no ours)", "cross",
                            ["ours-validation"], "all", ["ours"]))
    for es in sets:
        data = reader.load(only=es.sources)
        es.examples = [e for e in data.part(es.split) if e.labels[head] is not None]
        es.y = np.array([e.labels[head] == positive for e in es.examples], dtype=bool)
        if len(np.unique(es.y)) < 2:
            es.note = f"one class only (n={len(es.examples)})"
    return sets


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path, default=REPO / "models/default.toml",
                    help="training configuration (default: models/default.toml)")
    ap.add_argument("--civility", type=Path, default=REPO / "target/release/civility",
                    help="civility binary (default: target/release/civility)")
    ap.add_argument("--skip-civility", action="store_true", help="do not run civility")
    ap.add_argument("--only-baseline", choices=BASELINES, action="append",
                    help="run only this baseline (repeatable)")
    ap.add_argument("--check-split", action="store_true",
                    help="only compare the split with civility's, for the full "
                         "configuration and each cross-corpus exclusion; exit 1 on a difference")
    ap.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers as JSON")
    args = ap.parse_args(argv)

    started = time.time()
    config = read_config(args.config.resolve())
    for s in config.sources:
        if s.max_rows is not None:
            log(f"note: source {s.name!r} has max_rows = {s.max_rows}; "
                "applied like civility (smallest rotated hashes kept)")
    head_names = [h.name for h in config.heads]
    if BINARY_HEAD not in head_names:
        sys.exit(f"the configuration has no {BINARY_HEAD!r} head")
    hi = head_names.index(BINARY_HEAD)
    head = config.heads[hi]
    positive = head.positive or "uncivil"
    reader = Reader(config)
    log("reading the sources ...")
    full = reader.load()
    log(f"  {len(full.examples)} comments kept in {time.time() - started:.0f}s")

    tmpdir = tempfile.TemporaryDirectory(prefix="civility-bench-")
    civility = None
    if not args.skip_civility or args.check_split:
        civility = Civility(args.civility.resolve(), config.path, Path(tmpdir.name))

    if args.check_split:
        ok = True
        runs = [[]] + [config.group(c) for c in CROSS_CORPORA if config.group(c)]
        for exclude in runs:
            what = "full" if not exclude else "without " + "+".join(exclude)
            _, table = civility.train(exclude)
            same = compare_split(reader.load(exclude=exclude).reports, table, what)
            print(f"split {what}: {'identical' if same else 'DIFFERENT'} "
                  f"({len(table)} sources compared)")
            ok &= same
        print_reports(full.reports)
        print("check-split:", "OK, identical to civility" if ok else "FAILED")
        return 0 if ok else 1

    baselines = [b for b in BASELINES if not args.only_baseline or b in args.only_baseline]
    notes = []
    for name, module in OPTIONAL.items():
        if name in baselines:
            why = peers.available(module)
            if why:
                baselines.remove(name)
                notes.append(f"{name}: skipped, {module} does not import ({why}); "
                             "see bench/requirements-peers.txt")
    if "fasttext" in baselines:
        notes.append("fasttext: no sample weights; rows repeated in proportion to their "
                     "weight (random rounding, fixed seed), file shuffled, one thread")
    if "profanity-check" in baselines:
        notes.append("profanity-check: pretrained on its own data, not trained here "
                     "(its cross-corpus rows score the same comments with the same model); "
                     "its training data include all of davidson and Wikipedia talk-page "
                     "comments (Jigsaw), so those rows are not unseen for it")
    sets = build_sets(config, reader, positive, hi)
    tone_hi = head_names.index(TONE_HEAD) if TONE_HEAD in head_names else None
    tone_sources = config.group(TONE_CORPUS)
    tone_eval = []
    if tone_hi is not None and tone_sources:
        tone_eval = [e for e in reader.load(only=tone_sources).part("holdout")
                     if e.labels[tone_hi] is not None]

    # Every distinct text that any training or evaluation set uses.
    texts = {e.text for e in full.examples}
    for es in sets:
        texts.update(e.text for e in es.examples)
        for exclude in {tuple(es.exclude)} - {()}:
            texts.update(e.text for e in reader.load(exclude=list(exclude)).examples)
    texts.update(e.text for e in tone_eval)
    feats = Features(sorted(texts), char="nblr" in baselines)

    # Trainings: all sources, then each corpus left out.
    runs: dict[tuple[str, ...], list[EvalSet]] = {}
    for es in sets:
        if not es.note:
            runs.setdefault(tuple(es.exclude), []).append(es)
    split_ok = True
    models: dict[tuple[str, ...], Path] = {}  # civility's model of each training
    for exclude, members in runs.items():
        what = "all sources" if not exclude else "without " + "+".join(exclude)
        log(f"training on {what} ...")
        data = full if not exclude else reader.load(exclude=list(exclude))
        train = [e for e in data.part("train") if e.labels[hi] is not None]
        y = np.array([e.labels[hi] == positive for e in train], dtype=bool)
        w = training_weights(config, train, hi)
        scores = binary_baselines(baselines, feats, train, y, w, [es.examples for es in members])
        for name, per_set in scores.items():
            for es, s in zip(members, per_set):
                es.scores[name] = float(roc_auc_score(es.y, s))
        if civility:
            model, table = civility.train(list(exclude))
            models[exclude] = model
            split_ok &= compare_split(data.reports, table, what)
            for es in members:
                h = head_report(civility.eval(model, es.sources, es.split), BINARY_HEAD)
                es.scores["civility"] = (h.get("binary") or {}).get("roc_auc") if h else None
                if h is None or h["n"] != len(es.examples):
                    log(f"  WARNING {es.title}: civility evaluated "
                        f"{h['n'] if h else 0} rows, the baselines {len(es.examples)}")
                    split_ok = False

    # The tone head: ComplementNB on word counts (the cnb-words column).
    tone = {"title": f"tone macro-F1: held-out {'+'.join(tone_sources)}", "n": len(tone_eval),
            "scores": {}}
    if tone_eval:
        if "cnb-words" in baselines:
            train = [e for e in full.part("train") if e.labels[tone_hi] is not None]
            x_tr, x_ev = fit_vocabulary(feats.words, feats.rows(train), feats.rows(tone_eval))
            model = ComplementNB(alpha=1.0).fit(
                x_tr, [e.labels[tone_hi] for e in train],
                sample_weight=training_weights(config, train, tone_hi))
            tone["scores"]["cnb-words"] = float(
                f1_score([e.labels[tone_hi] for e in tone_eval], model.predict(x_ev), average="macro"))
        if civility:
            model = models[()] if () in models else civility.train([])[0]
            h = head_report(civility.eval(model, tone_sources, "holdout"), TONE_HEAD)
            tone["scores"]["civility"] = (h.get("multiclass") or {}).get("macro_f1") if h else None

    elapsed = time.time() - started
    print_table(sets, tone, [c for c in COLUMNS if c in baselines or (c == "civility" and civility)])
    for note in notes:
        print(f"note: {note}")
    print(f"\nruntime {elapsed:.0f}s; split and evaluation sets "
          + ("identical to civility's" if civility and split_ok else
             "NOT checked (--skip-civility)" if not civility else "DIFFERENT from civility's (see above)"))
    if args.json:
        result = {
            "config": str(config.path),
            "runtime_seconds": round(elapsed, 1),
            "split_identical": split_ok if civility else None,
            "sets": [{"title": es.title, "kind": es.kind, "sources": es.sources, "split": es.split,
                      "excluded_from_training": es.exclude, "n": len(es.examples),
                      "positives": int(es.y.sum()), "roc_auc": es.scores, "note": es.note}
                     for es in sets],
            "tone": tone,
            "notes": notes,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def print_reports(reports: list[Report]) -> None:
    print(f"{'source':<22} {'rows':>8} {'kept':>8} {'holdout':>8} {'dupes':>6} {'unlabelled':>11} {'capped':>7}")
    for r in reports:
        print(f"{r.name:<22} {r.rows:>8} {r.kept:>8} {r.holdout:>8} {r.dupes:>6} {r.unlabelled:>11} {r.capped:>7}")


def print_table(sets: list[EvalSet], tone: dict, columns: list[str]) -> None:
    width = max(len(es.title) for es in sets + [EvalSet(tone["title"], "", [], "", [])])
    print(f"\nROC AUC of {BINARY_HEAD}")
    widths = [max(9, len(c)) for c in columns]
    print(f"{'evaluation set':<{width}} {'n':>6} {'pos':>6} "
          + " ".join(f"{c:>{n}}" for c, n in zip(columns, widths)))
    for es in sets:
        cells = " ".join(f"{fmt(es.scores.get(c)):>{n}}" for c, n in zip(columns, widths))
        if es.note:
            cells = f"  skipped: {es.note}"
        print(f"{es.title:<{width}} {len(es.examples):>6} {int(es.y.sum()):>6} {cells}")
    cells = " ".join(f"{fmt(tone['scores'].get(c)):>{n}}" for c, n in zip(columns, widths))
    print(f"{tone['title']:<{width}} {tone['n']:>6} {'':>6} {cells}")


if __name__ == "__main__":
    sys.exit(main())
