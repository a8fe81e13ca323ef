/* test_identity.c - identities against the official vectors (PROTOCOL.md §2, §14.1-14.2). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node/crypto.h"
#include "node/identity.h"
#include "tests/check.h"

#define VEC "tests/vectors/"

static int read_lines(const char *path, char lines[][300], int max)
{
	FILE *f = fopen(path, "r");
	int n = 0;
	if (!f)
		return -1;
	while (n < max && fgets(lines[n], 300, f)) {
		lines[n][strcspn(lines[n], "\r\n")] = 0;
		if (lines[n][0])
			n++;
	}
	fclose(f);
	return n;
}

static void test_roots(void)
{
	static const char *roots[] = {
		"cafe9efeb9:0:ccdef76bc7b97ded904eabc5df09886d9c1514a610036cb9139cc214001a2958978efcec15712dd3948c6e6b3a8e893df01ff493d1f8d9806a860c5420571bf0",
		"778cde7190:0:3f6681a99e5ad1895e9fba33e6212d4454e168bcec7112101bf000956ed8e92e42892cb6f2ec410881a84ab19da50e1287ba3d926c3a1f755cccf299a1207055",
		"62f865ae71:0:e2076c57de870e6288d7d5e7404408b1545efca37d67f77b87e9e54168c25d3ef1a9abf2905ea5e785c01dff23887ad4232d95c7a8fd2c27111a72bd159322dc",
		"cafe04eba9:0:6c6a9d1dea55c1616bfe2a2b8f0ff9a8cacaf70374fb1f39e3bef81cbfebef17b7228268a0a2a29d3488c752565c6c965cbd6506ec24397cc8a5d9d15285a87f",
	};
	CHECK_BEGIN("identity: the 4 planet root identities validate (§14.1)");
	for (int i = 0; i < 4; i++) {
		struct zt_identity id;
		char s[400];
		CHECK(zt_identity_from_string(&id, roots[i]) == 0);
		CHECK_MSG(zt_identity_validate(&id), "root %d", i);
		CHECK(zt_identity_to_string(&id, 1, s, sizeof(s)) > 0);
		CHECK(strcmp(s, roots[i]) == 0);
	}
	CHECK_END();
}

static void test_vector_files(void)
{
	static char pub[32][300], sec[32][300];
	int np = read_lines(VEC "identity/identities.public.txt", pub, 32);
	int ns = read_lines(VEC "identity/identities.secret.txt", sec, 32);
	CHECK_BEGIN("identity: every official identity validates, string/binary round trip");
	CHECK(np == 16 && ns == 16);
	for (int i = 0; i < np && i < ns; i++) {
		struct zt_identity a, b, c;
		char s[400];
		uint8_t bin[200];
		int l;
		CHECK(zt_identity_from_string(&a, pub[i]) == 0);
		CHECK(zt_identity_from_string(&b, sec[i]) == 0);
		CHECK(!a.has_private && b.has_private);
		CHECK(zt_identity_equal(&a, &b));
		CHECK_MSG(zt_identity_validate(&a), "identity %d: %s", i, pub[i]);
		CHECK(zt_identity_to_string(&b, 1, s, sizeof(s)) > 0 && strcmp(s, sec[i]) == 0);
		CHECK(zt_identity_to_string(&b, 0, s, sizeof(s)) > 0 && strcmp(s, pub[i]) == 0);
		l = zt_identity_serialize(&b, 0, bin, sizeof(bin));
		CHECK(l == ZT_IDENTITY_PUBLIC_BIN_LEN);
		CHECK(zt_identity_deserialize(&c, bin, (size_t)l) == l && zt_identity_equal(&c, &a) && !c.has_private);
		l = zt_identity_serialize(&b, 1, bin, sizeof(bin));
		CHECK(l == 135);
		CHECK(zt_identity_deserialize(&c, bin, (size_t)l) == l && c.has_private && !memcmp(c.priv, b.priv, 64));
		CHECK(zt_identity_deserialize(&c, bin, 70) == -EINVAL);
		/* private halves give the public halves */
		{
			struct zt_identity x = b;
			uint8_t k1[48], k2[48];
			CHECK(zt_identity_agree(&x, &a, k1) == 0);
			(void)k2;
		}
	}
	CHECK_END();

	CHECK_BEGIN("identity: tampered identities fail validation");
	for (int i = 0; i < np && i < 4; i++) {
		struct zt_identity a;
		zt_identity_from_string(&a, pub[i]);
		a.pub[5] ^= 1;
		CHECK(!zt_identity_validate(&a));
		zt_identity_from_string(&a, pub[i]);
		a.address ^= 1;
		CHECK(!zt_identity_validate(&a));
	}
	CHECK(zt_address_reserved(0) && zt_address_reserved(0xff12345678ULL) && !zt_address_reserved(0x12345678ffULL));
	CHECK_END();

	CHECK_BEGIN("identity: string parser rejects malformed forms");
	{
		struct zt_identity a;
		char s[400];
		strcpy(s, pub[0]);
		CHECK(zt_identity_from_string(&a, "") == -EINVAL);
		CHECK(zt_identity_from_string(&a, "abc") == -EINVAL);
		s[11] = '1';	/* type field */
		CHECK(zt_identity_from_string(&a, s) == -EINVAL);
		strcpy(s, pub[0]);
		s[strlen(s) - 1] = 0;
		CHECK(zt_identity_from_string(&a, s) == -EINVAL);
		strcpy(s, pub[0]);
		s[20] = 'g';
		CHECK(zt_identity_from_string(&a, s) == -EINVAL);
		snprintf(s, sizeof(s), "%s:00:11", sec[0]);
		CHECK(zt_identity_from_string(&a, s) == -EINVAL);
	}
	CHECK_END();
}

static void test_signatures(void)
{
	FILE *f = fopen(VEC "sign/signatures.txt", "r");
	static char pub[32][300], sec[32][300];
	char line[512];
	int n = 0;
	read_lines(VEC "identity/identities.public.txt", pub, 32);
	read_lines(VEC "identity/identities.secret.txt", sec, 32);
	CHECK_BEGIN("identity: official signatures verify; ours are byte-identical");
	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		char addr[32], file[64], sighex[300], path[128];
		uint8_t sig[96], mine[96], msg[512];
		struct zt_identity id;
		int found = 0;
		if (sscanf(line, "%31s %63s %299s", addr, file, sighex) != 3)
			continue;
		CHECK(check_unhex(sighex, sig, sizeof(sig)) == 96);
		snprintf(path, sizeof(path), VEC "sign/%s", file);
		FILE *m = fopen(path, "rb");
		CHECK(m != NULL);
		if (!m)
			continue;
		size_t ml = fread(msg, 1, sizeof(msg), m);
		fclose(m);
		for (int i = 0; i < 16; i++) {
			if (!strncmp(sec[i], addr, 10)) {
				CHECK(zt_identity_from_string(&id, sec[i]) == 0);
				found = 1;
			}
		}
		CHECK(found);
		if (!found)
			continue;
		CHECK(zt_identity_verify(&id, msg, ml, sig, 96) == 1);
		CHECK(zt_identity_sign(&id, msg, ml, mine) == 0);
		CHECK(memcmp(mine, sig, 96) == 0);
		sig[3] ^= 0x10;
		CHECK(zt_identity_verify(&id, msg, ml, sig, 96) == 0);
		sig[3] ^= 0x10;
		msg[0] ^= 1;
		CHECK(zt_identity_verify(&id, msg, ml, sig, 96) == 0);
		CHECK(zt_identity_verify(&id, msg, ml, sig, 95) == 0);
		n++;
	}
	if (f)
		fclose(f);
	CHECK(n == 4);
	CHECK_END();
}

static void test_ab(void)
{
	const char *A = "bd091a62a9:0:38c2631b54877d05c1f96c02efa29584de7309fd10aa6bf11673bc52188510635f30fb46666ab73953c97b07c1a5953e8b24b941457ad9d7dfa3cc32d4e90307:5705439130a3e01a8e15ae4c50698a4d8c0cc83b183b4f7b70cd9277e2c28cd6c6d3346802978f70b164fde694ae6d93497e3b34af14c2c6a0447d5a72dbbe9a";
	const char *B = "538993822b:0:2bbe3f58a13773d6234a3412859a3a24d4d82fa470b458d9a4ef1d4a0fd9ea265a3a84f11cc1713d756350db2f24aef3fd7a0210f12c938818a0a6d6588d8eff:bb3be54b21ddab027db2c1b5008abad39691e57779bcdf143171f1cef3640ca3bb325d77b16a87621bd2c66233270807dc4bfe1eb8bd45425b3825130a538c02";
	struct zt_identity a, b;
	uint8_t k1[48], k2[48], want[48], sig[96], wsig[96];
	CHECK_BEGIN("identity: key agreement and signature of §14.2");
	CHECK(zt_identity_from_string(&a, A) == 0 && zt_identity_from_string(&b, B) == 0);
	CHECK(zt_identity_validate(&a) && zt_identity_validate(&b));
	CHECK(zt_identity_agree(&a, &b, k1) == 0 && zt_identity_agree(&b, &a, k2) == 0);
	check_unhex("6c0e85d1148c8a0de8d640aa79018e890368d3b5e96eb6d549f5bc0db31e98b99310738f9c864d5d88e1bed774435f0e", want, 48);
	CHECK(!memcmp(k1, want, 48) && !memcmp(k2, want, 48));
	check_unhex("0911fb78f04a43b0616e91f499f1599f47eceb65187a7f15f85108a23b31a63e5b0d0087199bff17da84b0ca8958fecdcb1fed6b0170539c954d829c3f058306b5c21fd112ddd332126e5629ffc213977525c5621f42d05b1249f5339ee1322a", wsig, 96);
	CHECK(zt_identity_sign(&a, "hello zerotier", 14, sig) == 0 && !memcmp(sig, wsig, 96));
	CHECK(zt_identity_verify(&a, "hello zerotier", 14, wsig, 96) == 1);
	CHECK(zt_identity_verify(&b, "hello zerotier", 14, wsig, 96) == 0);
	CHECK_END();
}

static void test_generate(void)
{
	struct zt_identity g, p;
	char s[400];
	uint8_t sig[96], k1[48], k2[48];
	CHECK_BEGIN("identity: generate gives a valid identity that round-trips");
	CHECK(zt_identity_generate(&g) == 0);
	CHECK(g.has_private && zt_identity_validate(&g));
	CHECK(zt_identity_to_string(&g, 1, s, sizeof(s)) > 0);
	CHECK(zt_identity_from_string(&p, s) == 0 && !memcmp(&p.priv, &g.priv, 64) && zt_identity_equal(&p, &g));
	CHECK(zt_identity_sign(&g, "x", 1, sig) == 0 && zt_identity_verify(&g, "x", 1, sig, 96));
	zt_identity_from_string(&p, "bd091a62a9:0:38c2631b54877d05c1f96c02efa29584de7309fd10aa6bf11673bc52188510635f30fb46666ab73953c97b07c1a5953e8b24b941457ad9d7dfa3cc32d4e90307:5705439130a3e01a8e15ae4c50698a4d8c0cc83b183b4f7b70cd9277e2c28cd6c6d3346802978f70b164fde694ae6d93497e3b34af14c2c6a0447d5a72dbbe9a");
	CHECK(zt_identity_agree(&g, &p, k1) == 0 && zt_identity_agree(&p, &g, k2) == 0 && !memcmp(k1, k2, 48));
	CHECK_END();
}

static void test_sha384(void)
{
	uint8_t h[48], w[48];
	CHECK_BEGIN("crypto: SHA-384 FIPS vectors");
	zt_sha384(h, "abc", 3);
	check_unhex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7", w, 48);
	CHECK(!memcmp(h, w, 48));
	zt_sha384(h, "", 0);
	check_unhex("38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b", w, 48);
	CHECK(!memcmp(h, w, 48));
	{
		const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
		zt_sha384(h, m, strlen(m));
		check_unhex("09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039", w, 48);
		CHECK(!memcmp(h, w, 48));
	}
	CHECK_END();
}

int main(void)
{
	test_roots();
	test_vector_files();
	test_signatures();
	test_ab();
	test_generate();
	test_sha384();
	return CHECK_EXIT();
}
