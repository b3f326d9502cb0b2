/* pii.c: the personal-data scanner (see pii.h).
 *
 * One left-to-right pass. At the start of a word of e-mail local-part characters the
 * scanner looks for '@' at its end; at a digit that starts a number it reads the
 * number's digit groups (runs of digits joined by one '-', '.' or ' ') and tries the
 * types on them, longest first; at a hex digit or ':' it tries IPv6. Each attempt reads
 * a bounded number of bytes (a digit run longer than 19 ends the attempt), and a
 * position inside a word or a number never starts one, so the work is linear.
 *
 * Resident registration numbers (주민등록번호): YYMMDD-GABCDEF. G is 1/2 (born 1900-99,
 * male/female), 3/4 (2000-99), 5/6 and 7/8 (foreign residents, same centuries); 9/0
 * (1800s) are not accepted. Until October 2020 the last digit was a check digit:
 *   sum = 2*d1 + 3*d2 + 4*d3 + 5*d4 + 6*d5 + 7*d6 + 8*d7 + 9*d8 + 2*d9 + 3*d10 + 4*d11 + 5*d12
 *   d13 = (11 - sum mod 11) mod 10
 * Numbers issued since 2020-10-05 keep the date and G but end in six random digits, so
 * the check fails for about 9 in 10 of them. The rule here (measured on the dev corpora,
 * docs/data.md): with the dash (YYMMDD-GNNNNNN, a shape nothing else in Korean text has)
 * a valid date and G suffice; thirteen bare digits must also pass the check digit (bare
 * digit strings include barcodes and account numbers, and the check removes 9 in 10). */
#include "data/pii.h"

#include <string.h>

const char *const pii_type_name[PII_N_TYPES] = {"rrn", "phone", "email", "card", "ip"};
const char *const pii_placeholder[PII_N_TYPES] = {"<|rrn|>", "<|phone|>", "<|email|>",
                                                  "<|card|>", "<|ip|>"};

/* ---- character classes (ASCII only: every non-ASCII byte is a boundary) ------------- */

enum { C_DIGIT = 1, C_ALPHA = 2, C_UNDER = 4, C_HEX = 8, C_LOCAL = 16, C_COLON = 32,
       C_JOIN = 64, C_LABEL = 128 };

/* Bits per ASCII byte: digits; letters; '_'; hex digits; e-mail local-part characters
 * (letters, digits, "._%+-"); ':'; the joiners ".-," that glue two numbers into one
 * (1.2, 1-2, 1,234); domain label characters (letters, digits, '-'). */
static const uint8_t CLS[128] = {
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,  16,   0,   0,   0,   0,   0,  16,  64, 208,  80,   0,
    153, 153, 153, 153, 153, 153, 153, 153, 153, 153,  32,   0,   0,   0,   0,   0,
      0, 154, 154, 154, 154, 154, 154, 146, 146, 146, 146, 146, 146, 146, 146, 146,
    146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,   0,   0,   0,   0,  20,
      0, 154, 154, 154, 154, 154, 154, 146, 146, 146, 146, 146, 146, 146, 146, 146,
    146, 146, 146, 146, 146, 146, 146, 146, 146, 146, 146,   0,   0,   0,   0,   0,
};

static int has(uint8_t c, int bits) { return c < 128 && (CLS[c] & bits); }
static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int is_alpha(uint8_t c) { return has(c, C_ALPHA); }
static int is_word(uint8_t c) { return has(c, C_DIGIT | C_ALPHA | C_UNDER); }
static int is_hex(uint8_t c) { return has(c, C_HEX); }
static int is_joiner(uint8_t c) { return has(c, C_JOIN); }
static int is_local(uint8_t c) { return has(c, C_LOCAL); }
static int is_label(uint8_t c) { return has(c, C_LABEL); }

/* A number may start at i: not after a letter/digit, nor after "x." "x-" "x," with x a
 * letter or digit (the tail of 1.2.3.4.5, of v-1, of 1,234). */
static int num_left_ok(const uint8_t *s, size_t i)
{
    if (i == 0)
        return 1;
    if (is_word(s[i - 1]))
        return 0;
    return !(is_joiner(s[i - 1]) && i >= 2 && is_word(s[i - 2]));
}

/* A match may end at e: not before a letter/digit nor before "-x" ".x" ",x". */
static int right_ok(const uint8_t *s, size_t n, size_t e)
{
    if (e >= n)
        return 1;
    if (is_word(s[e]))
        return 0;
    return !(is_joiner(s[e]) && e + 1 < n && is_word(s[e + 1]));
}

/* ---- check digits ------------------------------------------------------------------- */

int pii_rrn_check_digit(const uint8_t d[12])
{
    static const uint8_t w[12] = {2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5};
    unsigned sum = 0;
    for (int i = 0; i < 12; i++)
        sum += w[i] * d[i];
    return (int)((11 - sum % 11) % 10);
}

int pii_luhn_ok(const uint8_t *d, size_t n)
{
    unsigned sum = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned v = d[n - 1 - k];
        if (k & 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return n > 0 && sum % 10 == 0;
}

/* ---- digit groups ----------------------------------------------------------------------- */

#define MAX_GROUPS 8
#define MAX_RUN 19

typedef struct {
    size_t start[MAX_GROUPS], len[MAX_GROUPS];
    uint8_t sep[MAX_GROUPS]; /* sep[k]: the byte before group k (k >= 1) */
    int n;
} groups;

/* Reads the digit groups from i. Returns 0 when a digit run is longer than MAX_RUN. */
static int read_groups(const uint8_t *s, size_t n, size_t i, groups *g)
{
    g->n = 0;
    size_t pos = i;
    for (;;) {
        size_t st = pos;
        while (pos < n && is_digit(s[pos]) && pos - st <= MAX_RUN)
            pos++;
        if (pos - st > MAX_RUN)
            return 0;
        g->start[g->n] = st;
        g->len[g->n] = pos - st;
        g->n++;
        if (g->n == MAX_GROUPS || pos + 1 >= n || !is_digit(s[pos + 1]) ||
            (s[pos] != '-' && s[pos] != '.' && s[pos] != ' '))
            return 1;
        g->sep[g->n] = s[pos];
        pos++;
    }
}

/* The digits of groups [0, k) as values, into d (>= 19*... capacity); returns count. */
static size_t group_digits(const uint8_t *s, const groups *g, int k, uint8_t *d, size_t cap)
{
    size_t m = 0;
    for (int j = 0; j < k; j++)
        for (size_t t = 0; t < g->len[j]; t++) {
            if (m == cap)
                return cap + 1;
            d[m++] = (uint8_t)(s[g->start[j] + t] - '0');
        }
    return m;
}

static int same_sep(const groups *g, int k, const char *allowed)
{
    for (int j = 1; j < k; j++)
        if (g->sep[j] != g->sep[1] || !strchr(allowed, g->sep[j]))
            return 0;
    return 1;
}

static size_t group_end(const groups *g, int k) { return g->start[k - 1] + g->len[k - 1]; }

static unsigned value(const uint8_t *d, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + d[i];
    return v;
}

/* ---- the types on digit groups ---------------------------------------------------------- */

static int card_iin_ok(const uint8_t *d, size_t n)
{
    unsigned p1 = d[0], p2 = value(d, 2), p3 = value(d, 3), p4 = value(d, 4);
    if (p1 == 4)
        return n == 13 || n == 16 || n == 19;                 /* Visa */
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) /* Mastercard */
        return n == 16;
    if (p2 == 34 || p2 == 37) /* American Express */
        return n == 15;
    if (p2 == 36 || (p3 >= 300 && p3 <= 305) || p2 == 38 || p2 == 39) /* Diners */
        return n >= 14 && n <= 16;
    if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) || /* Discover */
        (p4 >= 3528 && p4 <= 3589) ||                          /* JCB */
        p2 == 62)                                              /* UnionPay */
        return n >= 16 && n <= 19;
    return 0;
}

/* Card: 13..19 digits bare, or in groups of 4 (the last 1..4) joined by ' ' or '-', or
 * 4-6-5 / 4-6-4 (American Express, Diners). Returns the number of groups used, or 0. */
static int match_card(const uint8_t *s, size_t n, const groups *g)
{
    uint8_t d[24];
    size_t total = 0;
    for (int j = 0; j < g->n; j++)
        total += g->len[j];
    if (total < 13) /* the common case: no card can be made of these groups */
        return 0;
    for (int k = g->n; k >= 1; k--) {
        if (k == 1) {
            if (g->len[0] < 13 || g->len[0] > 19)
                continue;
        } else {
            if (!same_sep(g, k, " -"))
                continue;
            int fours = 1;
            for (int j = 0; j + 1 < k; j++)
                fours &= g->len[j] == 4;
            int amex = k == 3 && g->len[0] == 4 && g->len[1] == 6 &&
                       (g->len[2] == 5 || g->len[2] == 4);
            if (!(fours && g->len[k - 1] >= 1 && g->len[k - 1] <= 4) && !amex)
                continue;
        }
        size_t m = group_digits(s, g, k, d, sizeof d);
        if (m < 13 || m > 19 || !card_iin_ok(d, m) || !pii_luhn_ok(d, m) ||
            !right_ok(s, n, group_end(g, k)))
            continue;
        return k;
    }
    return 0;
}

static int leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* d[0..13): YYMMDD G NNNNNN. */
static int rrn_date_ok(const uint8_t *d)
{
    static const uint8_t mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned yy = value(d, 2), mm = value(d + 2, 2), dd = value(d + 4, 2), g = d[6];
    if (g < 1 || g > 8 || mm < 1 || mm > 12 || dd < 1 || dd > mdays[mm - 1])
        return 0;
    unsigned year = (g == 1 || g == 2 || g == 5 || g == 6 ? 1900 : 2000) + yy;
    return !(mm == 2 && dd == 29 && !leap(year));
}

static int match_rrn(const uint8_t *s, size_t n, const groups *g)
{
    uint8_t d[24];
    int k;
    if (g->n >= 2 && g->len[0] == 6 && g->len[1] == 7 && g->sep[1] == '-')
        k = 2;
    else if (g->len[0] == 13)
        k = 1;
    else
        return 0;
    group_digits(s, g, k, d, sizeof d);
    if (!rrn_date_ok(d) || !right_ok(s, n, group_end(g, k)))
        return 0;
    if (k == 1 && pii_rrn_check_digit(d) != d[12])
        return 0;
    return k;
}

/* The Korean area codes (지역번호) besides Seoul's 02. */
static int area3_ok(unsigned a)
{
    static const unsigned codes[] = {31, 32, 33, 41, 42, 43, 44, 51, 52,
                                     53, 54, 55, 61, 62, 63, 64};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        if (a == codes[i])
            return 1;
    return 0;
}

/* Length of the prefix of d[0..m) that is a phone prefix with the subscriber's middle
 * part of mid_len digits allowed (bit 3: 3 digits, bit 4: 4 digits), or 0. */
static size_t phone_prefix(const uint8_t *d, size_t m, unsigned *mid_bits, int *mid_min)
{
    if (m < 2 || d[0] != 0)
        return 0;
    if (d[1] == 2) { /* Seoul */
        *mid_bits = 1u << 3 | 1u << 4;
        *mid_min = 2;
        return 2;
    }
    if (m < 3)
        return 0;
    unsigned a = value(d, 3);
    *mid_min = 1;
    if (a == 10 || a == 70) {
        *mid_bits = 1u << 4;
        return 3;
    }
    if (a == 11 || (a >= 16 && a <= 19)) {
        *mid_bits = 1u << 3 | 1u << 4;
        return 3;
    }
    if (area3_ok(a) || a == 80) { /* 080: toll-free */
        *mid_bits = 1u << 3 | 1u << 4;
        *mid_min = 2;
        return 3;
    }
    return 0;
}

/* A national number: PREFIX-MID-XXXX (one separator throughout) or bare. lead0: the
 * prefix's leading 0 is not written (after +82). Returns the groups used, or 0. */
static int phone_national(const uint8_t *s, size_t n, const groups *g, int lead0)
{
    uint8_t d[24];
    unsigned bits;
    int mid_min;
    if (lead0 && s[g->start[0]] == '0') /* "+82 010-...": the 0 written anyway */
        lead0 = 0;
    d[0] = 0;
    size_t l0 = g->len[0] + (size_t)lead0;
    if (g->n >= 3 && same_sep(g, 3, "-. ") && g->len[2] == 4 && l0 <= 3) {
        size_t m = (size_t)lead0 + group_digits(s, g, 2, d + lead0, sizeof d - 1);
        if (m <= 8 && phone_prefix(d, l0, &bits, &mid_min) == l0 && (bits >> g->len[1] & 1) &&
            d[l0] >= mid_min && right_ok(s, n, group_end(g, 3)))
            return 3;
    }
    if (l0 >= 9 && l0 <= 11) {
        size_t m = (size_t)lead0 + group_digits(s, g, 1, d + lead0, sizeof d - 1);
        size_t p = phone_prefix(d, m, &bits, &mid_min);
        if (p && m - p >= 7 && (bits >> (m - p - 4) & 1) && d[p] >= mid_min &&
            right_ok(s, n, group_end(g, 1)))
            return 1;
    }
    return 0;
}

/* Phone: a national number, or 15XX/16XX/18XX-XXXX (separator required: eight bare
 * digits are too often something else). */
static int match_phone(const uint8_t *s, size_t n, const groups *g)
{
    uint8_t d[24];
    int k = phone_national(s, n, g, 0);
    if (k)
        return k;
    if (g->n >= 2 && g->len[0] == 4 && g->len[1] == 4 && right_ok(s, n, group_end(g, 2))) {
        group_digits(s, g, 2, d, sizeof d);
        unsigned a = value(d, 4), b = value(d + 4, 4);
        /* 1592-1598 is a span of years, not a service number */
        int years = b >= a && b <= 2100;
        if ((d[0] == 1 && (d[1] == 5 || d[1] == 6 || d[1] == 8)) && !years)
            return 2;
    }
    return 0;
}

/* +82 then the national number without its 0: +82-10-1234-5678, +82 2 723 4567,
 * +821012345678. i is at '+'; returns the end, or 0. */
static size_t match_intl_phone(const uint8_t *s, size_t n, size_t i)
{
    if (i + 4 >= n || s[i + 1] != '8' || s[i + 2] != '2' || (i > 0 && is_word(s[i - 1])))
        return 0;
    size_t j = i + 3;
    if ((s[j] == '-' || s[j] == ' ' || s[j] == '.') && j + 1 < n && is_digit(s[j + 1]))
        j++;
    groups g;
    if (!is_digit(s[j]) || !read_groups(s, n, j, &g))
        return 0;
    int k = phone_national(s, n, &g, 1);
    return k ? group_end(&g, k) : 0;
}

/* An area code in parentheses or closed by one: (02) 723-4567, (031)723-4567,
 * 02)723-4567. g holds the groups read from i (the area code alone, then ')').
 * Returns the end and sets *start (at the '(' if there is one), or returns 0. */
static size_t match_paren_phone(const uint8_t *s, size_t n, size_t i, const groups *g,
                                size_t *start)
{
    size_t e = group_end(g, 1);
    if (g->n != 1 || g->len[0] < 2 || g->len[0] > 3 || e >= n || s[e] != ')')
        return 0;
    uint8_t d[4];
    unsigned bits;
    int mid_min;
    group_digits(s, g, 1, d, sizeof d);
    if (phone_prefix(d, g->len[0], &bits, &mid_min) != g->len[0])
        return 0;
    size_t j = e + 1;
    if (j < n && s[j] == ' ')
        j++;
    groups h;
    if (j >= n || !is_digit(s[j]) || !read_groups(s, n, j, &h) || h.n < 2 ||
        !same_sep(&h, 2, "-. ") || !(bits >> h.len[0] & 1) || h.len[1] != 4 ||
        s[j] - '0' < mid_min || !right_ok(s, n, group_end(&h, 2)))
        return 0;
    *start = i > 0 && s[i - 1] == '(' ? i - 1 : i;
    if (*start > 0 && is_word(s[*start - 1])) /* x(02) 723-4567 */
        return 0;
    return group_end(&h, 2);
}

/* IPv4: four groups of 1..3 digits joined by '.', each <= 255, no leading zero. */
static int match_ipv4(const uint8_t *s, size_t n, const groups *g)
{
    if (g->n < 4 || !same_sep(g, 4, "."))
        return 0;
    /* four one-digit numbers are a list ("1.2.3.4편"), measured on the dev corpora */
    if (g->len[0] + g->len[1] + g->len[2] + g->len[3] == 4)
        return 0;
    for (int j = 0; j < 4; j++) {
        const uint8_t *p = s + g->start[j];
        size_t l = g->len[j];
        if (l > 3 || (l > 1 && p[0] == '0'))
            return 0;
        unsigned v = 0;
        for (size_t t = 0; t < l; t++)
            v = v * 10 + (unsigned)(p[t] - '0');
        if (v > 255)
            return 0;
    }
    /* a fifth dotted group (1.2.3.4.5) fails right_ok: '.' then a digit */
    return right_ok(s, n, group_end(g, 4)) ? 4 : 0;
}

/* IPv6 from i (a hex digit or ':'): 8 groups of 1..4 hex digits joined by ':', or
 * 2..7 groups with one "::" and at least one decimal digit (so that C++'s a::b is not
 * an address). Returns the end, or 0. */
static size_t match_ipv6(const uint8_t *s, size_t n, size_t i)
{
    size_t pos = i;
    int ng = 0, dbl = 0, digit = 0;
    if (s[pos] == ':') {
        if (pos + 1 >= n || s[pos + 1] != ':')
            return 0;
        dbl = 1;
        pos += 2;
    }
    for (;;) {
        size_t st = pos;
        while (pos < n && is_hex(s[pos]) && pos - st < 5)
            digit |= is_digit(s[pos]), pos++;
        size_t h = pos - st;
        if (h == 0)
            break;
        if (h > 4 || (pos < n && is_word(s[pos])))
            return 0;
        if (++ng > 8)
            return 0;
        if (pos + 1 < n && s[pos] == ':' && s[pos + 1] == ':') {
            if (dbl)
                return 0;
            dbl = 1;
            pos += 2;
        } else if (pos + 1 < n && s[pos] == ':' && is_hex(s[pos + 1])) {
            pos++;
        } else {
            break;
        }
    }
    if (dbl ? !(ng >= 2 && ng <= 7 && digit) : ng != 8)
        return 0;
    if (pos < n && (is_word(s[pos]) || s[pos] == ':' ||
                    (s[pos] == '.' && pos + 1 < n && is_digit(s[pos + 1]))))
        return 0;
    return pos;
}

/* ---- e-mail --------------------------------------------------------------------------- */

/* The local part is s[i..at); returns the end of the address, or 0. */
static size_t match_email(const uint8_t *s, size_t n, size_t i, size_t at)
{
    while (i < at && (s[i] == '.' || s[i] == '-' || s[i] == '+'))
        i++;
    if (at - i < 1 || at - i > 64 || s[at - 1] == '.')
        return 0;
    size_t pos = at + 1, end = 0;
    int labels = 0;
    for (;;) {
        size_t st = pos;
        while (pos < n && is_label(s[pos]) && pos - st <= 63)
            pos++;
        size_t l = pos - st;
        if (l == 0 || l > 63 || s[st] == '-' || s[pos - 1] == '-')
            break;
        labels++;
        int letters = l >= 2;
        for (size_t t = st; t < pos; t++)
            letters &= is_alpha(s[t]);
        if (labels >= 2 && letters)
            end = pos; /* a top-level domain: the address may end here */
        if (pos - at > 254 || pos + 1 >= n || s[pos] != '.' || !is_label(s[pos + 1]))
            break;
        pos++;
    }
    if (!end || (end < n && (is_word(s[end]) || s[end] == '@' || s[end] == '-')))
        return 0;
    if (end < n && s[end] == '.' && end + 1 < n && is_label(s[end + 1]))
        return 0;
    return end;
}

/* ---- the scanner ---------------------------------------------------------------------- */

int pii_find(const uint8_t *s, size_t n, size_t from, pii_match *m)
{
    size_t word_end = from; /* end of the local-part word scanned last */
    /* Without an '@' ahead no e-mail address can start: then only digits, hex digits,
     * ':' and '+' can begin a match, and the hot loop skips every other letter instead
     * of stopping at each word (most documents have no '@'; the result is the same). */
    int email = from < n && memchr(s + from, '@', n - from) != NULL;
    /* Nor an IPv6 address without a ':' ahead (it has "::" or seven ':'): then hex
     * letters are skipped too, and a Korean or English document without '@' or ':'
     * stops only at digits and '+'. */
    int v6 = from < n && memchr(s + from, ':', n - from) != NULL;
    for (size_t i = from; i < n; i++) {
        if (email)
            while (i < n && !has(s[i], C_LOCAL | C_COLON)) /* the hot loop: most bytes */
                i++;
        else if (v6)
            while (i < n && !has(s[i], C_DIGIT | C_HEX | C_COLON) && s[i] != '+')
                i++;
        else
            while (i < n && !is_digit(s[i]) && s[i] != '+')
                i++;
        if (i == n)
            break;
        uint8_t c = s[i];
        if (email && is_local(c) && i >= word_end && (i == 0 || !is_local(s[i - 1]))) {
            size_t j = i;
            while (j < n && is_local(s[j]))
                j++;
            word_end = j;
            if (j < n && s[j] == '@') {
                size_t e = match_email(s, n, i, j);
                if (e) {
                    while (s[i] == '.' || s[i] == '-' || s[i] == '+')
                        i++;
                    *m = (pii_match){i, e, PII_EMAIL};
                    return 1;
                }
            }
        }
        if (is_digit(c) && num_left_ok(s, i)) {
            groups g;
            if (read_groups(s, n, i, &g)) {
                int k;
                pii_type t;
                if ((k = match_card(s, n, &g)))
                    t = PII_CARD;
                else if ((k = match_rrn(s, n, &g)))
                    t = PII_RRN;
                else if ((k = match_phone(s, n, &g)))
                    t = PII_PHONE;
                else if ((k = match_ipv4(s, n, &g)))
                    t = PII_IP;
                if (k) {
                    *m = (pii_match){i, group_end(&g, k), t};
                    return 1;
                }
                size_t st, e = match_paren_phone(s, n, i, &g, &st);
                if (e) {
                    *m = (pii_match){st, e, PII_PHONE};
                    return 1;
                }
            }
        }
        if (c == '+') {
            size_t e = match_intl_phone(s, n, i);
            if (e) {
                *m = (pii_match){i, e, PII_PHONE};
                return 1;
            }
        }
        if (v6 && (is_hex(c) || c == ':') && (i == 0 || (!is_word(s[i - 1]) && s[i - 1] != ':' &&
                                                  !(s[i - 1] == '.' && i >= 2 && is_word(s[i - 2]))))) {
            size_t e = match_ipv6(s, n, i);
            if (e) {
                *m = (pii_match){i, e, PII_IP};
                return 1;
            }
        }
    }
    return 0;
}

size_t pii_scrub(const uint8_t *s, size_t n, uint8_t *out, uint64_t counts[PII_N_TYPES])
{
    size_t pos = 0, o = 0;
    pii_match m;
    while (pii_find(s, n, pos, &m)) {
        memcpy(out + o, s + pos, m.start - pos);
        o += m.start - pos;
        size_t pl = strlen(pii_placeholder[m.type]);
        memcpy(out + o, pii_placeholder[m.type], pl);
        o += pl;
        if (counts)
            counts[m.type]++;
        pos = m.end;
    }
    memcpy(out + o, s + pos, n - pos);
    return o + n - pos;
}
