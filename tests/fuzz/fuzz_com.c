/* fuzz_com.c - libFuzzer target for credentials: COM, Revocation and the
 * Tag / Capability / COO skip-parsers. A COM that parses re-serializes to the
 * bytes it was read from; verification and agreement never crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/com.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zt_com c, mine;
	struct zt_revocation r;
	struct zt_identity id;
	uint8_t out[ZT_COM_MAX_LEN + 8], rb[256];
	int l;

	memset(&id, 0, sizeof(id));
	id.address = 0x538993822bULL;
	l = zt_com_deserialize(&c, data, size);
	if (l > 0) {
		int sl = zt_com_serialize(&c, out, sizeof(out));
		if (sl != l || memcmp(out, data, (size_t)l))
			abort();
		id.address = c.signed_by;
		(void)zt_com_verify(&c, &id);
		zt_com_init(&mine, zt_com_timestamp(&c), 1800000, zt_com_nwid(&c), &id);
		(void)zt_com_agrees(&mine, &c, &id);
		(void)zt_com_agrees(&c, &mine, &id);
	}
	l = zt_revocation_deserialize(&r, data, size);
	if (l > 0) {
		int sl = zt_revocation_serialize(&r, rb, sizeof(rb));
		if (sl < 0)
			abort();
		(void)zt_revocation_verify(&r, &id);
	}
	(void)zt_tag_skip(data, size);
	(void)zt_capability_skip(data, size);
	(void)zt_coo_skip(data, size);
	return 0;
}
