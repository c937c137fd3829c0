/*
 * Migration commands that QMP clients use out-of-band: kestrel has no
 * postcopy migration, so there is never one to pause or recover, and both
 * fail as QEMU's do outside those states.
 */
#include "monitor/monitor-internal.h"

static JsonNode *qmp_migrate_pause(JsonObject *args, Error **errp)
{
    error_setg(errp, "migrate-pause is currently only supported during "
               "postcopy-active state");
    return NULL;
}
static const QmpCommand migrate_pause_cmd = {
    "migrate-pause", qmp_migrate_pause, .allow_oob = true,
};
QMP_COMMAND_REGISTER(migrate_pause_cmd)

static JsonNode *qmp_migrate_recover(JsonObject *args, Error **errp)
{
    error_setg(errp, "Migrate recover can only be run when postcopy is "
               "paused.");
    return NULL;
}
static const QmpCommand migrate_recover_cmd = {
    "migrate-recover", qmp_migrate_recover,
    { { "uri", QMP_ARG_STRING } }, .allow_oob = true,
};
QMP_COMMAND_REGISTER(migrate_recover_cmd)
