/* bk-processor: consumes the bookings topic and commits batches of decisions to PostgreSQL.
 * main reads the configuration, wires the consumer loop, runs it until SIGINT/SIGTERM and drains. */
#include "common/cfg.h"
#include "common/log.h"
#include "processor/proc.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static const char *lookup_env(const char *name)
{
    return getenv(name);
}

int main(void)
{
    bk_cfg cfg;
    bk_err err;
    bk_err_clear(&err);
    bk_log_init("processor", BK_LOG_INFO);
    if (bk_cfg_load(&cfg, lookup_env, &err) != BK_OK) {
        bk_log_error("event=config_invalid msg=\"%s\"", err.msg);
        return 2;
    }
    bk_log_init("processor", cfg.log_level);
    bk_cfg_log(&cfg);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    bk_proc *proc = bk_proc_new(&cfg, &err);
    int rc = proc != NULL ? bk_proc_run(proc, &stop_flag, &err) : err.code;
    bk_proc_free(proc);
    if (rc != BK_OK) {
        bk_log_error("event=exit err=%s msg=\"%s\"", bk_err_name(rc), err.msg);
        return 1;
    }
    bk_log_info("event=exit status=clean");
    return 0;
}
