/* fuzz_rpc.c - libFuzzer target for the netcon RPC decoder, both directions
 * (requests as the server sees them, replies as the intercept sees them:
 * the type byte's reply bit picks which). Anything that decodes must
 * re-encode to the same bytes and decode to the same message. */
#include "nc_rpc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nc_rpc_msg m, m2;
	struct nc_rpc_hdr h;
	uint8_t out[NC_RPC_MAX_MSG];
	int n;

	(void)nc_rpc_hdr_decode(data, size, &h);
	if (nc_rpc_decode(data, size, &m) != 0)
		return 0;
	if (m.fd != -1)
		abort();
	n = nc_rpc_encode(&m, out, sizeof(out));
	/* a decoded message always re-encodes, to the same bytes (the reply
	 * bit, flags and id included), except that an address of kind "none"
	 * and ones of a known kind are canonical already */
	if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
		abort();
	if (nc_rpc_decode(out, (size_t)n, &m2) != 0)
		abort();
	if (m2.type != m.type || m2.id != m.id || m2.err != m.err || m2.addrlen != m.addrlen ||
	    memcmp(&m2.addr, &m.addr, m.addrlen) != 0 || m2.optlen != m.optlen ||
	    m2.sock_id != m.sock_id)
		abort();
	return 0;
}
