/* controller.h - the embedded network controller as the daemon sees it.
 *
 * Storage (HOME/controller.d/, JSON through json-c, the official file
 * layout) and the /controller HTTP routes live in service/; the decisions
 * (who is authorized, what goes in a config) live in node/ behind
 * include/zt_controller.h.
 */
#ifndef NETCON_SERVICE_CONTROLLER_H
#define NETCON_SERVICE_CONTROLLER_H

#include <stddef.h>
#include <stdint.h>
#include "zt_node.h"

struct nc_ctl;

/* nc_ctl_new() - load HOME/controller.d and attach to the node
 * (zt_node_set_controller). Return 0 or -errno. */
int nc_ctl_new(zt_node *node, const char *home, struct nc_ctl **out);
void nc_ctl_free(struct nc_ctl *c);

/* nc_ctl_api() - one HTTP request whose path starts with /controller or
 * /unstable/controller. *resp gets a malloc'd JSON body (caller frees).
 * Return: the HTTP status (200, 400 with {"error":...}, 404, ...). */
int nc_ctl_api(struct nc_ctl *c, int64_t now, const char *method, const char *path,
	       const char *body, size_t body_len, char **resp);

#endif
