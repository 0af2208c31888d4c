/* Placeholder until the terminal UI lands: says so instead of pretending. */
#include "ui.h"
#include "util.h"

struct ui *ui_new(struct loop *loop, struct engine *e, struct queue *q, const struct settings *s,
                  char *err)
{
    errf(err, "the terminal UI is not implemented yet; use --headless");
    return NULL;
}

bool ui_wants_quit(const struct ui *u)
{
    return false;
}

void ui_resize(struct ui *u)
{
}

void ui_free(struct ui *u)
{
}
