/* test_corpus.c: the HTML-to-text converter (src/corpus/html_text.h) and
 * `dokja corpus debian` (src/corpus/debian_corpus.h) on fake package trees. */
#include "test.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "corpus/debian_corpus.h"
#include "corpus/html_text.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/utf8.h"

/* ---- helpers ---------------------------------------------------------------------- */

/* Converts html into a NUL-terminated string (static; one per call). */
static const char *h2t_opts(const char *html, const html_opts *o)
{
    static char s[8192];
    text_buf b = {0};
    dk_err err;
    if (html_to_text("test.html", (const uint8_t *)html, strlen(html), o, &b, &err) != 0) {
        snprintf(s, sizeof s, "ERROR: %s", err.msg);
    } else {
        size_t n = b.len < sizeof s - 1 ? b.len : sizeof s - 1;
        if (n)
            memcpy(s, b.data, n);
        s[n] = 0;
    }
    text_buf_free(&b);
    return s;
}

static const char *h2t(const char *html) { return h2t_opts(html, NULL); }

/* Writes path (creating its directory) with text. */
static int put_file(const char *path, const char *text)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        if (fs_mkdirs(dir, NULL) != 0)
            return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Reads a whole file into a static NUL-terminated buffer ("" if missing). */
static const char *slurp(const char *path)
{
    static char s[1 << 16];
    s[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return s;
    size_t n = fread(s, 1, sizeof s - 1, f);
    s[n] = 0;
    fclose(f);
    return s;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Number of entries in dir (-1 if it does not exist). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static const char *LO_HEAD =
    "<!DOCTYPE html>\n<html lang=\"ko\"><head><title>제목 머리</title>"
    "<script type=\"text/javascript\">var x = \"<div>스크립트</div>\";</script></head><body>"
    "<header id=\"TopLeftHeader\"><p>머리글 탐색</p></header>"
    "<aside class=\"leftside\"><div><label>색인 찾기</label></div></aside>"
    "<div id=\"DisplayArea\" itemprop=\"softwareHelp\">\n";
static const char *LO_TAIL =
    "\n</div><div id=\"SearchFrame\"></div>"
    "<footer><div id=\"DEBUG\"><p>바닥글 정보</p></div></footer></body></html>\n";

/* A fake installation of the three packages under dir. */
static int make_tree(const char *dir)
{
    char p[1024], page[4096];
    int rc = 0;
    snprintf(p, sizeof p, "%s/usr/share/libreoffice/help/ko/text/a.html", dir);
    snprintf(page, sizeof page,
             "%s<h1>첫 페이지</h1>\n<p class=\"paragraph\">한국어 <span class=\"emph\">문장</span>"
             "입니다.</p><p>English only paragraph.</p><p>반복 문단</p><p>7</p><p>가</p>"
             "<p>설정은 <span class=\"MAC\">환경 설정</span><span>도구 - 옵션</span>에 있습니다.</p>%s",
             LO_HEAD, LO_TAIL);
    rc |= put_file(p, page);
    snprintf(p, sizeof p, "%s/usr/share/libreoffice/help/ko/text/b.html", dir);
    snprintf(page, sizeof page, "%s<p>반복 문단</p><p>두 번째 페이지 &amp; 기호</p>%s", LO_HEAD,
             LO_TAIL);
    rc |= put_file(p, page);
    snprintf(p, sizeof p, "%s/usr/share/libreoffice/help/ko/text/sub/c.html", dir);
    snprintf(page, sizeof page, "%s<p>하위 디렉터리</p>%s", LO_HEAD, LO_TAIL);
    rc |= put_file(p, page);
    snprintf(p, sizeof p, "%s/usr/share/libreoffice/help/ko/noscript.html", dir);
    rc |= put_file(p, "<html><body><h1>자바스크립트를 켜십시오</h1></body></html>\n");
    snprintf(p, sizeof p, "%s/usr/share/libreoffice/help/ko/contents.js", dir);
    rc |= put_file(p, "var x = '<p>한국어</p>';\n");
    snprintf(p, sizeof p, "%s/usr/share/doc/debian/FAQ/ko/basic.ko.html", dir);
    rc |= put_file(p, "<html><head><title>1장</title></head><body>"
                      "<div class=\"navheader\"><table><tr><th>1장 이전</th></tr></table></div>"
                      "<div class=\"chapter\"><div class=\"toc\"><p><strong>차례</strong></p></div>"
                      "<p>\n데비안은 자유\n운영 체제입니다.\n</p>"
                      "<pre class=\"screen\">\napt install 패키지\n</pre></div>"
                      "<div class=\"navfooter\"><table><tr><td>처음으로</td></tr></table></div>"
                      "</body></html>\n");
    snprintf(p, sizeof p, "%s/usr/share/libreoffice/help/en-US/text/a.html", dir);
    snprintf(page, sizeof page,
             "%s<h1>First page</h1><p>Hello,&nbsp;world.</p><p>Hello, world.</p>"
             "<p>Choose <span class=\"MAC\">Preferences</span><span>Tools - Options</span>.</p>"
             "<p>12</p>%s",
             LO_HEAD, LO_TAIL);
    rc |= put_file(p, page);
    return rc;
}

static const char *EXPECT_KO = "첫 페이지\n"
                               "한국어 문장입니다.\n"
                               "반복 문단\n"
                               "설정은 도구 - 옵션에 있습니다.\n"
                               "두 번째 페이지 & 기호\n"
                               "하위 디렉터리\n"
                               "데비안은 자유 운영 체제입니다.\n"
                               "apt install 패키지\n";
static const char *EXPECT_EN = "First page\n"
                               "Hello, world.\n"
                               "Choose Tools - Options.\n";

/* A fresh directory under the scratch dir. */
static const char *scratch(const char *name)
{
    static char p[4][512];
    static int slot;
    char *s = p[slot++ & 3];
    snprintf(s, 512, "%s/%s", test_tmpdir(), name);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s);
    if (system(cmd) != 0)
        return NULL;
    return s;
}

/* ---- html_to_text ---------------------------------------------------------------- */

TEST(html_decodes_basic_entities)
{
    CHECK_STR(h2t("a &amp; b &lt;c&gt; &quot;q&quot; &apos;s&apos;"), "a & b <c> \"q\" 's'\n");
    CHECK_STR(h2t("&copy; 2024 &mdash; caf&eacute; &hellip;"), "© 2024 — café …\n");
}

TEST(html_nbsp_is_a_collapsible_space)
{
    CHECK_STR(h2t("a&nbsp;&nbsp; b"), "a b\n");
    CHECK_STR(h2t("&nbsp;x&nbsp;"), "x\n");
    CHECK_STR(h2t("a\xc2\xa0\xe3\x80\x80" "b"), "a b\n"); /* literal U+00A0, U+3000 */
}

TEST(html_decodes_numeric_references)
{
    CHECK_STR(h2t("&#65;&#x42;&#X43;&#xAC00;&#54620;"), "ABC가한\n");
    CHECK_STR(h2t("&#65 &#x42x"), "A Bx\n"); /* ';' is optional, as in HTML5 */
    CHECK_STR(h2t("&#x1F600;"), "\xf0\x9f\x98\x80\n");
}

TEST(html_invalid_numeric_references_become_replacement_char)
{
    CHECK_STR(h2t("&#0;|&#xD800;|&#x110000;|&#99999999999999999999;"),
              "\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd\n");
    CHECK_STR(h2t("&#x80;&#150;"), "€–\n"); /* Windows-1252, as browsers read them */
    CHECK_STR(h2t("a&#1;b&#x81;c"), "abc\n"); /* control characters are dropped */
    CHECK_STR(h2t("&#; &#x; &#xg;"), "&#; &#x; &#xg;\n"); /* no digits: not a reference */
}

TEST(html_unknown_named_references_stay_verbatim)
{
    CHECK_STR(h2t("&bogus; &amp AT&T & x &;"), "&bogus; &amp AT&T & x &;\n");
    CHECK_STR(h2t("&Amp; &Eacute; &eacute;"), "&Amp; É é\n"); /* names are case-sensitive */
}

TEST(html_skips_boilerplate_elements)
{
    const char *page =
        "<html><head><title>T</title><style>p{color:red}</style><meta charset=utf-8>"
        "<noscript><meta http-equiv=refresh></noscript></head><body>"
        "<header><a>Home</a></header><nav><ul><li>Menu</li></ul></nav>"
        "<aside><input type=checkbox><label>Contents</label></aside>"
        "<p>Body <button>Click</button>text</p>"
        "<script>document.write('<p>no</p>')</script><footer>Foot</footer></body></html>";
    CHECK_STR(h2t(page), "Body text\n");
}

TEST(html_skipped_element_nesting_is_counted)
{
    CHECK_STR(h2t("<aside><aside>x</aside>y</aside>z"), "z\n");
    CHECK_STR(h2t("<nav><div><nav>a</nav>b</div>c</nav>d"), "d\n");
    const char *cls[] = {"navheader"};
    html_opts o = {.skip_classes = cls, .n_skip_classes = 1};
    CHECK_STR(h2t_opts("<div class=\"top navheader\"><div>a</div><div><div>b</div></div>c</div>"
                       "<div>kept</div>",
                       &o),
              "kept\n");
    /* A class is a whole token: "navheaders" is not "navheader". */
    CHECK_STR(h2t_opts("<div class=\"navheaders\">shown</div>", &o), "shown\n");
    /* Void and self-closed elements open nothing to skip. */
    CHECK_STR(h2t("<label/>a<nav/>b"), "a\nb\n");
}

TEST(html_raw_text_elements_are_not_markup)
{
    CHECK_STR(h2t("<script>var s = \"</div><p>x</p><!--\";</script>ok<SCRIPT>a</Script >!"),
              "ok!\n");
    CHECK_STR(h2t("<style>a > b {}</style><p>after</p>"), "after\n");
    CHECK_STR(h2t("<p>a</p><script>never closed <p>b</p>"), "a\n");
}

TEST(html_block_tags_end_lines)
{
    CHECK_STR(h2t("<p>one</p><p>two<br>three<br/>four</p><ul><li>a<li>b</ul>"
                  "<table><tr><td>c</td><td>d</td></tr></table><h2>h</h2>tail<hr>end"),
              "one\ntwo\nthree\nfour\na\nb\nc\nd\nh\ntail\nend\n");
    CHECK_STR(h2t("<dl><dt>term</dt><dd>def</dd></dl><div>x<div>y</div>z</div>"),
              "term\ndef\nx\ny\nz\n");
}

TEST(html_inline_tags_are_removed_without_space)
{
    CHECK_STR(h2t("<p>He<b>ll</b>o <a href='x'>wor</a>ld<img src=x alt=\"Icon\">!</p>"),
              "Hello world!\n");
    CHECK_STR(h2t("<P CLASS=x>Upper<BR>case</P>"), "Upper\ncase\n");
}

TEST(html_whitespace_is_collapsed_and_lines_trimmed)
{
    CHECK_STR(h2t("<p>  a \n\t b  </p>\n\n<p> </p><p>\r\n</p>  c  "), "a b\nc\n");
    CHECK_STR(h2t(""), "");
    CHECK_STR(h2t("   \n  "), "");
}

TEST(html_pre_keeps_its_lines)
{
    CHECK_STR(h2t("<pre>\nx = 1\n    y = 2\n\n</pre>after"), "x = 1\ny = 2\nafter\n");
    CHECK_STR(h2t("<p>not\npre</p>"), "not pre\n");
}

TEST(html_comments_cdata_doctype_removed)
{
    CHECK_STR(h2t("<!DOCTYPE html><?xml version='1.0'?>a<!-- <p>hidden</p> -->b"
                  "<![CDATA[c]]>d<!---->e<!-->f"),
              "abdef\n");
    CHECK_STR(h2t("x<!-- never closed <p>y</p>"), "x\n");
}

TEST(html_attributes_with_quotes_and_gt)
{
    CHECK_STR(h2t("<p title=\"a>b\" class='c>d' data-x=y>t</p>"), "t\n");
    CHECK_STR(h2t("<p title=\"never closed>t</p>"), "");
}

TEST(html_lone_less_than_is_text)
{
    CHECK_STR(h2t("a < b <3 and 1<2 </ x> y"), "a < b <3 and 1<2 y\n");
}

TEST(html_root_id_limits_output)
{
    html_opts o = {.root_id = "DisplayArea"};
    CHECK_STR(h2t_opts("<p>before</p><div id=\"DisplayArea\"><div>in</div>side</div>after", &o),
              "in\nside\n");
    CHECK_STR(h2t_opts("<div id=\"Other\">x</div>", &o), "");
    CHECK_STR(h2t_opts("<div id=DisplayArea><aside>no</aside>yes</div>", &o), "yes\n");
}

TEST(html_rejects_invalid_utf8_and_keeps_buffer)
{
    text_buf b = {0};
    text_buf_append(&b, "kept\n", 5);
    dk_err err;
    const uint8_t bad[] = "<p>ab\xff</p>";
    CHECK(html_to_text("page.html", bad, sizeof bad - 1, NULL, &b, &err) == -1);
    CHECK_STR(err.msg, "page.html: invalid UTF-8 at byte 5");
    CHECK_EQ(b.len, 5);
    const uint8_t surrogate[] = "\xed\xa0\x80";
    CHECK(html_to_text("s.html", surrogate, 3, NULL, &b, &err) == -1);
    text_buf_free(&b);
}

TEST(html_drops_control_chars_bom_and_soft_hyphen)
{
    CHECK_STR(h2t("\xef\xbb\xbfhy&shy;phen a\x01" "b\x7f" "c\xc2\x9d" "d"), "hyphen abcd\n");
}

TEST(html_output_is_always_clean_utf8)
{
    /* Random soup of fragments: whatever the input, every output line is non-empty
     * valid UTF-8 without leading, trailing or doubled spaces. */
    static const char *frag[] = {"<p>", "</p>", "<div class=\"navheader\">", "</div>", "<aside>",
                                 "</aside>", "&amp;", "&#x", "&#", ";", "&nbsp;", " ", "\n",
                                 "한", "a", "<!--", "-->", "<pre>", "</pre>", "<script>",
                                 "</script>", "<", ">", "\"", "'", "=", "<br>", "&", "\xc2\xa0",
                                 "\t", "<b>", "x", "1", "<div id=\"R\">"};
    const size_t nf = sizeof frag / sizeof frag[0];
    const char *cls[] = {"navheader"};
    html_opts opts[2] = {{.skip_classes = cls, .n_skip_classes = 1}, {.root_id = "R"}};
    uint64_t rng = 12345;
    char html[2048];
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0;
        int parts = (int)(hash_u64(rng++) % 60);
        for (int k = 0; k < parts; k++) {
            const char *f = frag[hash_u64(rng++) % nf];
            size_t fl = strlen(f);
            memcpy(html + len, f, fl);
            len += fl;
        }
        text_buf b = {0};
        dk_err err;
        CHECK(html_to_text("r", (const uint8_t *)html, len, &opts[iter & 1], &b, &err) == 0);
        CHECK(utf8_validate(b.data, b.len) == b.len);
        for (size_t i = 0; i < b.len; i++) {
            int bol = i == 0 || b.data[i - 1] == '\n';
            CHECK_MSG(!(bol && (b.data[i] == '\n' || b.data[i] == ' ')), "iter %d: empty line or "
                      "leading space at %zu", iter, i);
            uint8_t next = i + 1 < b.len ? b.data[i + 1] : '\n';
            CHECK_MSG(!(b.data[i] == ' ' && (next == ' ' || next == '\n')),
                      "iter %d: doubled or trailing space at %zu", iter, i);
        }
        CHECK(b.len == 0 || b.data[b.len - 1] == '\n');
        text_buf_free(&b);
    }
}

TEST(corpus_count_line_counts_letters_and_hangul)
{
    const char *s = "한국어 ABC 12 !";
    corpus_line_counts c = corpus_count_line((const uint8_t *)s, strlen(s));
    CHECK_EQ(c.chars, 12);
    CHECK_EQ(c.letters, 6);
    CHECK_EQ(c.hangul, 3);
    c = corpus_count_line((const uint8_t *)"\xe3\x84\xb1", 3); /* compatibility jamo ㄱ */
    CHECK_EQ(c.hangul, 0);
    CHECK_EQ(c.letters, 1);
}

/* ---- corpus_debian_build ------------------------------------------------------------- */

TEST(corpus_builds_filtered_deduplicated_outputs)
{
    const char *root = scratch("tree_lib");
    CHECK(root && make_tree(root) == 0);
    char out[600];
    snprintf(out, sizeof out, "%s/out", root);
    corpus_debian_opts o = {.out_dir = out, .root = root, .ko = 1, .en = 1};
    corpus_report rep;
    dk_err err;
    CHECK_MSG(corpus_debian_build(&o, &rep, &err) == 0, "%s", err.msg);
    char p[700];
    snprintf(p, sizeof p, "%s/ko.txt", out);
    CHECK_STR(slurp(p), EXPECT_KO);
    snprintf(p, sizeof p, "%s/en.txt", out);
    CHECK_STR(slurp(p), EXPECT_EN);

    CHECK_EQ(rep.n_outputs, 2);
    const corpus_output *ko = &rep.outputs[0], *en = &rep.outputs[1];
    CHECK_STR(ko->file, "ko.txt");
    CHECK_EQ(ko->n_sources, 2);
    CHECK_EQ(ko->sources[0].pages, 4); /* a, noscript, b, sub/c; contents.js is no page */
    CHECK_EQ(ko->sources[1].pages, 1);
    CHECK_EQ(ko->pages, 5);
    CHECK_EQ(ko->lines, 8);
    CHECK_EQ(ko->sources[0].lines, 6);
    CHECK_EQ(ko->sources[1].lines, 2);
    CHECK_EQ(ko->bytes, strlen(EXPECT_KO));
    CHECK_EQ(ko->sources[0].bytes + ko->sources[1].bytes, ko->bytes);
    CHECK_EQ(ko->dropped_duplicate, 1);  /* 반복 문단 on page b */
    CHECK_EQ(ko->dropped_no_hangul, 1);  /* English only paragraph. */
    CHECK_EQ(ko->dropped_short, 2);      /* "7" and "가" */
    corpus_line_counts c = corpus_count_line((const uint8_t *)EXPECT_KO, strlen(EXPECT_KO));
    CHECK_EQ(ko->hangul, c.hangul);
    CHECK_EQ(en->lines, 3);
    CHECK_EQ(en->dropped_duplicate, 1); /* &nbsp; collapses, so the two greetings are equal */
    CHECK_EQ(en->dropped_short, 1);     /* "12" */
    CHECK_EQ(en->hangul, 0);

    uint8_t d[32];
    char hex[65];
    snprintf(p, sizeof p, "%s/ko.txt", out);
    CHECK(sha256_file(p, d, &err) == 0);
    sha256_hex(d, hex);
    CHECK_STR(ko->sha256, hex);
    CHECK_EQ(count_entries(out), 3); /* ko.txt en.txt manifest.json, no temporaries */
}

TEST(corpus_manifest_lists_sources_and_hashes)
{
    const char *root = scratch("tree_manifest");
    CHECK(root && make_tree(root) == 0);
    char out[600], p[700];
    snprintf(out, sizeof out, "%s/out", root);
    corpus_debian_opts o = {.out_dir = out, .root = root, .ko = 1, .en = 1};
    dk_err err;
    CHECK_MSG(corpus_debian_build(&o, NULL, &err) == 0, "%s", err.msg);
    snprintf(p, sizeof p, "%s/manifest.json", out);
    json_error_t je;
    json_t *m = json_load_file(p, 0, &je);
    CHECK_MSG(m, "%s", je.text);
    json_t *outs = json_object_get(m, "outputs");
    json_t *ko = json_array_get(outs, 0);
    json_t *srcs = json_object_get(ko, "sources");
    int ok = json_array_size(outs) == 2 && json_array_size(srcs) == 2 &&
             strcmp(json_string_value(json_object_get(ko, "file")), "ko.txt") == 0 &&
             strcmp(json_string_value(json_object_get(json_array_get(srcs, 0), "package")),
                    "libreoffice-help-ko") == 0 &&
             strcmp(json_string_value(json_object_get(json_array_get(srcs, 1), "package")),
                    "debian-faq-ko") == 0 &&
             json_integer_value(json_object_get(json_array_get(srcs, 1), "pages")) == 1 &&
             json_integer_value(json_object_get(ko, "lines")) == 8 &&
             json_integer_value(json_object_get(ko, "bytes")) == (json_int_t)strlen(EXPECT_KO);
    char root_path[700];
    snprintf(root_path, sizeof root_path, "%s/usr/share/doc/debian/FAQ/ko", root);
    ok = ok && strcmp(json_string_value(json_object_get(json_array_get(srcs, 1), "root")),
                      root_path) == 0;
    uint8_t d[32];
    char hex[65];
    snprintf(p, sizeof p, "%s/en.txt", out);
    ok = ok && sha256_file(p, d, &err) == 0;
    sha256_hex(d, hex);
    ok = ok && strcmp(json_string_value(json_object_get(json_array_get(outs, 1), "sha256")),
                      hex) == 0;
    json_decref(m);
    CHECK(ok);
}

TEST(corpus_missing_package_fails_before_writing)
{
    const char *root = scratch("tree_missing");
    CHECK(root && make_tree(root) == 0);
    char cmd[1200], out[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/usr/share/doc/debian'", root);
    CHECK(system(cmd) == 0);
    snprintf(out, sizeof out, "%s/out", root);
    corpus_debian_opts o = {.out_dir = out, .root = root, .ko = 1, .en = 1};
    dk_err err;
    CHECK(corpus_debian_build(&o, NULL, &err) == -1);
    CHECK_CONTAINS(err.msg, "/usr/share/doc/debian/FAQ/ko: not found");
    CHECK_CONTAINS(err.msg, "apt-get install debian-faq-ko");
    CHECK(!exists(out));
    /* --en-only does not need the Korean packages. */
    o.ko = 0;
    CHECK_MSG(corpus_debian_build(&o, NULL, &err) == 0, "%s", err.msg);
    CHECK_EQ(count_entries(out), 2); /* en.txt, manifest.json */
}

TEST(corpus_bad_page_leaves_previous_output_untouched)
{
    const char *root = scratch("tree_bad");
    CHECK(root && make_tree(root) == 0);
    char p[700], out[600];
    snprintf(out, sizeof out, "%s/out", root);
    snprintf(p, sizeof p, "%s/ko.txt", out);
    CHECK(put_file(p, "old\n") == 0);
    /* Sorted after a.html and b.html, so those are already extracted when it fails. */
    snprintf(p, sizeof p, "%s/usr/share/libreoffice/help/en-US/text/z.html", root);
    CHECK(put_file(p, "<p>Latin-1 caf\xe9</p>") == 0);
    corpus_debian_opts o = {.out_dir = out, .root = root, .ko = 1, .en = 1};
    dk_err err;
    CHECK(corpus_debian_build(&o, NULL, &err) == -1);
    CHECK_CONTAINS(err.msg, "en-US/text/z.html: invalid UTF-8 at byte 14");
    snprintf(p, sizeof p, "%s/ko.txt", out);
    CHECK_STR(slurp(p), "old\n");
    CHECK_EQ(count_entries(out), 1);
}

/* ---- the command line ------------------------------------------------------------------ */

TEST(corpus_cli_writes_outputs_and_summary)
{
    const char *root = scratch("tree_cli");
    CHECK(root && make_tree(root) == 0);
    char out[600], p[700], buf[4096];
    snprintf(out, sizeof out, "%s/out dir", root); /* a space: paths must be quoted right */
    int rc = test_run(buf, sizeof buf, "%s corpus debian --root '%s' -o '%s' 2>&1", test_bin(),
                      root, out);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, buf);
    CHECK_CONTAINS(buf, "ko.txt");
    CHECK_CONTAINS(buf, "8 lines");
    snprintf(p, sizeof p, "%s/ko.txt", out);
    CHECK_STR(slurp(p), EXPECT_KO);
    snprintf(p, sizeof p, "%s/en.txt", out);
    CHECK_STR(slurp(p), EXPECT_EN);
    snprintf(p, sizeof p, "%s/manifest.json", out);
    CHECK(exists(p));
}

TEST(corpus_cli_json_summary)
{
    const char *root = scratch("tree_json");
    CHECK(root && make_tree(root) == 0);
    char buf[4096];
    int rc = test_run(buf, sizeof buf, "%s corpus debian --root '%s' -o '%s/out' --ko-only --json",
                      test_bin(), root, root);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, buf);
    json_error_t je;
    json_t *j = json_loads(buf, 0, &je);
    CHECK_MSG(j, "%s: %s", je.text, buf);
    json_t *outs = json_object_get(j, "outputs");
    json_t *ko = json_array_get(outs, 0);
    int ok = json_array_size(outs) == 1 &&
             strcmp(json_string_value(json_object_get(ko, "file")), "ko.txt") == 0 &&
             json_integer_value(json_object_get(ko, "lines")) == 8 &&
             json_integer_value(json_object_get(ko, "pages")) == 5 &&
             json_integer_value(json_object_get(ko, "hangul_syllables")) > 0 &&
             strlen(json_string_value(json_object_get(ko, "sha256"))) == 64;
    json_decref(j);
    CHECK(ok);
    char p[700];
    snprintf(p, sizeof p, "%s/out", root);
    CHECK_EQ(count_entries(p), 2); /* --ko-only: ko.txt and manifest.json */
}

TEST(corpus_cli_output_is_deterministic)
{
    const char *root = scratch("tree_det");
    CHECK(root && make_tree(root) == 0);
    char buf[4096];
    for (int run = 0; run < 2; run++) {
        int rc = test_run(buf, sizeof buf, "%s corpus debian --root '%s' -o '%s/out%d' 2>&1",
                          test_bin(), root, root, run);
        CHECK_MSG(rc == 0, "exit %d: %s", rc, buf);
    }
    const char *files[] = {"ko.txt", "en.txt", "manifest.json"};
    for (int i = 0; i < 3; i++) {
        int rc = test_run(buf, sizeof buf, "cmp '%s/out0/%s' '%s/out1/%s' 2>&1", root, files[i],
                          root, files[i]);
        CHECK_MSG(rc == 0, "%s differs: %s", files[i], buf);
    }
}

TEST(corpus_cli_missing_package_exits_1)
{
    const char *root = scratch("tree_cli_missing");
    CHECK(root && make_tree(root) == 0);
    char cmd[1200], buf[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/usr/share/libreoffice/help/en-US'", root);
    CHECK(system(cmd) == 0);
    int rc = test_run(buf, sizeof buf, "%s corpus debian --root '%s/' -o '%s/out' 2>&1",
                      test_bin(), root, root);
    CHECK_EQ(rc, 1);
    char want[1200];
    snprintf(want, sizeof want,
             "dokja: %s/usr/share/libreoffice/help/en-US: not found: install the Debian package "
             "libreoffice-help-en-us (apt-get install libreoffice-help-en-us)\n",
             root);
    CHECK_STR(buf, want);
    char p[700];
    snprintf(p, sizeof p, "%s/out", root);
    CHECK(!exists(p));
}

TEST(corpus_cli_usage_errors_exit_2)
{
    char buf[4096];
    CHECK_EQ(test_run(buf, sizeof buf, "%s corpus debian 2>&1", test_bin()), 2);
    CHECK_CONTAINS(buf, "-o DIR is required");
    CHECK_EQ(test_run(buf, sizeof buf, "%s corpus debian -o x --ko-only --en-only 2>&1",
                      test_bin()), 2);
    CHECK_EQ(test_run(buf, sizeof buf, "%s corpus debian -o x --bogus 2>&1", test_bin()), 2);
    CHECK_EQ(test_run(buf, sizeof buf, "%s corpus debian -o x extra 2>&1", test_bin()), 2);
    CHECK_EQ(test_run(buf, sizeof buf, "%s corpus debian -o 2>&1", test_bin()), 2);
    CHECK_EQ(test_run(buf, sizeof buf, "%s corpus nosuch 2>&1", test_bin()), 2);
    CHECK_EQ(test_run(buf, sizeof buf, "%s corpus 2>&1", test_bin()), 2);
    CHECK_EQ(test_run(buf, sizeof buf, "%s corpus debian --help", test_bin()), 0);
    CHECK_CONTAINS(buf, "usage: dokja corpus debian -o DIR");
    CHECK_EQ(test_run(buf, sizeof buf, "%s corpus --help", test_bin()), 0);
    CHECK_CONTAINS(buf, "debian");
}
