"""Write docs/results/serving.md from benchmarks/results/serving.json, so that every figure there
comes from a file a command wrote.

    python scripts/write_serving_results.py
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
R = json.loads((ROOT / "benchmarks" / "results" / "serving.json").read_text())


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


out = ["# Serving results", "",
       "Written by `scripts/write_serving_results.py` from `benchmarks/results/serving.json`. One 2-core CPU, no GPU;",
       "the service (`affekt serve`, its own process) and the load generator share the 2 cores, on loopback.", ""]

t = R.get("text")
if t:
    top = t["target"]
    out += ["## Text over HTTP against `affekt predict`", "",
            f"`{t['command']}`", "",
            f"{t['n_texts']:,} texts ({t['texts']}), **one text per request** unless the row says otherwise, each "
            "client sending its next request when the last is answered. `affekt predict`'s figure is its batch path "
            "on the same texts in one process "
            f"(chunks of {t['affekt_predict']['batch_size']}, start-up apart: {t['affekt_predict']['model_load_seconds']} s "
            "to load the model, paid once by a service too).", "",
            "| clients | texts/s | vs `affekt predict` | p50 ms | p95 ms | p99 ms | mean batch | errors | lost |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| `affekt predict` | {t['affekt_predict']['texts_per_second']} | 1.00 | | | | "
            f"{t['affekt_predict']['batch_size']} | | |"]
    for r in t["http"]:
        q = r["latency_ms"]
        per = r.get("texts_per_request", 1)
        who = f"{r['clients']}" if per == 1 else f"{r['clients']}, {per} texts per request"
        out.append(f"| {who} | {r['texts_per_second']} | {r['vs_predict']:.2f} | {q['p50']} | {q['p95']} | "
                   f"{q['p99']} | {r['mean_batch']} | {r['errors']} | {r['lost']} |")
    runs = "; ".join(f"{r['clients']} client{'s' if r['clients'] > 1 else ''}"
                     f"{'' if r.get('texts_per_request', 1) == 1 else ' x ' + str(r['texts_per_request'])}"
                     f": {', '.join(str(x) for x in r['runs_texts_per_second'])}"
                     for r in t["http"] if r.get("runs_texts_per_second"))
    if t["affekt_predict"].get("runs_texts_per_second"):
        out += ["", f"Each row is the median of {len(t['affekt_predict']['runs_texts_per_second'])} runs (this machine's "
                f"speed varies from run to run); every run, texts/s: `affekt predict` "
                f"{', '.join(str(x) for x in t['affekt_predict']['runs_texts_per_second'])}; {runs}."]
        fastest = max(t["affekt_predict"]["runs_texts_per_second"])
        row = next(r for r in t["http"] if r["clients"] == top["clients"] and r.get("texts_per_request", 1) == 1)
        out += ["", f"Against the fastest `affekt predict` run ({fastest}), the {top['clients']}-client median is "
                f"{row['texts_per_second'] / fastest:.2f}."]
    out += ["", "The clients are a minimal HTTP/1.1 client on asyncio streams (as wrk or hey are), parsing and checking "
            "every answer, so that the load generator, on the same 2 cores, costs little.", "",
            f"Target: at {top['clients']} clients, throughput >= 70% of `affekt predict`'s and 0 errors: "
            f"{top['vs_predict']:.2f}, {met(top['met'])}.", ""]

s = R.get("stream")
if s:
    f = s["first_label_s"]
    out += ["## Live speech (WebSocket `/v1/speech/stream`)", "", f"`{s['command']}`", "",
            f"{s['clips']} clips streamed in real time in {s['chunk_ms']} ms chunks of 16-bit PCM; the speech onset "
            "is the first frame where the VAD finds speech in the clip, offline. A final prediction (the whole "
            "utterance) waits for the 0.4 s of silence that ends it, which is most of the p95 end-to-end latency.", "",
            "| measure | value |", "|---|---|",
            f"| first label after the speech onset (wall time from sending the onset's chunk) | mean {f['mean']} s, "
            f"p50 {f['p50']} s, p95 {f['p95']} s, max {f['max']} s (n={f['n']}) |",
            f"| end-to-end latency of each prediction (from sending the chunk that completes its window) | "
            f"p50 {s['end_to_end_ms']['p50']} ms, p95 {s['end_to_end_ms']['p95']} ms (n={s['end_to_end_ms']['n']}) |",
            f"| the server's part (VAD + model, `latency_ms` in each message) | p50 {s['server_ms']['p50']} ms, "
            f"p95 {s['server_ms']['p95']} ms |",
            f"| clips without any label | {s['no_label']} |", "",
            f"Target: the first label within {s['target']['first_label_within_s']} s of speech onset: "
            f"{met(s['target']['met'])} (the stream answers after 0.6 s of speech, then every second).", ""]

k = R.get("soak")
if k:
    out += ["## Soak", "", f"`{k['command']}`", "",
            f"{k['minutes']:g} minutes of 6 text clients (1-8 texts per request) and 2 speech clients (a RAVDESS clip "
            "per request) against one `affekt serve --models text-default,speech-default`.", "",
            "| | requests | per second | p50 ms | p95 ms | p99 ms | errors | lost |", "|---|---|---|---|---|---|---|---|"]
    for kind in ("text", "speech"):
        r = k[kind]
        q = r["latency_ms"] or {"p50": "", "p95": "", "p99": ""}
        out.append(f"| {kind} | {r['requests']:,} | {r['per_second']} | {q['p50']} | {q['p95']} | {q['p99']} | "
                   f"{r['errors']} | {r['lost']} |")
    out += ["", f"Server memory (RSS): {k['rss_after_1_min_mb']} MB after the first minute, {k['rss_end_mb']} MB at "
            f"the end: growth {100 * k['rss_growth']:.1f}%. Target: growth < 10%, 0 errors, 0 lost: "
            f"{met(k['target']['met'])}.", ""]

y = R.get("ray")
if y:
    out += ["## Batch on Ray (`affekt predict --engine ray`)", "", f"`{y['command']}`", "",
            f"{y['n_texts']:,} texts ({y['texts']}); a local Ray cluster of {y['cpu_count']} CPUs in a loopback-only "
            "network namespace; each run is the command a user types, timed from start to exit (start-up included).", "",
            "| run | seconds | texts/s | output identical to the local engine |", "|---|---|---|---|",
            f"| local engine (`affekt predict`) | {y['local']['seconds']} | {y['local']['texts_per_second']} | |"]
    for w in (1, 2):
        r = y[f"ray_{w}_workers"]
        out.append(f"| `--engine ray --num-workers {w}` | {r['seconds']} | {r['texts_per_second']} | "
                   f"{'yes' if r['identical_to_local'] else '**no**'} |")
    wk, rs = y["worker_killed"], y["job_killed_and_resumed"]
    out += [f"| 2 workers, one killed at {wk['killed_at_s']} s (Ray restarts it and reruns its shard) | {wk['seconds']} "
            f"| | {'yes' if wk['identical_to_local'] else '**no**'} |",
            f"| the job killed with {rs['shards_done_before_kill']} of {rs['shards']} shards written, then run again: "
            f"the second run | {rs['seconds']} | | {'yes' if rs['identical_to_local'] else '**no**'} |", "",
            f"Killing a worker cost {wk['extra_seconds_vs_clean']} s over a clean 2-worker run. Target: output identical "
            f"to the local engine: {met(y['target']['identical'])}.", ""]

(ROOT / "docs" / "results" / "serving.md").write_text("\n".join(out))
print("wrote docs/results/serving.md")

# ------------------------------------------------------------ docs/scaling.md: the worked estimate
sp = json.loads((ROOT / "benchmarks" / "results" / "speech_speed.json").read_text())
if y:
    per_core_text = y["ray_1_workers"]["texts_per_second"]
    clips_x = sp["speed"]["realtime_factor"] / sp["machine"]["cpus"]
    long_x = sp["memory"][-1]["realtime_factor"] / sp["machine"]["cpus"]
    jobs = [("100 M texts (text-default)", 100e6 / per_core_text,
             f"{per_core_text} texts/s per core (`--engine ray`, 1 worker, start-up included)"),
            ("10,000 h of short clips (speech-default)", 10_000 * 3600 / clips_x,
             f"{clips_x:.0f}x real time per core ({sp['speed']['files']} clips, "
             f"{sp['speed']['audio_seconds'] / sp['speed']['files']:.1f} s on average: "
             f"{sp['speed']['realtime_factor']}x on {sp['machine']['cpus']} cores)"),
            ("10,000 h of long recordings (speech-default)", 10_000 * 3600 / long_x,
             f"{long_x:.0f}x real time per core (a 1-hour recording, silence skipped by the VAD: "
             f"{sp['memory'][-1]['realtime_factor']}x on {sp['machine']['cpus']} cores)")]
    est = ["| job | measured rate | core-hours | 64 cores | 256 cores |", "|---|---|---|---|---|"]
    for name, core_s, rate in jobs:
        est.append(f"| {name} | {rate} | {core_s / 3600:,.0f} | {core_s / 3600 / 64:.1f} h | "
                   f"{core_s / 3600 / 256 * 60:.0f} min |")
    scaling = ROOT / "docs" / "scaling.md"
    text = scaling.read_text()
    a, b = "<!-- estimate: written by scripts/write_serving_results.py -->", "<!-- /estimate -->"
    text = text[:text.index(a) + len(a)] + "\n" + "\n".join(est) + "\n" + text[text.index(b):]
    scaling.write_text(text)
    print("wrote the estimate in docs/scaling.md")
