/* bk-ingress: validates booking requests, publishes them to Kafka and answers status.
 * main reads the configuration, raises the file limit for many connections, starts the HTTP
 * front and waits for SIGINT/SIGTERM, then drains. */
#include "common/cfg.h"
#include "common/id.h"
#include "common/log.h"
#include "common/signals.h"
#include "ingress/http.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

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

    bk_http *http = bk_http_new(&cfg, &key, &err);
    if (http == NULL) {
        bk_log_error("event=start_failed err=%s msg=\"%s\"", bk_err_name(err.code), err.msg);
        return 1;
    }
    while (!*stop) {
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000000L}, NULL);
    }
    bk_log_info("event=draining");
    bk_http_free(http);
    bk_id_key_free(&key);
    bk_log_info("event=exit status=clean");
    return 0;
}
