/* fuzz_engine.h - what the engine-level fuzz targets (fuzz_packet,
 * fuzz_fragment) share: the engine's fixed test identity and its peer's
 * (made once with zerotier-idtool generate; test data, not secrets), state
 * callbacks that hand out that identity and no roots and keep nothing, and a
 * wire that drops what it is given. Included once, by the target's .c.
 */
#ifndef NC_FUZZ_ENGINE_H
#define NC_FUZZ_ENGINE_H

#include <string.h>

#include "zt_node.h"

static const char *SELF_SEC = "bd091a62a9:0:38c2631b54877d05c1f96c02efa29584de7309fd10aa6bf11673bc52188510635f30fb46666ab73953c97b07c1a5953e8b24b941457ad9d7dfa3cc32d4e90307:5705439130a3e01a8e15ae4c50698a4d8c0cc83b183b4f7b70cd9277e2c28cd6c6d3346802978f70b164fde694ae6d93497e3b34af14c2c6a0447d5a72dbbe9a";
static const char *PEER_SEC = "538993822b:0:2bbe3f58a13773d6234a3412859a3a24d4d82fa470b458d9a4ef1d4a0fd9ea265a3a84f11cc1713d756350db2f24aef3fd7a0210f12c938818a0a6d6588d8eff:bb3be54b21ddab027db2c1b5008abad39691e57779bcdf143171f1cef3640ca3bb325d77b16a87621bd2c66233270807dc4bfe1eb8bd45425b3825130a538c02";

static int st_get(void *u, enum zt_state_type t, const uint64_t id[2], void *buf, unsigned cap)
{
	(void)u;
	(void)id;
	if (t == ZT_STATE_IDENTITY_SECRET && strlen(SELF_SEC) <= cap) {
		memcpy(buf, SELF_SEC, strlen(SELF_SEC));
		return (int)strlen(SELF_SEC);
	}
	if (t == ZT_STATE_PLANET)
		return 0;	/* no roots */
	return -1;
}

static void st_put(void *u, enum zt_state_type t, const uint64_t id[2], const void *d, int l)
{
	(void)u; (void)t; (void)id; (void)d; (void)l;
}

static int w_send(void *u, int64_t s, const struct sockaddr_storage *to, const void *d, unsigned l, unsigned ttl)
{
	(void)u; (void)s; (void)to; (void)d; (void)l; (void)ttl;
	return 0;
}

#endif
