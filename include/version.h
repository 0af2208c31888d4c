#ifndef SLUICE_VERSION_H
#define SLUICE_VERSION_H
/* The version, written here only: the Makefile reads it for the man page (the one quoted word
 * in this file), --version prints it, the default User-Agent carries it. */
#define SLUICE_VERSION "0.1.0"
#endif
