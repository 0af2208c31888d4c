/* libFuzzer target: response header lines as libcurl hands them over (resp_line), split at
 * newlines; the fields must stay within what resp.h promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct resp r = { 0 };
    size_t start = 0;

    resp_reset(&r, 0);
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == '\n') {
            size_t end = i < size ? i + 1 : i;

            /* Not NUL-terminated, like libcurl's buffer: ASan sees any read past the end. */
            char *line = malloc(end - start + 1);

            memcpy(line, data + start, end - start);
            (void)resp_line(&r, line, end - start);
            free(line);
            start = end;
        }
    }
    if (r.content_length < -1 || r.cr_start < -1 || r.cr_total < -1)
        abort();
    if (r.etag != NULL)
        (void)strlen(r.etag);
    if (r.last_modified != NULL)
        (void)strlen(r.last_modified);
    if (r.retry_after != NULL)
        (void)strlen(r.retry_after);
    resp_free(&r);
    return 0;
}
