/* libFuzzer target: the configuration loader (libconfig file -> settings) on arbitrary bytes.
 * Every problem is reported as one line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "opts.h"
#include "fuzz_memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_report(void *arg, const char *msg)
{
    if (strchr(msg, '\n') != NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct settings s;
    char path[64];
    int fd;

    /* An @include could name any file (a FIFO, /dev/zero): the target fuzzes the parser, not
     * the file system. */
    if (memmem(data, size, "@include", 8) != NULL)
        return 0;
    fd = memfile(data, size, path);
    if (fd < 0)
        return 0;
    settings_init(&s);
    (void)config_load(path, &s, on_report, NULL);
    settings_free(&s);
    close(fd);
    return 0;
}
