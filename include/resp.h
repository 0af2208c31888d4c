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
    int64_t cr_start, cr_end, cr_total;  /* Content-Range "bytes START-END/TOTAL"; -1 when absent
                                          * or "*" */
    char *etag, *last_modified, *retry_after;    /* as sent, trimmed; NULL when absent */
    bool accept_ranges;          /* "Accept-Ranges: bytes" */
};

/* Forgets everything and starts a response with this status. */
void resp_reset(struct resp *r, int status);
/* One line ("HTTP/1.1 200 OK\r\n" or "Name: value\r\n"; not NUL-terminated). Returns true when it
 * was a status line. Unknown headers and lines without a colon are ignored. */
bool resp_line(struct resp *r, const char *buf, size_t len);
void resp_free(struct resp *r);

/* Whether a 206 is exactly the answer to an open-ended request "Range: bytes=OFFSET-" sent
 * with "If-Range: VALIDATOR" (OFFSET > 0): a Content-Range from OFFSET to the last byte, a
 * total equal to SIZE (the size known before, -1 when unknown; not compared when OFFSET is 0,
 * as a download from zero may find a new size), a Content-Length no longer
 * than that range (a shorter body is a truncation, found when it ends), and the validator it
 * carries equal to the one sent: the same strong ETag, or the same Last-Modified when that was
 * the validator. OFFSET 0 (no Range sent) accepts only a range that is the whole file. False
 * with the reason in why (ERRLEN) when anything differs: the bytes must not be spliced. */
bool resp_range_ok(const struct resp *r, int64_t offset, int64_t size, const char *validator,
                   char *why);

/* The same for one range of a segmented download (docs/design.md#segmented-downloads): asked
 * as "Range: bytes=START-(END-1)" with "If-Range: VALIDATOR" of a file of SIZE bytes, the 206
 * must be exactly that range of that total, with a Content-Length no longer than the range, and
 * carry the validator sent. */
bool resp_segment_ok(const struct resp *r, int64_t start, int64_t end, int64_t size,
                     const char *validator, char *why);

#endif
