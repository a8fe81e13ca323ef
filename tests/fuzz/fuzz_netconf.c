/* fuzz_netconf.c - libFuzzer target for network config dictionaries: any
 * input parses or is rejected; what parses rebuilds and parses back with
 * the same essentials. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/netconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct zt_netconf a, b;
	static uint8_t buf[1 << 18];
	struct zt_network_info info;
	struct zt_wbuf w;

	if (zt_netconf_parse(&a, data, size) != 0)
		return 0;
	zt_netconf_to_info(&a, &info);
	zt_wbuf_init(&w, buf, sizeof(buf));
	if (zt_netconf_build(&a, &w) != 0)
		return 0;
	if (zt_netconf_parse(&b, buf, w.len) != 0)
		abort();
	if (a.nwid != b.nwid || a.issued_to != b.issued_to || a.n_ips != b.n_ips ||
	    a.n_routes != b.n_routes || a.n_rules != b.n_rules || a.mtu != b.mtu || a.has_com != b.has_com)
		abort();
	return 0;
}
