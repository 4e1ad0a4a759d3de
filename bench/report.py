#!/usr/bin/env python3
"""bench/report.py RAW_DIR RESULTS_DIR — turns the raw outputs of one bench/run.sh into
RESULTS_DIR/latest.json (every figure), latest.md (the Markdown tables, also printed) and latest.png
(throughput and latency over time; needs matplotlib, skipped with a warning without it).

Standard library only, apart from the optional chart. Figures:
  (a) pgbench: tps = bookings/s (one booking per transaction); p50/p99 from pgbench's per-transaction log
  (b) bk-replay --json: sustained outcomes/s (outcomes seen while load was still being sent), accept and
      outcome p50/p99, the database's own decisions/s, breaches
  (c) wrk: requests/s and p50/p99 of GET /tickets through the ingress and through nginx, same bytes
  (d) bk-replay --json with 10,000 connections, plus the ingress's /metrics before and after: connections
      held (the ingress's own peak gauge), errors, invariants
Every run also records the CPU time the hypervisor stole from the machine (steal): on a shared virtual
machine it is work the services could not do, and it varies from minute to minute.
"""

import glob
import json
import os
import platform
import re
import sys

TARGET_RATIO = 10.0  # the target: end-to-end outcomes/s at least 10x the seed design's ceiling
TARGET_ACCEPT_P99_MS = 50.0
TARGET_OUTCOME_P99_MS = 250.0


def read_meta(raw):
    meta = {}
    with open(os.path.join(raw, "meta.env"), encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            meta[key] = value
    return meta


def machine():
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {"nproc": os.cpu_count(), "cpu_model": model, "ram_gib": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "os": platform.platform()}


def percentile(sorted_values, p):
    """Nearest rank, as bk-replay computes it."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), -(-int(p * len(sorted_values) * 1000) // 100000)))
    return sorted_values[rank - 1]


def cpu_delta(raw, name, clk_tck, seconds):
    """CPU seconds each component used during a run, from the before/after samples of run.sh."""
    def load(path):
        out = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2:
                        out[parts[0]] = out.get(parts[0], 0) + int(parts[1])
        return out
    before, after = load(os.path.join(raw, f"cpu-{name}.before")), load(os.path.join(raw, f"cpu-{name}.after"))
    delta = {k: round((after[k] - before.get(k, 0)) / clk_tck, 2) for k in after}
    if not delta:
        return None
    steal = delta.pop("steal", 0.0)
    ours = sum(v for k, v in delta.items() if k != "machine")
    delta["others"] = round(max(0.0, delta.get("machine", 0) - ours), 2)
    delta["machine_capacity"] = round((os.cpu_count() or 1) * seconds, 2)
    delta["steal"] = steal
    return delta


def steal_pct(cpu):
    """The share of the machine's cores the hypervisor took during a run, in percent."""
    return 100.0 * cpu["steal"] / cpu["machine_capacity"] if cpu and cpu.get("machine_capacity") else None


def metric(path, name):
    """One unlabelled sample from a saved /metrics text, or None."""
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[0] == name:
                return float(parts[1])
    return None


def parse_hold(raw, conns):
    """Run (d): the replay with many connections, and what the ingress saw."""
    path = os.path.join(raw, "hold.json")
    if not os.path.exists(path):
        return None
    r = parse_replay(raw, conns, "hold")
    r["ingress_connections_peak"] = metric(os.path.join(raw, "hold-metrics.after"), "bk_http_connections_peak")
    r["errors"] = sum(n for code, n in r["posts_by_status"].items() if code not in ("202", "200")) + r["poll_errors"]
    return r


def parse_pgbench(raw, clients, name):
    path = os.path.join(raw, f"{name}.out")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tps = float(re.search(r"^tps = ([0-9.]+)", text, re.M).group(1))
    txns = int(re.search(r"number of transactions actually processed: (\d+)", text).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", text)
    lat_avg = re.search(r"latency average = ([0-9.]+) ms", text)
    series = [{"t": float(t), "tps": float(v)} for t, v in re.findall(r"progress: ([0-9.]+) s, ([0-9.]+) tps", text)]
    lat_us = []
    for log in glob.glob(os.path.join(raw, f"{name}.[0-9]*")):
        with open(log, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[2].isdigit():
                    lat_us.append(int(parts[2]))
    lat_us.sort()
    rows = None
    rows_path = os.path.join(raw, f"{name}.rows")
    if os.path.exists(rows_path):
        with open(rows_path, encoding="utf-8") as f:
            rows = int(f.read().strip() or 0)
    return {"clients": clients, "tps": round(tps, 1), "transactions": txns, "rows": rows,
            "failed": int(failed.group(1)) if failed else 0,
            "latency_ms": {"mean": float(lat_avg.group(1)) if lat_avg else None,
                           "p50": round(percentile(lat_us, 50) / 1000, 3), "p99": round(percentile(lat_us, 99) / 1000, 3),
                           "n": len(lat_us)},
            "series": series}


def parse_replay(raw, conns, name):
    with open(os.path.join(raw, f"{name}.json"), encoding="utf-8") as f:
        rep = json.load(f)
    with open(os.path.join(raw, f"{name}.status"), encoding="utf-8") as f:
        status = int(f.read().strip())
    lat, thr, run = rep["latency_ms"], rep["throughput"], rep["run"]
    return {"connections": conns, "exit_status": status, "ok": rep["ok"],
            "outcomes_per_s": thr["outcomes_per_s"], "overall_outcomes_per_s": thr["overall_outcomes_per_s"],
            "accepted_per_s": thr["accepted_per_s"], "db_decided_per_s": thr["db_decided_per_s"],
            "accept_ms": {k: lat["accept"][k] for k in ("p50", "p90", "p99", "p999", "max")},
            "outcome_ms": {k: lat["outcome"][k] for k in ("p50", "p90", "p99", "p999", "max")},
            "sent": run["sent"], "elapsed_s": run["elapsed_s"], "send_window_s": run["send_window_s"],
            "connections_opened": run["connections_opened"], "replay_cpu_s": run.get("cpu_s", 0.0),
            "poll_errors": run.get("poll_errors", 0), "posts_by_status": rep["posts_by_status"],
            "outcomes": rep["outcomes"], "breaches": rep["verify"]["breaches"],
            "breaches_by_check": {k: v for k, v in rep["verify"]["by_check"].items() if v},
            "series": rep["series"]}


def best_round(raw, rounds, parse, what, key, clk_tck, seconds):
    """Parses every round of one setting and keeps the best by `key`, with the others' figures."""
    runs = []
    for r in range(1, rounds + 1):
        name = f"{what}.r{r}"
        run = parse(name)
        run["round"] = r
        run["cpu_s"] = cpu_delta(raw, name, clk_tck, seconds(run))
        runs.append(run)
    best = max(runs, key=lambda run: run[key])
    best["rounds"] = [{"round": run["round"], key: run[key], "steal_pct": steal_pct(run["cpu_s"])} for run in runs]
    return best


def wrk_ms(text):
    value, unit = re.match(r"([0-9.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(raw, name):
    with open(os.path.join(raw, f"wrk-{name}.out"), encoding="utf-8") as f:
        text = f.read()
    rps = re.search(r"Requests/sec:\s*([0-9.]+)", text)
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    total = re.search(r"(\d+) requests in", text)
    return {"server": name, "requests_per_s": float(rps.group(1)) if rps else 0.0,
            "p50_ms": wrk_ms(dist["50"]) if "50" in dist else None,
            "p99_ms": wrk_ms(dist["99"]) if "99" in dist else None,
            "requests": int(total.group(1)) if total else 0,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0}


def fmt(n, decimals=0):
    return f"{n:,.{decimals}f}" if n is not None else "–"


def rounds_text(run, key):
    """ "2,785 (3 %) · 2,901 (0 %)": every round's figure and its steal."""
    return " · ".join(f"{fmt(x[key])} ({fmt(x['steal_pct'])} %)" for x in run.get("rounds", []))


def markdown(res):
    m, meta = res["machine"], res["meta"]
    a, b, c = res["seed_design"], res["end_to_end"], res["tickets"]
    best_a = res["ratios"]["seed_best_tps"]
    out = [f"Benchmark of {meta.get('started_at', '?')} (git {meta.get('git_rev', '?')}"
           + (", services modified in the working tree" if meta.get("git_services_dirty") == "true"
              and meta.get("bin_default") != "false" else "") + ").",
           f"Machine: {m['nproc']} × {m['cpu_model']}, {m['ram_gib']} GiB RAM, Linux {m['kernel']}; "
           f"load average {meta.get('loadavg_start', '?')} at the start, {meta.get('loadavg_end', '?')} at the end "
           "(shared machine: other stacks may have been running).",
           f"Command: `{meta.get('command', 'bench/run.sh')}` ({meta.get('duration_s')} s per run"
           + (f"; binaries from {meta['bin_dir']}" if meta.get("bin_default") == "false" else "")
           + (f"; tuning: {meta['tuning']}" if meta.get("tuning") else "") + ").", ""]
    out += [f"(a) and (b) alternated {meta.get('rounds', 1)} times; each row is its setting's best round, "
            "\"all rounds\" lists every round with the share of the two cores the hypervisor stole meanwhile.", "",
            "**(a) The seeds' design** — pgbench, one guarded `UPDATE` + one `INSERT` per transaction, "
            "3 hot tier rows:", "",
            "| clients | bookings/s | latency p50 | latency p99 | steal | all rounds |", "|---:|---:|---:|---:|---:|:---|"]
    for r in a:
        out.append(f"| {r['clients']} | {fmt(r['tps'])} | {r['latency_ms']['p50']:.2f} ms | {r['latency_ms']['p99']:.2f} ms "
                   f"| {fmt(steal_pct(r['cpu_s']))} % | {rounds_text(r, 'tps')} |")
    out += ["", "**(b) End to end** — bk-replay as fast as possible (closed loop: each connection books, then "
            "long-polls the outcome), capacities 10,000,000 per tier, even tier mix:", "",
            "| connections | outcomes/s (sustained) | × seed best | accept p50 | accept p99 | outcome p50 "
            "| outcome p99 | invariants | steal | all rounds |", "|---:|---:|---:|---:|---:|---:|---:|:---|---:|:---|"]
    for r in b:
        verdict = "ok" if r["breaches"] == 0 else f"{r['breaches']} breaches {r['breaches_by_check']}"
        if r["exit_status"] != 0 and r["breaches"] == 0:
            verdict = "incomplete run"
        out.append(f"| {r['connections']} | {fmt(r['outcomes_per_s'])} | {r['outcomes_per_s'] / best_a:.2f}× "
                   f"| {r['accept_ms']['p50']:.1f} ms | {r['accept_ms']['p99']:.1f} ms "
                   f"| {r['outcome_ms']['p50']:.1f} ms | {r['outcome_ms']['p99']:.1f} ms | {verdict} "
                   f"| {fmt(steal_pct(r['cpu_s']))} % | {rounds_text(r, 'outcomes_per_s')} |")
    out += ["", "**(c) `GET /tickets`** — wrk, 2 threads, 64 connections, the same bytes:", "",
            "| server | requests/s | p50 | p99 | non-2xx | × nginx |", "|:---|---:|---:|---:|---:|---:|"]
    nginx = next((r for r in c if r["server"] == "nginx"), None)
    for r in c:
        ratio = r["requests_per_s"] / nginx["requests_per_s"] if nginx and nginx["requests_per_s"] else 0
        label = "bk-ingress" if r["server"] == "ingress" else "nginx (Debian)"
        out.append(f"| {label} | {fmt(r['requests_per_s'])} | {fmt(r['p50_ms'], 2)} ms | {fmt(r['p99_ms'], 2)} ms "
                   f"| {r['non_2xx'] + r['socket_errors']} | {ratio:.2f}× |")
    d = res.get("hold")
    if d:
        verdict = "ok" if d["breaches"] == 0 else f"{d['breaches']} breaches {d['breaches_by_check']}"
        out += ["", f"**(d) {d['connections']:,} keep-alive connections** — bk-replay, connections brought into use "
                "over 5 s, each booking then long-polling its outcome:", "",
                "| connections opened | peak open at the ingress | outcomes/s | accept p99 | outcome p99 | errors "
                "| invariants | steal |", "|---:|---:|---:|---:|---:|---:|:---|---:|",
                f"| {d['connections_opened']:,} | {fmt(d['ingress_connections_peak'])} | {fmt(d['outcomes_per_s'])} "
                f"| {d['accept_ms']['p99']:.0f} ms | {d['outcome_ms']['p99']:.0f} ms | {d['errors']} | {verdict} "
                f"| {fmt(steal_pct(d['cpu_s']))} % |"]
    ra = res["ratios"]
    out += ["", f"**Verdict:** best end to end {fmt(ra['e2e_best_outcomes_per_s'])} outcomes/s "
            f"({ra['e2e_best_connections']} connections) = **{ra['e2e_vs_seed']:.2f}×** the seed design's best "
            f"{fmt(best_a)} bookings/s; target ≥ {TARGET_RATIO:.0f}× — "
            f"{'MET' if ra['e2e_vs_seed'] >= TARGET_RATIO else 'NOT MET'}. At that load accept p99 "
            f"{ra['e2e_best_accept_p99_ms']:.1f} ms (target < {TARGET_ACCEPT_P99_MS:.0f}), outcome p99 "
            f"{ra['e2e_best_outcome_p99_ms']:.1f} ms (target < {TARGET_OUTCOME_P99_MS:.0f}). "
            f"`GET /tickets`: the ingress serves {ra['tickets_vs_nginx']:.2f}× nginx's rate."]
    within = ra.get("e2e_within_latency")
    out += ["", "Fastest run within both latency targets: " + (
        f"{fmt(within['outcomes_per_s'])} outcomes/s at {within['connections']} connections = "
        f"{within['outcomes_per_s'] / best_a:.2f}× (accept p99 {within['accept_ms']['p99']:.1f} ms, "
        f"outcome p99 {within['outcome_ms']['p99']:.1f} ms)." if within else "none.")]
    cpu = res.get("cpu_per_1000_bookings")
    if cpu:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in cpu["seconds"].items())
        out += ["", f"CPU seconds per 1,000 bookings at {cpu['connections']} connections: {parts} "
                f"(the machine has {m['nproc']} cores: {1000 * m['nproc'] / max(cpu['total'], 1e-9):,.0f} "
                "bookings/s would use all of them at this cost)."]
    seed_cpu = res.get("seed_cpu_per_1000_bookings")
    if seed_cpu:
        out += [f"The seed design at {seed_cpu['clients']} clients: PostgreSQL {seed_cpu['postgres']:.2f}, "
                f"pgbench and the rest {seed_cpu['others']:.2f} CPU seconds per 1,000 bookings."]
    return "\n".join(out) + "\n"


def chart(res, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench/report.py: matplotlib is not installed: no chart", file=sys.stderr)
        return False
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(12, 8), sharex=True)
    for r in res["end_to_end"]:
        # Whole seconds of the send window only: the drain after the last request is not load.
        series = [p for p in r["series"] if p["t"] + 1 <= r["send_window_s"] + 0.5]
        xs = [p["t"] + 0.5 for p in series]
        ax1.plot(xs, [p["outcomes"] for p in series], marker="o", ms=3,
                 label=f"end to end, {r['connections']} conns (outcomes/s)")
        line, = ax2.plot(xs, [p["outcome_p99"] or None for p in series], marker="o", ms=3,
                         label=f"outcome p99, {r['connections']} conns")
        ax2.plot(xs, [p["accept_p99"] or None for p in series], ls="--", color=line.get_color(),
                 label=f"accept p99, {r['connections']} conns")
    for r in res["seed_design"]:
        ax1.plot([p["t"] - 0.5 for p in r["series"]], [p["tps"] for p in r["series"]], ls=":",
                 label=f"seed design (pgbench), {r['clients']} clients")
    target = TARGET_RATIO * res["ratios"]["seed_best_tps"]
    ax1.axhline(target, color="red", lw=1, label=f"target: {TARGET_RATIO:.0f}× seed best = {target:,.0f}/s")
    ax1.set_ylabel("per second")
    ax1.set_yscale("log")
    ax1.set_title(f"bookings per second — {res['machine']['nproc']} × {res['machine']['cpu_model']}, "
                  f"{res['meta'].get('started_at', '')}", fontsize=9)
    ax1.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax1.grid(True, which="both", alpha=0.3)
    ax2.axhline(TARGET_OUTCOME_P99_MS, color="red", lw=1, label="target outcome p99 250 ms")
    ax2.axhline(TARGET_ACCEPT_P99_MS, color="orange", lw=1, label="target accept p99 50 ms")
    ax2.set_yscale("log")
    ax2.set_ylabel("latency (ms), per second of the run")
    ax2.set_xlabel("seconds since the run started")
    ax2.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax2.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    raw, results = sys.argv[1], sys.argv[2]
    meta = read_meta(raw)
    clk_tck = int(meta.get("clk_tck") or 100)
    duration = float(meta.get("duration_s") or 10)
    rounds = int(meta.get("rounds") or 1)
    res = {"tool": "bench/run.sh", "version": 2, "meta": meta, "machine": machine(),
           "seed_design": [best_round(raw, rounds, lambda name, c=int(c): parse_pgbench(raw, c, name),
                                      f"pgbench-{c}", "tps", clk_tck, lambda run: duration)
                           for c in meta["clients"].split()],
           "end_to_end": [best_round(raw, rounds, lambda name, c=int(c): parse_replay(raw, c, name),
                                     f"replay-{c}", "outcomes_per_s", clk_tck, lambda run: run["elapsed_s"])
                          for c in meta["connections"].split()],
           "tickets": [parse_wrk(raw, name) for name in ("ingress", "nginx")]}
    for r in res["end_to_end"]:
        if r["cpu_s"] is not None:
            # The load generator runs on the same cores: count it apart from the other processes.
            r["cpu_s"]["bk-replay"] = r["replay_cpu_s"]
            r["cpu_s"]["others"] = round(max(0.0, r["cpu_s"]["others"] - r["replay_cpu_s"]), 2)
    res["tickets"][0]["cpu_s"] = cpu_delta(raw, "wrk-ingress", clk_tck, duration)
    res["hold"] = parse_hold(raw, int(meta.get("hold") or 0))
    if res["hold"]:
        res["hold"]["cpu_s"] = cpu_delta(raw, "hold", clk_tck, res["hold"]["elapsed_s"])

    best_a = max(res["seed_design"], key=lambda r: r["tps"])
    best_b = max(res["end_to_end"], key=lambda r: r["outcomes_per_s"])
    nginx = res["tickets"][1]["requests_per_s"]
    res["ratios"] = {
        "seed_best_tps": best_a["tps"], "seed_best_clients": best_a["clients"],
        "e2e_best_outcomes_per_s": best_b["outcomes_per_s"], "e2e_best_connections": best_b["connections"],
        "e2e_vs_seed": round(best_b["outcomes_per_s"] / best_a["tps"], 3) if best_a["tps"] else 0,
        "e2e_best_accept_p99_ms": best_b["accept_ms"]["p99"], "e2e_best_outcome_p99_ms": best_b["outcome_ms"]["p99"],
        "target_ratio": TARGET_RATIO, "target_met": best_a["tps"] > 0 and best_b["outcomes_per_s"] >= TARGET_RATIO * best_a["tps"],
        "tickets_vs_nginx": round(res["tickets"][0]["requests_per_s"] / nginx, 3) if nginx else 0,
    }
    within = [r for r in res["end_to_end"] if r["breaches"] == 0 and r["accept_ms"]["p99"] < TARGET_ACCEPT_P99_MS
              and r["outcome_ms"]["p99"] < TARGET_OUTCOME_P99_MS]
    best_within = max(within, key=lambda r: r["outcomes_per_s"]) if within else None
    res["ratios"]["e2e_within_latency"] = {k: best_within[k] for k in (
        "connections", "outcomes_per_s", "accept_ms", "outcome_ms")} if best_within else None
    # Where the CPU went in the best end-to-end run, per 1,000 bookings.
    cpu = best_b.get("cpu_s")
    outcomes = best_b["outcomes"]["confirmed"] + best_b["outcomes"]["rejected"]
    if cpu and outcomes:
        per = {k: round(v * 1000 / outcomes, 3) for k, v in cpu.items()
               if k not in ("machine", "machine_capacity", "steal")}
        per = dict(sorted(per.items(), key=lambda kv: -kv[1]))
        res["cpu_per_1000_bookings"] = {"connections": best_b["connections"], "seconds": per,
                                        "total": round(sum(per.values()), 3)}

    seed_cpu, n_seed = best_a.get("cpu_s"), best_a["transactions"]
    if seed_cpu and n_seed:
        res["seed_cpu_per_1000_bookings"] = {"clients": best_a["clients"],
                                             "postgres": round(seed_cpu.get("postgres", 0) * 1000 / n_seed, 3),
                                             "others": round(seed_cpu.get("others", 0) * 1000 / n_seed, 3)}

    os.makedirs(results, exist_ok=True)
    text = markdown(res)
    res["table_markdown"] = text
    png = os.path.join(results, "latest.png")
    res["chart"] = "latest.png" if chart(res, png) else None
    with open(os.path.join(results, "latest.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    with open(os.path.join(results, "latest.md"), "w", encoding="utf-8") as f:
        f.write(text)
    print(text)
    print(f"bench/report.py: wrote {results}/latest.json, latest.md" + (", latest.png" if res["chart"] else ""),
          file=sys.stderr)


if __name__ == "__main__":
    main()
