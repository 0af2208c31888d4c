/* libFuzzer target: URL parsing and URL -> path mapping (urlpath.c). The input is a URL, then
 * optionally "\n" dir= "\n" out=. Every mapped path keeps urlpath.h's promises: relative, no
 * empty, "." or ".." segment, no control byte, segments within the limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "urlpath.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *p)
{
    const char *seg = p;

    if (p[0] == '/' || p[0] == '\0')
        abort();
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end != NULL ? (size_t)(end - seg) : strlen(seg);

        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.') ||
            n > URLPATH_MAX_SEGMENT + 16)
            abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)seg[i] < 0x20 || seg[i] == 0x7f)
                abort();
        if (end == NULL)
            break;
        seg = end + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *url, *dir = NULL, *out = NULL, *nl, err[ERRLEN];
    struct url_parts parts;

    memcpy(buf, data, size);
    buf[size] = '\0';
    url = buf;
    if ((nl = strchr(url, '\n')) != NULL) {
        *nl = '\0';
        dir = nl + 1;
        if ((nl = strchr(dir, '\n')) != NULL) {
            *nl = '\0';
            out = nl + 1;
        }
        if (*dir == '\0')
            dir = NULL;
    }
    if (urlpath_parse(url, &parts, err) == 0) {
        char *key = urlpath_host_key(&parts);

        free(key);
        urlpath_parts_free(&parts);
    }
    free(urlpath_redact(url));
    free(urlpath_show(url, 80));
    for (int l = LAYOUT_PATH; l <= LAYOUT_HOST; l++) {
        char *p = urlpath_map(url, (enum layout)l, err);

        if (p != NULL) {
            check_path(p);
            free(p);
        }
        p = urlpath_target(url, (enum layout)l, dir, out, err);
        if (p != NULL) {
            check_path(p);
            free(p);
        }
    }
    if (dir != NULL) {
        char *p = urlpath_clean_rel(dir, err);

        if (p != NULL) {
            check_path(p);
            free(p);
        }
    }
    free(buf);
    return 0;
}
