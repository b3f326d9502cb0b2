/* test_pii.c: the personal-data scanner (data/pii.h): synthetic positives of every
 * type, near-miss negatives, boundaries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/pii.h"
#include "test.h"

/* The scrubbed text of s (static buffer). */
static const char *scrub(const char *s)
{
    static char out[2048];
    size_t n = strlen(s);
    size_t m = pii_scrub((const uint8_t *)s, n, (uint8_t *)out, NULL);
    out[m] = 0;
    return out;
}

/* Checks that s, alone and inside Korean text, is replaced by placeholder. */
#define CHECK_PII(s, ph)                                                                   \
    do {                                                                                   \
        CHECK_STR(scrub(s), ph);                                                           \
        char buf_[512];                                                                    \
        snprintf(buf_, sizeof buf_, "연락처는 %s 입니다", s);                              \
        char want_[512];                                                                   \
        snprintf(want_, sizeof want_, "연락처는 %s 입니다", ph);                           \
        CHECK_STR(scrub(buf_), want_);                                                     \
    } while (0)

#define CHECK_KEPT(s) CHECK_STR(scrub(s), s)

TEST(pii_rrn_check_digit_and_luhn_follow_their_definitions)
{
    /* 900101-1234568: 2*9+3*0+4*0+5*1+6*0+7*1+8*1+9*2+2*3+3*4+4*5+5*6 = 124, 124 mod 11 =
     * 3, (11-3) mod 10 = 8 */
    const uint8_t d[12] = {9, 0, 0, 1, 0, 1, 1, 2, 3, 4, 5, 6};
    CHECK_EQ(pii_rrn_check_digit(d), 8);
    const uint8_t visa[16] = {4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK(pii_luhn_ok(visa, 16));
    uint8_t bad[16];
    memcpy(bad, visa, 16);
    bad[15] = 2;
    CHECK(!pii_luhn_ok(bad, 16));
}

TEST(pii_finds_resident_registration_numbers)
{
    CHECK_PII("900101-1234568", "<|rrn|>");
    CHECK_PII("9001011234568", "<|rrn|>");     /* bare, check digit valid */
    CHECK_PII("000229-3234561", "<|rrn|>");    /* 2000 is a leap year */
    CHECK_PII("210315-4987654", "<|rrn|>");    /* issued after Oct 2020: check not needed with the dash */
    CHECK_PII("850505-5123450", "<|rrn|>");    /* foreign resident */
    CHECK_STR(scrub("주민번호900101-1234568입니다"), "주민번호<|rrn|>입니다");
}

TEST(pii_keeps_rrn_look_alikes)
{
    CHECK_KEPT("9001011234567");   /* bare with a wrong check digit */
    CHECK_KEPT("901301-1234568");  /* month 13 */
    CHECK_KEPT("900230-1234568");  /* Feb 30 */
    CHECK_KEPT("010229-3234561");  /* Feb 29 of 2001 */
    CHECK_KEPT("900101-9234568");  /* G = 9 */
    CHECK_KEPT("900101-12345689"); /* 8 digits after the dash */
    CHECK_KEPT("A900101-1234568");
    CHECK_KEPT("900101-1234568-2");
    CHECK_KEPT("법률 제12345호");
    CHECK_KEPT("2012121300109.html");
}

TEST(pii_finds_korean_phone_numbers_with_and_without_separators)
{
    CHECK_PII("010-1234-5678", "<|phone|>");
    CHECK_PII("010.1234.5678", "<|phone|>");
    CHECK_PII("010 1234 5678", "<|phone|>");
    CHECK_PII("01012345678", "<|phone|>");
    CHECK_PII("011-318-7092", "<|phone|>");
    CHECK_PII("0193187092", "<|phone|>");
    CHECK_PII("02-723-4567", "<|phone|>");
    CHECK_PII("02-2345-6789", "<|phone|>");
    CHECK_PII("0223456789", "<|phone|>");
    CHECK_PII("031-723-4567", "<|phone|>");
    CHECK_PII("064-7123-4567", "<|phone|>");
    CHECK_PII("070-1234-5678", "<|phone|>");
    CHECK_PII("080 500 4949", "<|phone|>");
    CHECK_PII("1588-1234", "<|phone|>");
    CHECK_PII("1644.0000", "<|phone|>");
    CHECK_STR(scrub("연락주세요027071764"), "연락주세요<|phone|>");
    CHECK_PII("+82-10-1234-5678", "<|phone|>");
    CHECK_PII("+82 10 1234 5678", "<|phone|>");
    CHECK_PII("+821012345678", "<|phone|>");
    CHECK_PII("+82 2 723 4567", "<|phone|>");
    CHECK_PII("+82 010-1234-5678", "<|phone|>");
    CHECK_PII("(02) 723-4567", "<|phone|>");
    CHECK_PII("(031)723-4567", "<|phone|>");
    CHECK_STR(scrub("대표전화 02)723-4567 입니다"), "대표전화 <|phone|> 입니다");
    CHECK_STR(scrub("전화: 010-1234-5678, 02-723-4567."), "전화: <|phone|>, <|phone|>.");
}

TEST(pii_keeps_dates_amounts_years_and_statutes)
{
    CHECK_KEPT("2023-01-05");
    CHECK_KEPT("2023.01.05");
    CHECK_KEPT("2023. 1. 5.");
    CHECK_KEPT("1,234,567원");
    CHECK_KEPT("법률 제12345호");
    CHECK_KEPT("법률 제17219호, 2020. 4. 7.");
    CHECK_KEPT("(1835-1909)");
    CHECK_KEPT("1592-1598년");
    CHECK_KEPT("15881234");            /* a service number needs its separator */
    CHECK_KEPT("010-0234-5678");       /* mid part never starts with 0 */
    CHECK_KEPT("099-123-4567");        /* no such area code */
    CHECK_KEPT("010-1234-56789");
    CHECK_KEPT("010-1234-5678-9");
    CHECK_KEPT("x010-1234-5678");
    CHECK_KEPT("010-1234 5678");       /* mixed separators */
    CHECK_KEPT("+82 99 1234 5678");     /* no such prefix */
    CHECK_KEPT("+1 010-1234-5678x");
    CHECK_KEPT("a+82-10-1234-5678");
    CHECK_KEPT("(2023) 723-4567");
    CHECK_KEPT("72(02) 723-4567");
    CHECK_KEPT("(02) 723-45678");
    CHECK_KEPT("1) 2) 3)");
    CHECK_KEPT("ISBN 978-89-01-12345-6");
    CHECK_KEPT("ISBN 9788901123456");
    CHECK_KEPT("-2.147.483.648 - 2.147.483.647");
}

TEST(pii_finds_email_addresses)
{
    CHECK_PII("hong.gildong@example.co.kr", "<|email|>");
    CHECK_PII("a+tag@mail.example.com", "<|email|>");
    CHECK_PII("0114868595@naver.com", "<|email|>");
    CHECK_STR(scrub("메일은kkw1120@naver.com으로 주세요"), "메일은<|email|>으로 주세요");
    CHECK_STR(scrub("write to me@x.org."), "write to <|email|>.");
    CHECK_KEPT("user@localhost");
    CHECK_KEPT("a@b.c");
    CHECK_KEPT("@twitter");
    CHECK_KEPT("foo@bar.123");
}

TEST(pii_finds_luhn_valid_card_numbers_with_known_prefixes)
{
    CHECK_PII("4111 1111 1111 1111", "<|card|>");
    CHECK_PII("4111-1111-1111-1111", "<|card|>");
    CHECK_PII("4111111111111111", "<|card|>");
    CHECK_PII("5500 0000 0000 0004", "<|card|>");
    CHECK_PII("3782 822463 10005", "<|card|>"); /* American Express 4-6-5 */
    CHECK_PII("6011000990139424", "<|card|>");
    CHECK_PII("3530111333300000", "<|card|>"); /* JCB */
    CHECK_PII("6250941006528599", "<|card|>"); /* UnionPay */
    CHECK_STR(scrub("카드 4111 1111 1111 1111 2024년"), "카드 <|card|> 2024년");
}

TEST(pii_keeps_luhn_invalid_and_unknown_prefix_cards)
{
    CHECK_KEPT("4111 1111 1111 1112");
    CHECK_KEPT("4111111111111112");
    CHECK_KEPT("9111111111111111"); /* no known issuer */
    CHECK_KEPT("1234 5678 9012 3452");
    CHECK_KEPT("4111 1111-1111 1111");
    CHECK_KEPT("41111111111111111111"); /* 20 digits */
}

TEST(pii_finds_ip_addresses_but_not_versions)
{
    CHECK_PII("192.168.0.1", "<|ip|>");
    CHECK_PII("255.255.255.255", "<|ip|>");
    CHECK_PII("10.0.0.12", "<|ip|>");
    CHECK_STR(scrub("https://192.168.1.1/webfolder"), "https://<|ip|>/webfolder");
    CHECK_STR(scrub("host 10.1.2.3:8080"), "host <|ip|>:8080");
    CHECK_PII("2001:db8::8a2e:370:7334", "<|ip|>");
    CHECK_PII("2001:0db8:0000:0000:0000:ff00:0042:8329", "<|ip|>");
    CHECK_PII("fe80::1", "<|ip|>");
    CHECK_KEPT("999.1.1.1");
    CHECK_KEPT("1.2.3.4.5");
    CHECK_KEPT("version 10.2.3.4.5");
    CHECK_KEPT("v1.22.3.4");
    CHECK_KEPT("람보1.2.3.4 씨리즈");
    CHECK_KEPT("01.02.03.04");
    CHECK_KEPT("12:30:45");
    CHECK_KEPT("std::vector");
    CHECK_KEPT("a::b");
    CHECK_KEPT("1:2:3:4");
}

TEST(pii_scrub_counts_by_type_and_keeps_other_bytes)
{
    const char *s = "a 010-1234-5678 b x@y.com c 192.168.0.1 d 4111111111111111 e 900101-1234568 "
                    "f 02-723-4567\xed\x95\x9c";
    uint64_t c[PII_N_TYPES] = {0};
    char out[512];
    size_t m = pii_scrub((const uint8_t *)s, strlen(s), (uint8_t *)out, c);
    out[m] = 0;
    CHECK_STR(out, "a <|phone|> b <|email|> c <|ip|> d <|card|> e <|rrn|> f <|phone|>\xed\x95\x9c");
    CHECK_EQ(c[PII_PHONE], 2);
    CHECK_EQ(c[PII_EMAIL], 1);
    CHECK_EQ(c[PII_IP], 1);
    CHECK_EQ(c[PII_CARD], 1);
    CHECK_EQ(c[PII_RRN], 1);
    CHECK(m <= pii_scrub_bound(strlen(s)));
}

TEST(pii_scrub_stays_within_its_bound_on_dense_short_matches)
{
    /* service numbers are the shortest text for the longest placeholder */
    size_t n = 0;
    char *s = malloc(10000);
    while (n + 10 < 10000) {
        memcpy(s + n, "1588-1234 ", 10);
        n += 10;
    }
    char *out = malloc(pii_scrub_bound(n));
    uint64_t c[PII_N_TYPES] = {0};
    size_t m = pii_scrub((const uint8_t *)s, n, (uint8_t *)out, c);
    CHECK_EQ(c[PII_PHONE], n / 10);
    CHECK(m <= pii_scrub_bound(n));
    free(s);
    free(out);
}

TEST(pii_finds_the_same_with_or_without_an_at_sign_in_the_text)
{
    /* With no '@' ahead the scan skips letters (no e-mail can start); an '@' elsewhere
     * that makes no address must not change what else is found, and vice versa. */
    const char *texts[] = {
        "연락처 010-1234-5678 또는 02-345-6789, 주민 900101-1234568, 카드 4111 1111 1111 1111",
        "server at 192.168.0.1 and fe80::1ff:fe23:4567:890a, call +82 10 1234 5678 now",
        "deadbeef cafe face 1.2.3 version 10.0.19045 (02)345-6789 abc:def",
        "no numbers here at all, only words and a plus + sign",
        "bad:cafe::1 and x.fe80::2 and word.abcd::3, feed:beef:: mid_fe80::4 ab2001:db8::5 (2001:db8::6)",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        char plain[2048], with_at[2048], in[2048], want[2100];
        strcpy(plain, scrub(texts[i]));
        snprintf(in, sizeof in, "%s x@ @y", texts[i]); /* '@'s that make no address */
        strcpy(with_at, scrub(in));
        snprintf(want, sizeof want, "%s x@ @y", plain);
        CHECK_STR(with_at, want);
    }
    CHECK_STR(scrub("mail a.b@example.com or 010-1234-5678"), "mail <|email|> or <|phone|>");
}
