"""Do word scores and statuses point at the words that are wrong?

For every word an engine places, the benchmark knows where it was really spoken (or that
it was not spoken at all) and asks whether ``score`` ranks the errors first:

* **AUC (off vs within 20 ms)**: the probability that a word more than 100 ms off (or not
  spoken) scores lower than a word within 20 ms of its reference (ties count half). An
  error is the larger of the start and end deviations.
* **AUC (off vs rest)**: the same against every word within 100 ms.
* **caught**: how many of the words more than 100 ms off come out ``uncertain`` or
  ``unaligned``; **false flags**: words within 20 ms that do.

Sets (each file as given, and with its transcript altered: 13 unspoken words inserted in
the middle, 3 inserted at a third, 6 words deleted around the middle, 4 words replaced by
others at two thirds):

* **real**: the English fixtures with reference word times (``../shared``, as in
  ``sphinx_accuracy.py``: MFA's recordings, praatio's two sentences, five LibriVox
  excerpts). References were made by other aligners or by hand; see the fixtures' notes.
* **synthetic**: the eight paragraphs of ``sphinx_accuracy.py`` spoken by espeak-ng at
  three rates with white noise at 15 dB SNR; times exact by construction.

``--fit`` refits the weights of :data:`qalign.aligner.confidence.SPHINX_MODEL` on the
synthetic set (the evidence is captured from the engine as it runs) and prints them with
the AUC they give on the real set, which the fit never sees.

Run from the repository root (a few minutes on two cores)::

    python benchmarks/confidence.py [--sets real,synthetic] [--json FILE] [--fit] [--engine E]

``--engine module:callable`` measures another aligner the same way (the evidence capture
and ``--fit`` concern the sphinx engine's scores only).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sphinx_accuracy as accuracy  # noqa: E402

from qalign.aligner import confidence  # noqa: E402
from qalign.alignment import Alignment  # noqa: E402
from qalign.evaluation import is_word, match_sequences, normalize_word  # noqa: E402

LONG = "the committee will publish its final report on the harbour bridge next spring".split()
SHORT = "under green umbrellas".split()
SUBSTITUTE = "seven purple elephants danced".split()
OFF_S = 0.100
GOOD_S = 0.020


def variants(n: int) -> list[tuple[str, list[int | None], list[str]]]:
    """Altered transcripts as (name, origin of each token or None if new, new words)."""
    out: list[tuple[str, list[int | None], list[str]]] = [("as given", list(range(n)), [])]
    half, third = n // 2, n // 3
    out.append(("13 words inserted", [*range(half), *[None] * len(LONG), *range(half, n)], LONG))
    out.append(("3 words inserted", [*range(third), *[None] * 3, *range(third, n)], SHORT))
    if n > 14:
        out.append(("6 words deleted", [*range(half - 3), *range(half + 3, n)], []))
        two = 2 * n // 3
        out.append(
            ("4 words replaced", [*range(two - 2), *[None] * 4, *range(two + 2, n)], SUBSTITUTE)
        )
    return out


def altered(tokens: list[str], origin: list[int | None], new: list[str]) -> list[str]:
    """The altered transcript's tokens."""
    fresh = iter(new)
    return [tokens[o] if o is not None else next(fresh) for o in origin]


def word_errors(
    hyp: Alignment, tokens: list[str], origin: list[int | None], new: list[str], ref: Alignment
) -> list[float | None]:
    """Per unit of ``hyp`` (aligned to the altered transcript): seconds off its reference,
    ``inf`` for a word never spoken, ``None`` when the reference lacks the word."""
    ref_words = [u for u in ref.units if is_word(u.text)]
    pairs = dict(
        match_sequences(
            [normalize_word(t) for t in tokens], [normalize_word(u.text) for u in ref_words]
        )
    )
    starts, pos = [], 0
    for tok in altered(tokens, origin, new):
        starts.append(pos)
        pos += len(tok) + 1
    errors: list[float | None] = []
    for unit in hyp.units:
        k = max(j for j, s in enumerate(starts) if s <= (unit.char_start or 0))
        o = origin[k]
        if o is None:
            errors.append(math.inf)
        elif o in pairs:
            r = ref_words[pairs[o]]
            errors.append(max(abs(unit.start - r.start), abs(unit.end - r.end)))
        else:
            errors.append(None)
    return errors


def auc(bad: list[float], good: list[float]) -> float:
    """P(score of a bad word < score of a good word), ties counting half."""
    if not bad or not good:
        return float("nan")
    b, g = np.asarray(bad, dtype=float), np.asarray(good, dtype=float)
    return float((g[:, None] > b[None, :]).mean() + 0.5 * (g[:, None] == b[None, :]).mean())


def summarise(words: list[tuple[float, float | None, str]]) -> dict[str, object]:
    """Numbers for ``(error s, score, status)`` of every scored word."""
    score = [(e, 0.0 if s is None else s, st) for e, s, st in words]
    off = [w for w in score if w[0] > OFF_S]
    good = [w for w in score if w[0] <= GOOD_S]
    rest = [w for w in score if w[0] <= OFF_S]
    return {
        "words": len(score),
        "off_100ms": len(off),
        "within_20ms": len(good),
        "auc_off_vs_20ms": round(auc([w[1] for w in off], [w[1] for w in good]), 3),
        "auc_off_vs_rest": round(auc([w[1] for w in off], [w[1] for w in rest]), 3),
        "caught_uncertain": sum(w[2] == "uncertain" for w in off),
        "caught_unaligned": sum(w[2] == "unaligned" for w in off),
        "false_flags_20ms": sum(w[2] != "aligned" for w in good),
    }


def items(
    sets: list[str], say: Callable[[str], None]
) -> list[tuple[str, str, object, str, Alignment]]:
    out = []
    if "real" in sets:
        root = accuracy.shared_dir()
        found = accuracy.real_sets(root) if root.is_dir() else {}
        if not found:
            say(f"no shared fixtures at {root}: the real set is skipped (set QALIGN_SHARED)")
        for group in found.values():
            for stem, path, transcript, ref in group:
                out.append(("real", stem, str(path), transcript, ref))
    if "synthetic" in sets:
        import synth

        try:
            for i, text in enumerate(accuracy.TEXTS):
                clip = synth.synthesize(text, rate=accuracy.RATES[i % len(accuracy.RATES)])
                noisy = synth.add_noise(clip.samples, 15, seed=i)
                out.append(("synthetic", f"paragraph {i + 1}", noisy, text, clip.reference))
        except synth.EspeakUnavailable as exc:
            say(f"synthetic set skipped: {exc}")
    return out


class EvidenceCapture:
    """Records every ``confidence.word_scores`` call the engine makes, to refit the weights:
    each score handed out maps back to its run of evidence and its place in it."""

    def __init__(self) -> None:
        self.runs: list[list[confidence.WordEvidence | None]] = []
        self.where: dict[float, tuple[int, int]] = {}
        self._original = confidence.word_scores

    def __enter__(self) -> EvidenceCapture:
        def recording(evidence, model=confidence.SPHINX_MODEL):  # type: ignore[no-untyped-def]
            scores = self._original(evidence, model)
            self.runs.append(list(evidence))
            for i, s in enumerate(scores):
                if s is not None:
                    self.where[s] = (len(self.runs) - 1, i)
            return scores

        confidence.word_scores = recording
        return self

    def __exit__(self, *exc: object) -> None:
        confidence.word_scores = self._original


def _logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> np.ndarray:
    """Weights (bias first) of an L2-regularised logistic regression, by Newton steps."""
    x = np.c_[np.ones(len(x)), x]
    w = np.zeros(x.shape[1])
    ridge = l2 * np.diag(np.r_[0.0, np.ones(x.shape[1] - 1)])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        grad = x.T @ (p - y) + ridge @ w
        hess = (x.T * (p * (1.0 - p))) @ x + ridge
        w -= np.linalg.solve(hess, grad)
    return w


def fit_model(
    samples: list[tuple[list[confidence.WordEvidence | None], int, float]],
) -> confidence.ConfidenceModel:
    """Fit both stages on ``(evidence run, index, error s)``: good = within 50 ms, bad = more
    than 100 ms off (words in between are left out of the fit)."""
    chosen = [
        (run, i, 1.0 if e <= 0.05 else 0.0) for run, i, e in samples if e <= 0.05 or e > OFF_S
    ]
    feats = {id(run): confidence.own_features(run) for run, _, _ in chosen}
    x1 = np.array([feats[id(run)][i] for run, i, _ in chosen])
    y = np.array([label for _, _, label in chosen])
    w1 = _logistic(x1, y)
    stage1 = confidence.ConfidenceModel(tuple(w1), (0.0, 1.0, 0.0, 0.0))  # type: ignore[arg-type]
    own = {
        key: confidence.own_scores(run, stage1) for key, run in ((id(r), r) for r, _, _ in chosen)
    }
    x2 = np.array([confidence.context_features(own[id(run)], i) for run, i, _ in chosen])
    w2 = _logistic(x2, y)
    return confidence.ConfidenceModel(
        tuple(round(float(v), 3) for v in w1),  # type: ignore[arg-type]
        tuple(round(float(v), 3) for v in w2),  # type: ignore[arg-type]
    )


def make_aligner(spec: str):  # type: ignore[no-untyped-def]
    """``sphinx``, or ``module:callable`` returning any object with ``align(samples, text,
    language)`` (an engine under test, a simulated one)."""
    if spec == "sphinx":
        from qalign.aligner.sphinx import SphinxAligner

        return SphinxAligner()
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)()


def run(
    sets: list[str], fit: bool, say: Callable[[str], None], engine: str = "sphinx"
) -> dict[str, object]:
    from qalign.audio import load_audio

    aligner = make_aligner(engine)
    results: dict[str, list[tuple[float, float | None, str]]] = {}
    captured: dict[str, list[tuple[list[confidence.WordEvidence | None], int, float]]] = {}
    audio_s = cpu_s = 0.0
    for set_name, name, audio, transcript, ref in items(sets, say):
        samples = load_audio(audio) if isinstance(audio, str) else audio
        tokens = transcript.split()
        for variant, origin, new in variants(len(tokens)):
            text = " ".join(altered(tokens, origin, new))
            t0 = time.process_time()
            with EvidenceCapture() as capture:
                hyp = aligner.align(samples, text, "English")
            cpu_s += time.process_time() - t0
            audio_s += len(samples) / 16000
            errors = word_errors(hyp, tokens, origin, new, ref)
            group = "as given" if variant == "as given" else "altered"
            for unit, err in zip(hyp.units, errors, strict=True):
                if err is None:
                    continue
                results.setdefault(f"{set_name}, {group}", []).append(
                    (err, unit.score, unit.status)
                )
                results.setdefault(f"{set_name}, all", []).append((err, unit.score, unit.status))
                posterior = 0.0
                if unit.score is not None and unit.score in capture.where:
                    k, i = capture.where[unit.score]
                    captured.setdefault(set_name, []).append((capture.runs[k], i, err))
                    evidence = capture.runs[k][i]
                    posterior = evidence.posterior if evidence is not None else 0.0
                # The score before this module: the decoder's word posterior alone.
                results.setdefault(f"{set_name}, all, posterior only", []).append(
                    (err, posterior, unit.status)
                )
                if unit.status != "unaligned":
                    results.setdefault(f"{set_name}, placed", []).append(
                        (err, unit.score, unit.status)
                    )
                    results.setdefault(f"{set_name}, placed, posterior only", []).append(
                        (err, posterior, unit.status)
                    )
            say(f"{set_name} / {name} / {variant}: {len(hyp.units)} words")
    report: dict[str, object] = {key: summarise(words) for key, words in sorted(results.items())}
    for set_name in ("real", "synthetic"):
        placed = results.get(f"{set_name}, placed", [])
        report[f"{set_name}, placed, thresholds"] = {
            str(th): {
                "off_flagged": sum(1 for e, sc, _ in placed if e > OFF_S and (sc or 0.0) < th),
                "off": sum(1 for e, _, _ in placed if e > OFF_S),
                "within_20ms_flagged": sum(
                    1 for e, sc, _ in placed if e <= GOOD_S and (sc or 0.0) < th
                ),
                "within_20ms": sum(1 for e, _, _ in placed if e <= GOOD_S),
            }
            for th in (0.3, 0.5, 0.7, 0.9)
        }
    report["cpu_seconds_per_audio_second"] = round(cpu_s / audio_s, 3) if audio_s else None
    if fit and captured.get("synthetic"):
        model = fit_model(captured["synthetic"])
        report["fitted_model"] = {"own": model.own, "context": model.context}
        for set_name, samples in captured.items():
            for label, weights in (("current", confidence.SPHINX_MODEL), ("refitted", model)):
                scored = []
                by_run: dict[int, list[float | None]] = {}
                for run_, i, err in samples:
                    if id(run_) not in by_run:
                        by_run[id(run_)] = confidence.word_scores(run_, weights)
                    scored.append((err, by_run[id(run_)][i], "aligned"))
                report[f"{set_name}, scored words, {label} weights"] = summarise(scored)
    return report


def markdown(report: dict[str, object]) -> str:
    lines = [
        "| set | words | >100 ms off | within 20 ms | AUC off vs ≤20 ms | AUC off vs rest "
        "| off caught: uncertain | off caught: unaligned | ≤20 ms flagged |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, row in report.items():
        if not isinstance(row, dict) or "words" not in row:
            continue
        lines.append(
            f"| {key} | {row['words']} | {row['off_100ms']} | {row['within_20ms']} "
            f"| {row['auc_off_vs_20ms']} | {row['auc_off_vs_rest']} | {row['caught_uncertain']} "
            f"| {row['caught_unaligned']} | {row['false_flags_20ms']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="real,synthetic", help="comma-separated: real, synthetic")
    parser.add_argument("--fit", action="store_true", help="refit the weights on the synthetic set")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument(
        "--engine", default="sphinx", help="sphinx, or module:callable making another aligner"
    )
    args = parser.parse_args(argv)
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    report = run(args.sets.split(","), args.fit, say, args.engine)
    print(markdown(report))
    for key in [k for k in report if k.endswith("thresholds")] + [
        "cpu_seconds_per_audio_second",
        "fitted_model",
    ]:
        if key in report:
            print(f"{key}: {report[key]}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
