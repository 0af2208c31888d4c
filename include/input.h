#ifndef SLUICE_INPUT_H
#define SLUICE_INPUT_H
/* The aria2 input-file subset (README.md#input-lists). Streaming: items are handed to a callback
 * one by one, so a list of millions never sits in memory as a whole here. */
#include <stdio.h>
#include <stddef.h>

enum checksum_algo { CHECKSUM_NONE, CHECKSUM_SHA256, CHECKSUM_MD5 };

struct input_item {
    char **urls;             /* 1 + mirrors (tab-separated on one line) */
    size_t nurls;
    char *out;               /* out=  (raw, validated with urlpath_clean_rel), or NULL */
    char *dir;               /* dir=  (raw, validated), or NULL */
    enum checksum_algo algo;
    unsigned char digest[32];/* binary digest: 32 bytes for sha-256, 16 for md5 */
    char **headers;          /* header=K: V, as given */
    size_t nheaders;
    const char *file;        /* for messages: the list's name ("-" shown as "<stdin>") */
    long line;               /* line of the URL */
};

/* Called for each item; the item is freed after the call returns (copy what you keep).
 * Return 0 to go on, -1 to stop (input_read then returns -1 with err from the callback). */
typedef int (*input_item_cb)(const struct input_item *it, void *arg, char *err);

/* Reads a whole list. Every malformed line is reported through report(arg, "FILE:LINE: message")
 * and parsing goes on to the end so that every error is listed; returns the number of errors
 * (0 when clean), or -1 when the callback stopped it or the file could not be read (err set).
 * Items are only handed to cb while no error has been seen yet, and from the first error on
 * cb is not called again (the run will not start anyway).
 * Rules: '#' starts a comment line (also after leading blanks); blank lines are skipped;
 * a line starting with a blank is an option line "key=value" for the URL above it (an option line
 * with no URL above is an error); keys: out, dir, checksum (sha-256=HEX64 | md5=HEX32, also
 * "sha256"), header (K: V). Unknown keys, bad URLs (urlpath_parse), bad checksums, bad out/dir are
 * errors. Lines may end in CRLF. A NUL byte in a line is an error.
 * Details: a line longer than 64 KiB is an error (memory stays bounded: the rest is skipped, not
 * kept, up to INPUT_MAX_SKIP); a UTF-8 byte order mark on line 1 is ignored; trailing blanks are
 * dropped; mirrors are
 * separated by tabs (blanks around each and empty fields are forgiven); out, dir and checksum may be
 * given once per item, header any number of times (a token name, no control characters except tab;
 * messages never repeat a header value); checksum types are case-insensitive, HEX upper or lower case.
 * A broken URL line still owns the option lines below it, so they do not each report "no URL". */
/* Bounds that keep a hostile or mistaken list (-i /dev/zero, a binary file) from being read for
 * ever: a line past INPUT_MAX_SKIP bytes, a list past input_max_bytes (INPUT_MAX_BYTES; tests
 * lower it) or INPUT_MAX_ERRORS errors is reported and nothing after it is read. */
#define INPUT_MAX_SKIP (1024 * 1024)
#define INPUT_MAX_BYTES ((size_t)1 << 30)
#define INPUT_MAX_ERRORS 1000
extern size_t input_max_bytes;

int input_read(FILE *fp, const char *name, input_item_cb cb, void *cb_arg,
               void (*report)(void *arg, const char *msg), void *report_arg, char *err);

#endif
