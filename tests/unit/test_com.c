/* test_com.c - COM vector (§14.7), sign/verify, agreement gate, revocation. */
#include <stdint.h>
#include <string.h>

#include "tests/check.h"
#include "node/com.h"
#include "node/crypto.h"
#include "node/identity.h"

static const char *ID_A = "bd091a62a9:0:38c2631b54877d05c1f96c02efa29584de7309fd10aa6bf11673bc52188510635f30fb46666ab73953c97b07c1a5953e8b24b941457ad9d7dfa3cc32d4e90307:5705439130a3e01a8e15ae4c50698a4d8c0cc83b183b4f7b70cd9277e2c28cd6c6d3346802978f70b164fde694ae6d93497e3b34af14c2c6a0447d5a72dbbe9a";
static const char *ID_B = "538993822b:0:2bbe3f58a13773d6234a3412859a3a24d4d82fa470b458d9a4ef1d4a0fd9ea265a3a84f11cc1713d756350db2f24aef3fd7a0210f12c938818a0a6d6588d8eff:bb3be54b21ddab027db2c1b5008abad39691e57779bcdf143171f1cef3640ca3bb325d77b16a87621bd2c66233270807dc4bfe1eb8bd45425b3825130a538c02";
static const char *COM_HEX =
	"01000700000000000000000000018bcfe5680000000000001b77400000000000000001bd091a62a912345600000000000000000000000000000002000000538993822bffffffffffffffff00000000000000033434e8a49558a4c7ffffffffffffffff0000000000000004428635917374933fffffffffffffffff00000000000000057e46732dd9b90522ffffffffffffffff00000000000000063449ee080842e4a5ffffffffffffffffbd091a62a96284c1eb7f697b0ab9523cca1f6ac8aed8251ec06fb004aef0b248c73a90f29516c987ffc8d9ef3257d0859451ba9b2143036a70dda77d2b4b9ee65c003dc205ca9e9fe7612bf581898521c62395c6ad692dff87facb7243d51327f7fd72a7ea";

int main(void)
{
	struct zt_identity a, b, c;
	struct zt_com com, parsed, other;
	uint8_t want[400], got[400];
	int wl, gl;
	const uint64_t nwid = 0xbd091a62a9123456ULL;

	zt_identity_from_string(&a, ID_A);
	zt_identity_from_string(&b, ID_B);

	CHECK_BEGIN("sha384 known vectors");
	{
		uint8_t h[48], w[48];
		zt_sha384(h, "abc", 3);
		check_unhex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7", w, 48);
		CHECK(memcmp(h, w, 48) == 0);
	}
	CHECK_END();

	CHECK_BEGIN("com vector 14.7: build + sign reproduces the bytes");
	wl = check_unhex(COM_HEX, want, sizeof(want));
	CHECK(wl == 272);
	zt_com_init(&com, 1700000000000ULL, 1800000, nwid, &b);
	CHECK(zt_com_sign(&com, &a) == 0);
	gl = zt_com_serialize(&com, got, sizeof(got));
	CHECK(gl == 272);
	CHECK(gl == wl && memcmp(got, want, 272) == 0);
	CHECK_END();

	CHECK_BEGIN("com vector 14.7: parse and verify");
	CHECK(zt_com_deserialize(&parsed, want, (size_t)wl) == 272);
	CHECK(parsed.n == 7);
	CHECK(zt_com_nwid(&parsed) == nwid);
	CHECK(zt_com_issued_to(&parsed) == 0x538993822bULL);
	CHECK(zt_com_timestamp(&parsed) == 1700000000000ULL);
	CHECK(zt_com_verify(&parsed, &a) == 1);
	CHECK(zt_com_verify(&parsed, &b) == 0);
	want[100] ^= 1;
	CHECK(zt_com_deserialize(&other, want, (size_t)wl) == 272);
	CHECK(zt_com_verify(&other, &a) == 0);
	want[100] ^= 1;
	CHECK_END();

	CHECK_BEGIN("com truncated and malformed input rejected");
	for (int l = 0; l < wl; l++)
		CHECK(zt_com_deserialize(&other, want, (size_t)l) < 0);
	{
		uint8_t bad[400];
		memcpy(bad, want, (size_t)wl);
		bad[2] = 9;	/* 9 qualifiers > max */
		CHECK(zt_com_deserialize(&other, bad, (size_t)wl) < 0);
		bad[2] = 7;
		bad[0] = 2;
		CHECK(zt_com_deserialize(&other, bad, (size_t)wl) < 0);
	}
	CHECK_END();

	CHECK_BEGIN("com agreement gate");
	/* A's COM on the same network, within ctmd */
	zt_com_init(&other, 1700000000000ULL + 600000, 1800000, nwid, &a);
	zt_com_sign(&other, &a);
	CHECK(zt_com_agrees(&other, &parsed, &b) == 1);	/* A checks B */
	CHECK(zt_com_agrees(&parsed, &other, &a) == 1);	/* B checks A */
	CHECK(zt_com_agrees(&other, &parsed, &a) == 0);	/* wrong identity for B's hash */
	zt_com_init(&other, 1700000000000ULL + 1800001, 1800000, nwid, &a);
	CHECK(zt_com_agrees(&other, &parsed, &b) == 0);	/* too far apart */
	zt_com_init(&other, 1700000000000ULL, 1800000, nwid + 1, &a);
	CHECK(zt_com_agrees(&other, &parsed, &b) == 0);	/* other network */
	CHECK_END();

	CHECK_BEGIN("revocation sign/verify/roundtrip");
	{
		struct zt_revocation r = { 0 }, r2;
		uint8_t buf[256];
		int l;
		r.id = 7;
		r.nwid = nwid;
		r.threshold = 1700000000001ULL;
		r.flags = ZT_REVOCATION_FLAG_FAST_PROPAGATE;
		r.target = b.address;
		r.type = ZT_CRED_COM;
		CHECK(zt_revocation_sign(&r, &a) == 0);
		l = zt_revocation_serialize(&r, buf, sizeof(buf));
		CHECK(l == 4 + 4 + 8 + 4 + 4 + 8 + 8 + 5 + 5 + 1 + 3 + 96 + 2);
		CHECK(zt_revocation_deserialize(&r2, buf, (size_t)l) == l);
		CHECK(r2.target == b.address && r2.threshold == r.threshold && r2.nwid == nwid);
		CHECK(zt_revocation_verify(&r2, &a) == 1);
		r2.threshold++;
		CHECK(zt_revocation_verify(&r2, &a) == 0);
		for (int k = 0; k < l; k++)
			CHECK(zt_revocation_deserialize(&r2, buf, (size_t)k) < 0);
	}
	CHECK_END();

	CHECK_BEGIN("credentials payload layout");
	{
		uint8_t buf[600];
		int l = zt_credentials_build(buf, sizeof(buf), &parsed, NULL, 0);
		CHECK(l == 272 + 9);
		CHECK(memcmp(buf, want, 272) == 0);
		CHECK(buf[272] == 0);
		for (int k = 273; k < l; k++)
			CHECK(buf[k] == 0);
	}
	CHECK_END();

	(void)c;
	return CHECK_EXIT();
}
