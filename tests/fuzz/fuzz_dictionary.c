/* fuzz_dictionary.c - libFuzzer target for the Dictionary codec: lookups on
 * arbitrary bytes stay in bounds, and escape/unescape round-trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/dictionary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *keys[] = { "v", "nwid", "id", "n", "C", "I", "RT", "R", "DNS", "x", "" };
	static uint8_t out[70000], enc[150000];
	uint64_t v;
	struct zt_wbuf w;

	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int r = zt_dict_get(data, size, keys[i], out, sizeof(out));
		if (r > (int)size)
			abort();
		(void)zt_dict_get(data, size, keys[i], out, 3);
		(void)zt_dict_get_u64(data, size, keys[i], &v);
		(void)zt_dict_get_bool(data, size, keys[i], 0);
	}
	if (size > 60000)
		return 0;
	/* round trip: the input as a value */
	zt_wbuf_init(&w, enc, sizeof(enc));
	zt_dict_add(&w, "k", data, size);
	zt_dict_add_u64(&w, "z", 5);
	if (w.err)
		abort();
	if (zt_dict_get(enc, w.len, "k", out, sizeof(out)) != (int)size || memcmp(out, data, size))
		abort();
	if (zt_dict_get_u64(enc, w.len, "z", &v) != 0 || v != 5)
		abort();
	return 0;
}
