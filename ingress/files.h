/* Static files of the single-page app under BK_STATIC_DIR: content types, and cache headers that
 * let browsers keep hashed assets for a year while always revalidating index.html. */
#ifndef BK_INGRESS_FILES_H
#define BK_INGRESS_FILES_H

#include "ingress/reply.h"

#include <microhttpd.h>

/* Queues the file for url ("/" is index.html) or a 404. Paths with ".." segments never leave
 * root. */
enum MHD_Result bk_files_reply(struct MHD_Connection *conn, bk_reply_ctx *ctx, const char *root, const char *url);

/* The Content-Type for a file name, by extension. */
const char *bk_files_content_type(const char *path);

#endif
