/* fuzz_world.c - libFuzzer target for the World (planet/moon) parser:
 * anything that parses serializes, and that serialization parses back to
 * the same bytes (canonical form); verification never crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zt_world w, w2;
	static uint8_t a[ZT_WORLD_MAX_SERIALIZED * 2], b[ZT_WORLD_MAX_SERIALIZED * 2];
	int l = zt_world_parse(&w, data, (unsigned)size);
	if (l < 0)
		return 0;
	if ((size_t)l > size)
		abort();
	(void)zt_world_verify(&w, NULL);
	int sl = zt_world_serialize(&w, 0, a, sizeof(a));
	if (sl < 0)
		abort();
	if (zt_world_parse(&w2, a, (unsigned)sl) != sl)
		abort();
	int sl2 = zt_world_serialize(&w2, 0, b, sizeof(b));
	if (sl2 != sl || memcmp(a, b, (size_t)sl) != 0)
		abort();
	return 0;
}
