/* Placeholder until the control socket lands: says so instead of pretending. */
#include "ctl.h"
#include "util.h"

#include <stdio.h>

struct ctl *ctl_new(struct loop *loop, struct engine *e, struct queue *q, const struct settings *s,
                    const char *path, char *err)
{
    errf(err, "the control socket is not implemented yet");
    return NULL;
}

void ctl_free(struct ctl *c)
{
}

int ctl_client_main(int argc, char **argv)
{
    fprintf(stderr, "sluice ctl: the control socket is not implemented yet\n");
    return 2;
}

char *ctl_default_path(const char *dir)
{
    return xasprintf("%s/.sluice/ctl", dir != NULL && *dir ? dir : ".");
}
