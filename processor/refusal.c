/* The refusal rule and the fixed sentences for the SQLSTATEs a booking row can meet. */
#include "processor/refusal.h"

#include <stdio.h>
#include <string.h>

static int in_class(const char *sqlstate, const char *cls)
{
    return sqlstate != NULL && strlen(sqlstate) == 5 && strncmp(sqlstate, cls, 2) == 0;
}

bk_refusal bk_refusal_classify(int connected, const char *sqlstate)
{
    if (!connected) {
        return BK_REFUSAL_RETRY;
    }
    return in_class(sqlstate, "22") || in_class(sqlstate, "23") ? BK_REFUSAL_DATA : BK_REFUSAL_RETRY;
}

void bk_refusal_describe(const char *sqlstate, char *buf, size_t cap)
{
    static const struct {
        const char *sqlstate;
        const char *sentence;
    } known[] = {
        {"23502", "a column that needs a value got none"},    {"23503", "a foreign key refused the row"},
        {"23505", "a unique constraint refused the row"},     {"23514", "a check constraint refused the row"},
        {"23P01", "an exclusion constraint refused the row"}, {"22001", "a value is too long for its column"},
        {"22003", "a number is out of its column's range"},   {"22008", "a timestamp is out of range"},
        {"22021", "a text value is not valid UTF-8"},         {"22P02", "a value does not have its column's type"},
    };
    const char *sentence = in_class(sqlstate, "23")   ? "an integrity constraint refused the row"
                           : in_class(sqlstate, "22") ? "a value was refused (data exception)"
                                                      : "the row was refused";
    for (size_t k = 0; sqlstate != NULL && k < sizeof(known) / sizeof(known[0]); k++) {
        if (strcmp(sqlstate, known[k].sqlstate) == 0) {
            sentence = known[k].sentence;
        }
    }
    /* The SQLSTATE itself is echoed only if it has the shape of one: five letters or digits. */
    int shaped =
        sqlstate != NULL && strlen(sqlstate) == 5 && strspn(sqlstate, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 5;
    snprintf(buf, cap, "refused by postgresql: sqlstate=%s (%s)", shaped ? sqlstate : "?????", sentence);
}
