/* identity.h - ZeroTier type-0 identities (PROTOCOL.md §2).
 * Implemented in node/identity.c.
 */
#ifndef NETCON_NODE_IDENTITY_H
#define NETCON_NODE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#define ZT_IDENTITY_PUBLIC_BIN_LEN 71	/* address 5, type 1, key 64, privlen 1 */
#define ZT_IDENTITY_STRING_MAX 384
#define ZT_SIGNATURE_LEN 96
#define ZT_PEER_KEY_LEN 48

struct zt_identity {
	uint64_t address;	/* low 40 bits */
	uint8_t pub[64];	/* X25519 public (32) || Ed25519 public (32) */
	uint8_t priv[64];	/* X25519 secret (32) || Ed25519 seed (32) */
	int has_private;
};

/* zt_identity_generate() - new random identity (memory-hard search, ~0.1-2 s). Return 0 or -errno. */
int zt_identity_generate(struct zt_identity *id);

/* zt_identity_validate() - address not reserved and derived from the key. Return 1 if valid, 0 if not. */
int zt_identity_validate(const struct zt_identity *id);

/* zt_address_reserved() - 0 or first byte 0xff */
int zt_address_reserved(uint64_t address);

/* String form "addr:0:pub[:priv]". Return 0 or -EINVAL. Does not validate the address. */
int zt_identity_from_string(struct zt_identity *id, const char *s);
/* Return: length written (without NUL), or -ENOSPC. */
int zt_identity_to_string(const struct zt_identity *id, int include_private, char *buf, size_t cap);

/* Binary form (§2.2). serialize returns bytes written or -ENOSPC;
 * deserialize returns bytes consumed or -EINVAL. */
int zt_identity_serialize(const struct zt_identity *id, int include_private, uint8_t *out, size_t cap);
int zt_identity_deserialize(struct zt_identity *id, const uint8_t *in, size_t len);

/* Signatures (§2.6): 96 bytes. verify returns 1 if good, 0 if not. */
int zt_identity_sign(const struct zt_identity *id, const void *msg, size_t len, uint8_t sig[ZT_SIGNATURE_LEN]);
int zt_identity_verify(const struct zt_identity *id, const void *msg, size_t len,
		       const uint8_t *sig, size_t siglen);

/* Key agreement (§2.7). Return 0 or -EINVAL (degenerate peer key). */
int zt_identity_agree(const struct zt_identity *self, const struct zt_identity *peer,
		      uint8_t key[ZT_PEER_KEY_LEN]);

/* zt_identity_equal() - same address and public key */
int zt_identity_equal(const struct zt_identity *a, const struct zt_identity *b);

/* zt_sha384() - SHA-384 of a whole message (for COM qualifiers, §8.1).
 * Implemented in node/crypto.c. */
void zt_sha384(uint8_t out[48], const void *data, size_t len);

#endif
