#ifndef SLUICE_INTAKE_CONFIRM_H
#define SLUICE_INTAKE_CONFIRM_H
/* Internal to the intake (see intake_impl.h): pass 1b, which rereads the input for the few items
 * pass one nominated and reports the conflicts that are real on the strings. */
struct intake;

int intake_confirm_cands(struct intake *in, char *err);

#endif
