#ifndef SLUICE_STORE_SCHEMA_H
#define SLUICE_STORE_SCHEMA_H
/* What makes a file a session: its application id and schema version. store_open upgrades an
 * older schema (store_schema.c) and refuses a newer one. */

#define STORE_SCHEMA_VERSION 2
#define STORE_APPLICATION_ID 0x736c6365     /* "slce": PRAGMA application_id of a session */

#endif
