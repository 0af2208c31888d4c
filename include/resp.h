#ifndef SLUICE_RESP_H
#define SLUICE_RESP_H
/* What one HTTP response's header says, fed line by line as libcurl hands the lines over: the
 * status, Content-Length, Content-Range, the validators (ETag, Last-Modified) and Retry-After.
 * A status line starts a new response (a redirect, a 1xx), forgetting the previous one's. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct resp {
    int status;                  /* 0 until a status line */
    int64_t content_length;      /* -1 when absent or not a number */
    int64_t cr_start, cr_total;  /* Content-Range "bytes START-END/TOTAL"; -1 when absent or "*" */
    char *etag, *last_modified, *retry_after;    /* as sent, trimmed; NULL when absent */
};

/* Forgets everything and starts a response with this status. */
void resp_reset(struct resp *r, int status);
/* One line ("HTTP/1.1 200 OK\r\n" or "Name: value\r\n"; not NUL-terminated). Returns true when it
 * was a status line. Unknown headers and lines without a colon are ignored. */
bool resp_line(struct resp *r, const char *buf, size_t len);
void resp_free(struct resp *r);

#endif
