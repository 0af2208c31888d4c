#ifndef SLUICE_INTAKE_SCAN_H
#define SLUICE_INTAKE_SCAN_H
/* Internal to the intake (see intake_impl.h): pass one, which checks every line and nominates
 * conflicts by their fingerprints (fprint.h) without keeping a string. */
#include <stdbool.h>
#include <stdint.h>

struct input_item;
struct intake;
struct settings;

/* The one mapping of an item to its output path (README.md#output-files), with the checks on
 * the item alone: its URL parsed when check_url (the list's were parsed as they were read), the
 * path mapped (layout, out=, dir=), DIR/.sluice refused. The path (allocated), or NULL and err. */
char *intake_scan_map(const struct settings *s, const struct input_item *ii, bool check_url,
                      char *err);

/* The session's URLs, to tell which of the input's are there already. Before intake_scan_item. */
int intake_scan_session_urls(struct intake *in, char *err);
/* Checks one item and keeps its fingerprints (an intake_walk_fn). */
int intake_scan_item(struct intake *in, const struct input_item *ii, uint32_t seq, char *err);
/* Once every item is read: marks repeated URLs for pass two and nominates candidates for
 * intake_confirm_cands. */
int intake_scan_all(struct intake *in, char *err);

#endif
