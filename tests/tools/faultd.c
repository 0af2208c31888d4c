/*
 * faultd: a small fault-injecting HTTP/1.1 origin for sluice's integration tests.
 *
 *   faultd --root DIR --portfile FILE [--log FILE.jsonl] [--rate-log FILE]
 *          [--listen ADDR]... [--port N]
 *
 * One thread, one ppoll() loop (so SIGTERM/SIGINT are never lost between a check
 * and the wait), keep-alive and pipelining.  It binds port 0 on the first --listen
 * address (default 127.0.0.1; --port N asks for N, to restart on the same port),
 * the same port on the others (e.g. ::1), and writes the port to --portfile
 * through a temporary file and rename().
 *
 * GET/HEAD of a file under --root with Content-Length, Last-Modified, a strong ETag
 * "<hex size>-<hex mtime>", Accept-Ranges; single ranges (206/416), If-Range (ETag
 * or date; a mismatch ignores Range), If-None-Match and If-Modified-Since (304).
 *
 * Faults come from the query string (files are looked up by path only):
 *   status=CODE          answer CODE with a small body
 *   fail=N               apply the faults below only to the first N requests for
 *                        this path+query, then serve normally
 *   retry_after=S        Retry-After: S
 *   retry_after_date=S   Retry-After: <HTTP date S seconds from now>
 *   reset_after=B        headers and B body bytes, then a TCP reset (SO_LINGER 0)
 *   truncate_after=B     full Content-Length but a clean close after B body bytes
 *   stall_after=B        B body bytes, then silence until the client goes away
 *   delay_ms=N           wait N ms before the headers
 *   rate=BPS             throttle this response's body to BPS bytes per second
 *   etag=changing        a new ETag on every response (not gated by fail=: it
 *                        describes the resource, not a fault)
 *   etag=none            no ETag header at all (clients fall back to Last-Modified)
 *   length=none          no Content-Length: the body ends when the connection closes
 * A broken origin or cache answering ranges (not gated by fail=, so a test can cut
 * the first response with truncate_after=B&fail=1 and meet these on the resume;
 * they touch only 206 answers):
 *   range_end=B          the 206 stops at byte B (Content-Range START-B/SIZE and a
 *                        matching Content-Length): a range that ends early
 *   range_body=B         the 206 promises the whole range in Content-Range but its
 *                        Content-Length and body stop after B bytes, cleanly
 *   ranges=ignore        Range is ignored (a 200 of the whole file) although
 *                        Accept-Ranges says bytes: a cache or proxy in the way
 *   if_range=ignore      Range is served even when If-Range does not match (a 206
 *                        of the current version, with its own validators)
 * Unknown keys are ignored (cache busting); a bad value of a known key is a 400.
 *
 * Every request (except GET /_stats) is logged as one JSON line when it completes
 * or is aborted; the fields are listed in req_log().  "conns" counts the open
 * connections that have carried a request (an idle socket that never sent one, or
 * one that only asked for /_stats, is not counted), so --per-host checks are not
 * disturbed by the test's own curl /_stats.  /_stats?reset=1 zeroes the counters
 * after answering.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAX       16384
#define HDR_OUT_MAX   4096
#define MAX_CONNS     4096
#define MAX_LISTEN    4
#define READ_IDLE_MS  60000
#define LINGER_MS     2000
#define RESET_WAIT_MS 2000
#define STALL_MAX_MS  600000
#define DELAY_MAX_MS  600000
#define SEND_CHUNK    (256 * 1024)
#define RATE_WINDOW   100
#define MAP_BUCKETS   4096
#define HOSTS_MAX     1024
#define HOST_KEY_MAX  255
#define FAILKEYS_MAX  100000
#define NUM_MAX       1000000000000000LL

enum cstate { C_READ, C_DELAY, C_SEND, C_STALL, C_RESETWAIT, C_LINGER, C_CLOSED };
enum endact { END_NORMAL, END_RESET, END_TRUNCATE, END_STALL };

struct sb {
	char *p;
	size_t len, cap;
};

/* A string-keyed counter table: hosts (a = active, b = max active) and fail= counters. */
struct entry {
	struct entry *next;
	long long a, b;
	char key[];
};
struct map {
	struct entry *bucket[MAP_BUCKETS];
	size_t n;
};

struct faults {
	int status;
	long long fail;
	long long retry_after, retry_after_date;
	long long reset_after, truncate_after, stall_after;
	long long delay_ms, rate;
	int etag_changing, etag_none, length_none;
	long long range_end, range_body;
	int if_range_ignore;
	int ranges_ignore;
};

struct req {
	char *method, *path, *query, *host, *range, *if_range, *inm, *ims;
	char etag[64];
	int status;
	const char *fault;
	int conns, host_active;
	int64_t start_ms;
	struct entry *hostent;
	int live; /* counted in host_active, not yet logged */
};

struct conn {
	int fd;
	unsigned long id;
	enum cstate st;
	int counted, keepalive, peer_eof, want_out, stats;
	int64_t deadline, next_send;
	size_t inlen;
	size_t hdrlen, hdroff;
	int filefd;
	off_t fileoff;
	char *mem;
	long long body_len, body_sent, body_limit;
	/* Rate log: bytes written into the socket over the connection's life (headers, body),
	 * and body bytes already counted as having left our send queue. */
	long long wr_hdr, wr_body, rl_acked;
	enum endact end;
	long long rate;
	int64_t rate_start;
	struct req r;
	char hdr[HDR_OUT_MAX];
	char in[HDR_MAX];
};

static volatile sig_atomic_t g_stop;

static struct {
	char *root;
	size_t rootlen;
	FILE *log, *ratelog;
	int64_t t0;
	struct conn **conns;
	size_t nconns, capconns;
	int lfd[MAX_LISTEN];
	int nlisten;
	unsigned long next_id;
	int counted_conns, max_conns;
	long long requests, body_bytes, etag_counter;
	struct map hosts, fails;
	int64_t rl_win;
	long long rl_bytes;
	int64_t accept_pause_until;
} g;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("faultd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *xalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

static char *xstrdup0(const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = strdup(s);
	if (p == NULL)
		die("out of memory");
	return p;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sb_grow(struct sb *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	while (b->len + more + 1 > b->cap)
		b->cap = b->cap ? b->cap * 2 : 256;
	b->p = realloc(b->p, b->cap);
	if (b->p == NULL)
		die("out of memory");
}

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A JSON string, or null.  Bytes outside printable ASCII are escaped so the log
 * stays valid JSON whatever a hostile client sends. */
static void sb_json(struct sb *b, const char *s)
{
	const unsigned char *p;

	if (s == NULL) {
		sb_printf(b, "null");
		return;
	}
	sb_grow(b, 2);
	b->p[b->len++] = '"';
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			sb_printf(b, "\\u%04x", *p);
		else {
			sb_grow(b, 1);
			b->p[b->len++] = (char)*p;
		}
	}
	sb_grow(b, 1);
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

static unsigned long hash_str(const char *s)
{
	unsigned long h = 2166136261UL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619UL;
	return h;
}

/* Finds KEY, creating it while the table holds fewer than MAXN entries. */
static struct entry *map_get(struct map *m, const char *key, size_t maxn)
{
	unsigned long h = hash_str(key) % MAP_BUCKETS;
	struct entry *e;
	size_t len;

	for (e = m->bucket[h]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	if (m->n >= maxn)
		return NULL;
	len = strlen(key);
	e = xalloc(sizeof *e + len + 1);
	memcpy(e->key, key, len + 1);
	e->next = m->bucket[h];
	m->bucket[h] = e;
	m->n++;
	return e;
}

static void http_date(time_t t, char *buf, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* IMF-fixdate, RFC 850 and asctime forms. */
static int parse_http_date(const char *s, time_t *out)
{
	static const char *fmts[] = {
		"%a, %d %b %Y %H:%M:%S GMT",
		"%A, %d-%b-%y %H:%M:%S GMT",
		"%a %b %e %H:%M:%S %Y",
	};
	size_t i;

	for (i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		struct tm tm;
		const char *e;

		memset(&tm, 0, sizeof tm);
		e = strptime(s, fmts[i], &tm);
		if (e == NULL)
			continue;
		while (*e == ' ' || *e == '\t')
			e++;
		if (*e == '\0') {
			*out = timegm(&tm);
			return 0;
		}
	}
	return -1;
}

static const char *reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 416: return "Range Not Satisfiable";
	case 425: return "Too Early";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

/* ---- requests and the log ---- */

static void req_clear(struct req *r)
{
	free(r->method);
	free(r->path);
	free(r->query);
	free(r->host);
	free(r->range);
	free(r->if_range);
	free(r->inm);
	free(r->ims);
	memset(r, 0, sizeof *r);
}

/* Counts the request: connections carrying requests, in-flight requests per Host. */
static void req_account(struct conn *c, int64_t now)
{
	struct req *r = &c->r;
	char key[HOST_KEY_MAX + 1];

	if (!c->counted) {
		c->counted = 1;
		g.counted_conns++;
		if (g.counted_conns > g.max_conns)
			g.max_conns = g.counted_conns;
	}
	r->conns = g.counted_conns;
	snprintf(key, sizeof key, "%s", r->host ? r->host : "");
	r->hostent = map_get(&g.hosts, key, HOSTS_MAX);
	if (r->hostent == NULL)
		r->hostent = map_get(&g.hosts, "(other)", HOSTS_MAX + 1);
	if (r->hostent != NULL) {
		r->hostent->a++;
		if (r->hostent->a > r->hostent->b)
			r->hostent->b = r->hostent->a;
		r->host_active = (int)r->hostent->a;
	}
	r->start_ms = now;
	r->live = 1;
	g.requests++;
}

static int resp_complete(const struct conn *c)
{
	return c->hdrlen > 0 && c->hdroff == c->hdrlen && c->body_sent == c->body_len;
}

/* One JSON line per request; flushed at once so tests can read it while we run. */
static void req_log(struct conn *c, int64_t now)
{
	struct req *r = &c->r;
	struct sb b = { 0 };

	if (!r->live)
		return;
	r->live = 0;
	if (r->hostent != NULL)
		r->hostent->a--;
	r->hostent = NULL;
	if (g.log == NULL)
		return;
	sb_printf(&b, "{\"ts_ms\":%lld,\"conn\":%lu,\"method\":", wall_ms(), c->id);
	sb_json(&b, r->method);
	sb_printf(&b, ",\"path\":");
	sb_json(&b, r->path);
	sb_printf(&b, ",\"query\":");
	sb_json(&b, r->query);
	sb_printf(&b, ",\"host\":");
	sb_json(&b, r->host);
	sb_printf(&b, ",\"range\":");
	sb_json(&b, r->range);
	sb_printf(&b, ",\"if_range\":");
	sb_json(&b, r->if_range);
	sb_printf(&b, ",\"if_none_match\":");
	sb_json(&b, r->inm);
	sb_printf(&b, ",\"if_modified_since\":");
	sb_json(&b, r->ims);
	sb_printf(&b, ",\"status\":%d,\"body_bytes\":%lld,\"fault\":", r->status, c->body_sent);
	sb_json(&b, r->fault);
	sb_printf(&b, ",\"etag\":");
	sb_json(&b, r->etag[0] ? r->etag : NULL);
	sb_printf(&b, ",\"complete\":%s,\"dur_ms\":%lld,\"conns\":%d,\"host_active\":%d}\n",
	    resp_complete(c) ? "true" : "false", (long long)(now - r->start_ms), r->conns,
	    r->host_active);
	fwrite(b.p, 1, b.len, g.log);
	fflush(g.log);
	free(b.p);
}

/* ---- responses ---- */

static void resp_clear(struct conn *c)
{
	if (c->filefd >= 0)
		close(c->filefd);
	c->filefd = -1;
	free(c->mem);
	c->mem = NULL;
	c->hdrlen = c->hdroff = 0;
	c->body_len = c->body_sent = c->body_limit = 0;
	c->fileoff = 0;
	c->end = END_NORMAL;
	c->rate = 0;
	c->stats = 0;
	c->want_out = 0;
}

static void hdr_add(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hdr_add(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->hdr + c->hdrlen, sizeof c->hdr - c->hdrlen, fmt, ap);
	va_end(ap);
	/* Our own headers are bounded well below the buffer; never grow past it. */
	if (n > 0 && (size_t)n < sizeof c->hdr - c->hdrlen)
		c->hdrlen += (size_t)n;
}

static void resp_start(struct conn *c, int code)
{
	char date[64];

	http_date(time(NULL), date, sizeof date);
	c->hdrlen = 0;
	c->r.status = code;
	hdr_add(c, "HTTP/1.1 %d %s\r\nServer: faultd\r\nDate: %s\r\n", code, reason(code), date);
}

static void resp_end_headers(struct conn *c, const struct faults *f)
{
	if (f != NULL && f->retry_after >= 0)
		hdr_add(c, "Retry-After: %lld\r\n", f->retry_after);
	else if (f != NULL && f->retry_after_date >= 0) {
		char date[64];

		http_date(time(NULL) + (time_t)f->retry_after_date, date, sizeof date);
		hdr_add(c, "Retry-After: %s\r\n", date);
	}
	if (!c->keepalive)
		hdr_add(c, "Connection: close\r\n");
	hdr_add(c, "\r\n");
}

/* Chooses how the body ends (the earliest of reset/truncate/stall) and when it starts. */
static void resp_go(struct conn *c, const struct faults *f, int64_t now)
{
	struct {
		long long at;
		enum endact end;
		const char *name;
	} cand[3];
	long long best = -1;
	int i;

	c->body_limit = c->body_len;
	c->end = END_NORMAL;
	if (f != NULL) {
		cand[0].at = f->reset_after, cand[0].end = END_RESET, cand[0].name = "reset";
		cand[1].at = f->truncate_after, cand[1].end = END_TRUNCATE, cand[1].name = "truncate";
		cand[2].at = f->stall_after, cand[2].end = END_STALL, cand[2].name = "stall";
		for (i = 0; i < 3; i++) {
			if (cand[i].at < 0 || (best >= 0 && cand[i].at >= best))
				continue;
			best = cand[i].at;
			c->end = cand[i].end;
			c->r.fault = cand[i].name;
		}
		if (best >= 0 && best < c->body_len)
			c->body_limit = best;
		c->rate = f->rate > 0 ? f->rate : 0;
		if (c->r.fault == NULL && f->delay_ms > 0)
			c->r.fault = "delay";
		if (c->r.fault == NULL && f->rate > 0)
			c->r.fault = "rate";
	}
	if (f != NULL && f->delay_ms > 0) {
		c->st = C_DELAY;
		c->deadline = now + f->delay_ms;
	} else
		c->st = C_SEND;
}

static void resp_text(struct conn *c, int code, const char *extra, const char *text,
    int head, const struct faults *f, int64_t now)
{
	int nobody = code == 204 || code == 304;

	resp_start(c, code);
	if (extra != NULL)
		hdr_add(c, "%s", extra);
	if (!nobody)
		hdr_add(c, "Content-Type: text/plain\r\nContent-Length: %zu\r\n", strlen(text));
	resp_end_headers(c, f);
	if (!nobody && !head) {
		c->mem = xstrdup0(text);
		c->body_len = (long long)strlen(text);
	}
	resp_go(c, f, now);
}

static void resp_stats(struct conn *c, int reset, int64_t now)
{
	struct sb b = { 0 };
	size_t i;
	int first = 1;

	sb_printf(&b, "{\"max_conns\":%d,\"conns\":%d,\"requests\":%lld,\"body_bytes\":%lld,"
	    "\"max_host_active\":{", g.max_conns, g.counted_conns, g.requests, g.body_bytes);
	for (i = 0; i < MAP_BUCKETS; i++) {
		struct entry *e;

		for (e = g.hosts.bucket[i]; e != NULL; e = e->next) {
			if (!first)
				sb_printf(&b, ",");
			first = 0;
			sb_json(&b, e->key);
			sb_printf(&b, ":%lld", e->b);
			if (reset)
				e->b = e->a;
		}
	}
	sb_printf(&b, "}}\n");
	if (reset) {
		g.max_conns = g.counted_conns;
		g.requests = 0;
		g.body_bytes = 0;
	}
	resp_start(c, 200);
	hdr_add(c, "Content-Type: application/json\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n",
	    b.len);
	resp_end_headers(c, NULL);
	c->mem = b.p;
	c->body_len = (long long)b.len;
	c->stats = 1;
	resp_go(c, NULL, now);
}

/* Percent-decodes PATH and rebuilds it from its segments: "." is dropped, ".." or a
 * NUL refuses (-1, a 404), a bad escape is -2 (a 400).  OUT starts with '/' or is "". */
static int resolve_path(const char *raw, char *out, size_t outsz)
{
	char dec[PATH_MAX];
	size_t n = 0, o = 0;
	const char *p;
	char *seg, *save;

	for (p = raw; *p; p++) {
		int ch = (unsigned char)*p;

		if (ch == '%') {
			char hx[3];

			if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
				return -2;
			hx[0] = p[1], hx[1] = p[2], hx[2] = '\0';
			ch = (int)strtol(hx, NULL, 16);
			p += 2;
			if (ch == 0)
				return -1;
		}
		if (n + 1 >= sizeof dec)
			return -1;
		dec[n++] = (char)ch;
	}
	dec[n] = '\0';
	out[0] = '\0';
	for (seg = strtok_r(dec, "/", &save); seg != NULL; seg = strtok_r(NULL, "/", &save)) {
		size_t len = strlen(seg);

		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0)
			return -1;
		if (o + len + 2 > outsz)
			return -1;
		out[o++] = '/';
		memcpy(out + o, seg, len + 1);
		o += len;
	}
	return 0;
}

/* Opens a regular file under the root; symbolic links may not lead out of it. */
static int open_under_root(const char *rel, int want_index, struct stat *st)
{
	char full[PATH_MAX * 2];
	char *rp;
	int fd;

	snprintf(full, sizeof full, "%s%s%s", g.root, rel, want_index ? "/index.html" : "");
	rp = realpath(full, NULL);
	if (rp == NULL)
		return -1;
	if (g.rootlen > 1 && (strncmp(rp, g.root, g.rootlen) != 0 ||
	    (rp[g.rootlen] != '/' && rp[g.rootlen] != '\0'))) {
		free(rp);
		return -1;
	}
	fd = open(rp, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	free(rp);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Weak comparison (If-None-Match) against our strong ETag. */
static int etag_list_match(const char *list, const char *etag)
{
	const char *p = list, *q;
	size_t elen = strlen(etag);

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p != '"')
			return 0;
		q = strchr(p + 1, '"');
		if (q == NULL)
			return 0;
		if ((size_t)(q - p + 1) == elen && memcmp(p, etag, elen) == 0)
			return 1;
		p = q + 1;
	}
	return 0;
}

/* If-Range needs a strong match: the exact ETag, or exactly the Last-Modified date. */
static int if_range_match(const char *v, const char *etag, time_t mtime)
{
	time_t t;

	if (v[0] == 'W' && v[1] == '/')
		return 0;
	if (v[0] == '"')
		return strcmp(v, etag) == 0;
	if (parse_http_date(v, &t) < 0)
		return 0;
	return t == mtime;
}

static int parse_num(const char **pp, long long *out)
{
	const char *p = *pp;
	long long v = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > NUM_MAX)
			return -1;
	}
	*pp = p;
	*out = v;
	return 0;
}

/* 0: no usable Range (serve 200), 1: satisfiable, 2: unsatisfiable (416). */
static int parse_range(const char *v, long long size, long long *start, long long *len)
{
	const char *p = v;
	long long a, b = -1;

	if (strncasecmp(p, "bytes", 5) != 0)
		return 0;
	p += 5;
	while (*p == ' ')
		p++;
	if (*p++ != '=')
		return 0;
	while (*p == ' ')
		p++;
	if (strchr(p, ',') != NULL)
		return 0; /* several ranges: allowed to answer with the whole file */
	if (*p == '-') {
		p++;
		if (parse_num(&p, &b) < 0)
			return 0;
		while (*p == ' ')
			p++;
		if (*p != '\0')
			return 0;
		if (b == 0 || size == 0)
			return 2;
		if (b > size)
			b = size;
		*start = size - b;
		*len = b;
		return 1;
	}
	if (parse_num(&p, &a) < 0 || *p++ != '-')
		return 0;
	if (isdigit((unsigned char)*p) && parse_num(&p, &b) < 0)
		return 0;
	while (*p == ' ')
		p++;
	if (*p != '\0' || (b >= 0 && b < a))
		return 0;
	if (a >= size)
		return 2;
	if (b < 0 || b >= size)
		b = size - 1;
	*start = a;
	*len = b - a + 1;
	return 1;
}

static void serve_file(struct conn *c, int head, const struct faults *f, int64_t now)
{
	struct req *r = &c->r;
	char rel[PATH_MAX], lm[64], extra[256];
	struct stat st;
	long long size, start = 0, len, promised;
	int fd, rc, kind = 0;

	rc = resolve_path(r->path, rel, sizeof rel);
	if (rc == -2) {
		c->keepalive = 0;
		resp_text(c, 400, NULL, "bad request\n", head, f, now);
		return;
	}
	fd = rc < 0 ? -1 : open_under_root(rel, 0, &st);
	if (fd >= 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		fd = -1;
		if (r->path[strlen(r->path) - 1] == '/')
			fd = open_under_root(rel, 1, &st);
	}
	if (fd >= 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		resp_text(c, 404, NULL, "not found\n", head, f, now);
		return;
	}
	size = (long long)st.st_size;
	if (f->etag_none)
		r->etag[0] = '\0';
	else if (f->etag_changing)
		snprintf(r->etag, sizeof r->etag, "\"chg-%llx\"", ++g.etag_counter);
	else
		snprintf(r->etag, sizeof r->etag, "\"%llx-%llx\"", size, (long long)st.st_mtime);
	http_date(st.st_mtime, lm, sizeof lm);

	if (r->inm != NULL ? r->etag[0] != '\0' && etag_list_match(r->inm, r->etag) : 0) {
		kind = 304;
	} else if (r->inm == NULL && r->ims != NULL) {
		time_t t;

		if (parse_http_date(r->ims, &t) == 0 && st.st_mtime <= t)
			kind = 304;
	}
	if (kind == 304) {
		close(fd);
		snprintf(extra, sizeof extra, "%s%s%sLast-Modified: %s\r\n", r->etag[0] ? "ETag: " : "",
		    r->etag, r->etag[0] ? "\r\n" : "", lm);
		resp_text(c, 304, extra, "", head, f, now);
		return;
	}
	len = size;
	if (r->range != NULL && r->if_range != NULL && f->if_range_ignore &&
	    !if_range_match(r->if_range, r->etag, st.st_mtime))
		r->fault = "if_range_ignored";
	if (r->range != NULL && f->ranges_ignore)
		r->fault = "ranges_ignored";
	else if (r->range != NULL && (r->if_range == NULL || f->if_range_ignore ||
	    if_range_match(r->if_range, r->etag, st.st_mtime)))
		kind = parse_range(r->range, size, &start, &len);
	if (kind == 2) {
		close(fd);
		snprintf(extra, sizeof extra, "Content-Range: bytes */%lld\r\n", size);
		resp_text(c, 416, extra, "range not satisfiable\n", head, f, now);
		return;
	}
	promised = len;
	if (kind == 1 && f->range_end >= start && f->range_end < start + len - 1) {
		len = f->range_end - start + 1;
		promised = len;
		r->fault = "range_end";
	}
	if (kind == 1 && f->range_body >= 0 && f->range_body < len) {
		len = f->range_body;
		r->fault = "range_body";
	}
	resp_start(c, kind == 1 ? 206 : 200);
	if (f->length_none)
		c->keepalive = 0;
	else
		hdr_add(c, "Content-Length: %lld\r\n", len);
	hdr_add(c, "Content-Type: application/octet-stream\r\n"
	    "Last-Modified: %s\r\nAccept-Ranges: bytes\r\n", lm);
	if (r->etag[0] != '\0')
		hdr_add(c, "ETag: %s\r\n", r->etag);
	if (kind == 1)
		hdr_add(c, "Content-Range: bytes %lld-%lld/%lld\r\n", start, start + promised - 1, size);
	resp_end_headers(c, f);
	if (head) {
		close(fd);
	} else {
		c->filefd = fd;
		c->fileoff = (off_t)start;
		c->body_len = len;
	}
	resp_go(c, f, now);
}

/* Parses the query's fault keys.  -1 on a bad value of a known key. */
static int parse_faults(const char *q, struct faults *f)
{
	static const struct {
		const char *key;
		size_t off;
	} nums[] = {
		{ "fail", offsetof(struct faults, fail) },
		{ "retry_after", offsetof(struct faults, retry_after) },
		{ "retry_after_date", offsetof(struct faults, retry_after_date) },
		{ "reset_after", offsetof(struct faults, reset_after) },
		{ "truncate_after", offsetof(struct faults, truncate_after) },
		{ "stall_after", offsetof(struct faults, stall_after) },
		{ "delay_ms", offsetof(struct faults, delay_ms) },
		{ "rate", offsetof(struct faults, rate) },
		{ "range_end", offsetof(struct faults, range_end) },
		{ "range_body", offsetof(struct faults, range_body) },
	};
	const char *p = q;

	memset(f, 0, sizeof *f);
	f->fail = f->retry_after = f->retry_after_date = -1;
	f->reset_after = f->truncate_after = f->stall_after = -1;
	f->range_end = f->range_body = -1;
	while (p != NULL && *p) {
		const char *amp = strchr(p, '&'), *eq;
		size_t plen = amp ? (size_t)(amp - p) : strlen(p), klen, i;
		char val[32];

		eq = memchr(p, '=', plen);
		klen = eq ? (size_t)(eq - p) : plen;
		val[0] = '\0';
		if (eq != NULL) {
			size_t vlen = plen - klen - 1;

			if (vlen >= sizeof val)
				vlen = sizeof val - 1;
			memcpy(val, eq + 1, vlen);
			val[vlen] = '\0';
		}
		if (klen == 6 && memcmp(p, "status", 6) == 0) {
			const char *v = val;
			long long n;

			if (parse_num(&v, &n) < 0 || *v || n < 200 || n > 599)
				return -1;
			f->status = (int)n;
		} else if (klen == 4 && memcmp(p, "etag", 4) == 0) {
			if (strcmp(val, "changing") == 0)
				f->etag_changing = 1;
			else if (strcmp(val, "none") == 0)
				f->etag_none = 1;
			else
				return -1;
		} else if (klen == 6 && memcmp(p, "length", 6) == 0) {
			if (strcmp(val, "none") != 0)
				return -1;
			f->length_none = 1;
		} else if (klen == 6 && memcmp(p, "ranges", 6) == 0) {
			if (strcmp(val, "ignore") != 0)
				return -1;
			f->ranges_ignore = 1;
		} else if (klen == 8 && memcmp(p, "if_range", 8) == 0) {
			if (strcmp(val, "ignore") != 0)
				return -1;
			f->if_range_ignore = 1;
		} else {
			for (i = 0; i < sizeof nums / sizeof nums[0]; i++) {
				const char *v = val;
				long long n;

				if (strlen(nums[i].key) != klen || memcmp(p, nums[i].key, klen) != 0)
					continue;
				if (parse_num(&v, &n) < 0 || *v)
					return -1;
				*(long long *)(void *)((char *)f + nums[i].off) = n;
			}
		}
		p = amp ? amp + 1 : NULL;
	}
	if (f->delay_ms > DELAY_MAX_MS)
		f->delay_ms = DELAY_MAX_MS;
	return 0;
}

/* fail=N: the faults apply to the first N requests for this path+query only. */
static void apply_fail_counter(const struct req *r, struct faults *f)
{
	struct sb key = { 0 };
	struct entry *e;
	int active = 0;

	if (f->fail < 0)
		return;
	sb_printf(&key, "%s?%s", r->path, r->query ? r->query : "");
	e = map_get(&g.fails, key.p, FAILKEYS_MAX);
	free(key.p);
	if (e != NULL) {
		e->a++;
		active = e->a <= f->fail;
	}
	if (!active) {
		struct faults keep = *f;

		memset(f, 0, sizeof *f);
		f->fail = f->retry_after = f->retry_after_date = -1;
		f->reset_after = f->truncate_after = f->stall_after = -1;
		f->etag_changing = keep.etag_changing;
		f->etag_none = keep.etag_none;
		f->length_none = keep.length_none;
		f->range_end = keep.range_end;
		f->range_body = keep.range_body;
		f->if_range_ignore = keep.if_range_ignore;
		f->ranges_ignore = keep.ranges_ignore;
	}
}

static int is_tchar(int ch)
{
	return isalnum(ch) || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int has_token(const char *v, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = v;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncasecmp(p, tok, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
			return 1;
		while (*p && *p != ',')
			p++;
	}
	return 0;
}

/* Splits the request line; 0 on success. */
static int parse_request_line(char *line, struct req *r, int *http10)
{
	char *sp1 = strchr(line, ' '), *sp2, *p, *q;

	if (sp1 == NULL || sp1 == line || sp1 - line > 32)
		return -1;
	*sp1 = '\0';
	for (p = line; *p; p++)
		if (!is_tchar((unsigned char)*p))
			return -1;
	sp2 = strchr(sp1 + 1, ' ');
	if (sp2 == NULL || sp1[1] != '/')
		return -1;
	*sp2 = '\0';
	for (p = sp1 + 1; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return -1;
	if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
		*http10 = 0;
	else if (strcmp(sp2 + 1, "HTTP/1.0") == 0)
		*http10 = 1;
	else
		return -1;
	r->method = xstrdup0(line);
	q = strchr(sp1 + 1, '?');
	if (q != NULL) {
		*q = '\0';
		r->query = xstrdup0(q + 1);
	}
	r->path = xstrdup0(sp1 + 1);
	return 0;
}

/* Handles the request in in[0, consumed): parse, account, set up the response. */
static void handle_request(struct conn *c, size_t consumed, int64_t now)
{
	struct req *r = &c->r;
	char *p = c->in, *end = c->in + consumed, *line, *conn_hdr = NULL;
	int bad = 0, http10 = 0, head, first = 1, has_body = 0;
	struct faults f;

	req_clear(r);
	resp_clear(c);
	if (memchr(c->in, '\0', consumed) != NULL)
		bad = 1; /* a NUL would cut the strings we copy */
	while (!bad && p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *colon, *v, *ve;

		if (nl == NULL)
			break;
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		line = p;
		p = nl + 1;
		if (line[0] == '\0')
			break;
		if (strchr(line, '\r') != NULL) {
			bad = 1;
			break;
		}
		if (first) {
			first = 0;
			if (parse_request_line(line, r, &http10) < 0) {
				bad = 1;
				break;
			}
			continue;
		}
		colon = strchr(line, ':');
		if (colon == NULL || colon == line) {
			bad = 1;
			break;
		}
		*colon = '\0';
		for (v = line; *v; v++)
			if (!is_tchar((unsigned char)*v))
				bad = 1;
		if (bad)
			break;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		ve = v + strlen(v);
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			*--ve = '\0';
		for (ve = v; *ve; ve++)
			if ((unsigned char)*ve < 0x20 && *ve != '\t')
				bad = 1;
		if (bad)
			break;
		if (strcasecmp(line, "Host") == 0 && r->host == NULL)
			r->host = xstrdup0(v);
		else if (strcasecmp(line, "Range") == 0 && r->range == NULL)
			r->range = xstrdup0(v);
		else if (strcasecmp(line, "If-Range") == 0 && r->if_range == NULL)
			r->if_range = xstrdup0(v);
		else if (strcasecmp(line, "If-None-Match") == 0 && r->inm == NULL)
			r->inm = xstrdup0(v);
		else if (strcasecmp(line, "If-Modified-Since") == 0 && r->ims == NULL)
			r->ims = xstrdup0(v);
		else if (strcasecmp(line, "Connection") == 0 && conn_hdr == NULL)
			conn_hdr = v;
		else if (strcasecmp(line, "Transfer-Encoding") == 0)
			has_body = 1;
		else if (strcasecmp(line, "Content-Length") == 0 && strcmp(v, "0") != 0)
			has_body = 1;
	}
	if (first)
		bad = 1;
	c->keepalive = !bad && !has_body;
	if (c->keepalive && conn_hdr != NULL && has_token(conn_hdr, "close"))
		c->keepalive = 0;
	if (c->keepalive && http10 && (conn_hdr == NULL || !has_token(conn_hdr, "keep-alive")))
		c->keepalive = 0;
	/* Keep what follows (pipelined requests); the request's strings are copies. */
	memmove(c->in, c->in + consumed, c->inlen - consumed);
	c->inlen -= consumed;

	head = r->method != NULL && strcmp(r->method, "HEAD") == 0;
	if (!bad && strcmp(r->path, "/_stats") == 0 && (!strcmp(r->method, "GET") || head)) {
		resp_stats(c, r->query != NULL && strstr(r->query, "reset=1") != NULL, now);
		if (head) {
			free(c->mem);
			c->mem = NULL;
			c->body_len = c->body_limit = 0;
		}
		return;
	}
	req_account(c, now);
	if (bad) {
		c->keepalive = 0;
		resp_text(c, 400, NULL, "bad request\n", 0, NULL, now);
		return;
	}
	if (parse_faults(r->query, &f) < 0) {
		resp_text(c, 400, NULL, "bad fault parameter\n", head, NULL, now);
		return;
	}
	apply_fail_counter(r, &f);
	if (f.status != 0) {
		char text[64];

		snprintf(text, sizeof text, "faultd status %d\n", f.status);
		r->fault = "status";
		resp_text(c, f.status, NULL, text, head, &f, now);
		return;
	}
	if (strcmp(r->method, "GET") != 0 && !head) {
		c->keepalive = 0;
		resp_text(c, 405, "Allow: GET, HEAD\r\n", "method not allowed\n", 0, &f, now);
		return;
	}
	serve_file(c, head, &f, now);
}

/* Offset just past the blank line ending the header block, or 0. */
static size_t header_end(struct conn *c)
{
	size_t i, skip = 0;

	/* Empty lines before a request line are ignored (RFC 9112, 2.2). */
	while (skip < c->inlen && (c->in[skip] == '\r' || c->in[skip] == '\n'))
		skip++;
	if (skip > 0) {
		memmove(c->in, c->in + skip, c->inlen - skip);
		c->inlen -= skip;
	}
	for (i = 0; i < c->inlen; i++) {
		if (c->in[i] != '\n')
			continue;
		if (i + 1 < c->inlen && c->in[i + 1] == '\n')
			return i + 2;
		if (i + 2 < c->inlen && c->in[i + 1] == '\r' && c->in[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* ---- connections ---- */

static void rl_collect(struct conn *c, int closing);

static void conn_close(struct conn *c, int64_t now)
{
	if (c->st == C_CLOSED)
		return;
	rl_collect(c, 1);
	req_log(c, now);
	resp_clear(c);
	req_clear(&c->r);
	if (c->counted)
		g.counted_conns--;
	close(c->fd);
	c->fd = -1;
	c->st = C_CLOSED;
}

/* A clean close: FIN first, then drain what the client still sends, so that unread
 * input does not turn our close into a reset. */
static void conn_linger(struct conn *c, int64_t now)
{
	if (c->peer_eof) {
		conn_close(c, now);
		return;
	}
	shutdown(c->fd, SHUT_WR);
	c->st = C_LINGER;
	c->deadline = now + LINGER_MS;
}

static void conn_reset(struct conn *c, int64_t now)
{
	struct linger lg = { 1, 0 };

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	conn_close(c, now);
}

static void account(struct conn *c, long long n)
{
	c->body_sent += n;
	if (!c->stats) {
		g.body_bytes += n;
		c->wr_body += n;
	}
}

/* Moves into the rate log the body bytes that have left this connection's send queue since
 * the last look: what the client's kernel accepted, i.e. what crossed the (loopback) wire.
 * Counting writes instead would credit the multi-megabyte send buffer to the first
 * moments of a transfer. Header bytes still queued are attributed to the body, a few
 * hundred bytes at most, put right at the next look. */
static void rl_collect(struct conn *c, int closing)
{
	int q = 0;
	long long acked;

	if (g.ratelog == NULL || c->fd < 0)
		return;
	if (closing || ioctl(c->fd, TIOCOUTQ, &q) < 0)
		q = 0;
	acked = c->wr_hdr + c->wr_body - q - c->wr_hdr;
	if (acked > c->wr_body)
		acked = c->wr_body;
	if (acked > c->rl_acked) {
		g.rl_bytes += acked - c->rl_acked;
		c->rl_acked = acked;
	}
}

/* Sends what may be sent now: 1 when the body (up to its limit) is out, 0 when it
 * has to wait (for POLLOUT or for the rate), -1 on an error. */
static int conn_send(struct conn *c, int64_t now)
{
	ssize_t n;

	c->want_out = 0;
	while (c->hdroff < c->hdrlen) {
		n = send(c->fd, c->hdr + c->hdroff, c->hdrlen - c->hdroff, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->want_out = 1;
			return 0;
		}
		if (n <= 0)
			return -1;
		c->hdroff += (size_t)n;
		c->wr_hdr += n;
		if (c->hdroff == c->hdrlen)
			c->rate_start = now;
	}
	while (c->body_sent < c->body_limit) {
		long long want = c->body_limit - c->body_sent;

		if (want > SEND_CHUNK)
			want = SEND_CHUNK;
		if (c->rate > 0) {
			long long quantum = c->rate / 100, burst = c->rate / 5, allowed;

			if (quantum < 1)
				quantum = 1;
			if (quantum > 16384)
				quantum = 16384;
			if (burst < quantum)
				burst = quantum;
			allowed = (long long)((double)c->rate * (double)(now - c->rate_start) / 1000.0) -
			    c->body_sent;
			if (allowed > burst) {
				/* After a long wait for POLLOUT, do not catch up in one gulp. */
				c->rate_start += (int64_t)((double)(allowed - burst) * 1000.0 / (double)c->rate);
				allowed = burst;
			}
			if (allowed < quantum && allowed < want) {
				c->next_send = c->rate_start + (int64_t)((double)(c->body_sent + quantum) *
				    1000.0 / (double)c->rate) + 1;
				return 0;
			}
			if (want > allowed)
				want = allowed;
		}
		if (c->filefd >= 0) {
			off_t off = c->fileoff;

			n = sendfile(c->fd, c->filefd, &off, (size_t)want);
			if (n > 0)
				c->fileoff = off;
		} else
			n = send(c->fd, c->mem + c->body_sent, (size_t)want, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->want_out = 1;
			return 0;
		}
		if (n <= 0)
			return -1; /* a peer gone, or the file shrank under us */
		account(c, n);
	}
	return 1;
}

/* Reads pipelined input while a response is under way; -1 when the peer is gone. */
static int conn_read_more(struct conn *c)
{
	ssize_t n;

	if (c->peer_eof || c->inlen >= sizeof c->in)
		return 0;
	n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
	if (n > 0)
		c->inlen += (size_t)n;
	else if (n == 0)
		c->peer_eof = 1;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return -1;
	return 0;
}

static void conn_end_response(struct conn *c, int64_t now)
{
	switch (c->end) {
	case END_NORMAL:
		if (!c->stats)
			req_log(c, now);
		resp_clear(c);
		if (c->keepalive && !c->peer_eof) {
			c->st = C_READ;
			c->deadline = now + READ_IDLE_MS;
		} else
			conn_linger(c, now);
		break;
	case END_TRUNCATE:
		req_log(c, now);
		conn_linger(c, now);
		break;
	case END_RESET:
		c->st = C_RESETWAIT;
		c->deadline = now + RESET_WAIT_MS;
		break;
	case END_STALL:
		c->st = C_STALL;
		c->deadline = now + STALL_MAX_MS;
		break;
	}
}

static void conn_step(struct conn *c, short rev, int64_t now)
{
	char scratch[4096];
	ssize_t n;
	size_t end;
	int rc, q;

	if (rev & POLLNVAL) {
		conn_close(c, now);
		return;
	}
	if (rev & (POLLERR | POLLHUP)) {
		/* The peer reset or closed both ways: nothing more can be delivered. */
		if (c->st == C_RESETWAIT)
			conn_reset(c, now);
		else
			conn_close(c, now);
		return;
	}
	for (;;) {
		switch (c->st) {
		case C_READ:
			end = header_end(c);
			if (end > 0) {
				handle_request(c, end, now);
				continue;
			}
			if (c->inlen >= sizeof c->in) {
				req_clear(&c->r);
				resp_clear(c);
				c->inlen = 0;
				req_account(c, now);
				c->keepalive = 0;
				resp_text(c, 431, NULL, "request header fields too large\n", 0, NULL, now);
				continue;
			}
			if (rev & POLLIN) {
				rev &= (short)~POLLIN;
				n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
				if (n > 0) {
					c->inlen += (size_t)n;
					c->deadline = now + READ_IDLE_MS;
					continue;
				}
				if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
					conn_close(c, now);
					return;
				}
			}
			if (now >= c->deadline)
				conn_close(c, now);
			return;
		case C_DELAY:
			if ((rev & POLLIN) && conn_read_more(c) < 0) {
				conn_close(c, now);
				return;
			}
			rev &= (short)~POLLIN;
			if (now < c->deadline)
				return;
			c->st = C_SEND;
			continue;
		case C_SEND:
			if ((rev & POLLIN) && conn_read_more(c) < 0) {
				conn_close(c, now);
				return;
			}
			rev &= (short)~POLLIN;
			rc = conn_send(c, now);
			if (rc < 0) {
				conn_close(c, now);
				return;
			}
			if (rc == 0)
				return;
			conn_end_response(c, now);
			if (c->st == C_CLOSED)
				return;
			continue;
		case C_STALL:
			if (rev & POLLIN) {
				n = read(c->fd, scratch, sizeof scratch);
				if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
					conn_close(c, now);
					return;
				}
			}
			if (now >= c->deadline)
				conn_close(c, now);
			return;
		case C_RESETWAIT:
			/* Let the bytes before the reset reach the peer: a reset throws away
			 * whatever is still unacknowledged in our send queue. */
			q = 0;
			if (ioctl(c->fd, TIOCOUTQ, &q) < 0 || q == 0 || now >= c->deadline) {
				req_log(c, now);
				conn_reset(c, now);
			}
			return;
		case C_LINGER:
			if (rev & POLLIN) {
				n = read(c->fd, scratch, sizeof scratch);
				if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
					conn_close(c, now);
					return;
				}
			}
			if (now >= c->deadline)
				conn_close(c, now);
			return;
		case C_CLOSED:
			return;
		}
	}
}

/* Poll events and the time this connection next needs a look (INT64_MAX: none). */
static short conn_events(const struct conn *c, int64_t now, int64_t *wake)
{
	short ev = 0;
	int more_in = !c->peer_eof && c->inlen < sizeof c->in;

	*wake = INT64_MAX;
	switch (c->st) {
	case C_READ:
	case C_STALL:
	case C_LINGER:
		ev = POLLIN;
		*wake = c->deadline;
		break;
	case C_DELAY:
		ev = more_in ? POLLIN : 0;
		*wake = c->deadline;
		break;
	case C_SEND:
		ev = more_in ? POLLIN : 0;
		if (c->want_out)
			ev |= POLLOUT;
		else
			*wake = c->next_send;
		break;
	case C_RESETWAIT:
		*wake = now + 5 < c->deadline ? now + 5 : c->deadline;
		break;
	case C_CLOSED:
		break;
	}
	return ev;
}

static void accept_all(int lfd, int64_t now)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				g.accept_pause_until = now + 100; /* EMFILE and friends */
			return;
		}
		if (g.nconns >= MAX_CONNS) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c = xalloc(sizeof *c);
		c->fd = fd;
		c->filefd = -1;
		c->id = ++g.next_id;
		c->st = C_READ;
		c->deadline = now + READ_IDLE_MS;
		if (g.nconns == g.capconns) {
			g.capconns = g.capconns ? g.capconns * 2 : 64;
			g.conns = realloc(g.conns, g.capconns * sizeof *g.conns);
			if (g.conns == NULL)
				die("out of memory");
		}
		g.conns[g.nconns++] = c;
	}
}

static void rate_log_tick(int64_t now)
{
	int wrote = 0;

	if (g.ratelog == NULL)
		return;
	if (now - g.t0 >= g.rl_win + RATE_WINDOW)
		for (size_t i = 0; i < g.nconns; i++)
			rl_collect(g.conns[i], 0);
	while (now - g.t0 >= g.rl_win + RATE_WINDOW) {
		fprintf(g.ratelog, "%lld %lld\n", (long long)g.rl_win, g.rl_bytes);
		g.rl_bytes = 0;
		g.rl_win += RATE_WINDOW;
		wrote = 1;
	}
	if (wrote)
		fflush(g.ratelog);
}

/* ---- start-up ---- */

static int listen_one(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sl = sizeof *sin;
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sl = sizeof *sin6;
	} else
		die("--listen %s: not an IP address", addr);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int listen_all(char **addrs, int naddrs, int want_port)
{
	int attempt, i, port = 0;

	for (attempt = 0; attempt < 50; attempt++) {
		port = want_port;
		for (i = 0; i < naddrs; i++) {
			int fd = listen_one(addrs[i], port);

			if (fd < 0) {
				if (i > 0 && errno == EADDRINUSE && want_port == 0)
					break; /* that port is taken on another address: try a new one */
				die("listen on %s: %s", addrs[i], strerror(errno));
			}
			g.lfd[i] = fd;
			if (i == 0) {
				struct sockaddr_storage ss;
				socklen_t sl = sizeof ss;

				if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
					die("getsockname: %s", strerror(errno));
				port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
				    ((struct sockaddr_in6 *)&ss)->sin6_port);
			}
		}
		if (i == naddrs) {
			g.nlisten = naddrs;
			return port;
		}
		while (i-- > 0)
			close(g.lfd[i]);
	}
	die("no port free on every --listen address");
}

static void write_portfile(const char *path, int port)
{
	char tmp[PATH_MAX];
	FILE *fp;

	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	fp = fopen(tmp, "w");
	if (fp == NULL)
		die("%s: %s", tmp, strerror(errno));
	fprintf(fp, "%d\n", port);
	if (fclose(fp) != 0 || rename(tmp, path) < 0)
		die("%s: %s", path, strerror(errno));
}

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: faultd --root DIR --portfile FILE [--log FILE.jsonl] "
	    "[--rate-log FILE] [--listen ADDR]... [--port N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *root = NULL, *portfile = NULL, *logpath = NULL, *ratepath = NULL;
	char *addrs[MAX_LISTEN];
	int naddrs = 0, i, port, want_port = 0;
	struct sigaction sa;
	sigset_t block, waitmask;
	struct rlimit rl;
	struct pollfd *pfd = NULL;
	size_t pfdcap = 0;
	struct stat st;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (i + 1 >= argc)
			usage();
		if (strcmp(a, "--root") == 0)
			root = argv[++i];
		else if (strcmp(a, "--portfile") == 0)
			portfile = argv[++i];
		else if (strcmp(a, "--log") == 0)
			logpath = argv[++i];
		else if (strcmp(a, "--rate-log") == 0)
			ratepath = argv[++i];
		else if (strcmp(a, "--listen") == 0 && naddrs < MAX_LISTEN)
			addrs[naddrs++] = argv[++i];
		else if (strcmp(a, "--port") == 0) {
			want_port = atoi(argv[++i]);
			if (want_port < 0 || want_port > 65535)
				usage();
		}
		else
			usage();
	}
	if (root == NULL || portfile == NULL)
		usage();
	if (naddrs == 0)
		addrs[naddrs++] = "127.0.0.1";

	g.root = realpath(root, NULL);
	if (g.root == NULL || stat(g.root, &st) < 0 || !S_ISDIR(st.st_mode))
		die("--root %s: not a directory", root);
	g.rootlen = strlen(g.root);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (logpath != NULL) {
		g.log = fopen(logpath, "a");
		if (g.log == NULL)
			die("%s: %s", logpath, strerror(errno));
		setvbuf(g.log, NULL, _IOFBF, 1 << 16);
	}
	if (ratepath != NULL) {
		g.ratelog = fopen(ratepath, "w");
		if (g.ratelog == NULL)
			die("%s: %s", ratepath, strerror(errno));
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	port = listen_all(addrs, naddrs, want_port);
	write_portfile(portfile, port);
	fprintf(stderr, "faultd: listening on port %d (root %s)\n", port, g.root);
	g.t0 = mono_ms();

	while (!g_stop) {
		int64_t now = mono_ms(), wake = INT64_MAX, w;
		size_t npfd = 0, k, base, nconns = g.nconns;
		struct timespec ts;
		int listening = g.nconns < MAX_CONNS && now >= g.accept_pause_until;

		rate_log_tick(now);
		if (g.ratelog != NULL)
			wake = g.t0 + g.rl_win + RATE_WINDOW;
		if (!listening && g.accept_pause_until > now && g.accept_pause_until < wake)
			wake = g.accept_pause_until;
		if (pfdcap < nconns + MAX_LISTEN) {
			pfdcap = (nconns + MAX_LISTEN) * 2;
			pfd = realloc(pfd, pfdcap * sizeof *pfd);
			if (pfd == NULL)
				die("out of memory");
		}
		for (i = 0; i < g.nlisten; i++) {
			pfd[npfd].fd = listening ? g.lfd[i] : -1;
			pfd[npfd].events = POLLIN;
			pfd[npfd++].revents = 0;
		}
		base = npfd;
		for (k = 0; k < nconns; k++) {
			pfd[npfd].fd = g.conns[k]->fd;
			pfd[npfd].events = conn_events(g.conns[k], now, &w);
			pfd[npfd++].revents = 0;
			if (w < wake)
				wake = w;
		}
		if (wake == INT64_MAX)
			wake = now + 1000;
		if (wake < now)
			wake = now;
		ts.tv_sec = (time_t)((wake - now) / 1000);
		ts.tv_nsec = (long)((wake - now) % 1000) * 1000000L;
		if (ppoll(pfd, npfd, &ts, &waitmask) < 0 && errno != EINTR)
			die("ppoll: %s", strerror(errno));
		if (g_stop)
			break;
		now = mono_ms();
		for (k = 0; k < nconns; k++)
			conn_step(g.conns[k], pfd[base + k].revents, now);
		for (i = 0; i < g.nlisten; i++)
			if (pfd[i].revents & POLLIN)
				accept_all(g.lfd[i], now);
		/* Drop closed connections, keeping the order of the rest. */
		for (k = 0, base = 0; k < g.nconns; k++) {
			if (g.conns[k]->st == C_CLOSED)
				free(g.conns[k]);
			else
				g.conns[base++] = g.conns[k];
		}
		g.nconns = base;
	}

	{
		int64_t now = mono_ms();
		size_t k;

		for (k = 0; k < g.nconns; k++) {
			conn_close(g.conns[k], now);
			free(g.conns[k]);
		}
		g.nconns = 0;
		rate_log_tick(now);
		if (g.ratelog != NULL) {
			fprintf(g.ratelog, "%lld %lld\n", (long long)g.rl_win, g.rl_bytes);
			fclose(g.ratelog);
		}
	}
	for (i = 0; i < g.nlisten; i++)
		close(g.lfd[i]);
	if (g.log != NULL)
		fclose(g.log);
	free(g.conns);
	free(pfd);
	free(g.root);
	return 0;
}
