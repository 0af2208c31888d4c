/* A hostile attach client (tests/integration/43_attach.sh): attaches, asks for big pages over and
 * over without ever reading the answers, then waits (at most LIMIT seconds, reading nothing) for
 * the server to hang up on it (docs/ctl.md#attach-mode: a client that stops reading is dropped).
 * Prints how many requests it got in, then "dropped" or "not dropped" (exit 0 / 1).
 * Usage: attach_hog SOCKET LIMIT_SECONDS */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const char page[] = "page -1 0 256\n";
    char req[64 * sizeof page + 16];
    struct sockaddr_un sa;
    size_t n = 0, len;
    long sent = 0;
    int fd, rcv = 4096;
    double end;

    if (argc != 3) {
        fprintf(stderr, "usage: attach_hog SOCKET LIMIT_SECONDS\n");
        return 2;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (fd < 0 || strlen(argv[1]) >= sizeof sa.sun_path) {
        perror("attach_hog: socket");
        return 2;
    }
    strcpy(sa.sun_path, argv[1]);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("attach_hog: connect");
        return 2;
    }
    n = (size_t)snprintf(req, sizeof req, "attach 1\n");
    for (int i = 0; i < 64; i++, n += sizeof page - 1)
        memcpy(req + n, page, sizeof page - 1);
    len = n;
    while (sent < 100000) {
        ssize_t w = send(fd, req, len, MSG_NOSIGNAL);

        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w < 0) {
            perror("attach_hog: send");
            break;
        }
        if ((size_t)w < len)
            break;                      /* the server stopped taking requests in */
        if (sent == 0) {                /* the attach line went once */
            len -= 9;
            memmove(req, req + 9, len);
        }
        sent++;
    }
    printf("requests in: %ld\n", sent * 64);
    fflush(stdout);
    end = now_s() + atof(argv[2]);
    while (now_s() < end) {
        struct pollfd p = { .fd = fd, .events = POLLRDHUP };

        if (poll(&p, 1, 200) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
            printf("dropped\n");
            return 0;
        }
    }
    printf("not dropped\n");
    return 1;
}
