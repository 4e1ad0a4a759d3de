/* Report figures and their two renderings. Latencies: accept = POST start to its answer (202, or
 * 200 for a retry of a decided booking); outcome = POST start to the first final status seen, for
 * requests answered 202; send lag = how late a POST started against its due time. "Sustained"
 * outcomes per second counts outcomes seen while requests were still being sent, so the drain at
 * the end of a run (no new load) does not flatter or hurt the figure. */
#include "tools/replay/report.h"

#include "tools/replay/stats.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#define STATUS_MAX     600
#define CURL_CODES_MAX 128 /* above every CURLcode of libcurl 7.x and 8.x */
#define BUCKET_MS      1000
#define PRINT_BUCKETS  90  /* longer runs print their seconds only in the JSON */
#define SUSTAIN_MIN_S  2.0 /* shorter send windows fall back to the whole run */

typedef struct bucket {
    size_t n_sent;
    bk_stats_summary accept;  /* n = answers that second */
    bk_stats_summary outcome; /* n = outcomes that second */
} bucket;

struct bk_report {
    bk_report_input in;
    size_t by_status[STATUS_MAX];
    size_t n_sent;
    size_t n_not_sent;
    size_t n_no_answer;                  /* transport errors: no HTTP status */
    size_t by_curl_code[CURL_CODES_MAX]; /* why there was no answer */
    size_t n_accepted;                   /* 202 */
    size_t n_final_at_once;
    size_t n_confirmed; /* outcomes of 202s */
    size_t n_rejected;
    size_t n_no_outcome;
    size_t n_malformed;
    size_t n_keyed;
    bk_stats_summary accept;
    bk_stats_summary outcome;
    bk_stats_summary lag;
    bucket *buckets;
    size_t n_buckets;
    double send_window_s;
    double sent_per_s;
    double accepted_per_s;
    double outcomes_per_s;
    double overall_outcomes_per_s;
    double db_decided_per_s;
    int ok;
};

static const char *mode_name(bk_engine_mode mode)
{
    return mode == BK_ENGINE_PACED ? "paced" : mode == BK_ENGINE_RATE ? "rate" : "asap";
}

static const char *end_name(bk_engine_end end)
{
    return end == BK_ENGINE_DONE ? "done" : end == BK_ENGINE_TIMEOUT ? "timeout" : "signal";
}

static double per_s(double n, double seconds)
{
    return seconds > 0 ? n / seconds : 0;
}

static void count_recs(bk_report *rep)
{
    const bk_report_input *in = &rep->in;
    size_t n = bk_trace_count(in->trace);
    for (size_t k = 0; k < n; k++) {
        const bk_engine_rec *r = &in->recs[k];
        const bk_trace_req *req = bk_trace_at(in->trace, k);
        if (r->sent_us < 0) {
            rep->n_not_sent++;
            continue;
        }
        rep->n_sent++;
        rep->n_malformed += req->malformed;
        rep->n_keyed += req->key[0] != '\0';
        if (r->status <= 0 || r->status >= STATUS_MAX) {
            rep->n_no_answer++;
            rep->by_curl_code[r->curl_code >= 0 && r->curl_code < CURL_CODES_MAX ? r->curl_code : 0]++;
        } else {
            rep->by_status[r->status]++;
        }
        if (r->status == 202) {
            rep->n_accepted++;
            rep->n_confirmed += r->outcome == BK_VERIFY_CONFIRMED;
            rep->n_rejected += r->outcome == BK_VERIFY_REJECTED;
            rep->n_no_outcome += r->outcome == BK_VERIFY_NONE;
        } else if (r->status == 200 && r->outcome != BK_VERIFY_NONE) {
            rep->n_final_at_once++;
        }
    }
}

/* Records the latencies, then summarizes them overall and per second. */
static int measure(bk_report *rep, bk_err *err)
{
    const bk_report_input *in = &rep->in;
    int rc = BK_OK;
    size_t n = bk_trace_count(in->trace);
    bk_stats_lat *accept = bk_stats_lat_new(), *outcome = bk_stats_lat_new(), *lag = bk_stats_lat_new();
    bk_stats_summary *acc_b = NULL, *out_b = NULL;
    if (accept == NULL || outcome == NULL || lag == NULL) {
        rc = bk_err_set(err, BK_E_NOMEM, "latency recorders");
        goto out;
    }
    for (size_t k = 0; k < n && rc == BK_OK; k++) {
        const bk_engine_rec *r = &in->recs[k];
        if (r->sent_us < 0) {
            continue;
        }
        rc = bk_stats_lat_add(lag, r->sent_us / 1000, r->sent_us - r->planned_us, err);
        if (rc == BK_OK && (r->status == 202 || r->status == 200)) {
            rc = bk_stats_lat_add(accept, r->answered_us / 1000, r->answered_us - r->sent_us, err);
        }
        if (rc == BK_OK && r->status == 202 && r->final_us >= 0) {
            rc = bk_stats_lat_add(outcome, r->final_us / 1000, r->final_us - r->sent_us, err);
        }
    }
    if (rc == BK_OK) {
        rc = bk_stats_lat_summarize(accept, &rep->accept, err);
    }
    if (rc == BK_OK) {
        rc = bk_stats_lat_summarize(outcome, &rep->outcome, err);
    }
    if (rc == BK_OK) {
        rc = bk_stats_lat_summarize(lag, &rep->lag, err);
    }
    if (rc != BK_OK) {
        goto out;
    }

    rep->n_buckets = (size_t)(in->totals->elapsed_us / 1000 / BUCKET_MS) + 1;
    rep->buckets = calloc(rep->n_buckets, sizeof(*rep->buckets));
    acc_b = calloc(rep->n_buckets, sizeof(*acc_b));
    out_b = calloc(rep->n_buckets, sizeof(*out_b));
    bk_stats_summary *lag_b = calloc(rep->n_buckets, sizeof(*lag_b));
    if (rep->buckets == NULL || acc_b == NULL || out_b == NULL || lag_b == NULL) {
        free(lag_b);
        rc = bk_err_set(err, BK_E_NOMEM, "%zu buckets", rep->n_buckets);
        goto out;
    }
    rc = bk_stats_lat_buckets(accept, 0, BUCKET_MS, rep->n_buckets, acc_b, err);
    if (rc == BK_OK) {
        rc = bk_stats_lat_buckets(outcome, 0, BUCKET_MS, rep->n_buckets, out_b, err);
    }
    if (rc == BK_OK) {
        rc = bk_stats_lat_buckets(lag, 0, BUCKET_MS, rep->n_buckets, lag_b, err);
    }
    if (rc == BK_OK) {
        for (size_t b = 0; b < rep->n_buckets; b++) {
            rep->buckets[b] = (bucket){.n_sent = lag_b[b].n, .accept = acc_b[b], .outcome = out_b[b]};
        }
    }
    free(lag_b);

    /* Throughput over the send window; outcomes only while load was still arriving. */
    const bk_engine_totals *t = in->totals;
    if (rc == BK_OK && t->first_sent_us >= 0) {
        rep->send_window_s = (double)(t->last_sent_us - t->first_sent_us) / 1e6;
        rep->sent_per_s = per_s((double)rep->n_sent, rep->send_window_s);
        rep->accepted_per_s = per_s((double)bk_stats_lat_count(accept), rep->send_window_s);
        int64_t last_final = t->first_sent_us;
        for (size_t k = 0; k < n; k++) {
            if (in->recs[k].final_us > last_final) {
                last_final = in->recs[k].final_us;
            }
        }
        rep->overall_outcomes_per_s =
            per_s((double)bk_stats_lat_count(outcome), (double)(last_final - t->first_sent_us) / 1e6);
        if (rep->send_window_s >= SUSTAIN_MIN_S) {
            size_t in_window = bk_stats_lat_count_between(outcome, t->first_sent_us / 1000, t->last_sent_us / 1000);
            rep->outcomes_per_s = per_s((double)in_window, rep->send_window_s);
        } else {
            rep->outcomes_per_s = rep->overall_outcomes_per_s;
        }
    }
    if (in->span != NULL && in->span->n_rows > 1) {
        rep->db_decided_per_s =
            per_s((double)in->span->n_rows, (double)(in->span->last_decided_ms - in->span->first_decided_ms) / 1e3);
    }

out:
    free(acc_b);
    free(out_b);
    bk_stats_lat_free(accept);
    bk_stats_lat_free(outcome);
    bk_stats_lat_free(lag);
    return rc;
}

bk_report *bk_report_new(const bk_report_input *in, bk_err *err)
{
    bk_report *rep = calloc(1, sizeof(*rep));
    if (rep == NULL) {
        bk_err_set(err, BK_E_NOMEM, "calloc bk_report");
        return NULL;
    }
    rep->in = *in;
    count_recs(rep);
    if (measure(rep, err) != BK_OK) {
        bk_report_free(rep);
        return NULL;
    }
    rep->ok = in->verify->n_breaches == 0 && in->totals->end == BK_ENGINE_DONE;
    return rep;
}

void bk_report_free(bk_report *rep)
{
    if (rep == NULL) {
        return;
    }
    free(rep->buckets);
    free(rep);
}

int bk_report_ok(const bk_report *rep)
{
    return rep->ok;
}

static double ms(int64_t us)
{
    return (double)us / 1000.0;
}

static void print_latency(FILE *out, const char *name, const bk_stats_summary *s)
{
    fprintf(out, "  %-10s %8zu %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", name, s->n, ms(s->p50_us), ms(s->p90_us),
            ms(s->p99_us), ms(s->p999_us), ms(s->max_us), s->mean_us / 1000.0);
}

void bk_report_print(const bk_report *rep, FILE *out, int per_second)
{
    const bk_report_input *in = &rep->in;
    const bk_engine_totals *t = in->totals;
    const bk_verify_report *v = in->verify;
    fprintf(out, "bk-replay: %zu requests from %s, %s", bk_trace_count(in->trace), in->trace_path,
            mode_name(in->opts->mode));
    if (in->opts->mode == BK_ENGINE_RATE) {
        fprintf(out, " at %.0f/s", in->opts->max_rate);
    }
    fprintf(out, ", %d connections, %s\n", in->opts->connections, in->opts->base_url);
    if (in->reset_spec != NULL) {
        fprintf(out, "reset: bookings emptied, tiers set to %s\n", in->reset_spec);
    }
    fprintf(out,
            "run: %.2f s, sending %.2f s, end=%s; %zu TCP connections opened, %zu polls (%zu failed); "
            "bk-replay used %.2f s of CPU\n",
            (double)t->elapsed_us / 1e6, rep->send_window_s, end_name(t->end), t->n_connects, t->n_polls,
            t->n_poll_errors, (double)t->cpu_us / 1e6);
    fprintf(out, "requests: %zu sent (%zu with an Idempotency-Key, %zu malformed), %zu not sent\n", rep->n_sent,
            rep->n_keyed, rep->n_malformed, rep->n_not_sent);
    fprintf(out, "POST answers:");
    for (int code = 0; code < STATUS_MAX; code++) {
        if (rep->by_status[code] > 0) {
            fprintf(out, " %d: %zu", code, rep->by_status[code]);
        }
    }
    fprintf(out, "  no answer: %zu", rep->n_no_answer);
    for (int code = 0; code < CURL_CODES_MAX; code++) {
        if (rep->by_curl_code[code] > 0) {
            fprintf(out, " (%s: %zu)", curl_easy_strerror((CURLcode)code), rep->by_curl_code[code]);
        }
    }
    fprintf(out, "\n");
    fprintf(out, "outcomes of the 202s: confirmed %zu, rejected %zu, none %zu; retries answered final at once: %zu\n",
            rep->n_confirmed, rep->n_rejected, rep->n_no_outcome, rep->n_final_at_once);
    fprintf(out, "latency (ms)        n       p50       p90       p99     p99.9       max      mean\n");
    print_latency(out, "accept", &rep->accept);
    print_latency(out, "outcome", &rep->outcome);
    print_latency(out, "send lag", &rep->lag);
    fprintf(out, "throughput: sent %.0f/s, accepted %.0f/s, outcomes %.0f/s sustained (%.0f/s over the whole run)",
            rep->sent_per_s, rep->accepted_per_s, rep->outcomes_per_s, rep->overall_outcomes_per_s);
    if (in->span != NULL) {
        fprintf(out, ", database %.0f decisions/s", rep->db_decided_per_s);
    }
    fprintf(out, "\n");
    if (per_second && rep->n_buckets <= PRINT_BUCKETS) {
        fprintf(out, "per second:   t   sent  answered  outcomes   accept p50/p99 ms   outcome p50/p99 ms\n");
        for (size_t b = 0; b < rep->n_buckets; b++) {
            const bucket *k = &rep->buckets[b];
            fprintf(out, "            %3zu %6zu %9zu %9zu %9.1f /%7.1f %10.1f /%7.1f\n", b, k->n_sent, k->accept.n,
                    k->outcome.n, ms(k->accept.p50_us), ms(k->accept.p99_us), ms(k->outcome.p50_us),
                    ms(k->outcome.p99_us));
        }
    } else if (per_second) {
        fprintf(out, "per second: %zu seconds, see the JSON report\n", rep->n_buckets);
    }
    for (size_t k = 0; k < in->n_tiers; k++) {
        const bk_verify_tier *tier = &in->tiers[k];
        fprintf(out, "tier %-10s capacity %lld, available %lld, sold %lld (%lld confirmed, %lld rejected bookings)\n",
                tier->tier, (long long)tier->capacity, (long long)tier->available, (long long)tier->sold,
                (long long)tier->n_confirmed, (long long)tier->n_rejected);
    }
    if (v->db_checked) {
        fprintf(out, "database: %zu rows for %zu booking ids handed out, %zu unexplained\n", v->n_rows, v->n_ids,
                v->n_unexplained);
    } else {
        fprintf(out, "database: not checked (no --pg): API-level invariants only\n");
    }
    if (t->end != BK_ENGINE_DONE) {
        fprintf(out, "INCOMPLETE: the run ended by %s before every request was followed to its end\n",
                end_name(t->end));
    }
    if (v->n_breaches == 0) {
        fprintf(out,
                "invariants: OK — %s every 202 reached one final outcome, keys booked once, malformed "
                "requests refused with 4xx\n",
                v->db_checked ? "no oversell, sold + available = capacity, the database agrees with every answer;"
                              : "");
    } else {
        fprintf(out, "invariants: %zu BREACHES:", v->n_breaches);
        for (int c = 0; c < BK_VERIFY_N_CHECKS; c++) {
            if (v->breaches[c] > 0) {
                fprintf(out, " %s=%zu", bk_verify_check_name((bk_verify_check)c), v->breaches[c]);
            }
        }
        fprintf(out, "\n");
        for (size_t k = 0; k < v->n_examples; k++) {
            fprintf(out, "  %s\n", v->examples[k]);
        }
    }
    fprintf(out, "verdict: %s\n", rep->ok ? "PASS" : "FAIL");
}

/* --- JSON --------------------------------------------------------------------------------- */

static void put_key(yajl_gen g, const char *key)
{
    yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

static void put_str(yajl_gen g, const char *key, const char *value)
{
    put_key(g, key);
    if (value == NULL) {
        yajl_gen_null(g);
    } else {
        yajl_gen_string(g, (const unsigned char *)value, strlen(value));
    }
}

static void put_int(yajl_gen g, const char *key, long long value)
{
    put_key(g, key);
    yajl_gen_integer(g, value);
}

/* Fixed decimals: yajl_gen_double prints 17 significant digits. */
static void put_num(yajl_gen g, const char *key, double value, int decimals)
{
    char text[64];
    int len = snprintf(text, sizeof(text), "%.*f", decimals, value);
    put_key(g, key);
    yajl_gen_number(g, text, (size_t)len);
}

static void put_bool(yajl_gen g, const char *key, int value)
{
    put_key(g, key);
    yajl_gen_bool(g, value);
}

static void put_summary(yajl_gen g, const char *key, const bk_stats_summary *s)
{
    put_key(g, key);
    yajl_gen_map_open(g);
    put_int(g, "n", (long long)s->n);
    put_num(g, "p50", ms(s->p50_us), 3);
    put_num(g, "p90", ms(s->p90_us), 3);
    put_num(g, "p99", ms(s->p99_us), 3);
    put_num(g, "p999", ms(s->p999_us), 3);
    put_num(g, "max", ms(s->max_us), 3);
    put_num(g, "mean", s->mean_us / 1000.0, 3);
    yajl_gen_map_close(g);
}

static void gen_report(const bk_report *rep, yajl_gen g)
{
    const bk_report_input *in = &rep->in;
    const bk_engine_totals *t = in->totals;
    const bk_verify_report *v = in->verify;
    yajl_gen_map_open(g);
    put_str(g, "tool", "bk-replay");
    put_int(g, "version", 1);
    put_bool(g, "ok", rep->ok);

    put_key(g, "config");
    yajl_gen_map_open(g);
    put_str(g, "trace", in->trace_path);
    put_int(g, "requests", (long long)bk_trace_count(in->trace));
    put_str(g, "url", in->opts->base_url);
    put_int(g, "connections", in->opts->connections);
    put_str(g, "mode", mode_name(in->opts->mode));
    put_num(g, "max_rate", in->opts->mode == BK_ENGINE_RATE ? in->opts->max_rate : 0, 1);
    put_num(g, "duration_s", (double)in->opts->duration_ms / 1e3, 3);
    put_num(g, "timeout_s", (double)in->opts->timeout_ms / 1e3, 3);
    put_int(g, "wait_ms", in->opts->wait_ms);
    put_str(g, "reset", in->reset_spec);
    yajl_gen_map_close(g);

    put_key(g, "run");
    yajl_gen_map_open(g);
    put_int(g, "started_at_ms", t->wall_t0_ms);
    put_num(g, "elapsed_s", (double)t->elapsed_us / 1e6, 3);
    put_num(g, "send_window_s", rep->send_window_s, 3);
    put_str(g, "end", end_name(t->end));
    put_int(g, "sent", (long long)rep->n_sent);
    put_int(g, "not_sent", (long long)rep->n_not_sent);
    put_int(g, "keyed", (long long)rep->n_keyed);
    put_int(g, "malformed", (long long)rep->n_malformed);
    put_int(g, "connections_opened", (long long)t->n_connects);
    put_int(g, "polls", (long long)t->n_polls);
    put_int(g, "poll_errors", (long long)t->n_poll_errors);
    put_num(g, "cpu_s", (double)t->cpu_us / 1e6, 3);
    yajl_gen_map_close(g);

    put_key(g, "posts_by_status");
    yajl_gen_map_open(g);
    for (int code = 0; code < STATUS_MAX; code++) {
        if (rep->by_status[code] > 0) {
            char name[8];
            snprintf(name, sizeof(name), "%d", code);
            put_int(g, name, (long long)rep->by_status[code]);
        }
    }
    put_int(g, "no_answer", (long long)rep->n_no_answer);
    yajl_gen_map_close(g);

    put_key(g, "no_answer_by_error");
    yajl_gen_map_open(g);
    for (int code = 0; code < CURL_CODES_MAX; code++) {
        if (rep->by_curl_code[code] > 0) {
            put_int(g, curl_easy_strerror((CURLcode)code), (long long)rep->by_curl_code[code]);
        }
    }
    yajl_gen_map_close(g);

    put_key(g, "outcomes");
    yajl_gen_map_open(g);
    put_int(g, "accepted", (long long)rep->n_accepted);
    put_int(g, "confirmed", (long long)rep->n_confirmed);
    put_int(g, "rejected", (long long)rep->n_rejected);
    put_int(g, "none", (long long)rep->n_no_outcome);
    put_int(g, "final_at_once", (long long)rep->n_final_at_once);
    yajl_gen_map_close(g);

    put_key(g, "latency_ms");
    yajl_gen_map_open(g);
    put_summary(g, "accept", &rep->accept);
    put_summary(g, "outcome", &rep->outcome);
    put_summary(g, "send_lag", &rep->lag);
    yajl_gen_map_close(g);

    put_key(g, "throughput");
    yajl_gen_map_open(g);
    put_num(g, "sent_per_s", rep->sent_per_s, 1);
    put_num(g, "accepted_per_s", rep->accepted_per_s, 1);
    put_num(g, "outcomes_per_s", rep->outcomes_per_s, 1);
    put_num(g, "overall_outcomes_per_s", rep->overall_outcomes_per_s, 1);
    put_num(g, "db_decided_per_s", rep->db_decided_per_s, 1);
    yajl_gen_map_close(g);

    put_key(g, "series");
    yajl_gen_array_open(g);
    for (size_t b = 0; b < rep->n_buckets; b++) {
        const bucket *k = &rep->buckets[b];
        yajl_gen_map_open(g);
        put_int(g, "t", (long long)b);
        put_int(g, "sent", (long long)k->n_sent);
        put_int(g, "answered", (long long)k->accept.n);
        put_int(g, "outcomes", (long long)k->outcome.n);
        put_num(g, "accept_p50", ms(k->accept.p50_us), 3);
        put_num(g, "accept_p99", ms(k->accept.p99_us), 3);
        put_num(g, "outcome_p50", ms(k->outcome.p50_us), 3);
        put_num(g, "outcome_p99", ms(k->outcome.p99_us), 3);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);

    put_key(g, "tiers");
    yajl_gen_array_open(g);
    for (size_t k = 0; k < in->n_tiers; k++) {
        const bk_verify_tier *tier = &in->tiers[k];
        yajl_gen_map_open(g);
        put_str(g, "tier", tier->tier);
        put_int(g, "capacity", tier->capacity);
        put_int(g, "available", tier->available);
        put_int(g, "sold", tier->sold);
        put_int(g, "confirmed", tier->n_confirmed);
        put_int(g, "rejected", tier->n_rejected);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);

    put_key(g, "verify");
    yajl_gen_map_open(g);
    put_bool(g, "db_checked", v->db_checked);
    put_int(g, "booking_ids", (long long)v->n_ids);
    put_int(g, "rows", (long long)v->n_rows);
    put_int(g, "unexplained_rows", (long long)v->n_unexplained);
    put_int(g, "unanswered", (long long)v->n_unanswered);
    put_int(g, "breaches", (long long)v->n_breaches);
    put_key(g, "by_check");
    yajl_gen_map_open(g);
    for (int c = 0; c < BK_VERIFY_N_CHECKS; c++) {
        put_int(g, bk_verify_check_name((bk_verify_check)c), (long long)v->breaches[c]);
    }
    yajl_gen_map_close(g);
    put_key(g, "examples");
    yajl_gen_array_open(g);
    for (size_t k = 0; k < v->n_examples; k++) {
        yajl_gen_string(g, (const unsigned char *)v->examples[k], strlen(v->examples[k]));
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);

    yajl_gen_map_close(g);
}

int bk_report_write_json(const bk_report *rep, const char *path, bk_err *err)
{
    int rc = BK_OK;
    FILE *file = NULL;
    char tmp[4096];
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "yajl_gen_alloc");
    }
    yajl_gen_config(g, yajl_gen_beautify, 1);
    gen_report(rep, g);
    const unsigned char *buf = NULL;
    size_t len = 0;
    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
        rc = bk_err_set(err, BK_E_INVAL, "yajl_gen could not render the JSON report");
        goto out;
    }
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        rc = bk_err_set(err, BK_E_INVAL, "path %s is too long", path);
        goto out;
    }
    file = fopen(tmp, "w");
    if (file == NULL || fwrite(buf, 1, len, file) != len || fputc('\n', file) == EOF) {
        char msg[128];
        int saved = errno;
        strerror_r(saved, msg, sizeof(msg));
        rc = bk_err_set(err, BK_E_IO, "writing %s: %s", tmp, msg);
        goto out;
    }
    if (fclose(file) != 0 || rename(tmp, path) != 0) {
        char msg[128];
        int saved = errno;
        file = NULL;
        strerror_r(saved, msg, sizeof(msg));
        rc = bk_err_set(err, BK_E_IO, "writing %s: %s", path, msg);
        goto out;
    }
    file = NULL;

out:
    if (file != NULL) {
        fclose(file);
    }
    yajl_gen_free(g);
    return rc;
}
