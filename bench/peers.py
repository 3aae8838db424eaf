"""The tools a user would pick instead of civility, set up the same way for
bench/baselines.py (quality) and bench/side_by_side.py (speed, memory).

Only the standard library is imported at the top: each tool's own package
is imported where it is used, so a process that runs one tool loads only
that tool (bench/side_by_side.py measures their memory and start-up).

* sklearn: CountVectorizer(ngram_range=(1, 2)) + MultinomialNB(alpha=1),
  the `mnb-words` baseline as one scikit-learn Pipeline, fitted with the
  training weights as sample weights.
* fastText: supervised, wordNgrams=2, every other parameter at fastText's
  defaults (dim 100, epoch 5, lr 0.1, minCount 1, softmax loss, 2,000,000
  hash buckets, so a model of about 800 MB). fastText takes no sample
  weights: each training row is written to the training file a number of
  times whose expectation is proportional to its weight (the weights scaled
  to a mean of 1, then rounded up or down at random with a fixed seed), and
  the file is shuffled with the same seed, so that the training set has
  about as many rows as the original and the rows of every source and
  label carry their weight in expectation. Texts are lower-cased and split
  into words and punctuation marks (fastText splits at whitespace only).
* profanity-check (PyPI alt-profanity-check): its own pretrained model
  (TF-IDF + linear SVM, calibrated), trained on its own data (by its
  package's description: the Davidson tweets and the Jigsaw Toxic Comment
  Classification Challenge's Wikipedia comments); nothing of ours is trained.
"""

from __future__ import annotations

import random
import re

FASTTEXT_PARAMS = {"wordNgrams": 2}
FASTTEXT_SEED = 42
POSITIVE = "__label__uncivil"
NEGATIVE = "__label__civil"

_TOKEN = re.compile(r"\w+|[^\w\s]")


def available(module: str) -> str | None:
    """None if `module` imports, else why not (one line)."""
    try:
        __import__(module)
    except Exception as e:  # noqa: BLE001 -- any failure means "skip it"
        return f"{type(e).__name__}: {e}".splitlines()[0]
    return None


# ---------------------------------------------------------------------------
# scikit-learn


def sklearn_pipeline():
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import Pipeline

    return Pipeline([("words", CountVectorizer(ngram_range=(1, 2))),
                     ("nb", MultinomialNB(alpha=1.0))])


def sklearn_fit(texts, y, weights):
    return sklearn_pipeline().fit(texts, y, nb__sample_weight=weights)


def sklearn_scores(model, texts):
    """P(uncivil) of each text."""
    return model.predict_proba(texts)[:, 1]


# ---------------------------------------------------------------------------
# fastText


def fasttext_text(text: str) -> str:
    """One line of fastText input: lower case, words and punctuation marks
    separated by single spaces (no newlines)."""
    return " ".join(_TOKEN.findall(text.lower()))


def weighted_repeats(weights, seed: int = FASTTEXT_SEED) -> list[int]:
    """How many times to write each row so that its expected count is its
    weight scaled to a mean of 1 (random rounding, fixed seed)."""
    rng = random.Random(seed)
    scale = len(weights) / sum(weights)
    counts = []
    for w in weights:
        x = w * scale
        whole = int(x)
        counts.append(whole + (rng.random() < x - whole))
    return counts


def write_fasttext_training(path, texts, y, weights, seed: int = FASTTEXT_SEED) -> int:
    """Writes the training file; returns its number of lines."""
    lines = []
    for text, positive, n in zip(texts, y, weighted_repeats(weights, seed)):
        line = f"{POSITIVE if positive else NEGATIVE} {fasttext_text(text)}\n"
        lines.extend([line] * n)
    random.Random(seed).shuffle(lines)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)
    return len(lines)


def fasttext_train(path, threads: int = 1):
    import fasttext

    return fasttext.train_supervised(input=str(path), thread=threads, seed=0, verbose=0,
                                     **FASTTEXT_PARAMS)


def fasttext_scores(model, texts) -> list[float]:
    """P(uncivil) of each text. A list is predicted in one call (fasttext
    0.9.3's predict of a single string fails under NumPy 2)."""
    labels, probs = model.predict([fasttext_text(t) for t in texts], k=-1)
    out = []
    for ls, ps in zip(labels, probs):
        out.append(float(ps[ls.index(POSITIVE)]) if POSITIVE in ls else 0.0)
    return out


# ---------------------------------------------------------------------------
# profanity-check


def profanity_check_scores(texts):
    """Its probability that each text is offensive."""
    from profanity_check import predict_prob

    return predict_prob(list(texts))
