/* Static file serving with libmicrohttpd's fd responses (the kernel copies, not us). */
#include "ingress/files.h"

#include "ingress/reply.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".map", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

const char *bk_files_content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t k = 0; dot != NULL && k < sizeof(types) / sizeof(types[0]); k++) {
        if (strcmp(dot, types[k].ext) == 0) {
            return types[k].type;
        }
    }
    return "application/octet-stream";
}

/* Rejects any ".." segment, so no URL reaches outside root (symlinks inside root are trusted). */
static int safe_path(const char *url)
{
    if (url[0] != '/') {
        return 0;
    }
    for (const char *p = url; *p != '\0'; p++) {
        if (p[0] == '/' && p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == '\0')) {
            return 0;
        }
    }
    return 1;
}

enum MHD_Result bk_files_reply(struct MHD_Connection *conn, bk_reply_ctx *ctx, const char *root, const char *url)
{
    char path[1024];
    const char *rel = strcmp(url, "/") == 0 ? "/index.html" : url;
    int fd = -1;
    struct stat st;
    if (safe_path(rel) && (size_t)snprintf(path, sizeof(path), "%s%s", root, rel) < sizeof(path)) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        return bk_reply_error(conn, ctx, 404, "not found", NULL);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd); /* takes fd */
    if (resp == NULL) {
        close(fd);
        return MHD_NO;
    }
    /* Vite names assets by content hash: they never change, so cache them for a year. */
    int hashed = strncmp(rel, "/assets/", 8) == 0;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, bk_files_content_type(rel));
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            hashed ? "public, max-age=31536000, immutable" : "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    ctx->status = MHD_HTTP_OK;
    return ret;
}
