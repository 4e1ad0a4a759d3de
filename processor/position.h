/* Where a partition's stored next offset (PostgreSQL, the truth) stands against the broker's log.
 * Consuming from an offset outside the log would skip messages without a word: a topic deleted and
 * created again restarts its offsets at 0 (the stored offset is then past the log's end), and
 * retention may delete messages never applied (the stored offset is then before the log's start).
 * Pure, so cmocka tables pin the rule. */
#ifndef BK_PROCESSOR_POSITION_H
#define BK_PROCESSOR_POSITION_H

#include <stdint.h>

typedef enum bk_position {
    BK_POSITION_OK = 0,   /* low <= stored <= high: consume from stored */
    BK_POSITION_PAST_END, /* stored > high: the log is shorter than what we applied (topic recreated?) */
    BK_POSITION_GONE,     /* stored < low: messages we never applied were deleted */
} bk_position;

/* stored: the next offset to apply; low, high: the partition's watermarks (first offset kept, next
 * offset to be written). */
bk_position bk_position_check(int64_t stored, int64_t low, int64_t high);

/* "ok", "past_log_end", "before_log_start": for key=value logs and metrics. */
const char *bk_position_name(bk_position position);

#endif
