#ifndef SLUICE_ENGINE_CAP_H
#define SLUICE_ENGINE_CAP_H
/* The engine's cap (the global token bucket, per-host buckets nested under it, the throttled FIFO
 * and its refill timer) and the disk-wait list. Internal to the engine modules (engine_impl.h). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct engine;
struct active;
struct host;
struct xfer;

/* xfer_env hooks, asked and told by the write callback: they record and return. */
bool engine_cap_may_receive(void *arg, struct xfer *x, size_t n);
void engine_cap_received(void *arg, struct xfer *x, size_t n);
/* Loop callbacks: the refill timer, and the writer's backlog having drained. */
void engine_cap_on_refill(void *arg);
void engine_cap_on_disk_ready(void *arg);
/* Takes a transfer off the throttled FIFO / the disk-wait list (no-op when not on it). */
void engine_cap_throttle_remove(struct engine *e, struct active *a);
void engine_cap_diskwait_remove(struct engine *e, struct active *a);
/* What a transfer about to start to host h may receive per second; 0 when nothing caps it. */
int64_t engine_cap_share(const struct engine *e, const struct host *h);
/* Resizes every running transfer's receive window to its share and round trip now. */
void engine_cap_retune(struct engine *e);
/* Puts a rate (0 = off) and burst in force, and tells the listeners (EV_RATE, with `why` as its
 * text: the schedule's step that made the change, or NULL). */
void engine_cap_apply_rate(struct engine *e, int64_t rate, int64_t burst, const char *why);
/* Local time in seconds since Sunday 00:00, for the rate schedule (sched.h). */
int engine_cap_local_second_of_week(void);
/* With --cap-group: takes the leases granted into the bucket, follows the group's cap, switches
 * to the safe local cap while Redis cannot be reached (and back), and says how much to lease
 * next. Cheap (a mutex, a few numbers): called for every chunk, every refill and every tick. */
void engine_cap_group_sync(struct engine *e);
/* The part of it a libcurl callback may do (docs/design.md#the-event-loop: callbacks record and
 * return): takes the leases granted into a fed bucket and asks for the next; the cap, Redis
 * coming and going, and the messages wait for the next full sync (the refill timer, the tick). */
void engine_cap_group_take(struct engine *e);

#endif
