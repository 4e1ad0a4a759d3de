/* Trace parsing and loading. Each line is parsed with yajl's tree API and checked strictly (unknown
 * fields are refused, so a typo like "qty" fails loudly instead of replaying something else), then
 * the request body is rendered with yajl_gen so customer names are escaped exactly once, here. */
#include "tools/replay/trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#define AT_MS_MAX    (7LL * 24 * 3600 * 1000) /* a week: anything longer is a broken trace */
#define QUANTITY_MAX 1000
#define CUSTOMER_MAX 512 /* bytes; the ingress counts characters, so longer names belong in "body" */

typedef struct entry {
    bk_trace_req req;
    size_t seq; /* file order, to keep the sort stable */
} entry;

struct bk_trace {
    entry *entries;
    size_t n_entries;
};

void bk_trace_req_clear(bk_trace_req *req)
{
    if (req == NULL) {
        return;
    }
    free(req->body);
    free(req->content_type);
    memset(req, 0, sizeof(*req));
}

/* The text of a value already checked with YAJL_IS_STRING (yajl's own getter may yield NULL). */
static const char *text_of(yajl_val v)
{
    return v->u.string;
}

static int valid_key(const char *key)
{
    size_t len = strlen(key);
    if (len == 0 || len > BK_TRACE_KEY_MAX) {
        return 0;
    }
    for (size_t k = 0; k < len; k++) {
        char c = key[k];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

static char *dup_text(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (out != NULL) {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    return out;
}

/* Renders {"tier":…,"quantity":…[,"customer":…]} into req->body. */
static int render_body(bk_trace_req *req, const char *customer, bk_err *err)
{
    int rc = BK_OK;
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "yajl_gen_alloc");
    }
    yajl_gen_map_open(g);
    yajl_gen_string(g, (const unsigned char *)"tier", 4);
    yajl_gen_string(g, (const unsigned char *)req->tier, strlen(req->tier));
    yajl_gen_string(g, (const unsigned char *)"quantity", 8);
    yajl_gen_integer(g, req->quantity);
    if (customer != NULL) {
        yajl_gen_string(g, (const unsigned char *)"customer", 8);
        yajl_gen_string(g, (const unsigned char *)customer, strlen(customer));
    }
    yajl_gen_map_close(g);
    const unsigned char *buf = NULL;
    size_t len = 0;
    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
        rc = bk_err_set(err, BK_E_INVAL, "yajl_gen could not render the request body");
    } else {
        req->body = dup_text((const char *)buf, len);
        if (req->body == NULL) {
            rc = bk_err_set(err, BK_E_NOMEM, "malloc of a %zu-byte body", len);
        } else {
            req->body_len = len;
        }
    }
    yajl_gen_free(g);
    return rc;
}

/* A tier code: 1 to BK_TRACE_TIER_MAX-1 of A-Z, 0-9 and _. */
static int is_tier_code(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < BK_TRACE_TIER_MAX && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

/* Fills req from a parsed object whose fields were already checked for type and name. */

static int fill_req(yajl_val obj, bk_trace_req *req, bk_err *err)
{
    yajl_val at = NULL, tier = NULL, quantity = NULL, key = NULL, customer = NULL, body = NULL, ctype = NULL;
    for (size_t k = 0; k < obj->u.object.len; k++) {
        const char *name = obj->u.object.keys[k];
        yajl_val v = obj->u.object.values[k];
        yajl_val *slot = strcmp(name, "at_ms") == 0          ? &at
                         : strcmp(name, "tier") == 0         ? &tier
                         : strcmp(name, "quantity") == 0     ? &quantity
                         : strcmp(name, "key") == 0          ? &key
                         : strcmp(name, "customer") == 0     ? &customer
                         : strcmp(name, "body") == 0         ? &body
                         : strcmp(name, "content_type") == 0 ? &ctype
                                                             : NULL;
        if (slot == NULL) {
            return bk_err_set(err, BK_E_INVAL, "unknown field \"%s\"", name);
        }
        if (*slot != NULL) {
            return bk_err_set(err, BK_E_INVAL, "field \"%s\" given twice", name);
        }
        *slot = v;
    }
    if (at == NULL || !YAJL_IS_INTEGER(at) || YAJL_GET_INTEGER(at) < 0 || YAJL_GET_INTEGER(at) > AT_MS_MAX) {
        return bk_err_set(err, BK_E_INVAL, "\"at_ms\" must be an integer from 0 to %lld", AT_MS_MAX);
    }
    req->at_ms = YAJL_GET_INTEGER(at);
    if (key != NULL) {
        if (!YAJL_IS_STRING(key) || !valid_key(text_of(key))) {
            return bk_err_set(err, BK_E_INVAL, "\"key\" must be 1 to %d characters of [A-Za-z0-9_-]", BK_TRACE_KEY_MAX);
        }
        snprintf(req->key, sizeof(req->key), "%s", text_of(key));
    }

    if (body != NULL) {
        /* A request meant to be refused: sent verbatim, nothing else may describe it. */
        if (tier != NULL || quantity != NULL || customer != NULL) {
            return bk_err_set(err, BK_E_INVAL, "a line with \"body\" takes no tier, quantity or customer");
        }
        if (!YAJL_IS_STRING(body) || (ctype != NULL && !YAJL_IS_STRING(ctype))) {
            return bk_err_set(err, BK_E_INVAL, "\"body\" and \"content_type\" must be strings");
        }
        req->malformed = 1;
        const char *text = text_of(body);
        req->body_len = strlen(text);
        req->body = dup_text(text, req->body_len);
        if (ctype != NULL) {
            req->content_type = dup_text(text_of(ctype), strlen(text_of(ctype)));
        }
        if (req->body == NULL || (ctype != NULL && req->content_type == NULL)) {
            return bk_err_set(err, BK_E_NOMEM, "malloc of a %zu-byte body", req->body_len);
        }
        return BK_OK;
    }

    if (ctype != NULL) {
        return bk_err_set(err, BK_E_INVAL, "\"content_type\" is only allowed with \"body\"");
    }
    /* The catalogue is the database's: a trace names codes, the ingress says which ones exist. */
    if (tier == NULL || !YAJL_IS_STRING(tier) || !is_tier_code(text_of(tier))) {
        return bk_err_set(err, BK_E_INVAL, "\"tier\" must be a tier code of 1 to %d of A-Z, 0-9 and _ (use \"body\")",
                          BK_TRACE_TIER_MAX - 1);
    }
    snprintf(req->tier, sizeof(req->tier), "%s", text_of(tier));
    if (quantity == NULL || !YAJL_IS_INTEGER(quantity) || YAJL_GET_INTEGER(quantity) < 1 ||
        YAJL_GET_INTEGER(quantity) > QUANTITY_MAX) {
        return bk_err_set(err, BK_E_INVAL, "\"quantity\" must be an integer from 1 to %d", QUANTITY_MAX);
    }
    req->quantity = (int)YAJL_GET_INTEGER(quantity);
    if (customer != NULL &&
        (!YAJL_IS_STRING(customer) || strlen(text_of(customer)) < 1 || strlen(text_of(customer)) > CUSTOMER_MAX)) {
        return bk_err_set(err, BK_E_INVAL, "\"customer\" must be a string of 1 to %d bytes", CUSTOMER_MAX);
    }
    return render_body(req, customer != NULL ? text_of(customer) : NULL, err);
}

int bk_trace_parse_line(const char *line, size_t len, bk_trace_req *req, int *is_req, bk_err *err)
{
    int rc = BK_OK;
    char errbuf[256] = "";
    char *text = NULL;
    yajl_val root = NULL;
    memset(req, 0, sizeof(*req));
    *is_req = 0;

    size_t start = 0;
    while (start < len && (line[start] == ' ' || line[start] == '\t' || line[start] == '\r')) {
        start++;
    }
    if (start == len) {
        return BK_OK; /* blank */
    }
    if (len > BK_TRACE_LINE_MAX) {
        return bk_err_set(err, BK_E_TOOBIG, "line of %zu bytes is over the %d-byte cap", len, BK_TRACE_LINE_MAX);
    }
    if (memchr(line, '\0', len) != NULL) {
        return bk_err_set(err, BK_E_INVAL, "line holds a NUL byte");
    }
    text = dup_text(line, len);
    if (text == NULL) {
        return bk_err_set(err, BK_E_NOMEM, "malloc of a %zu-byte line", len);
    }
    root = yajl_tree_parse(text, errbuf, sizeof(errbuf));
    if (root == NULL) {
        errbuf[strcspn(errbuf, "\n")] = '\0';
        rc = bk_err_set(err, BK_E_INVAL, "not JSON: %s", errbuf[0] != '\0' ? errbuf : "parse error");
        goto out;
    }
    if (!YAJL_IS_OBJECT(root)) {
        rc = bk_err_set(err, BK_E_INVAL, "a trace line must be a JSON object");
        goto out;
    }
    if (root->u.object.len >= 1 && strcmp(root->u.object.keys[0], "meta") == 0) {
        goto out; /* a description of the trace, for people and reports */
    }
    rc = fill_req(root, req, err);
    if (rc == BK_OK) {
        *is_req = 1;
    } else {
        bk_trace_req_clear(req);
    }

out:
    yajl_tree_free(root);
    free(text);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->req.at_ms != y->req.at_ms) {
        return x->req.at_ms < y->req.at_ms ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

bk_trace *bk_trace_load(const char *path, size_t max_reqs, bk_err *err)
{
    FILE *file = NULL;
    char *line = NULL;
    size_t line_cap = 0, cap = 0, line_no = 0;
    int ok = 0;
    bk_trace *trace = calloc(1, sizeof(*trace));
    if (trace == NULL) {
        bk_err_set(err, BK_E_NOMEM, "calloc bk_trace");
        return NULL;
    }
    file = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (file == NULL) {
        char msg[128];
        int saved = errno;
        strerror_r(saved, msg, sizeof(msg));
        bk_err_set(err, BK_E_IO, "fopen %s: %s", path, msg);
        goto out;
    }
    while (max_reqs == 0 || trace->n_entries < max_reqs) {
        ssize_t n = getline(&line, &line_cap, file);
        if (n < 0) {
            break;
        }
        line_no++;
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n') {
            len--;
        }
        if (trace->n_entries == cap) {
            size_t grown_cap = cap > 0 ? 2 * cap : 4096;
            entry *grown = realloc(trace->entries, grown_cap * sizeof(*grown));
            if (grown == NULL) {
                bk_err_set(err, BK_E_NOMEM, "realloc of %zu trace entries", grown_cap);
                goto out;
            }
            trace->entries = grown;
            cap = grown_cap;
        }
        entry *e = &trace->entries[trace->n_entries];
        int is_req = 0;
        bk_err line_err;
        bk_err_clear(&line_err);
        if (bk_trace_parse_line(line, len, &e->req, &is_req, &line_err) != BK_OK) {
            bk_err_set(err, line_err.code, "%s:%zu: %s", path, line_no, line_err.msg);
            goto out;
        }
        if (is_req) {
            e->seq = trace->n_entries++;
        }
    }
    if (ferror(file)) {
        bk_err_set(err, BK_E_IO, "read error on %s after line %zu", path, line_no);
        goto out;
    }
    if (trace->n_entries > 1) {
        qsort(trace->entries, trace->n_entries, sizeof(*trace->entries), cmp_entry);
    }
    ok = 1;

out:
    free(line);
    if (file != NULL && file != stdin) {
        fclose(file);
    }
    if (!ok) {
        bk_trace_free(trace);
        return NULL;
    }
    return trace;
}

size_t bk_trace_count(const bk_trace *trace)
{
    return trace->n_entries;
}

const bk_trace_req *bk_trace_at(const bk_trace *trace, size_t i)
{
    return &trace->entries[i].req;
}

void bk_trace_free(bk_trace *trace)
{
    if (trace == NULL) {
        return;
    }
    for (size_t k = 0; k < trace->n_entries; k++) {
        bk_trace_req_clear(&trace->entries[k].req);
    }
    free(trace->entries);
    free(trace);
}
