/*
 * gentree: a deterministic tree of test files.
 *
 *   gentree DIR COUNT MINSIZE MAXSIZE SEED [--hostile]
 *
 * Creates COUNT files under DIR (created if missing) in a few nested folders
 * (d00/f00001.bin, d01/e02/f00005.bin, ...) and prints "path<TAB>size" per file.
 * Sizes (a number, optionally with K, M or G = powers of 1024) spread over
 * [MINSIZE, MAXSIZE] on a log scale, with the edges always present when COUNT
 * allows: a 0-byte file (if MINSIZE is 0), MINSIZE, MAXSIZE, exact powers of two and
 * their neighbours.  The same arguments always give the same names, sizes and bytes.
 *
 * --hostile gives every fourth file a name that is legal on disk but awkward in a
 * URL or a shell: spaces, %, ?, #, &, +, quotes, UTF-8, a leading dash or dot,
 * brackets, backslash, a long name (still short enough for NAME.part), some of
 * them in a folder whose own name has a space and UTF-8.  No control characters,
 * so the paths print on one line; the URL must percent-encode them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *hostile_names[] = {
	"sp ace %05ld.bin",
	"100%%-%05ld.bin",
	"pct%%20lit-%05ld.bin",
	"q?x=1-%05ld.bin",
	"hash#frag-%05ld.bin",
	"amp&a=b-%05ld.bin",
	"plus+sign-%05ld.bin",
	"quote'dq\"-%05ld.bin",
	"unicod\xc3\xa9-\xe2\x82\xac-%05ld.bin",
	"semi;colon,comma-%05ld.bin",
	"-dash-%05ld.bin",
	".dot-%05ld.bin",
	"back\\slash-%05ld.bin",
	"br[ack]{ets}(%05ld).bin",
	"tilde~star*-%05ld.bin",
	"colon:at@-%05ld.bin",
	"dollar$HOME-%05ld.bin",
	"lt<gt>pipe|-%05ld.bin",
	"caret^tick`-%05ld.bin",
	"long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-%05ld.bin",
};
#define HOSTILE_DIR "hostile dir \xc3\xa9"

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform value in [lo, hi]. */
static unsigned long long uniform(uint64_t *s, unsigned long long lo, unsigned long long hi)
{
	if (hi <= lo)
		return lo;
	if (hi - lo == ULLONG_MAX)
		return splitmix64(s);
	return lo + splitmix64(s) % (hi - lo + 1);
}

static int bitlen(unsigned long long v)
{
	int n = 0;

	while (v) {
		n++;
		v >>= 1;
	}
	return n;
}

static int parse_size(const char *s, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	default: break;
	}
	if (*end != '\0' || v > (1ULL << 40))
		return -1;
	*out = v;
	return 0;
}

/* Spread over orders of magnitude: pick a bit length, then a value of that length. */
static unsigned long long log_uniform(uint64_t *s, unsigned long long lo, unsigned long long hi)
{
	unsigned long long a, b, from = lo ? lo : 1;
	int bits;

	if (hi < from)
		return lo;
	bits = (int)uniform(s, (unsigned long long)bitlen(from), (unsigned long long)bitlen(hi));
	a = 1ULL << (bits - 1);
	b = (bits >= 64) ? ULLONG_MAX : (1ULL << bits) - 1;
	if (a < from)
		a = from;
	if (b > hi)
		b = hi;
	return uniform(s, a, b);
}

/* A power of two in [lo, hi], optionally nudged by -1/+1 and clamped; 0 if none. */
static unsigned long long power_of_two(uint64_t *s, unsigned long long lo, unsigned long long hi,
    int nudge)
{
	int first = bitlen(lo ? lo - 1 : 0), last = bitlen(hi) - 1, k;
	unsigned long long v;

	if (hi == 0 || first > last)
		return 0;
	k = (int)uniform(s, (unsigned long long)first, (unsigned long long)last);
	v = 1ULL << k;
	if (nudge) {
		if ((splitmix64(s) & 1) && v > lo)
			v--;
		else if (v < hi)
			v++;
	}
	return v;
}

static unsigned long long pick_size(uint64_t *s, long i, unsigned long long lo, unsigned long long hi)
{
	unsigned long long v;

	switch (i % 16) {
	case 0:
		return lo == 0 ? 0 : log_uniform(s, lo, hi);
	case 1:
		return lo == 0 && hi > 0 ? 1 : lo; /* the 0-byte file already exists */
	case 2:
		return hi;
	case 3:
	case 7:
	case 11:
		v = power_of_two(s, lo, hi, 0);
		return v ? v : log_uniform(s, lo, hi);
	case 5:
	case 13:
		v = power_of_two(s, lo, hi, 1);
		return v ? v : log_uniform(s, lo, hi);
	default:
		return log_uniform(s, lo, hi);
	}
}

static int mkdirs(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int write_file(const char *path, unsigned long long size, uint64_t seed)
{
	static unsigned char buf[1 << 16];
	uint64_t s = seed;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (size > 0) {
		size_t n = size < sizeof buf ? (size_t)size : sizeof buf, k, off = 0;

		for (k = 0; k + 8 <= n; k += 8) {
			uint64_t w = splitmix64(&s);

			memcpy(buf + k, &w, 8);
		}
		if (k < n) {
			uint64_t w = splitmix64(&s);

			memcpy(buf + k, &w, n - k);
		}
		while (off < n) {
			ssize_t w = write(fd, buf + off, n - off);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				close(fd);
				return -1;
			}
			off += (size_t)w;
		}
		size -= n;
	}
	return close(fd);
}

static void usage(void)
{
	fprintf(stderr, "usage: gentree DIR COUNT MINSIZE MAXSIZE SEED [--hostile]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *pos[5];
	int npos = 0, hostile = 0, a;
	unsigned long long lo, hi, seed;
	long count, i, ndirs;
	char *end;
	static char path[PATH_MAX], rel[PATH_MAX], name[512];

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--hostile") == 0)
			hostile = 1;
		else if (npos < 5)
			pos[npos++] = argv[a];
		else
			usage();
	}
	if (npos != 5 || pos[0][0] == '\0')
		usage();
	errno = 0;
	count = strtol(pos[1], &end, 10);
	if (errno || *end || count < 0 || count > 10000000)
		usage();
	if (parse_size(pos[2], &lo) < 0 || parse_size(pos[3], &hi) < 0 || lo > hi) {
		fprintf(stderr, "gentree: bad sizes %s..%s\n", pos[2], pos[3]);
		return 2;
	}
	errno = 0;
	seed = strtoull(pos[4], &end, 0);
	if (errno || *end)
		usage();
	snprintf(path, sizeof path, "%s", pos[0]);
	if (mkdirs(path) < 0) {
		fprintf(stderr, "gentree: %s: %s\n", pos[0], strerror(errno));
		return 1;
	}

	ndirs = 1 + (count > 700 ? 7 : count / 100);
	for (i = 1; i <= count; i++) {
		uint64_t s = seed * 0x100000001b3ULL + (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		unsigned long long size = pick_size(&s, i - 1, lo, hi);
		char dir[64];

		if (i % 5 == 0)
			snprintf(dir, sizeof dir, "d%02ld/e%02ld", i % ndirs, (i / 5) % 3);
		else
			snprintf(dir, sizeof dir, "d%02ld", i % ndirs);
		if (hostile && i % 4 == 0) {
			size_t nh = sizeof hostile_names / sizeof hostile_names[0];
			long h = (i / 4) % (long)nh;

			snprintf(name, sizeof name, hostile_names[h], i);
			if ((i / 4) % 3 == 1)
				snprintf(dir, sizeof dir, "%s", HOSTILE_DIR);
		} else
			snprintf(name, sizeof name, "f%05ld.bin", i);
		snprintf(rel, sizeof rel, "%s/%s", dir, name);
		snprintf(path, sizeof path, "%s/%s", pos[0], dir);
		if (mkdirs(path) < 0) {
			fprintf(stderr, "gentree: %s: %s\n", path, strerror(errno));
			return 1;
		}
		if (snprintf(path, sizeof path, "%s/%s", pos[0], rel) >= (int)sizeof path) {
			fprintf(stderr, "gentree: %s: path too long\n", pos[0]);
			return 1;
		}
		if (write_file(path, size, splitmix64(&s)) < 0) {
			fprintf(stderr, "gentree: %s: %s\n", path, strerror(errno));
			return 1;
		}
		printf("%s\t%llu\n", rel, size);
	}
	if (fflush(stdout) != 0)
		return 1;
	return 0;
}
