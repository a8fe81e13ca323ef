/* world.h - World objects: the planet and moons (PROTOCOL.md §10.1).
 * Implemented in node/world.c; the built-in planet is in node/planet_default.c.
 */
#ifndef NETCON_NODE_WORLD_H
#define NETCON_NODE_WORLD_H

#include <stdint.h>
#include <sys/socket.h>

#include "node/identity.h"

#define ZT_WORLD_TYPE_PLANET 1
#define ZT_WORLD_TYPE_MOON 127
#define ZT_WORLD_MAX_ROOTS 4
#define ZT_WORLD_MAX_ENDPOINTS 32
#define ZT_WORLD_MAX_DICT 1024
#define ZT_WORLD_MAX_SERIALIZED 4096

struct zt_world_root {
	struct zt_identity id;
	unsigned n_endpoints;
	struct sockaddr_storage endpoints[ZT_WORLD_MAX_ENDPOINTS];
};

struct zt_world {
	uint8_t type;			/* ZT_WORLD_TYPE_* */
	uint64_t id;
	uint64_t ts;
	uint8_t update_key[64];		/* "updates must be signed by" (X25519 || Ed25519) */
	uint8_t sig[96];
	unsigned n_roots;
	struct zt_world_root roots[ZT_WORLD_MAX_ROOTS];
	unsigned dict_len;		/* moons only */
	uint8_t dict[ZT_WORLD_MAX_DICT];
};

extern const unsigned char zt_default_planet[];
extern const unsigned zt_default_planet_len;

/* zt_world_parse() - Return: bytes consumed, or -EINVAL. Does not verify. */
int zt_world_parse(struct zt_world *w, const uint8_t *in, unsigned len);

/* zt_world_serialize() - for_signing wraps in 0x7f.. / 0xf7.. and omits the
 * signature. Return: bytes written, or -ENOSPC. */
int zt_world_serialize(const struct zt_world *w, int for_signing, uint8_t *out, unsigned cap);

/* zt_world_verify() - signature check against key (64-byte C25519 public
 * key; NULL = the world's own update_key). Return 1 if good, else 0. */
int zt_world_verify(const struct zt_world *w, const uint8_t *key);

/* zt_world_sign() - sign with a signing identity's secret (priv = X25519 ||
 * Ed25519 seed). update_key is not changed. Return 0 or -errno. */
int zt_world_sign(struct zt_world *w, const struct zt_identity *signer);

/* zt_world_should_replace() - 1 if update may replace cur (§10.1: same id
 * and type, newer, signed by cur's update key). */
int zt_world_should_replace(const struct zt_world *cur, const struct zt_world *update);

#endif
