/* test_dictionary.c - Dictionary codec (§7.1). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tests/check.h"
#include "node/dictionary.h"

int main(void)
{
	uint8_t buf[512], out[64];
	struct zt_wbuf w;
	uint64_t v;
	int n;

	CHECK_BEGIN("escape all special bytes and read back");
	{
		const uint8_t val[] = { 'a', 0, '\r', '\n', '\\', '=', 0xff, 'z' };
		zt_wbuf_init(&w, buf, sizeof(buf));
		zt_dict_add(&w, "k", val, sizeof(val));
		CHECK(w.len == 2 + 13);
		CHECK(memcmp(buf, "k=a\\0\\r\\n\\\\\\e\xffz", w.len) == 0);
		n = zt_dict_get(buf, w.len, "k", out, sizeof(out));
		CHECK(n == (int)sizeof(val) && memcmp(out, val, sizeof(val)) == 0);
		CHECK(zt_dict_get(buf, w.len, "k", out, 3) == -ENOSPC);
		CHECK(zt_dict_get(buf, w.len, "x", out, sizeof(out)) == -ENOENT);
	}
	CHECK_END();

	CHECK_BEGIN("official integer, address, bool forms; LF separators");
	zt_wbuf_init(&w, buf, sizeof(buf));
	zt_dict_add_u64(&w, "v", 7);
	zt_dict_add_addr(&w, "id", 0x538993822bULL);
	zt_dict_add_bool(&w, "b", 1);
	zt_dict_add_str(&w, "n", "test=net");
	CHECK(w.len == strlen("v=0000000000000007\nid=538993822b\nb=1\nn=test\\enet"));
	CHECK(memcmp(buf, "v=0000000000000007\nid=538993822b\nb=1\nn=test\\enet", w.len) == 0);
	CHECK(zt_dict_get_u64(buf, w.len, "v", &v) == 0 && v == 7);
	CHECK(zt_dict_get_u64(buf, w.len, "id", &v) == 0 && v == 0x538993822bULL);
	CHECK(zt_dict_get_bool(buf, w.len, "b", 0) == 1);
	CHECK(zt_dict_get_bool(buf, w.len, "zz", 1) == 1);
	{
		char s[32];
		CHECK(zt_dict_get_str(buf, w.len, "n", s, sizeof(s)) == 8 && strcmp(s, "test=net") == 0);
	}
	CHECK_END();

	CHECK_BEGIN("first occurrence wins, prefixes do not match, CR ends values");
	{
		const char *d = "nw=1\nnwid=abc\nnwid=def\r\nt=T\nneg=-1";
		CHECK(zt_dict_get_u64(d, strlen(d), "nwid", &v) == 0 && v == 0xabc);
		CHECK(zt_dict_get_u64(d, strlen(d), "nw", &v) == 0 && v == 1);
		CHECK(zt_dict_get_u64(d, strlen(d), "n", &v) == -ENOENT);
		CHECK(zt_dict_get_bool(d, strlen(d), "t", 0) == 1);
		CHECK(zt_dict_get_u64(d, strlen(d), "neg", &v) == 0 && v == UINT64_MAX);
	}
	CHECK_END();

	CHECK_BEGIN("bounds: NUL ends the dictionary, a trailing backslash is safe");
	{
		const char d[] = "a=1\0b=2";
		const char e[] = { 'a', '=', 'x', '\\' };
		CHECK(zt_dict_get_u64(d, sizeof(d), "b", &v) == -ENOENT);
		n = zt_dict_get(e, sizeof(e), "a", out, sizeof(out));
		CHECK(n == 1 && out[0] == 'x');
		CHECK(zt_dict_get(e, 2, "a", out, sizeof(out)) == 0);
		CHECK(zt_dict_get(e, 1, "a", out, sizeof(out)) == -ENOENT);
	}
	CHECK_END();

	CHECK_BEGIN("writer overflow sets err");
	zt_wbuf_init(&w, buf, 8);
	zt_dict_add_u64(&w, "v", 7);
	CHECK(w.err);
	CHECK_END();

	return CHECK_EXIT();
}
