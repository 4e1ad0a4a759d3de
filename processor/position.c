/* The stored offset against the log's watermarks. */
#include "processor/position.h"

bk_position bk_position_check(int64_t stored, int64_t low, int64_t high)
{
    if (stored > high) {
        return BK_POSITION_PAST_END;
    }
    if (stored < low) {
        return BK_POSITION_GONE;
    }
    return BK_POSITION_OK;
}

const char *bk_position_name(bk_position position)
{
    switch (position) {
    case BK_POSITION_PAST_END:
        return "past_log_end";
    case BK_POSITION_GONE:
        return "before_log_start";
    default:
        return "ok";
    }
}
