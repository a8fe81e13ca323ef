/* network.c - the network layer: joined networks, configs, frames (stub). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_internal.h"

/* zt_net_init() - allocate the network manager. Return 0 or -ENOMEM. */
int zt_net_init(struct zt_node *n)
{
	n->nets = NULL;
	return 0;
}

/* zt_net_free() - free the network manager. */
void zt_net_free(struct zt_node *n)
{
	n->nets = NULL;
}

/* zt_net_on_verb() - network verbs from the peer layer. */
void zt_net_on_verb(struct zt_node *n, int64_t now, const struct zt_rx *rx)
{
	(void)n; (void)now; (void)rx;
}

/* zt_net_on_ok() - OK replies to network verbs. */
void zt_net_on_ok(struct zt_node *n, int64_t now, const struct zt_rx *rx, uint8_t in_re_verb,
		  uint64_t in_re_pid, const uint8_t *data, unsigned len)
{
}

/* zt_net_on_error() - ERROR replies to network verbs. */
void zt_net_on_error(struct zt_node *n, int64_t now, const struct zt_rx *rx, uint8_t in_re_verb,
		     uint64_t in_re_pid, uint8_t code, const uint8_t *data, unsigned len)
{
}

/* zt_net_on_peer_known() - a peer identity became known. */
void zt_net_on_peer_known(struct zt_node *n, int64_t now, uint64_t address)
{
}

/* zt_net_background() - timers. Return next deadline. */
int64_t zt_net_background(struct zt_node *n, int64_t now)
{
	return now + 1000;
}

int zt_node_join(zt_node *n, uint64_t nwid, void *nuptr, int64_t now)
{
	return ZT_ERR_UNSUPPORTED;
}

int zt_node_leave(zt_node *n, uint64_t nwid, void **nuptr, int64_t now)
{
	return ZT_ERR_NETWORK_NOT_FOUND;
}

int zt_node_frame_in(zt_node *n, int64_t now, uint64_t nwid, uint64_t src_mac,
		     uint64_t dst_mac, unsigned ethertype, unsigned vlan,
		     const void *data, unsigned len, int64_t *next_deadline)
{
	if (next_deadline)
		*next_deadline = now + 1000;
	return ZT_ERR_NETWORK_NOT_FOUND;
}

int zt_node_multicast_subscribe(zt_node *n, int64_t now, uint64_t nwid, uint64_t mac, uint32_t adi)
{
	return ZT_ERR_NETWORK_NOT_FOUND;
}

int zt_node_multicast_unsubscribe(zt_node *n, uint64_t nwid, uint64_t mac, uint32_t adi)
{
	return ZT_ERR_NETWORK_NOT_FOUND;
}

int zt_node_networks(const zt_node *n, uint64_t *nwids, int max)
{
	return 0;
}

int zt_node_network_info(const zt_node *n, uint64_t nwid, struct zt_network_info *info)
{
	return ZT_ERR_NETWORK_NOT_FOUND;
}

void zt_node_set_controller(zt_node *n, struct zt_controller *c)
{
	n->controller = c;
}

/* zt_mac_from_address() - §6.2 derived MAC */
uint64_t zt_mac_from_address(uint64_t address, uint64_t nwid)
{
	uint64_t m = ((uint64_t)(((uint8_t)(nwid & 0xfe)) | 0x02)) << 40;
	if ((m >> 40) == 0x52)
		m = 0x32ULL << 40;
	m |= address & 0xffffffffffULL;
	m ^= ((nwid >> 8) & 0xff) << 32;
	m ^= ((nwid >> 16) & 0xff) << 24;
	m ^= ((nwid >> 24) & 0xff) << 16;
	m ^= ((nwid >> 32) & 0xff) << 8;
	m ^= (nwid >> 40) & 0xff;
	return m;
}

/* zt_address_from_mac() - inverse of the above, 0 if not derived */
uint64_t zt_address_from_mac(uint64_t mac, uint64_t nwid)
{
	uint64_t a = mac & 0xffffffffffULL;
	a ^= ((nwid >> 8) & 0xff) << 32;
	a ^= ((nwid >> 16) & 0xff) << 24;
	a ^= ((nwid >> 24) & 0xff) << 16;
	a ^= ((nwid >> 32) & 0xff) << 8;
	a ^= (nwid >> 40) & 0xff;
	if (zt_mac_from_address(a, nwid) != (mac & 0xffffffffffffULL))
		return 0;
	return a;
}
