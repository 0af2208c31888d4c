#ifndef SLUICE_URLPATH_H
#define SLUICE_URLPATH_H
/* URL parsing, credential redaction and URL → output path mapping (README.md#output-files). Pure
 * functions. */
#include <stddef.h>

enum layout { LAYOUT_PATH, LAYOUT_FLAT, LAYOUT_HOST };

#define URLPATH_MAX_SEGMENT 200     /* bytes; longer segments are shortened with a hash suffix */
#define URLPATH_MAX_DEPTH 64

struct url_parts {
    char *scheme;    /* lower-cased "http" or "https" */
    char *userinfo;  /* NULL when absent */
    char *host;      /* lower-cased; IPv6 without brackets */
    int port;        /* 0 when absent */
    char *path;      /* raw (still percent-encoded), starts with "/"; "/" when empty */
    char *query;     /* without "?", NULL when absent; fragment is dropped */
};

/* Accepts only http:// and https:// absolute URLs with a host; rejects spaces, control chars,
 * bad ports, bad percent escapes in the host. Returns 0 or -1 with a message in err (ERRLEN).
 * Details: at most 8192 bytes; host names are letters, digits and "-._~" (no "%" at all, as in curl;
 * no bytes >= 0x80: IDN must come in its xn-- form) and not only dots; "[v6]" without zone IDs;
 * "host:" with an empty port means no port. The message reads "bad URL '<redacted>': reason", with
 * credentials masked and non-printable bytes escaped, so it can go to a log or terminal as it is. */
int urlpath_parse(const char *url, struct url_parts *out, char *err);
void urlpath_parts_free(struct url_parts *p);

/* The key that --per-host limits and 429/503 slow-downs go by: "host", or "host:port" when the
 * URL names a port other than its scheme's default (two origins on one machine are two hosts).
 * A new string. */
char *urlpath_host_key(const struct url_parts *p);

/* The URL with any userinfo replaced by "***" (for logs, the TUI, errors). Always returns a new string,
 * even for unparseable input (then with anything between "//" and "@" masked). */
char *urlpath_redact(const char *url);

/* Maps a URL to a relative path under the output root, per layout (path: URL path; flat: last segment;
 * host: HOST[_PORT]/path). The query and fragment are dropped. Dot segments in the raw path are removed
 * as RFC 3986 §5.2.4 says (as curl does before sending), empty segments are dropped, then each segment
 * is percent-decoded. What would be unsafe after decoding is kept percent-encoded instead: "/" → "%2F",
 * NUL and control characters → "%XX", and a segment that decodes to "." or ".." stays "%2E"/"%2E%2E".
 * A path that ends in "/" (or is empty) gets "index.html". Segments longer than URLPATH_MAX_SEGMENT
 * bytes are cut (on a UTF-8 boundary) and given "~" + 12 hex digits of their hash (before the
 * extension when there is a short one, <= 10 bytes). In the host layout the scheme's default port is
 * left out (http://h:80/ and http://h/ share "h/"). More than URLPATH_MAX_DEPTH path segments is an
 * error in the path and host layouts (flat makes no folders). Returns a new string ("a/b/c.jpg":
 * never absolute, never an empty, "." or ".." segment), or NULL with err set. */
char *urlpath_map(const char *url, enum layout layout, char *err);

/* Validates and normalises a user-given relative path (out= or dir=): not absolute, no ".." or empty
 * segments after normalising "./" and duplicate slashes, no NUL or control characters, no name longer
 * than URLPATH_MAX_SEGMENT, at most URLPATH_MAX_DEPTH levels, and something left ("." is an error).
 * Returns a new string or NULL with err. */
char *urlpath_clean_rel(const char *rel, char *err);

/* Joins dir= / out= / the mapped name: out= replaces the name (may contain subfolders); dir= is prefixed.
 * dir and out may be NULL. Returns a new cleaned relative path or NULL with err ("out=: ..." or
 * "dir=: ..." for a bad one; an out= ending in "/" is an error, it names a file). The URL is parsed
 * (and must be valid) even when out= makes the mapping unnecessary. */
char *urlpath_target(const char *url, enum layout layout, const char *dir, const char *out, char *err);

/* A copy of s fit for an error message: bytes outside printable ASCII as \xHH, '\\' doubled, cut
 * after about max bytes with "...". Lists and URLs are hostile; a message must not drive a terminal. */
char *urlpath_show(const char *s, size_t max);

#endif
