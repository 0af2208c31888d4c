#ifndef SLUICE_SOCKTAB_H
#define SLUICE_SOCKTAB_H
/* The TCP sockets libcurl has open for us, so a transfer can find its connection's socket.
 * libcurl 7.88 cannot tell: CURLINFO_ACTIVESOCKET answers only once a transfer is over (or for
 * CONNECT_ONLY), and its socket callback is not called again for a reused connection. So the
 * engine opens and closes libcurl's sockets itself (CURLOPT_OPENSOCKETFUNCTION and
 * CURLOPT_CLOSESOCKETFUNCTION), and a transfer looks its socket up by the ports and address that
 * CURLOPT_PREREQFUNCTION reports, once per request. */
#include <stdbool.h>

struct socktab;

struct socktab *socktab_new(void);
void socktab_free(struct socktab *t);
/* A socket was opened / is about to be closed. Closing tells its user (*owner_fd = -1), so a
 * transfer never acts on a descriptor number that may already be someone else's. */
void socktab_add(struct socktab *t, int fd);
void socktab_remove(struct socktab *t, int fd);
/* The socket connected from local_port to peer_ip:peer_port, or -1. owner_fd (may be NULL) is
 * where the caller keeps the descriptor: it becomes the socket's user, set to -1 when it closes. */
int socktab_find(struct socktab *t, int local_port, const char *peer_ip, int peer_port, int *owner_fd);
/* The user lets go of the socket (a transfer ends; the connection may stay in libcurl's cache). */
void socktab_release(struct socktab *t, int fd, int *owner_fd);
/* What the kernel's receive buffers hold of a window: the payload/truesize ratio in thousandths
 * that cap_rcvbuf takes (include/cap.h). 500 on kernels before 6.5, which offer half the buffer
 * whatever the packets; on later ones the last ratio measured on any of our sockets (packets
 * come through the same interfaces), 0 until one is. */
int socktab_ratio(const struct socktab *t);
/* Whether measuring is worth it: the kernel sizes windows by the packets' truesize (6.5 on). */
bool socktab_ratio_measured(const struct socktab *t);
void socktab_learn_ratio(struct socktab *t, int ratio_pm);
/* Whether an earlier request used this socket too (a kept-alive connection). */
bool socktab_reused(const struct socktab *t, int fd);
/* How many sockets are open (for tests and the status). */
int socktab_count(const struct socktab *t);

#endif
