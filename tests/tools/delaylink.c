/*
 * delaylink: a user-space long path between two network namespaces, for tests and benches
 * on kernels without netem.
 *
 *   delaylink --client NS --server NS --rtt MS [--rate RATE] [--queue SIZE] [--dev NAME]
 *             [--wire-log FILE] [--ready FILE] [--max-buffer SIZE]
 *
 * Creates a TUN device (IFF_TUN|IFF_NO_PI, named --dev, default "dl0") inside each of the two
 * named namespaces (ip netns add NS; the device is created there by entering the namespace
 * while /dev/net/tun is opened, then the process returns to its own namespace), and relays
 * IP packets between them, holding each for RTT/2 in each direction.  The caller assigns the
 * addresses and brings the devices up (ip -n NS addr add ... peer ...; ip -n NS link set up);
 * --ready FILE is written once both devices exist.
 *
 *   --rate RATE    a bottleneck in each direction: packets are serialised at RATE bytes/s
 *                  (K, M, G = powers of 1024) before the delay, like a real link
 *   --queue SIZE   drop-tail limit of the bottleneck queue, bytes per direction (needs --rate)
 *   --max-buffer SIZE  bytes held per direction before packets are dropped (default 256M)
 *
 * The wire: every 100 ms, one line "MS PAYLOAD IPBYTES PACKETS DROPS" is appended to
 * --wire-log and flushed: MS is the bucket's start in milliseconds since the log was
 * (re)started, PAYLOAD the TCP/UDP payload bytes delivered server -> client in that bucket
 * (what the client's transfers receive), IPBYTES the same packets whole, DROPS the packets
 * dropped in that direction.  Lines starting with '#' are comments.  Idle buckets are
 * written as zeros, so the lines form a complete time grid.
 *
 * Signals: SIGTERM/SIGINT stop (the partial bucket is written, totals go to stderr);
 * SIGHUP truncates the wire log and restarts its clock at 0 (a bench measures each tool from
 * its own start); SIGUSR1 prints the totals to stderr.
 *
 * The clock is CLOCK_MONOTONIC; one thread, ppoll with nanosecond timeouts; one FIFO per
 * direction (the delay is constant, so arrival order is release order).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUCKET_NS 100000000LL
#define MAX_PKT 65536
#define BATCH 256

struct pkt {
	struct pkt *next;
	int64_t release_ns;
	uint32_t len;
	unsigned char data[];
};

struct dir {
	const char *name;
	int in_fd, out_fd;
	struct pkt *head, *tail;
	int64_t link_free_ns; /* when the bottleneck finishes the last queued packet */
	uint64_t held;        /* bytes in the FIFO (queue + delay line) */
	uint64_t pkts, bytes, drops, wfail;
};

static volatile sig_atomic_t g_stop, g_restart, g_report;
static int64_t g_delay_ns;  /* one way */
static double g_rate;       /* bytes/s, 0 = none */
static uint64_t g_queue;    /* drop-tail bytes, 0 = unlimited */
static uint64_t g_maxbuf = 256ULL << 20;

static const char *g_logpath;
static FILE *g_log;
static int64_t g_t0, g_bucket;                /* current bucket index */
static uint64_t g_b_payload, g_b_ip, g_b_pkts, g_b_drops;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		g_restart = 1;
	else if (sig == SIGUSR1)
		g_report = 1;
	else
		g_stop = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void usage(const char *why)
{
	if (why)
		fprintf(stderr, "delaylink: %s\n", why);
	fprintf(stderr,
	    "usage: delaylink --client NS --server NS --rtt MS [--rate RATE] [--queue SIZE]\n"
	    "                 [--dev NAME] [--wire-log FILE] [--ready FILE] [--max-buffer SIZE]\n"
	    "  NS: names from `ip netns add`; MS: round trip in milliseconds (decimals allowed,\n"
	    "  half of it each way); RATE: bytes/s, SIZE: bytes (K, M, G = powers of 1024)\n");
	exit(2);
}

/* A size or rate: digits with an optional K/M/G suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	switch (*end) {
	case 'K': case 'k': v *= 1024; end++; break;
	case 'M': case 'm': v *= 1024 * 1024; end++; break;
	case 'G': case 'g': v *= 1024.0 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v > 1e18)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/* Opens /dev/net/tun inside namespace NS and creates device DEV there. */
static int tun_in_ns(const char *ns, const char *dev)
{
	char path[512];
	struct ifreq ifr;
	int self, nsfd, fd, e;

	if (snprintf(path, sizeof path, "/var/run/netns/%s", ns) >= (int)sizeof path) {
		fprintf(stderr, "delaylink: namespace name too long: %s\n", ns);
		return -1;
	}
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		fprintf(stderr, "delaylink: /proc/self/ns/net: %s\n", strerror(errno));
		return -1;
	}
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		fprintf(stderr, "delaylink: no namespace %s (%s): create it with `ip netns add %s`\n",
		    ns, strerror(errno), ns);
		close(self);
		return -1;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "delaylink: entering namespace %s: %s (root or CAP_SYS_ADMIN needed)\n",
		    ns, strerror(errno));
		close(nsfd);
		close(self);
		return -1;
	}
	close(nsfd);
	/* The device belongs to the namespace the file was opened in. */
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	e = errno;
	if (fd >= 0) {
		memset(&ifr, 0, sizeof ifr);
		ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev);
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			e = errno;
			close(fd);
			fd = -1;
			fprintf(stderr, "delaylink: TUNSETIFF %s in %s: %s\n", dev, ns, strerror(e));
		}
	} else {
		fprintf(stderr, "delaylink: /dev/net/tun: %s\n", strerror(e));
	}
	if (setns(self, CLONE_NEWNET) < 0) {
		fprintf(stderr, "delaylink: back to the own namespace: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	close(self);
	return fd;
}

/* Bytes of TCP or UDP payload in an IP packet (0 for anything else). */
static uint32_t payload_of(const unsigned char *p, uint32_t len)
{
	uint32_t ihl, proto, l4, tot;

	if (len < 20)
		return 0;
	if ((p[0] >> 4) == 4) {
		ihl = (uint32_t)(p[0] & 15) * 4;
		tot = (uint32_t)p[2] << 8 | p[3];
		proto = p[9];
		if (tot > len)
			tot = len;
		if (ihl < 20 || ihl > tot)
			return 0;
		/* a fragment other than the first carries payload only */
		if ((((uint32_t)p[6] << 8 | p[7]) & 0x1fff) != 0)
			return tot - ihl;
		l4 = ihl;
	} else if ((p[0] >> 4) == 6 && len >= 40) {
		tot = 40 + ((uint32_t)p[4] << 8 | p[5]);
		proto = p[6];
		if (tot > len)
			tot = len;
		l4 = 40; /* extension headers are not followed: a test link does not see them */
	} else {
		return 0;
	}
	if (proto == 6 && tot >= l4 + 20) {
		uint32_t doff = (uint32_t)(p[l4 + 12] >> 4) * 4;

		return tot >= l4 + doff ? tot - l4 - doff : 0;
	}
	if (proto == 17 && tot >= l4 + 8)
		return tot - l4 - 8;
	return 0;
}

static void log_open(int64_t now)
{
	if (!g_logpath)
		return;
	if (g_log)
		fclose(g_log);
	g_log = fopen(g_logpath, "w");
	if (!g_log) {
		fprintf(stderr, "delaylink: %s: %s\n", g_logpath, strerror(errno));
		return;
	}
	fprintf(g_log, "# delaylink wire log: ms payload_bytes ip_bytes packets drops "
	    "(server->client, per 100 ms)\n");
	fflush(g_log);
	g_t0 = now;
	g_bucket = 0;
	g_b_payload = g_b_ip = g_b_pkts = g_b_drops = 0;
}

static void log_bucket(void)
{
	if (g_log)
		fprintf(g_log, "%lld %llu %llu %llu %llu\n", (long long)(g_bucket * 100),
		    (unsigned long long)g_b_payload, (unsigned long long)g_b_ip,
		    (unsigned long long)g_b_pkts, (unsigned long long)g_b_drops);
	g_b_payload = g_b_ip = g_b_pkts = g_b_drops = 0;
	g_bucket++;
}

/* Writes every bucket that ended before NOW. */
static void log_tick(int64_t now)
{
	int wrote = 0;

	while (now >= g_t0 + (g_bucket + 1) * BUCKET_NS) {
		log_bucket();
		wrote = 1;
	}
	if (wrote && g_log)
		fflush(g_log);
}

static void enqueue(struct dir *d, const unsigned char *buf, uint32_t len, int64_t now, int wire)
{
	int64_t depart = now;
	struct pkt *p;

	if (g_rate > 0) {
		int64_t start = d->link_free_ns > now ? d->link_free_ns : now;
		double backlog = (double)(start - now) * g_rate / 1e9;

		if (g_queue && backlog + len > (double)g_queue)
			goto drop;
		depart = start + (int64_t)((double)len * 1e9 / g_rate);
	}
	if (d->held + len > g_maxbuf)
		goto drop;
	p = malloc(sizeof *p + len);
	if (!p)
		goto drop;
	if (g_rate > 0)
		d->link_free_ns = depart;
	memcpy(p->data, buf, len);
	p->len = len;
	p->release_ns = depart + g_delay_ns;
	p->next = NULL;
	if (d->tail)
		d->tail->next = p;
	else
		d->head = p;
	d->tail = p;
	d->held += len;
	return;
drop:
	d->drops++;
	if (wire)
		g_b_drops++;
}

/* Delivers every packet due by NOW; returns the next release time or -1. */
static int64_t release(struct dir *d, int64_t now, int wire)
{
	struct pkt *p;

	while ((p = d->head) && p->release_ns <= now) {
		d->head = p->next;
		if (!d->head)
			d->tail = NULL;
		d->held -= p->len;
		if (write(d->out_fd, p->data, p->len) == (ssize_t)p->len) {
			d->pkts++;
			d->bytes += p->len;
			if (wire) {
				g_b_payload += payload_of(p->data, p->len);
				g_b_ip += p->len;
				g_b_pkts++;
			}
		} else {
			d->wfail++;
		}
		free(p);
	}
	return d->head ? d->head->release_ns : -1;
}

/* Reads what the device has (up to a batch); returns 1 when more may be waiting. */
static int intake(struct dir *d, int64_t now, int wire)
{
	static unsigned char buf[MAX_PKT];
	int i;

	for (i = 0; i < BATCH; i++) {
		ssize_t n = read(d->in_fd, buf, sizeof buf);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			fprintf(stderr, "delaylink: read from %s: %s\n", d->name, strerror(errno));
			g_stop = 1;
			return 0;
		}
		if (n == 0)
			return 0;
		enqueue(d, buf, (uint32_t)n, now, wire);
	}
	return 1;
}

static void report(const struct dir *c2s, const struct dir *s2c)
{
	fprintf(stderr,
	    "delaylink: client->server %llu packets %llu bytes %llu dropped %llu write errors; "
	    "server->client %llu packets %llu bytes %llu dropped %llu write errors\n",
	    (unsigned long long)c2s->pkts, (unsigned long long)c2s->bytes,
	    (unsigned long long)c2s->drops, (unsigned long long)c2s->wfail,
	    (unsigned long long)s2c->pkts, (unsigned long long)s2c->bytes,
	    (unsigned long long)s2c->drops, (unsigned long long)s2c->wfail);
}

int main(int argc, char **argv)
{
	const char *cns = NULL, *sns = NULL, *dev = "dl0", *ready = NULL;
	double rtt_ms = -1;
	uint64_t v;
	struct dir c2s, s2c;
	struct sigaction sa;
	sigset_t block, orig;
	int cfd, sfd, i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			usage(NULL);
		if (i + 1 >= argc)
			usage(a[0] == '-' && a[1] == '-' ? "an option needs a value" : "unexpected argument");
		if (strcmp(a, "--client") == 0) {
			cns = argv[++i];
		} else if (strcmp(a, "--server") == 0) {
			sns = argv[++i];
		} else if (strcmp(a, "--dev") == 0) {
			dev = argv[++i];
		} else if (strcmp(a, "--wire-log") == 0) {
			g_logpath = argv[++i];
		} else if (strcmp(a, "--ready") == 0) {
			ready = argv[++i];
		} else if (strcmp(a, "--rtt") == 0) {
			char *end;

			errno = 0;
			rtt_ms = strtod(argv[++i], &end);
			if (errno || end == argv[i] || *end || rtt_ms < 0 || rtt_ms > 600000)
				usage("--rtt: milliseconds from 0 to 600000");
		} else if (strcmp(a, "--rate") == 0) {
			if (parse_size(argv[++i], &v) < 0 || v == 0)
				usage("--rate: a positive number of bytes/s (K, M, G suffixes)");
			g_rate = (double)v;
		} else if (strcmp(a, "--queue") == 0) {
			if (parse_size(argv[++i], &v) < 0 || v == 0)
				usage("--queue: a positive number of bytes (K, M, G suffixes)");
			g_queue = v;
		} else if (strcmp(a, "--max-buffer") == 0) {
			if (parse_size(argv[++i], &v) < 0 || v < MAX_PKT)
				usage("--max-buffer: bytes, at least 64K");
			g_maxbuf = v;
		} else {
			fprintf(stderr, "delaylink: unknown option %s\n", a);
			usage(NULL);
		}
	}
	if (!cns || !sns)
		usage("--client and --server are required");
	if (strcmp(cns, sns) == 0)
		usage("--client and --server must be two different namespaces");
	if (rtt_ms < 0)
		usage("--rtt is required");
	if (g_queue && g_rate <= 0)
		usage("--queue needs --rate (a queue only builds up behind a bottleneck)");
	if (strlen(dev) == 0 || strlen(dev) >= IFNAMSIZ)
		usage("--dev: 1 to 15 characters");
	g_delay_ns = (int64_t)(rtt_ms * 1e6 / 2);

	cfd = tun_in_ns(cns, dev);
	if (cfd < 0)
		return 1;
	sfd = tun_in_ns(sns, dev);
	if (sfd < 0)
		return 1;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Signals are taken only inside ppoll, so no flag is missed between check and wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigdelset(&orig, SIGTERM);
	sigdelset(&orig, SIGINT);
	sigdelset(&orig, SIGHUP);
	sigdelset(&orig, SIGUSR1);

	memset(&c2s, 0, sizeof c2s);
	memset(&s2c, 0, sizeof s2c);
	c2s.name = "client";
	c2s.in_fd = cfd;
	c2s.out_fd = sfd;
	s2c.name = "server";
	s2c.in_fd = sfd;
	s2c.out_fd = cfd;

	log_open(now_ns());
	if (g_logpath && !g_log)
		return 1;
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (!f || fprintf(f, "%s %s %s\n", dev, cns, sns) < 0 || fclose(f) != 0) {
			fprintf(stderr, "delaylink: %s: %s\n", ready, strerror(errno));
			return 1;
		}
	}

	while (!g_stop) {
		struct pollfd pf[2];
		struct timespec ts, *tp;
		int64_t now = now_ns(), next, n1, n2, wait;

		if (g_restart) {
			g_restart = 0;
			log_open(now);
		}
		if (g_report) {
			g_report = 0;
			report(&c2s, &s2c);
		}
		log_tick(now);
		n1 = release(&c2s, now, 0);
		n2 = release(&s2c, now, 1);
		next = g_t0 + (g_bucket + 1) * BUCKET_NS;
		if (n1 >= 0 && n1 < next)
			next = n1;
		if (n2 >= 0 && n2 < next)
			next = n2;
		wait = next - now_ns();
		if (wait < 0)
			wait = 0;
		ts.tv_sec = wait / 1000000000LL;
		ts.tv_nsec = wait % 1000000000LL;
		tp = &ts;
		pf[0].fd = cfd;
		pf[0].events = POLLIN;
		pf[1].fd = sfd;
		pf[1].events = POLLIN;
		if (ppoll(pf, 2, tp, &orig) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "delaylink: ppoll: %s\n", strerror(errno));
			break;
		}
		now = now_ns();
		if (pf[0].revents & (POLLERR | POLLHUP | POLLNVAL) ||
		    pf[1].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			fprintf(stderr, "delaylink: a device went away\n");
			break;
		}
		/* One batch per device per turn, so releases are never starved; ppoll reports
		 * what is left at once. */
		if (pf[0].revents & POLLIN)
			intake(&c2s, now, 0);
		if (pf[1].revents & POLLIN)
			intake(&s2c, now, 1);
	}
	log_tick(now_ns());
	log_bucket(); /* the partial one */
	if (g_log)
		fclose(g_log);
	report(&c2s, &s2c);
	while (c2s.head) {
		struct pkt *p = c2s.head;

		c2s.head = p->next;
		free(p);
	}
	while (s2c.head) {
		struct pkt *p = s2c.head;

		s2c.head = p->next;
		free(p);
	}
	close(cfd);
	close(sfd);
	return 0;
}
