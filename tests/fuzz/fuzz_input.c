/* libFuzzer target: the aria2 input-list parser (input_read) on arbitrary bytes. Each item that
 * reaches the callback is checked for the promises of input.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_item(const struct input_item *it, void *arg, char *err)
{
    if (it->nurls == 0 || it->urls[0] == NULL)
        abort();
    for (size_t i = 0; i < it->nurls; i++)
        (void)strlen(it->urls[i]);
    for (size_t i = 0; i < it->nheaders; i++)
        (void)strlen(it->headers[i]);
    return 0;
}

static void on_report(void *arg, const char *msg)
{
    /* A message is one line: it goes to a terminal as it is. */
    if (strchr(msg, '\n') != NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[ERRLEN];
    FILE *fp;

    if (size == 0)
        return 0;
    fp = fmemopen((void *)data, size, "r");
    if (fp == NULL)
        return 0;
    (void)input_read(fp, "fuzz.txt", on_item, NULL, on_report, NULL, err);
    fclose(fp);
    return 0;
}
