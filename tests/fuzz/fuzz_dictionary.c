/* fuzz_dictionary.c - libFuzzer target for the Dictionary codec: lookups on
 * arbitrary bytes stay in bounds, and escape/unescape round-trips.
 * Input: [u8 key selector][dictionary bytes]. The selector picks the key the
 * getters look up, so each input scans the dictionary four times instead of
 * once per getter and key (44 scans, which made the target ~10x slower
 * without reaching a line more: every key takes the same paths).
 * zt_dict_index() must find the same value as a lookup of the whole. */
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
	const char *key;
	int r;

	if (size < 1)
		return 0;
	key = keys[data[0] % (sizeof(keys) / sizeof(keys[0]))];
	data++;
	size--;
	r = zt_dict_get(data, size, key, out, sizeof(out));
	if (r > (int)size)
		abort();
	{
		/* the one-scan index finds the same value, starting at its line */
		static uint8_t out2[70000];
		size_t at[2];
		const char *pair[2] = { key, "nwid" };

		zt_dict_index(data, size, pair, 2, at);
		if (at[0] > size || at[1] > size)
			abort();
		if (zt_dict_get(data + at[0], size - at[0], key, out2, sizeof(out2)) != r ||
		    (r > 0 && memcmp(out, out2, (size_t)r)))
			abort();
	}
	(void)zt_dict_get(data, size, key, out, 3);
	(void)zt_dict_get_u64(data, size, key, &v);
	(void)zt_dict_get_bool(data, size, key, 0);
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
