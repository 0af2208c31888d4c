#ifndef SLUICE_CAP_H
#define SLUICE_CAP_H
/* The cap's policy, pure: the clock and every measurement are arguments, so the rules can be
 * tested with fake time (tests/unit/test_cap.c). The engine (engine_cap.c) owns the state and
 * the sockets; this file decides. Why it is built this way: docs/design.md, "The cap". */
#include <stdbool.h>
#include <stdint.h>

struct bucket;

/* What one transfer may receive per second: the cap split over the transfers that are running
 * now, not over the slots (a transfer alone gets the whole cap). Then, when its host has a cap of
 * its own, that split over the host's transfers, whichever is smaller. 0 = nothing caps it. */
int64_t cap_share(int64_t rate, int running, int64_t host_rate, int host_running);

/* How many ways the cap is split: halfway between the transfers running and those receiving,
 * those between two files not counting (request out on a kept-alive connection, no answer
 * yet). A transfer between two files cannot use a share for a round trip; on a long path with
 * small files that is a third of the time, and the cap split over every transfer ran at 0.73 of
 * itself at 250 ms (256 KiB files, -j 16). Only halfway: the more the receiving ones' windows
 * grow, the more they take in ahead of the cap when the others' answers come, and with the
 * shares tilted by age (cap_tilt) the receiving ones, the older, already hold most of the cap
 * (docs/design.md#receive-windows-the-cap-on-the-wire-at-any-round-trip). */
int cap_ways(int running, int receiving);

/* A transfer's share tilted by its age among the running transfers: older + same + younger =
 * running, `older` of them admitted before it, `same` (itself included) of its age (the ranges
 * of one segmented file). Linear in the rank, the shares still adding up to the cap: with
 * tilt_pm 1000 the oldest gets up to twice the even share and the youngest next to nothing;
 * the engine uses half that slope (CAP_TILT_PM: the oldest of 16 gets 1.44 of the even share,
 * the youngest 0.56). Equal shares make files of one size started together finish together,
 * and on a long path every connection then waits a round trip for its next answer at the same
 * moment (the read rate fell to nothing for 0.25 s of every 0.65 s at 250 ms, 256 KiB files at
 * -j 16). Tilted, the oldest finish first and the next answers come a few at a time; the
 * youngest, most of them waiting for their first bytes, hold smaller windows
 * (docs/design.md#receive-windows-the-cap-on-the-wire-at-any-round-trip). */
#define CAP_TILT_PM 500
/* The slope for a connection's round trip: CAP_TILT_PM x RTT / (RTT + TURN_MS). The answers
 * that come in step are a long path's: on loopback nothing waits a round trip between two
 * files, and there the tilt only unsettled the cap (bench/cap.sh, 40 MiB/s at -j 16: single
 * seconds of 0.87-1.05x against 0.95-1.04x). */
int cap_tilt_slope(int64_t rtt_us);
int64_t cap_tilt(int64_t share, int older, int same, int running, int tilt_pm);

/* The share past which a transfer's window (cap_window) would be larger than what its answer
 * has still to bring (left bytes; -1 when not known: no bound). */
int64_t cap_room(int64_t left, int64_t rtt_us);

/* The tilt gives the oldest transfers the largest shares, and they are the ones nearest their
 * end: a window beyond what is left of the file carries nothing, and the share behind it would
 * be lost to the others (at 120 ms the wire fell from 0.93 to 0.84 of the cap with many small
 * files). cap_spread moves every share above its room (room[i] >= 0) down to it and gives what
 * it frees to the others, in proportion to their shares, as long as they have room; the sum is
 * kept (less rounding) unless every transfer is at its room. */
void cap_spread(int n, int64_t *share, const int64_t *room);

/* The TCP receive window a transfer should be allowed, in bytes, for a share (bytes/s) over a
 * path with the given round trip (microseconds; 0 or less = not measured yet). TCP delivers at
 * most one window per round trip, so the window must cover share x RTT; the rest is headroom for
 * the time a transfer's data waits for its turn under the bucket. Everything the kernel takes in
 * beyond the cap is bounded by the sum of these windows. share 0 = no limit (returns 0). */
int64_t cap_window(int64_t share, int64_t rtt_us);

/* The SO_RCVBUF value (what setsockopt is given; the kernel doubles it for its bookkeeping) that
 * lets the kernel hold a window of this many bytes in all: data received and not read yet plus
 * what the peer may still send. Since Linux 6.5 the kernel offers as window the free part of the
 * doubled buffer times the payload/truesize ratio it sees in its own packets (0.62 for 1500-byte
 * frames on a TUN device); before, half of it (tcp_adv_win_scale 1). ratio_pm is that ratio in
 * thousandths (cap_ratio), 500 for older kernels, 0 when not measured yet: then 1000, the smallest
 * buffer, grown once the ratio is measured (growing is safe; shrinking under queued data is not). */
int64_t cap_rcvbuf(int64_t window, int ratio_pm);

/* The payload/truesize ratio, in thousandths, from the bytes queued unread on a socket (FIONREAD)
 * and the memory they take (SO_MEMINFO's rmem_alloc); 0 when too little is queued to tell. */
#define CAP_RATIO_MIN_BYTES 4096
int cap_ratio(int64_t queued, int64_t rmem);

/* The ratio a socket's buffer is sized for after one more sample (cap_ratio) on it, given the
 * ratio seen on it so far (0: none) and its window. Every sample is a lower bound: memory that is
 * not queued payload (the part of the first packet already read, packets not merged yet, packets
 * out of order) only adds to rmem. So the largest ratio seen holds, and a sample counts only once
 * a quarter of the window waits unread (reachable at the lowest ratio, 0.25, in a buffer sized
 * as if it were 1.0): on loopback 4-8 KiB queued read 0.08-0.45 of a ratio that 256 KiB read as
 * 0.81-0.99, and a buffer sized on such a sample held four windows
 * (docs/design.md#receive-windows-the-cap-on-the-wire-at-any-round-trip). */
int cap_ratio_next(int seen, int64_t queued, int64_t rmem, int64_t window);

/* After the cap falls, a buffer sized for the old window holds up to that much unread, and a
 * sender that pauses (a loss, a busy origin) then refills it past the new cap. The buffer can
 * only be shrunk once what is queued plus what the peer may still send fits the new window, so
 * the clamp is first held at cap_drain_clamp: the window less what waits unread, but at least
 * half of it so the transfer never stops; cap_drain_done says when the buffer may be cut. */
int64_t cap_drain_clamp(int64_t window, int64_t queued);
bool cap_drain_done(int64_t window, int64_t queued, int64_t clamp);

/* Whether a window in force should be replaced by a wanted one: not for changes under an eighth,
 * so a round trip that wobbles does not cost a system call per transfer per tick. */
bool cap_window_stale(int64_t in_force, int64_t wanted);

/* Asked before a chunk is delivered: may it be, with the global bucket g and the host's bucket h
 * (either NULL when it does not cap)? Both are refilled to now first. */
bool cap_may_receive(struct bucket *g, struct bucket *h, int64_t now_ms);

/* Charges n bytes that were delivered to both buckets (either may be NULL); the balance may go
 * below zero by one chunk, which the next turns pay back. */
void cap_charge(struct bucket *g, struct bucket *h, int64_t n, int64_t now_ms);

/* Called before deciding on a chunk when no transfer is waiting for credit: the bucket keeps at
 * most CAP_IDLE_CREDIT_MS of the rate (at least one libcurl buffer). Credit that piles up while
 * nobody wants it (the start of a run, TCP's slow start, every connection waiting for its next
 * response) is spent the moment data flows again, all of it on the wire at once, on top of what
 * the windows let in; a token bucket's depth would bank it. */
#define CAP_IDLE_CREDIT_MS 20
void cap_unwanted_credit(struct bucket *g, int64_t now_ms);

/* Milliseconds until the refill timer should look at the throttled transfers again, given the
 * global bucket as refilled now: when it has credit again, at least 1 and at most
 * CAP_REFILL_MAX_MS (a host's bucket may fill sooner than the global one). g NULL (no global
 * cap, only hosts' caps): CAP_REFILL_MAX_MS. */
#define CAP_REFILL_MAX_MS 20
int64_t cap_refill_wait_ms(const struct bucket *g);

#endif
