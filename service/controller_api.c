/* controller.c - the daemon's embedded controller glue (stub for now). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "service/controller.h"

struct nc_ctl {
	zt_node *node;
};

int nc_ctl_new(zt_node *node, const char *home, struct nc_ctl **out)
{
	struct nc_ctl *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->node = node;
	*out = c;
	return 0;
}

void nc_ctl_free(struct nc_ctl *c)
{
	free(c);
}

int nc_ctl_api(struct nc_ctl *c, int64_t now, const char *method, const char *path,
	       const char *body, size_t body_len, char **resp)
{
	*resp = strdup("{\"error\":\"not implemented\"}");
	return 404;
}
