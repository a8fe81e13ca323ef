/* test_chksum.c - stack/lwip_chksum.c (the LWIP_CHKSUM of netcon's lwIP
 * build) against a plain RFC 1071 sum, 16 bits at a time, and against lwIP's
 * own lwip_standard_chksum from Debian's packaged library: every length from
 * 0 to 300 at every start offset 0-7, random lengths up to 9000, all-0x00
 * and all-0xff data (the 0x0000/0xffff corner of ones'-complement), and a
 * TCP segment whose checksum field must come out so that the whole verifies.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "stack/lwip_chksum.c"

/* ref_sum() - RFC 1071, literally: 16-bit words in memory order, carries
 * folded in as they happen */
static uint16_t ref_sum(const uint8_t *p, int len)
{
	uint32_t acc = 0;
	int i;

	for (i = 0; i + 1 < len; i += 2) {
		uint16_t w;

		memcpy(&w, p + i, 2);
		acc += w;
		acc = (acc & 0xffff) + (acc >> 16);
	}
	if (len & 1) {
		uint16_t w = 0;

		memcpy(&w, p + len - 1, 1);
		acc += w;
		acc = (acc & 0xffff) + (acc >> 16);
	}
	return (uint16_t)acc;
}

static uint8_t buf[9000 + 16];

int main(void)
{
	uint16_t (*lwip_sum)(const void *, int) = NULL;
	void *h = NULL;
	int off, len, bad = 0, bad_lwip = 0, first = -1;

	srand(1234);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();

	CHECK_BEGIN("chksum: every length 0-300 at every offset 0-7 equals RFC 1071");
	for (off = 0; off < 8; off++)
		for (len = 0; len <= 300; len++)
			if (netcon_lwip_chksum(buf + off, len) != ref_sum(buf + off, len) && !bad++)
				first = off * 1000 + len;
	CHECK_MSG(bad == 0, "%d mismatches, first at offset %d length %d", bad, first / 1000, first % 1000);
	CHECK_END();

	CHECK_BEGIN("chksum: 20000 random lengths up to 9000 equal RFC 1071");
	bad = 0;
	for (int k = 0; k < 20000; k++) {
		off = rand() % 16;
		len = rand() % 9001;
		if (netcon_lwip_chksum(buf + off, len) != ref_sum(buf + off, len))
			bad++;
	}
	CHECK_MSG(bad == 0, "%d mismatches", bad);
	CHECK_END();

	CHECK_BEGIN("chksum: all-zero and all-0xff data, negative length");
	{
		static uint8_t z[4096], f[4096];

		memset(f, 0xff, sizeof(f));
		CHECK(netcon_lwip_chksum(z, sizeof(z)) == 0 && ref_sum(z, sizeof(z)) == 0);
		CHECK(netcon_lwip_chksum(f, sizeof(f)) == ref_sum(f, sizeof(f)));
		CHECK(netcon_lwip_chksum(f, 1) == ref_sum(f, 1));
		CHECK(netcon_lwip_chksum(f, 3) == ref_sum(f, 3));
		CHECK(netcon_lwip_chksum(f, -5) == 0);
	}
	CHECK_END();

	CHECK_BEGIN("chksum: a checksum field filled from it makes the segment verify");
	{
		uint8_t seg[1480];

		memcpy(seg, buf + 3, sizeof(seg));
		seg[16] = seg[17] = 0;	/* a TCP header's checksum field */
		uint16_t c = (uint16_t)~netcon_lwip_chksum(seg, sizeof(seg));
		memcpy(seg + 16, &c, 2);
		uint16_t ours = netcon_lwip_chksum(seg, sizeof(seg)), ref = ref_sum(seg, sizeof(seg));

		CHECK(ours == 0xffff && ref == 0xffff);	/* complemented: 0, it verifies */
	}
	CHECK_END();

	/* lwIP's own, from the packaged library (the one Debian users run) */
	h = dlopen("liblwip.so.0", RTLD_NOW | RTLD_LOCAL);
	if (h)
		lwip_sum = (uint16_t (*)(const void *, int))dlsym(h, "lwip_standard_chksum");
	if (!lwip_sum) {
		CHECK_SKIP("chksum: equals lwIP's lwip_standard_chksum", "Debian's liblwip.so.0 not loadable");
	} else {
		CHECK_BEGIN("chksum: equals lwIP's lwip_standard_chksum (lengths 0-2000, offsets 0-7, random up to 9000)");
		for (off = 0; off < 8; off++)
			for (len = 0; len <= 2000; len++)
				if (netcon_lwip_chksum(buf + off, len) != lwip_sum(buf + off, len))
					bad_lwip++;
		for (int k = 0; k < 5000; k++) {
			off = rand() % 16;
			len = rand() % 9001;
			if (netcon_lwip_chksum(buf + off, len) != lwip_sum(buf + off, len))
				bad_lwip++;
		}
		CHECK_MSG(bad_lwip == 0, "%d mismatches", bad_lwip);
		CHECK_END();
	}
	if (h)
		dlclose(h);
	return CHECK_EXIT();
}
