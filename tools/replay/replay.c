/* bk-replay: replays a JSON-lines booking trace against a running ingress and checks the
 * invariants against PostgreSQL. main reads the options, optionally resets the tiers, runs the
 * engine, reads the database, verifies and reports. Exit status: 0 every invariant held, 1 a breach
 * (or the run was cut short), 2 bad usage or a setup failure. See tools/replay/README.md. */
#include "common/err.h"
#include "tools/replay/engine.h"
#include "tools/replay/pgstate.h"
#include "tools/replay/report.h"
#include "tools/replay/trace.h"
#include "tools/replay/verify.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define EXIT_BREACH 1
#define EXIT_USAGE  2

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct options {
    const char *trace_path;
    char url[256];
    int connections;
    bk_engine_mode mode;
    double max_rate;
    double duration_s;
    double ramp_s;
    double timeout_s;
    long count;
    int wait_ms;
    const char *pg_dsn;
    const char *reset_spec;
    const char *json_path;
    int allow_unavailable;
    int keep_keys;
    int progress;
    int quiet;
} options;

static void usage(FILE *out)
{
    fprintf(out, "usage: bk-replay --trace FILE [options]\n"
                 "\n"
                 "  --trace FILE          JSON-lines trace (\"-\" for stdin); see tools/replay/README.md\n"
                 "  --url URL             ingress base URL (default http://127.0.0.1:$BK_HTTP_PORT, else :8080)\n"
                 "  --connections N       keep-alive connections = requests in flight (default 64)\n"
                 "  --asap                ignore the trace's offsets: send whenever a connection is free\n"
                 "  --max-rate R          ignore the trace's offsets: send R requests per second\n"
                 "  --duration S          send no new request after S seconds (following goes on)\n"
                 "  --ramp S              bring the connections into use evenly over the first S seconds\n"
                 "  --count N             replay only the first N requests of the trace\n"
                 "  --timeout S           hard bound on the whole run (default 120)\n"
                 "  --wait-ms MS          ?wait= of each outcome long-poll (default 5000)\n"
                 "  --pg DSN              read PostgreSQL at the end and check the database invariants\n"
                 "  --reset SPEC          DESTRUCTIVE, needs --pg: empty the bookings table and set the tiers\n"
                 "                        first, e.g. VIP=100,FRONT_ROW=200,GA=1000 (test and bench stacks only)\n"
                 "  --json FILE           write the report as JSON\n"
                 "  --allow-unavailable   503s and transport errors on valid requests are not breaches\n"
                 "  --keep-keys           send Idempotency-Keys verbatim (default: prefixed with a per-run nonce)\n"
                 "  --progress            a status line per second on stderr\n"
                 "  --quiet               leave the per-second table out of the printed report\n");
}

/* Parses a number in [min, max]; returns 0 on failure. */
static int parse_num(const char *name, const char *text, double min, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= min && v <= max)) {
        fprintf(stderr, "bk-replay: %s %s is not a number from %g to %g\n", name, text, min, max);
        return 0;
    }
    *out = v;
    return 1;
}

static int parse_options(int argc, char **argv, options *opt)
{
    enum {
        O_URL = 256,
        O_CONNS,
        O_ASAP,
        O_RATE,
        O_DURATION,
        O_COUNT,
        O_TIMEOUT,
        O_WAIT,
        O_RAMP,
        O_PG,
        O_RESET,
        O_JSON,
        O_ALLOW,
        O_KEEP,
        O_PROGRESS,
        O_QUIET,
        O_TRACE,
        O_HELP
    };
    static const struct option longs[] = {
        {"trace", required_argument, NULL, O_TRACE},
        {"url", required_argument, NULL, O_URL},
        {"connections", required_argument, NULL, O_CONNS},
        {"asap", no_argument, NULL, O_ASAP},
        {"max-rate", required_argument, NULL, O_RATE},
        {"duration", required_argument, NULL, O_DURATION},
        {"ramp", required_argument, NULL, O_RAMP},
        {"count", required_argument, NULL, O_COUNT},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"wait-ms", required_argument, NULL, O_WAIT},
        {"pg", required_argument, NULL, O_PG},
        {"reset", required_argument, NULL, O_RESET},
        {"json", required_argument, NULL, O_JSON},
        {"allow-unavailable", no_argument, NULL, O_ALLOW},
        {"keep-keys", no_argument, NULL, O_KEEP},
        {"progress", no_argument, NULL, O_PROGRESS},
        {"quiet", no_argument, NULL, O_QUIET},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *port = getenv("BK_HTTP_PORT");
    snprintf(opt->url, sizeof(opt->url), "http://127.0.0.1:%s", port != NULL && port[0] != '\0' ? port : "8080");
    opt->connections = 64;
    opt->mode = BK_ENGINE_PACED;
    opt->timeout_s = 120;
    opt->wait_ms = 5000;
    double v = 0;
    for (int c = getopt_long(argc, argv, "", longs, NULL); c != -1; c = getopt_long(argc, argv, "", longs, NULL)) {
        switch (c) {
        case O_TRACE:
            opt->trace_path = optarg;
            break;
        case O_URL:
            if (snprintf(opt->url, sizeof(opt->url), "%s", optarg) >= (int)sizeof(opt->url)) {
                fprintf(stderr, "bk-replay: --url is too long\n");
                return 0;
            }
            for (size_t len = strlen(opt->url); len > 0 && opt->url[len - 1] == '/'; len--) {
                opt->url[len - 1] = '\0';
            }
            break;
        case O_CONNS:
            if (!parse_num("--connections", optarg, 1, 100000, &v)) {
                return 0;
            }
            opt->connections = (int)v;
            break;
        case O_ASAP:
            opt->mode = BK_ENGINE_ASAP;
            break;
        case O_RATE:
            if (!parse_num("--max-rate", optarg, 0.001, 1e7, &opt->max_rate)) {
                return 0;
            }
            opt->mode = BK_ENGINE_RATE;
            break;
        case O_DURATION:
            if (!parse_num("--duration", optarg, 0.001, 86400, &opt->duration_s)) {
                return 0;
            }
            break;
        case O_RAMP:
            if (!parse_num("--ramp", optarg, 0, 3600, &opt->ramp_s)) {
                return 0;
            }
            break;
        case O_COUNT:
            if (!parse_num("--count", optarg, 1, 1e9, &v)) {
                return 0;
            }
            opt->count = (long)v;
            break;
        case O_TIMEOUT:
            if (!parse_num("--timeout", optarg, 0.001, 86400, &opt->timeout_s)) {
                return 0;
            }
            break;
        case O_WAIT:
            if (!parse_num("--wait-ms", optarg, 1, 5000, &v)) {
                return 0;
            }
            opt->wait_ms = (int)v;
            break;
        case O_PG:
            opt->pg_dsn = optarg;
            break;
        case O_RESET:
            opt->reset_spec = optarg;
            break;
        case O_JSON:
            opt->json_path = optarg;
            break;
        case O_ALLOW:
            opt->allow_unavailable = 1;
            break;
        case O_KEEP:
            opt->keep_keys = 1;
            break;
        case O_PROGRESS:
            opt->progress = 1;
            break;
        case O_QUIET:
            opt->quiet = 1;
            break;
        case O_HELP:
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 0;
        }
    }
    if (optind < argc || opt->trace_path == NULL) {
        fprintf(stderr, "bk-replay: %s\n", optind < argc ? "unexpected argument" : "--trace is required");
        usage(stderr);
        return 0;
    }
    if (opt->reset_spec != NULL && opt->pg_dsn == NULL) {
        fprintf(stderr, "bk-replay: --reset needs --pg\n");
        return 0;
    }
    return 1;
}

/* Each connection is a descriptor: lift the soft limit to the hard one. */
static void raise_fd_limit(int connections)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
        lim.rlim_cur < (rlim_t)connections + 64) {
        fprintf(stderr, "bk-replay: warning: the file limit (%llu) is low for %d connections\n",
                (unsigned long long)lim.rlim_cur, connections);
    }
}

/* Keys are global (docs/api.md): a rerun with the trace's own keys would get the earlier run's
 * bookings back. A nonce per run keeps runs apart; retries within a run still share a key. */
static void make_key_prefix(char *out, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long nonce =
        (unsigned long)ts.tv_sec * 1000003UL ^ (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16);
    snprintf(out, len, "r%08lx-", nonce & 0xffffffffUL);
}

/* The engine's records as the verifier reads them. */
static bk_verify_reply *to_replies(const bk_trace *trace, const bk_engine_rec *recs, bk_err *err)
{
    size_t n = bk_trace_count(trace);
    bk_verify_reply *replies = calloc(n + 1, sizeof(*replies));
    if (replies == NULL) {
        bk_err_set(err, BK_E_NOMEM, "%zu replies", n);
        return NULL;
    }
    for (size_t k = 0; k < n; k++) {
        const bk_trace_req *req = bk_trace_at(trace, k);
        const bk_engine_rec *rec = &recs[k];
        bk_verify_reply *r = &replies[k];
        r->sent = rec->sent_us >= 0;
        r->malformed = req->malformed;
        r->key = rec->key[0] != '\0' ? rec->key : NULL;
        r->tier = req->malformed ? NULL : req->tier;
        r->quantity = req->quantity;
        r->status = rec->status;
        memcpy(r->booking_id, rec->booking_id, sizeof(r->booking_id));
        r->outcome = rec->outcome;
        r->conflict = rec->conflict;
    }
    return replies;
}

int main(int argc, char **argv)
{
    options opt = {0};
    bk_err err;
    bk_err_clear(&err);
    int status = EXIT_USAGE;
    char key_prefix[32] = "";
    bk_trace *trace = NULL;
    bk_pgstate *pg = NULL;
    bk_engine_rec *recs = NULL;
    bk_verify_reply *replies = NULL;
    bk_verify_row *rows = NULL;
    bk_report *rep = NULL;
    size_t n_rows = 0, n_tiers = 0;
    bk_verify_tier tiers[BK_PGSTATE_TIERS_MAX];
    bk_pgstate_span span;
    bk_engine_totals totals;
    bk_verify_report verdict;
    bk_pgstate_cap caps[BK_PGSTATE_TIERS_MAX];
    size_t n_caps = 0;

    if (!parse_options(argc, argv, &opt)) {
        return EXIT_USAGE;
    }
    if (opt.reset_spec != NULL &&
        bk_pgstate_parse_caps(opt.reset_spec, caps, BK_PGSTATE_TIERS_MAX, &n_caps, &err) != BK_OK) {
        fprintf(stderr, "bk-replay: %s\n", err.msg);
        return EXIT_USAGE;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit(opt.connections);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "bk-replay: curl_global_init failed\n");
        return EXIT_USAGE;
    }

    trace = bk_trace_load(opt.trace_path, (size_t)opt.count, &err);
    if (trace == NULL) {
        goto fail;
    }
    if (bk_trace_count(trace) == 0) {
        bk_err_set(&err, BK_E_INVAL, "%s holds no requests", opt.trace_path);
        goto fail;
    }
    if (opt.pg_dsn != NULL) {
        pg = bk_pgstate_new(opt.pg_dsn, &err);
        if (pg == NULL) {
            goto fail;
        }
        if (opt.reset_spec != NULL ? bk_pgstate_reset(pg, caps, n_caps, &err) != BK_OK
                                   : bk_pgstate_take_baseline(pg, &err) != BK_OK) {
            goto fail;
        }
    }
    if (!opt.keep_keys) {
        make_key_prefix(key_prefix, sizeof(key_prefix));
    }
    recs = calloc(bk_trace_count(trace), sizeof(*recs));
    if (recs == NULL) {
        bk_err_set(&err, BK_E_NOMEM, "%zu records", bk_trace_count(trace));
        goto fail;
    }
    bk_engine_opts engine_opts = {
        .base_url = opt.url,
        .connections = opt.connections,
        .mode = opt.mode,
        .max_rate = opt.max_rate,
        .duration_ms = (int64_t)(opt.duration_s * 1000),
        .ramp_ms = (int64_t)(opt.ramp_s * 1000),
        .timeout_ms = (int64_t)(opt.timeout_s * 1000),
        .wait_ms = opt.wait_ms,
        .key_prefix = key_prefix,
        .progress = opt.progress,
        .stop = &stop_flag,
    };
    if (bk_engine_run(&engine_opts, trace, recs, &totals, &err) != BK_OK) {
        goto fail;
    }

    memset(&span, 0, sizeof(span));
    if (pg != NULL && (bk_pgstate_read_tiers(pg, tiers, BK_PGSTATE_TIERS_MAX, &n_tiers, &err) != BK_OK ||
                       bk_pgstate_read_rows(pg, &rows, &n_rows, &span, &err) != BK_OK)) {
        goto fail;
    }
    replies = to_replies(trace, recs, &err);
    if (replies == NULL) {
        goto fail;
    }
    bk_verify_input vin = {
        .replies = replies,
        .n_replies = bk_trace_count(trace),
        .rows = pg != NULL ? rows : NULL,
        .n_rows = n_rows,
        .tiers = tiers,
        .n_tiers = n_tiers,
        .allow_unavailable = opt.allow_unavailable,
    };
    if (bk_verify_run(&vin, &verdict, &err) != BK_OK) {
        goto fail;
    }
    bk_report_input rin = {
        .trace_path = opt.trace_path,
        .trace = trace,
        .opts = &engine_opts,
        .recs = recs,
        .totals = &totals,
        .reset_spec = opt.reset_spec,
        .verify = &verdict,
        .tiers = tiers,
        .n_tiers = n_tiers,
        .span = pg != NULL ? &span : NULL,
    };
    rep = bk_report_new(&rin, &err);
    if (rep == NULL) {
        goto fail;
    }
    bk_report_print(rep, stdout, !opt.quiet);
    fflush(stdout);
    if (opt.json_path != NULL && bk_report_write_json(rep, opt.json_path, &err) != BK_OK) {
        goto fail;
    }
    status = bk_report_ok(rep) ? 0 : EXIT_BREACH;
    goto out;

fail:
    fprintf(stderr, "bk-replay: error: %s (%s)\n", err.msg, bk_err_name(err.code));
    status = EXIT_USAGE;
out:
    bk_report_free(rep);
    free(rows);
    free(replies);
    free(recs);
    bk_pgstate_free(pg);
    bk_trace_free(trace);
    curl_global_cleanup();
    return status;
}
