/* nc_rpcd.h - the netcon RPC server: one per joined netcon network.
 *
 * Listens on a Unix socket (HOME/nc_NWID, mode 0600, SO_PEERCRED: only our
 * own uid or root), speaks the protocol of include/nc_rpc.h with the
 * intercept library, and acts on the network's nc_stack. It runs on its own
 * thread; a malformed message closes that client only.
 */
#ifndef NETCON_RPC_NC_RPCD_H
#define NETCON_RPC_NC_RPCD_H

#include <stdint.h>

struct nc_stack;
struct nc_rpcd;

/* nc_rpcd_new() - bind path (replacing a stale socket file) and start serving. Return 0 or -errno. */
int nc_rpcd_new(struct nc_stack *st, const char *path, struct nc_rpcd **out);
struct nc_rpcd_stats {
	uint64_t clients_open;		/* connected clients */
	uint64_t clients_total;		/* clients admitted since start */
	uint64_t clients_refused;	/* connections from another uid, closed */
	uint64_t requests;		/* requests handled */
	uint64_t malformed;		/* clients closed for sending what we refuse */
};
/* nc_rpcd_stats() - the server's counters (any thread) */
void nc_rpcd_stats(struct nc_rpcd *d, struct nc_rpcd_stats *out);
/* nc_rpcd_free() - stop the thread, close every client, unlink the socket. */
void nc_rpcd_free(struct nc_rpcd *d);

#endif
