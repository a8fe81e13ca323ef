/* controller_db.h - the embedded controller's file store (official
 * controller.d/ layout, json-c) shared by controller_db.c and controller_api.c.
 */
#ifndef NETCON_SERVICE_CONTROLLER_DB_H
#define NETCON_SERVICE_CONTROLLER_DB_H

#include <stdint.h>
#include <json-c/json.h>

#include "zt_controller.h"

struct nc_ctl_db {
	char dir[4096];		/* HOME/controller.d */
};

/* nc_ctl_db_init() - create HOME/controller.d/network. Return 0 or -errno. */
int nc_ctl_db_init(struct nc_ctl_db *db, const char *home);

/* JSON objects as stored (caller owns the returned reference). NULL if absent. */
struct json_object *nc_ctl_db_network_json(struct nc_ctl_db *db, uint64_t nwid);
struct json_object *nc_ctl_db_member_json(struct nc_ctl_db *db, uint64_t nwid, uint64_t addr);
int nc_ctl_db_network_save(struct nc_ctl_db *db, uint64_t nwid, struct json_object *o);
int nc_ctl_db_member_save(struct nc_ctl_db *db, uint64_t nwid, uint64_t addr, struct json_object *o);
int nc_ctl_db_network_delete(struct nc_ctl_db *db, uint64_t nwid);
int nc_ctl_db_member_delete(struct nc_ctl_db *db, uint64_t nwid, uint64_t addr);
/* nc_ctl_db_networks() / nc_ctl_db_members() - ids on disk. Return count (<= max). */
int nc_ctl_db_networks(struct nc_ctl_db *db, uint64_t *out, int max);
int nc_ctl_db_members(struct nc_ctl_db *db, uint64_t nwid, uint64_t *out, int max);

/* Defaults for new objects (official field names and defaults). */
struct json_object *nc_ctl_db_network_new(uint64_t nwid, int64_t now);
struct json_object *nc_ctl_db_member_new(uint64_t nwid, uint64_t addr, int64_t now);

/* JSON -> the controller's structs. Return 0 or -EINVAL. */
int nc_ctl_db_network_from_json(struct json_object *o, struct zt_ctl_network *net);
int nc_ctl_db_member_from_json(struct json_object *o, struct zt_ctl_member *m);

/* nc_ctl_db_rules_encode() - JSON rules array -> binary blob. Return length or -EINVAL. */
int nc_ctl_db_rules_encode(struct json_object *rules, uint8_t *out, unsigned cap);

/* The zt_controller_store implementation (uptr = struct nc_ctl_db *). */
extern const struct zt_controller_store nc_ctl_db_store;

#endif
