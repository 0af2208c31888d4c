/* libFuzzer target: the theme loader (a libconfig file of colour groups) on arbitrary bytes. A
 * refused theme leaves the built-in look as it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "theme.h"
#include "util.h"
#include "fuzz_memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct theme t, before;
    char path[64], err[ERRLEN];
    int fd;

    if (memmem(data, size, "@include", 8) != NULL)
        return 0;
    fd = memfile(data, size, path);
    if (fd < 0)
        return 0;
    theme_defaults(&t);
    before = t;
    if (theme_load_file(&t, path, err) < 0 && memcmp(&t, &before, sizeof t) != 0)
        abort();
    close(fd);
    return 0;
}
