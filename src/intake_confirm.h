#ifndef SLUICE_INTAKE_CONFIRM_H
#define SLUICE_INTAKE_CONFIRM_H
/* Internal to the intake (see intake_impl.h): pass 1b, which rereads the input for the few items
 * pass one nominated and reports the conflicts that are real on the strings. */
#include <stdbool.h>
#include "intake_impl.h"

int intake_confirm_cands(struct intake *in, char *err);

/* Whether item A (path pa, at wa: "FILE:LINE", or NULL) and item B (pb, described by wb) really
 * conflict the way kind says; if so msg (ERRLEN * 2) says how, as the intake reports it. */
bool intake_confirm_conflict(enum cand_kind kind, const char *pa, const char *pb, const char *wa,
                             const char *wb, char *msg);

#endif
