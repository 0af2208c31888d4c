#ifndef SLUICE_INTAKE_WRITER_H
#define SLUICE_INTAKE_WRITER_H
/* Internal to the intake (see intake_impl.h): pass two, which stores the new items in batches
 * through a session connection of its own (in->wst), then looks at the finished items. */
struct intake;

/* Runs pass two on the calling thread; sets in->status, and in->err or in->summary. */
void intake_writer_run(struct intake *in);
/* The writer thread's function (arg: the intake): a lower priority, then intake_writer_run. */
void *intake_writer_main(void *arg);

#endif
