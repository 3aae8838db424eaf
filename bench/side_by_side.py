#!/usr/bin/env python3
"""Side by side: civility and the tools a user would pick instead, run on the
same inputs on the same machine in one run, with ratios to civility.

The peers (set up in bench/peers.py):

* scikit-learn: CountVectorizer(ngram_range=(1, 2)) + MultinomialNB(alpha=1)
  in one Pipeline, trained on the same rows as civility's default model
  (the training part of models/default.toml's split, incivility head, with
  the same weights as sample weights; the split is bench/baselines.py's);
* fastText: supervised, wordNgrams=2, trained on the same rows (weights by
  repetition, see bench/peers.py), other parameters at their defaults;
* profanity-check (alt-profanity-check): its own pretrained model.

What is measured:

a. Scoring throughput, one thread, in comments per second. civility as a
   whole process, model load and JSON in and out included:
   `civility score --jsonl --threads 1 < inputs.jsonl > /dev/null` (and
   `--threads 2`). The peers predict a Python list already in memory with
   the model already loaded; the scikit-learn peer is also timed as a whole
   process that loads its model, reads the same JSONL file and writes one
   JSON line per comment, like civility. The inputs are the held-out part
   of the split (all sources), shuffled with a fixed seed and repeated to
   50,000 comments, in a temporary JSONL file ({"id": n, "text": ...}).
b. Training time, wall seconds: `civility train --config models/default.toml
   -o TMP.civ` as a whole process (reading the corpora, splitting, every
   head, calibration folds, writing the model) with `--threads 1` and with
   all cores (its --threads option: feature extraction and the refinement
   fits are threaded);
   the scikit-learn pipeline's fit (vectorizing and fitting, data already
   in memory); fastText's train_supervised on an already written training
   file, thread=1 and thread=2.
c. Peak memory (max RSS) of each scoring process, from wait4() on the
   child: civility's whole process, and one process per peer that loads
   its model and scores the in-memory list (so the model and the inputs
   are included), and the scikit-learn whole process.
d. Start-up: a whole process that scores the one comment "hello":
   `printf 'hello' | civility score --json` against a Python process that
   imports the peer, loads its model and predicts ["hello"]; plus the
   peer's import and load time measured inside its scoring process.

Every timing is the best of 3 runs (start-up: best of 10). The peers run
with OMP_NUM_THREADS=1 (and the other BLAS thread variables) set to 1;
fastText's predict is single-threaded. civility scores every head (five
attributes, tone, the decision) while each peer gives one probability.

Run from anywhere, after `cargo build --release`, with the corpora in
../shared/datasets and the peers installed (bench/requirements-peers.txt;
a peer that does not import is skipped with a note):

    python3 -m venv ~/.venvs/civility-bench --system-site-packages
    ~/.venvs/civility-bench/bin/pip install -r bench/requirements-peers.txt
    ~/.venvs/civility-bench/bin/python bench/side_by_side.py                # about 3 minutes
    ~/.venvs/civility-bench/bin/python bench/side_by_side.py --quick        # 5,000 comments, 1 run each
    ~/.venvs/civility-bench/bin/python bench/side_by_side.py --json /tmp/side.json

The machine (cores, CPU, RAM, load average), the date and the exact
commands are printed with the table. Other work on the machine moves the
numbers: compare the ratios of one run, not numbers across runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
import peers  # noqa: E402  (standard library only)

SINGLE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                        "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}
# Peers scored from memory: name -> (module that must import, description).
PEERS = {
    "sklearn": ("sklearn", "scikit-learn CountVectorizer(1,2) + MultinomialNB"),
    "fasttext": ("fasttext", "fastText supervised, wordNgrams=2"),
    "profanity-check": ("profanity_check", "profanity-check (pretrained)"),
}
SEED = 42
JSONL_BATCH = 4096
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


# ---------------------------------------------------------------------------
# Worker side: one peer per process (`--worker KIND ARGS...`)


def load_peer(name: str, model: str):
    """Imports a peer and loads its model; returns texts -> scores."""
    if name == "sklearn":
        import pickle

        with open(model, "rb") as f:
            pipeline = pickle.load(f)
        return lambda texts: peers.sklearn_scores(pipeline, texts)
    if name == "fasttext":
        import fasttext

        ft = fasttext.load_model(model)
        return lambda texts: peers.fasttext_scores(ft, texts)
    if name == "profanity-check":
        import profanity_check  # noqa: F401  (loads its model on import)

        return peers.profanity_check_scores
    raise SystemExit(f"unknown peer {name!r}")


def read_texts(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def read_training(path: str):
    texts, y, w = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts.append(row["text"])
            y.append(row["y"])
            w.append(row["w"])
    return texts, y, w


def worker(kind: str, args: list[str]) -> None:
    """Runs one measurement in this process and prints its JSON result."""
    result: dict = {}
    if kind == "prepare":  # CONFIG N TMP
        config, n, tmp = args
        result = prepare(Path(config), int(n), Path(tmp))
    elif kind == "check":  # MODULE
        result["error"] = peers.available(args[0])
    elif kind == "score":  # NAME MODEL INPUTS REPS
        name, model, inputs, reps = args
        t0 = time.perf_counter()
        score = load_peer(name, model)
        result["load_s"] = time.perf_counter() - t0
        texts = read_texts(inputs)
        times = []
        for _ in range(int(reps)):
            t0 = time.perf_counter()
            scores = score(texts)
            times.append(time.perf_counter() - t0)
        result.update(n=len(texts), times=times, mean_score=float(sum(scores) / len(scores)))
    elif kind == "startup":  # NAME MODEL
        name, model = args
        result["score"] = float(load_peer(name, model)(["hello"])[0])
    elif kind == "jsonl":  # MODEL: a whole scoring process, JSON lines in and out
        (model,) = args
        score = load_peer("sklearn", model)
        out = sys.stdout
        batch: list[dict] = []

        def flush():
            for row, p in zip(batch, score([r["text"] for r in batch])):
                out.write(json.dumps({"id": row.get("id"), "incivility": float(p)}) + "\n")
            batch.clear()

        for line in sys.stdin:
            if line.strip():
                batch.append(json.loads(line))
                if len(batch) == JSONL_BATCH:
                    flush()
        if batch:
            flush()
        out.flush()
        return
    elif kind == "fit-sklearn":  # TRAIN.jsonl OUT.pkl REPS
        data, out, reps = args
        texts, y, w = read_training(data)
        import pickle

        import numpy as np

        y, w = np.array(y, dtype=bool), np.array(w)
        times = []
        for _ in range(int(reps)):
            t0 = time.perf_counter()
            model = peers.sklearn_fit(texts, y, w)
            times.append(time.perf_counter() - t0)
        with open(out, "wb") as f:
            pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
        result["times"] = times
    elif kind == "fit-fasttext":  # TRAIN.txt OUT.bin|- THREADS REPS
        data, out, threads, reps = args
        import fasttext  # noqa: F401  (imported before the clock starts)

        times = []
        for _ in range(int(reps)):
            t0 = time.perf_counter()
            model = peers.fasttext_train(data, threads=int(threads))
            times.append(time.perf_counter() - t0)
        if out != "-":
            model.save_model(out)
        result["times"] = times
    else:
        raise SystemExit(f"unknown worker {kind!r}")
    print(json.dumps(result))


# ---------------------------------------------------------------------------
# Parent side: running and timing processes


@dataclass
class Run:
    seconds: float
    rss_mb: float
    returncode: int
    stdout: str
    stderr: str


class Runner:
    """Runs commands from the repository root, timing them and reading
    their peak memory, and remembers each distinct command it ran."""

    def __init__(self, tmp: Path, python: str):
        self.tmp, self.python = tmp, python
        self.commands: list[str] = []

    def show(self, cmd: list[str], stdin: str | Path | None, env: dict | None, stdout: str) -> str:
        text = shlex.join(cmd).replace(str(self.tmp), "$TMP").replace(str(REPO) + "/", "")
        if env:
            text = " ".join(f"{k}={v}" for k, v in env.items()) + " " + text
        if isinstance(stdin, Path):
            text += f" < {str(stdin).replace(str(self.tmp), '$TMP')}"
        elif isinstance(stdin, str):
            text = f"printf {shlex.quote(stdin)} | {text}"
        return text + stdout

    def run(self, cmd: list[str], stdin: str | Path | None = None, env: dict | None = None,
            capture: bool = False, rss: bool = True, show: bool = True) -> Run:
        """Runs `cmd`; its peak memory is read by GNU time where there is
        one (a process forked from this one would otherwise count this
        process's own memory as its peak)."""
        if show:
            shown = self.show(cmd, stdin, env, "" if capture else " > /dev/null")
            if shown not in self.commands:
                self.commands.append(shown)
        full_env = dict(os.environ, **(env or {}))
        rss_file = self.tmp / "maxrss.txt"
        if rss and GNU_TIME:
            cmd = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *cmd]
        with tempfile.TemporaryFile() as err:
            stdin_file = open(stdin, "rb") if isinstance(stdin, Path) else None
            try:
                t0 = time.perf_counter()
                p = subprocess.Popen(cmd, cwd=REPO, env=full_env, stderr=err,
                                     stdin=stdin_file or (subprocess.PIPE if stdin is not None else subprocess.DEVNULL),
                                     stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
                if isinstance(stdin, str):
                    p.stdin.write(stdin.encode())
                    p.stdin.close()
                out = p.stdout.read().decode() if capture else ""
                _, status, usage = os.wait4(p.pid, 0)
                seconds = time.perf_counter() - t0
                p.returncode = os.waitstatus_to_exitcode(status)
                if capture:
                    p.stdout.close()
            finally:
                if stdin_file:
                    stdin_file.close()
            err.seek(0)
            stderr = err.read().decode(errors="replace")
        rss_kb = usage.ru_maxrss
        if rss and GNU_TIME:
            rss_kb = int(rss_file.read_text().split()[-1])
        return Run(seconds, rss_kb / 1024, p.returncode, out, stderr)

    def best(self, reps: int, cmd: list[str], **kw) -> Run:
        """The fastest of `reps` runs, with the largest peak memory seen."""
        runs = [self.run(cmd, **kw) for _ in range(reps)]
        for r in runs:
            if r.returncode != 0:
                raise Failed(cmd, r)
        fastest = min(runs, key=lambda r: r.seconds)
        fastest.rss_mb = max(r.rss_mb for r in runs)
        return fastest

    def worker(self, kind: str, *args, reps: int = 1, rss: bool = True,
               show: bool = True) -> tuple[dict, Run]:
        """Runs a `--worker` process (single-threaded peers); returns its
        JSON result and the process's run (of the fastest of `reps`)."""
        cmd = [self.python, "bench/side_by_side.py", "--worker", kind, *map(str, args)]
        run = self.best(reps, cmd, env=SINGLE_THREAD, capture=True, rss=rss, show=show)
        return json.loads(run.stdout.strip().splitlines()[-1]), run


class Failed(Exception):
    def __init__(self, cmd, run: Run):
        tail = (run.stderr.strip().splitlines() or ["(no message)"])[-1]
        super().__init__(f"{shlex.join(map(str, cmd))} exited {run.returncode}: {tail}")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# The machine


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = int(line.split()[1]) / 2**20
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(ram_gib, 1) if ram_gib else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


# ---------------------------------------------------------------------------
# The benchmark


@dataclass
class Row:
    tool: str
    per_second: float | None = None  # scoring throughput
    threads: int = 1
    training_s: float | None = None
    training_note: str = ""
    rss_mb: float | None = None
    startup_ms: float | None = None
    extra: dict = field(default_factory=dict)


def prepare(config_path: Path, n: int, tmp: Path) -> dict:
    """Writes the inputs and the training rows to `tmp`; returns counts."""
    import baselines  # the split (imports numpy, scipy and scikit-learn)

    config = baselines.read_config(config_path)
    full = baselines.Reader(config).load()
    heads = [h.name for h in config.heads]
    hi = heads.index(baselines.BINARY_HEAD)
    positive = config.heads[hi].positive or "uncivil"

    held_out = [e.text for e in full.part("holdout")]
    random.Random(SEED).shuffle(held_out)
    inputs = [held_out[i % len(held_out)] for i in range(n)]
    with open(tmp / "inputs.jsonl", "w", encoding="utf-8") as f:
        for i, text in enumerate(inputs):
            f.write(json.dumps({"id": i, "text": text}) + "\n")

    train = [e for e in full.part("train") if e.labels[hi] is not None]
    y = [e.labels[hi] == positive for e in train]
    w = baselines.training_weights(config, train, hi)
    with open(tmp / "train.jsonl", "w", encoding="utf-8") as f:
        for e, label, weight in zip(train, y, w):
            f.write(json.dumps({"text": e.text, "y": label, "w": float(weight)}) + "\n")
    lines = peers.write_fasttext_training(tmp / "train-fasttext.txt", [e.text for e in train], y, w)
    return {
        "inputs": n,
        "held_out": len(held_out),
        "input_mean_bytes": round(sum(len(t.encode()) for t in inputs) / n, 1),
        "training_rows": len(train),
        "fasttext_training_lines": lines,
    }


def main(argv=None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--worker"]:
        worker(argv[1], argv[2:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path, default=REPO / "models/default.toml",
                    help="training configuration (default: models/default.toml)")
    ap.add_argument("--civility", type=Path, default=REPO / "target/release/civility",
                    help="civility binary (default: target/release/civility)")
    ap.add_argument("--quick", action="store_true",
                    help="5,000 comments, one run of each timing (start-up: best of 3)")
    ap.add_argument("-n", "--comments", type=int, help="comments to score (default 50,000)")
    ap.add_argument("--reps", type=int, help="runs of each timing, the best kept (default 3)")
    ap.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    args = ap.parse_args(argv)

    n = args.comments or (5_000 if args.quick else 50_000)
    reps = args.reps or (1 if args.quick else 3)
    startup_reps = 3 if args.quick else 10
    civility = args.civility.resolve()
    if not civility.exists():
        sys.exit(f"{civility} not found: run `cargo build --release` or pass --civility")
    civ = str(civility.relative_to(REPO)) if civility.is_relative_to(REPO) else str(civility)
    config = args.config.resolve()
    cfg = str(config.relative_to(REPO)) if config.is_relative_to(REPO) else str(config)

    started = time.time()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    host = machine()
    notes: list[str] = []
    tmpdir = tempfile.TemporaryDirectory(prefix="civility-side-")
    tmp = Path(tmpdir.name)
    runner = Runner(tmp, sys.executable)

    log("reading the split ...")
    # In a process of its own, like every import of the peers: this process
    # stays small (see Runner.run).
    counts, _ = runner.worker("prepare", config, n, tmp, rss=False, show=False)
    inputs = tmp / "inputs.jsonl"
    log(f"  {counts['inputs']} comments to score ({counts['held_out']} held-out, "
        f"mean {counts['input_mean_bytes']} bytes), {counts['training_rows']} training rows")

    available = {}
    for name, (module, _) in PEERS.items():
        why = runner.worker("check", module, rss=False, show=False)[0]["error"]
        available[name] = why is None
        if why:
            notes.append(f"{name}: skipped, `import {module}` failed with {sys.executable} ({why}); "
                         "see bench/requirements-peers.txt")

    civ1 = Row("civility `score --jsonl --threads 1`, whole process")
    civ2 = Row("civility `score --jsonl --threads 2`, whole process", threads=2)
    rows = [civ1, civ2]
    sk = Row(f"{PEERS['sklearn'][1]}, in memory")
    sk_proc = Row(f"{PEERS['sklearn'][1]}, whole process (JSONL)")
    ft = Row(f"{PEERS['fasttext'][1]}, in memory")
    pc = Row(f"{PEERS['profanity-check'][1]}, in memory")
    training: dict[str, dict[str, float | None]] = {}

    # b. Training.
    log("training ...")
    model = tmp / "model.civ"
    t1 = runner.best(reps, [civ, "train", "--config", cfg, "-o", str(model), "--threads", "1"])
    tall = runner.best(reps, [civ, "train", "--config", cfg, "-o", str(model)])
    civ1.training_s, civ1.training_note = t1.seconds, "--threads 1"
    civ2.training_s, civ2.training_note = tall.seconds, f"all {host['nproc']} cores"
    training["civility train, default model (whole process)"] = {"1": t1.seconds, "all": tall.seconds}
    notes.append("civility train --threads N sets the threads of feature extraction and of the "
                 "refinement fits; counting and calibration run on one thread")
    log(f"  civility: {t1.seconds:.1f}s one thread, {tall.seconds:.1f}s all cores")
    # Like for like: the scikit-learn pipeline fits one head on these rows,
    # with no calibration folds and no refinement; so does this model.
    one_head = tmp / "one-head.toml"
    one_head.write_text(
        "[calibration]\nfolds = 0\n\n[split]\nholdout = 0.0\n\n"
        "[[heads]]\nname = \"y\"\nlabels = [\"false\", \"true\"]\npositive = \"true\"\n\n"
        "[[sources]]\nname = \"train\"\npath = \"train.jsonl\"\nheads.y = { field = \"y\" }\n",
        encoding="utf-8")
    o1 = runner.best(reps, [civ, "train", "--config", str(one_head), "-o", str(tmp / "one.civ"),
                            "--threads", "1"])
    oall = runner.best(reps, [civ, "train", "--config", str(one_head), "-o", str(tmp / "one.civ")])
    training["civility train, one head as scikit-learn's (no folds, no refinement, "
             "unweighted)"] = {"1": o1.seconds, "all": oall.seconds}
    log(f"  civility, one head: {o1.seconds:.1f}s one thread, {oall.seconds:.1f}s all cores")
    fitted = {}
    if available["sklearn"]:
        result, _ = runner.worker("fit-sklearn", tmp / "train.jsonl", tmp / "sklearn.pkl", reps)
        sk.training_s, sk.training_note = min(result["times"]), "fit"
        training["scikit-learn fit (vectorize + fit)"] = {"1": sk.training_s, "all": None}
        fitted["sklearn"] = tmp / "sklearn.pkl"
        log(f"  scikit-learn: {sk.training_s:.1f}s")
    if available["fasttext"]:
        r1, _ = runner.worker("fit-fasttext", tmp / "train-fasttext.txt", tmp / "fasttext.bin", 1, reps)
        r2, _ = runner.worker("fit-fasttext", tmp / "train-fasttext.txt", "-", 2, reps)
        ft.training_s, ft.training_note = min(r1["times"]), "thread=1"
        training["fastText train_supervised"] = {"1": min(r1["times"]), "2": min(r2["times"])}
        fitted["fasttext"] = tmp / "fasttext.bin"
        log(f"  fastText: {min(r1['times']):.1f}s thread=1, {min(r2['times']):.1f}s thread=2")
    if available["profanity-check"]:
        pc.training_note = "pretrained"
        fitted["profanity-check"] = "-"
    sizes = {"civility (.civ written by train)": model.stat().st_size / 2**20}
    for name, what in (("sklearn", "scikit-learn (pickle)"), ("fasttext", "fastText (.bin)")):
        if name in fitted:
            sizes[what] = Path(fitted[name]).stat().st_size / 2**20

    # a, c. Scoring throughput and peak memory.
    log("scoring ...")
    for row, threads in ((civ1, 1), (civ2, 2)):
        run = runner.best(reps, [civ, "score", "--jsonl", "--threads", str(threads)], stdin=inputs)
        row.per_second, row.rss_mb = n / run.seconds, run.rss_mb
        log(f"  {row.tool}: {row.per_second:,.0f}/s")
    for name, row in (("sklearn", sk), ("fasttext", ft), ("profanity-check", pc)):
        if name not in fitted:
            continue
        try:
            result, run = runner.worker("score", name, fitted[name], inputs, reps)
        except Failed as e:
            notes.append(f"{name}: scoring failed: {e}")
            continue
        row.per_second, row.rss_mb = n / min(result["times"]), run.rss_mb
        row.extra = {"import_and_load_s": result["load_s"], "mean_score": result["mean_score"]}
        rows.append(row)
        log(f"  {row.tool}: {row.per_second:,.0f}/s")
        if name == "sklearn":
            cmd = [sys.executable, "bench/side_by_side.py", "--worker", "jsonl", str(fitted[name])]
            run = runner.best(reps, cmd, stdin=inputs, env=SINGLE_THREAD)
            sk_proc.per_second, sk_proc.rss_mb = n / run.seconds, run.rss_mb
            rows.append(sk_proc)
            log(f"  {sk_proc.tool}: {sk_proc.per_second:,.0f}/s")

    # d. Start-up.
    log("start-up ...")
    run = runner.best(startup_reps, [civ, "score", "--json"], stdin="hello", capture=True, rss=False)
    civ1.startup_ms = run.seconds * 1000
    for name, row in (("sklearn", sk), ("fasttext", ft), ("profanity-check", pc)):
        if row in rows:
            _, run = runner.worker("startup", name, fitted[name], reps=startup_reps, rss=False)
            row.startup_ms = run.seconds * 1000

    elapsed = time.time() - started
    print_report(rows, training, host, date, counts, reps, startup_reps, civ, runner.commands, notes,
                 elapsed, sizes)
    if args.json:
        result = {
            "date": date,
            "machine": host,
            "versions": versions(civ),
            "inputs": counts,
            "reps": reps,
            "startup_reps": startup_reps,
            "rows": [{"tool": r.tool, "comments_per_second": r.per_second, "threads": r.threads,
                      "ratio_civility_to_tool": ratio(civ1, r), "training_seconds": r.training_s,
                      "training_note": r.training_note, "peak_rss_mb": r.rss_mb,
                      "startup_ms": r.startup_ms, **r.extra} for r in rows],
            "training_seconds": training,
            "model_file_mb": sizes,
            "commands": runner.commands,
            "notes": notes,
            "runtime_seconds": round(elapsed, 1),
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def ratio(civ: Row, row: Row) -> float | None:
    """civility's one-thread throughput over a one-thread tool's."""
    if civ.per_second and row.per_second and row.threads == 1:
        return civ.per_second / row.per_second
    return None


def versions(civ: str) -> dict:
    run = subprocess.run([civ, "--version"], cwd=REPO, capture_output=True, text=True)
    out = {"civility": run.stdout.strip().removeprefix("civility ")}
    out.update({p: version(p) for p in ("scikit-learn", "numpy", "fasttext", "alt-profanity-check")})
    return out


def num(x: float | None, digits: int = 0) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def seconds(x: float | None) -> str:
    """Seconds with one decimal, or two under ten seconds: ratios of short
    training runs need them."""
    return num(x, 1 if x is None or x >= 10 else 2)


def print_report(rows, training, host, date, counts, reps, startup_reps, civ, commands, notes,
                 elapsed, sizes) -> None:
    v = versions(civ)
    print("## civility side by side\n")
    print(f"- machine: {host['nproc']} cores, {host['cpu']}, {host['ram_gib']} GiB RAM, {host['os']}; "
          f"load average at start {' '.join(map(str, host['load_average']))}")
    print(f"- date: {date}")
    print("- versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val))
    print(f"- inputs: {counts['inputs']:,} comments, the {counts['held_out']:,} held-out comments of "
          f"the split shuffled{' and repeated' if counts['inputs'] > counts['held_out'] else ''} "
          f"(mean {counts['input_mean_bytes']} bytes)")
    print(f"- training: {counts['training_rows']:,} rows (incivility-labelled training part; "
          f"fastText file: {counts['fasttext_training_lines']:,} lines, weights by repetition)")
    print(f"- best of {reps} run(s) per timing, start-up best of {startup_reps}\n")
    civ1 = rows[0]
    print("| tool | scoring comments/s, 1 thread | ratio civility/tool | training s | "
          "peak RSS MB | start-up ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        speed = num(r.per_second) + (f" ({r.threads} threads)" if r.threads != 1 else "")
        rt = ratio(civ1, r)
        train = (seconds(r.training_s) + (f" ({r.training_note})" if r.training_note else "")
                 if r.training_s is not None else (r.training_note or "-"))
        print(f"| {r.tool} | {speed} | {num(rt, 2) if rt else '-'} | {train} | {num(r.rss_mb)} | "
              f"{num(r.startup_ms)} |")
    print("\nTraining, wall seconds, on the same rows:\n")
    print("| what | 1 thread | 2 threads / all cores |")
    print("|---|---:|---:|")
    for what, t in training.items():
        print(f"| {what} | {seconds(t.get('1'))} | {seconds(t.get('2', t.get('all')))} |")
    one = next((t for w, t in training.items() if w.startswith("civility train, one head")), None)
    fit = training.get("scikit-learn fit (vectorize + fit)")
    if one and fit and fit.get("1"):
        times = [f"{fit['1'] / one[k]:.1f}x with {label}"
                 for k, label in (("1", "one thread"), ("all", "all cores")) if one.get(k)]
        print("\nTraining one head, civility is faster than the scikit-learn fit: "
              + ", ".join(times) + ".")
    others = [r for r in rows[1:] if r.rss_mb and not r.tool.startswith("civility")]
    if civ1.rss_mb and others:
        print("Peak memory, the peer's over civility's: "
              + ", ".join(f"{r.tool} {r.rss_mb / civ1.rss_mb:.1f}x" for r in others) + ".")
    print("\nModel files: " + ", ".join(f"{k} {v:,.1f} MB" for k, v in sizes.items()))
    loads = [(r.tool, r.extra["import_and_load_s"]) for r in rows if "import_and_load_s" in r.extra]
    if loads:
        print("\nImport and model load inside the peer's process (start-up above is the whole "
              "process scoring \"hello\"):")
        for tool, s in loads:
            print(f"- {tool}: {s * 1000:,.0f} ms")
    print("\nNotes:")
    print("- civility's throughput includes process start, model load, JSON parsing and writing "
          "every head's scores; the in-memory peers' excludes all of that and gives one "
          "probability per comment. The scikit-learn whole-process row is the like-for-like one.")
    print("- Peers run with " + " ".join(f"{k}=1" for k in SINGLE_THREAD) + ".")
    print("- Peak RSS: " + (f"{GNU_TIME} -f %M around each scoring command (not shown below)"
                             if GNU_TIME else "wait4() on each child; without GNU time a child "
                             "may count this script's own memory, so small values are upper bounds")
          + "; the largest of the runs.")
    for note in notes:
        print(f"- {note}")
    print(f"\nCommands (run from the repository root; $TMP is a temporary directory; {elapsed:.0f}s in all):\n")
    for c in commands:
        print(f"    {c}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as e:
        sys.exit(str(e))
