/* bk-processor: consumes the bookings topic and commits batches of decisions to PostgreSQL.
 * main reads the configuration and the tier catalogue (the database's tiers table), wires the
 * consumer loop, runs it until SIGINT/SIGTERM and drains. */
#include "common/cfg.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/tierload.h"
#include "processor/proc.h"

int main(void)
{
    bk_cfg cfg;
    bk_err err;
    bk_tier_catalogue tiers;
    bk_err_clear(&err);
    bk_log_init("processor", BK_LOG_INFO);
    if (bk_cfg_load(&cfg, BK_CFG_PROCESSOR, bk_cfg_env, &err) != BK_OK) {
        bk_log_error("event=config_invalid msg=\"%s\"", err.msg);
        return 2;
    }
    bk_log_init("processor", cfg.log_level);
    bk_cfg_log(&cfg, BK_CFG_PROCESSOR);
    volatile sig_atomic_t *stop = bk_signals_install();

    bk_proc *proc = NULL;
    int rc = bk_tierload_read(cfg.pg_dsn, stop, &tiers, &err);
    if (rc == BK_OK) {
        proc = bk_proc_new(&cfg, &tiers, &err);
        rc = proc != NULL ? bk_proc_run(proc, stop, &err) : err.code;
    }
    bk_proc_free(proc);
    if (rc != BK_OK) {
        bk_log_error("event=exit err=%s msg=\"%s\"", bk_err_name(rc), err.msg);
        return 1;
    }
    bk_log_info("event=exit status=clean");
    return 0;
}
