/* bk-ingress: validates booking requests, publishes them to Kafka and answers status.
 * main is the composition root: it reads the configuration and the tier catalogue (the database's
 * tiers table), raises the file limit for many connections, builds the HTTP front's peers, checks
 * the topic against the catalogue, builds the front itself, waits for SIGINT/SIGTERM, then
 * drains and frees them in the order ingress/http.h's shutdown contract gives. */
#include "common/cfg.h"
#include "common/id.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/tierload.h"
#include "ingress/http.h"

#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define RECENT_SLOTS    (1 << 18) /* ~20 MB: seconds of decisions at the highest rates we measured */
#define RECENT_TRUST_MS 2000      /* how long "pending" from memory is believed without the database */

/* Each connection is a descriptor: lift the soft limit to the hard one. */
static void raise_fd_limit(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        bk_log_info("event=fd_limit soft=%llu", (unsigned long long)lim.rlim_cur);
    }
}

int main(void)
{
    bk_cfg cfg;
    bk_err err;
    bk_id_key key;
    bk_tier_catalogue tiers;
    bk_err_clear(&err);
    bk_log_init("ingress", BK_LOG_INFO);
    if (bk_cfg_load(&cfg, BK_CFG_INGRESS, bk_cfg_env, &err) != BK_OK ||
        bk_id_key_init(&key, cfg.id_secret, strlen(cfg.id_secret), &err) != BK_OK) {
        bk_log_error("event=config_invalid msg=\"%s\"", err.msg);
        return 2;
    }
    bk_log_init("ingress", cfg.log_level);
    bk_cfg_log(&cfg, BK_CFG_INGRESS);
    raise_fd_limit();
    volatile sig_atomic_t *stop = bk_signals_install();

    /* Built in the reverse of the shutdown order below: each one's peers exist before it. */
    int status = 1;
    bk_http_deps deps = {.cfg = &cfg, .key = &key, .tiers = &tiers};
    bk_http *http = NULL;
    if (bk_tierload_read(cfg.pg_dsn, stop, &tiers, &err) != BK_OK) {
        goto out;
    }
    deps.claims = bk_claims_new(cfg.pg_dsn, &err);
    if (deps.claims == NULL) {
        goto out;
    }
    deps.limits = bk_limits_new(&cfg, &err);
    if (deps.limits == NULL) {
        goto out;
    }
    deps.stats = bk_istats_new(bk_route_names, BK_ROUTE_COUNT);
    deps.recent = bk_recent_new(RECENT_SLOTS, RECENT_TRUST_MS);
    deps.tickets = bk_tickets_new(&tiers, cfg.tickets_cache_ms, BK_TICKETS_WAIT_MS);
    if (deps.stats == NULL || deps.recent == NULL || deps.tickets == NULL) {
        bk_err_set(&err, BK_E_NOMEM, "stats, recent or tickets allocation");
        goto out;
    }
    deps.watch = bk_watch_new(cfg.pg_dsn, &tiers, deps.recent, bk_http_watched, &err);
    if (deps.watch == NULL) {
        goto out;
    }
    deps.pub = bk_pub_new(&cfg, bk_http_published, &err);
    if (deps.pub == NULL || bk_pub_check_topic(deps.pub, &tiers, stop, &err) != BK_OK) {
        goto out;
    }
    deps.health = bk_health_new(cfg.pg_dsn, deps.pub, &err);
    if (deps.health == NULL) {
        goto out;
    }
    http = bk_http_new(&deps, &err);
    if (http == NULL) {
        goto out;
    }

    while (!*stop) {
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000000L}, NULL);
    }
    bk_log_info("event=draining");
    status = 0;

out:
    if (status != 0) {
        bk_log_error("event=start_failed err=%s msg=\"%s\"", bk_err_name(err.code), err.msg);
    }
    /* The shutdown contract of ingress/http.h; every free is NULL-safe. */
    bk_http_close(http);
    bk_health_free(deps.health);
    bk_pub_free(deps.pub);
    bk_watch_free(deps.watch);
    bk_http_free(http);
    bk_tickets_free(deps.tickets);
    bk_recent_free(deps.recent);
    bk_istats_free(deps.stats);
    bk_limits_free(deps.limits); /* after bk_http_free: its connections are all closed */
    bk_claims_free(deps.claims); /* after bk_http_free: no thread claims any more */
    bk_id_key_free(&key);
    if (status == 0) {
        bk_log_info("event=exit status=clean");
    }
    return status;
}
