/* test_world.c - World (planet/moon) files: parse, verify, serialize back
 * byte-identical, sign like genmoon, updates, malformed input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/inaddr.h"
#include "node/world.h"
#include "tests/check.h"

static int read_file(const char *path, uint8_t *buf, unsigned cap)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t l = fread(buf, 1, cap, f);
	fclose(f);
	return (int)l;
}

static void check_roundtrip(const char *name, const uint8_t *b, int l, uint8_t type, unsigned n_roots)
{
	struct zt_world w;
	uint8_t out[ZT_WORLD_MAX_SERIALIZED];
	CHECK_BEGIN(name);
	CHECK(l > 0);
	CHECK(zt_world_parse(&w, b, (unsigned)l) == l);
	CHECK(w.type == type && w.n_roots == n_roots);
	CHECK(zt_world_verify(&w, NULL) == 1);
	for (unsigned i = 0; i < w.n_roots; i++)
		CHECK(zt_identity_validate(&w.roots[i].id));
	CHECK(zt_world_serialize(&w, 0, out, sizeof(out)) == l && memcmp(out, b, (size_t)l) == 0);
	/* tampering with any byte either fails to parse or fails to verify */
	for (int i = 0; i < l; i++) {
		uint8_t t[ZT_WORLD_MAX_SERIALIZED];
		struct zt_world x;
		memcpy(t, b, (size_t)l);
		t[i] ^= 0x01;
		int pl = zt_world_parse(&x, t, (unsigned)l);
		CHECK_MSG(pl != l || !zt_world_verify(&x, w.update_key), "byte %d", i);
	}
	/* every truncation fails cleanly */
	for (int i = 0; i < l; i++) {
		struct zt_world x;
		CHECK_MSG(zt_world_parse(&x, b, (unsigned)i) < 0, "truncated to %d", i);
	}
	CHECK_END();
}

static void test_files(void)
{
	uint8_t b[ZT_WORLD_MAX_SERIALIZED];
	int l = read_file("tests/vectors/planet/default-planet.bin", b, sizeof(b));
	check_roundtrip("world: default planet parses, verifies, serializes byte-identical", b, l, ZT_WORLD_TYPE_PLANET, 4);
	CHECK_BEGIN("world: default planet fields and built-in copy");
	{
		struct zt_world w;
		char s[64];
		CHECK(zt_world_parse(&w, b, (unsigned)l) == l);
		CHECK(w.id == 149604618ULL && w.ts == 1644592324813ULL);
		CHECK(w.roots[0].id.address == 0xcafe9efeb9ULL && w.roots[3].id.address == 0xcafe04eba9ULL);
		CHECK(w.roots[0].n_endpoints == 2);
		CHECK(strcmp(zt_inaddr_format(&w.roots[0].endpoints[0], s, sizeof(s)), "104.194.8.134/9993") == 0);
		CHECK(zt_default_planet_len == (unsigned)l && memcmp(zt_default_planet, b, (size_t)l) == 0);
	}
	CHECK_END();
	l = read_file("tests/vectors/moon/0000000f860d3b14.moon", b, sizeof(b));
	check_roundtrip("world: moon file parses, verifies, serializes byte-identical", b, l, ZT_WORLD_TYPE_MOON, 1);
	l = read_file("tests/vectors/trace1/moon/0000001e0f3b10e3.moon", b, sizeof(b));
	check_roundtrip("world: trace1 moon parses, verifies, serializes byte-identical", b, l, ZT_WORLD_TYPE_MOON, 1);
}

/* re-sign the moon with signingKey_SECRET from moon.json: identical bytes */
static void test_resign(void)
{
	uint8_t b[ZT_WORLD_MAX_SERIALIZED], out[ZT_WORLD_MAX_SERIALIZED];
	struct zt_world w, upd;
	struct zt_identity signer;
	int l = read_file("tests/vectors/moon/0000000f860d3b14.moon", b, sizeof(b));
	CHECK_BEGIN("world: signing again with the moon's secret key reproduces the file; updates");
	memset(&signer, 0, sizeof(signer));
	CHECK(check_unhex("12923fdccb4ecf7a888d6ae4bc83e1d57376f08c129c7be77bd1827b7f41b86d744e344faac2201dfa2d4a5b5952d6371072b732e7331d8c6d0cdb6c6797d6df", signer.pub, 64) == 64);
	CHECK(check_unhex("7b249e7fe17a4ba9df50693ecc2eea8ad90184033f212a306d89a3c0a3c9266869159a0118bd1f30723e93df3bd84a067d1f9722dca543835228606b1aee1f1b", signer.priv, 64) == 64);
	signer.has_private = 1;
	CHECK(zt_world_parse(&w, b, (unsigned)l) == l);
	upd = w;
	memset(upd.sig, 0, sizeof(upd.sig));
	CHECK(zt_world_sign(&upd, &signer) == 0);
	CHECK(memcmp(upd.sig, w.sig, 96) == 0);
	CHECK(zt_world_serialize(&upd, 0, out, sizeof(out)) == l && !memcmp(out, b, (size_t)l));
	/* a newer revision signed by the update key replaces; older or
	 * differently signed does not */
	upd.ts = w.ts + 1;
	CHECK(zt_world_sign(&upd, &signer) == 0);
	CHECK(zt_world_should_replace(&w, &upd) == 1);
	CHECK(zt_world_should_replace(&upd, &w) == 0);
	upd.sig[10] ^= 1;
	CHECK(zt_world_should_replace(&w, &upd) == 0);
	CHECK_END();
}

static void test_random(void)
{
	uint8_t b[600];
	uint64_t x = 88172645463325252ULL;
	int ok = 1;
	CHECK_BEGIN("world: random bytes never crash the parser");
	for (int it = 0; it < 20000; it++) {
		struct zt_world w;
		unsigned l = (unsigned)(x % sizeof(b));
		for (unsigned i = 0; i < l; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			b[i] = (uint8_t)x;
		}
		if (l)
			b[0] = (it & 1) ? 0x01 : 0x7f;
		if (zt_world_parse(&w, b, l) > 0 && zt_world_verify(&w, NULL))
			ok = 0;
	}
	CHECK(ok);
	CHECK_END();
}

int main(void)
{
	test_files();
	test_resign();
	test_random();
	return CHECK_EXIT();
}
