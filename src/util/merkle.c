/* merkle.c: RFC 6962 Merkle tree hash, recursively (depth <= 64). */
#include "util/merkle.h"

#include <string.h>

#include "util/hash.h"

static size_t split_point(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static void node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
    uint8_t b[65];
    b[0] = 1;
    memcpy(b + 1, l, 32);
    memcpy(b + 33, r, 32);
    sha256_buf(b, sizeof b, out);
}

static void leaf_hash(const uint8_t d[32], uint8_t out[32])
{
    uint8_t b[33];
    b[0] = 0;
    memcpy(b + 1, d, 32);
    sha256_buf(b, sizeof b, out);
}

void merkle_root(const uint8_t (*leaves)[32], size_t n, uint8_t out[32])
{
    if (n == 0) {
        sha256_buf("", 0, out);
        return;
    }
    if (n == 1) {
        leaf_hash(leaves[0], out);
        return;
    }
    size_t k = split_point(n);
    uint8_t l[32], r[32];
    merkle_root(leaves, k, l);
    merkle_root(leaves + k, n - k, r);
    node(l, r, out);
}

int merkle_proof(const uint8_t (*leaves)[32], size_t n, size_t m, uint8_t (*path)[32])
{
    if (n <= 1 || m >= n)
        return 0;
    size_t k = split_point(n);
    int len;
    if (m < k) {
        len = merkle_proof(leaves, k, m, path);
        merkle_root(leaves + k, n - k, path[len]);
    } else {
        len = merkle_proof(leaves + k, n - k, m - k, path);
        merkle_root(leaves, k, path[len]);
    }
    return len + 1;
}

/* The root from a leaf's hash and its path (RFC 9162, 2.1.3.2), -1 if the path's length
 * does not fit the tree. */
static int root_from_path(const uint8_t h[32], size_t m, size_t n, const uint8_t (*path)[32], int len,
                          uint8_t out[32])
{
    if (n == 1) {
        if (len != 0)
            return -1;
        memcpy(out, h, 32);
        return 0;
    }
    if (len <= 0)
        return -1;
    size_t k = split_point(n);
    uint8_t sub[32];
    if (m < k) {
        if (root_from_path(h, m, k, path, len - 1, sub) != 0)
            return -1;
        node(sub, path[len - 1], out);
    } else {
        if (root_from_path(h, m - k, n - k, path, len - 1, sub) != 0)
            return -1;
        node(path[len - 1], sub, out);
    }
    return 0;
}

int merkle_verify(const uint8_t leaf[32], size_t m, size_t n, const uint8_t (*path)[32], int path_len,
                  const uint8_t root[32])
{
    if (m >= n)
        return 0;
    uint8_t h[32], r[32];
    leaf_hash(leaf, h);
    return root_from_path(h, m, n, path, path_len, r) == 0 && memcmp(r, root, 32) == 0;
}
