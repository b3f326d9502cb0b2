/* pii.h: finding personal data in text and replacing it with typed placeholders.
 *
 * Types and their placeholders:
 *   rrn    <|rrn|>    Korean resident registration number YYMMDD-GNNNNNN: a real date,
 *                     gender/century digit G in 1..8 (Feb 29 only in leap years of that
 *                     century), check digit as described in pii.c
 *   phone  <|phone|>  Korean numbers: mobile 010 / 011 016 017 018 019, Seoul 02, the
 *                     area codes 031..064, 070, 080, service numbers 15XX/16XX/18XX-XXXX;
 *                     also +82 10-1234-5678, (02) 723-4567, 02)723-4567
 *   email  <|email|>  local@domain.tld
 *   card   <|card|>   payment card numbers: 13..19 digits, bare or in groups, known
 *                     issuer prefixes (IIN), Luhn-valid
 *   ip     <|ip|>     IPv4 (octets <= 255, no leading zeros, not part of a longer dotted
 *                     number) and IPv6 (8 hex groups, or fewer with one "::")
 *
 * A match never touches an ASCII letter, digit or '_' on either side; any non-ASCII
 * character (Hangul, CJK, punctuation) is a boundary. The scanner is hand-written: one
 * pass, work bounded by a constant per input byte, no allocation, no locale, the same
 * result on every machine. Thread-safe (no state). */
#ifndef DK_DATA_PII_H
#define DK_DATA_PII_H

#include <stddef.h>
#include <stdint.h>

typedef enum { PII_RRN, PII_PHONE, PII_EMAIL, PII_CARD, PII_IP, PII_N_TYPES } pii_type;

/* "rrn", "phone", "email", "card", "ip" (the manifest's keys). */
extern const char *const pii_type_name[PII_N_TYPES];
/* "<|rrn|>", ... */
extern const char *const pii_placeholder[PII_N_TYPES];

typedef struct {
    size_t start, end; /* byte range [start, end) in the text */
    pii_type type;
} pii_match;

/* Finds the first match that starts at or after byte `from` of s[0..n). Returns 1 and
 * fills *m, or 0 when there is none. Matches found by successive calls with from =
 * previous m->end never overlap. */
int pii_find(const uint8_t *s, size_t n, size_t from, pii_match *m);

/* The output capacity pii_scrub needs for an input of n bytes (a placeholder is at
 * most 1.5 times as long as the shortest text it replaces). */
static inline size_t pii_scrub_bound(size_t n) { return n + n / 2 + 16; }

/* Copies s[0..n) to out (capacity >= pii_scrub_bound(n)) with every match replaced by
 * its placeholder; adds the matches to counts[type] (counts may be NULL). Returns the
 * output length. */
size_t pii_scrub(const uint8_t *s, size_t n, uint8_t *out, uint64_t counts[PII_N_TYPES]);

/* The RRN check digit of the first 12 digits d[0..12) (values 0..9): weights
 * 2,3,4,5,6,7,8,9,2,3,4,5, check = (11 - sum mod 11) mod 10. */
int pii_rrn_check_digit(const uint8_t d[12]);

/* 1 when the digits d[0..n) (values 0..9) pass the Luhn check. */
int pii_luhn_ok(const uint8_t *d, size_t n);

#endif
