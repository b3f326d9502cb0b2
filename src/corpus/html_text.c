/* html_text.c: the HTML-to-text converter described in html_text.h.
 *
 * A small tokenizer in the spirit of HTML5's (tags, attributes with quoted values,
 * comments, raw-text elements, character references) drives a handful of counters;
 * text goes straight into the output buffer, where the current line is the tail
 * after line_start, so collapsing and trimming need no second pass. */
#include "corpus/html_text.h"

#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

/* ---- text_buf ------------------------------------------------------------------- */

void text_buf_append(text_buf *b, const void *p, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->oom = 1;
                return;
            }
            cap *= 2;
        }
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void text_buf_free(text_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ---- element tables -------------------------------------------------------------- */

#define TAG_MAX 24 /* longer names are compared on this prefix: no HTML tag is that long */

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return 1;
    return 0;
}

/* Content never parsed as markup and never shown as text. */
static const char *const RAW_TAGS[] = {"script", "style",   "title",    "textarea", "iframe",
                                       "noembed", "noframes", "xmp", NULL};
/* Boilerplate: navigation, page chrome, form controls, metadata. */
static const char *const SKIP_TAGS[] = {"head",  "header", "footer", "aside",    "nav",
                                        "noscript", "button", "label", "select", "template",
                                        "svg",   "math",   NULL};
/* Elements that never have content, so never open a nesting level. */
static const char *const VOID_TAGS[] = {"area",  "base", "br",   "col",    "embed",
                                        "hr",    "img",  "input", "link",  "meta",
                                        "param", "source", "track", "wbr", NULL};
/* Elements that begin and end a line. */
static const char *const BLOCK_TAGS[] = {
    "p",     "div",     "h1",      "h2",         "h3",      "h4",       "h5",
    "h6",    "li",      "ul",      "ol",         "dl",      "dd",       "dt",
    "br",    "hr",      "tr",      "td",         "th",      "table",    "thead",
    "tbody", "tfoot",   "caption", "pre",        "blockquote", "section", "article",
    "main",  "figure",  "figcaption", "form",    "fieldset", "legend",  "address",
    "center", "details", "summary", "body",      "html",    "header",   "footer",
    "aside", "nav",     "menu",    "hgroup",     NULL};

/* ---- character references -------------------------------------------------------- */

typedef struct {
    const char *name;
    uint16_t cp;
} named_ref;

/* Most of HTML 4's 252, the set real pages use (HTML5 has 2,231; nearly all are rare
 * mathematical symbols). Case matters: &Eacute; is not &eacute;. */
static const named_ref NAMED_REFS[] = {
    {"amp", 0x26},      {"lt", 0x3C},       {"gt", 0x3E},       {"quot", 0x22},
    {"apos", 0x27},     {"nbsp", 0xA0},     {"iexcl", 0xA1},    {"cent", 0xA2},
    {"pound", 0xA3},    {"curren", 0xA4},   {"yen", 0xA5},      {"brvbar", 0xA6},
    {"sect", 0xA7},     {"uml", 0xA8},      {"copy", 0xA9},     {"ordf", 0xAA},
    {"laquo", 0xAB},    {"not", 0xAC},      {"shy", 0xAD},      {"reg", 0xAE},
    {"macr", 0xAF},     {"deg", 0xB0},      {"plusmn", 0xB1},   {"sup2", 0xB2},
    {"sup3", 0xB3},     {"acute", 0xB4},    {"micro", 0xB5},    {"para", 0xB6},
    {"middot", 0xB7},   {"cedil", 0xB8},    {"sup1", 0xB9},     {"ordm", 0xBA},
    {"raquo", 0xBB},    {"frac14", 0xBC},   {"frac12", 0xBD},   {"frac34", 0xBE},
    {"iquest", 0xBF},   {"Agrave", 0xC0},   {"Aacute", 0xC1},   {"Acirc", 0xC2},
    {"Atilde", 0xC3},   {"Auml", 0xC4},     {"Aring", 0xC5},    {"AElig", 0xC6},
    {"Ccedil", 0xC7},   {"Egrave", 0xC8},   {"Eacute", 0xC9},   {"Ecirc", 0xCA},
    {"Euml", 0xCB},     {"Igrave", 0xCC},   {"Iacute", 0xCD},   {"Icirc", 0xCE},
    {"Iuml", 0xCF},     {"ETH", 0xD0},      {"Ntilde", 0xD1},   {"Ograve", 0xD2},
    {"Oacute", 0xD3},   {"Ocirc", 0xD4},    {"Otilde", 0xD5},   {"Ouml", 0xD6},
    {"times", 0xD7},    {"Oslash", 0xD8},   {"Ugrave", 0xD9},   {"Uacute", 0xDA},
    {"Ucirc", 0xDB},    {"Uuml", 0xDC},     {"Yacute", 0xDD},   {"THORN", 0xDE},
    {"szlig", 0xDF},    {"agrave", 0xE0},   {"aacute", 0xE1},   {"acirc", 0xE2},
    {"atilde", 0xE3},   {"auml", 0xE4},     {"aring", 0xE5},    {"aelig", 0xE6},
    {"ccedil", 0xE7},   {"egrave", 0xE8},   {"eacute", 0xE9},   {"ecirc", 0xEA},
    {"euml", 0xEB},     {"igrave", 0xEC},   {"iacute", 0xED},   {"icirc", 0xEE},
    {"iuml", 0xEF},     {"eth", 0xF0},      {"ntilde", 0xF1},   {"ograve", 0xF2},
    {"oacute", 0xF3},   {"ocirc", 0xF4},    {"otilde", 0xF5},   {"ouml", 0xF6},
    {"divide", 0xF7},   {"oslash", 0xF8},   {"ugrave", 0xF9},   {"uacute", 0xFA},
    {"ucirc", 0xFB},    {"uuml", 0xFC},     {"yacute", 0xFD},   {"thorn", 0xFE},
    {"yuml", 0xFF},     {"OElig", 0x152},   {"oelig", 0x153},   {"Scaron", 0x160},
    {"scaron", 0x161},  {"Yuml", 0x178},    {"fnof", 0x192},    {"circ", 0x2C6},
    {"tilde", 0x2DC},   {"Alpha", 0x391},   {"Beta", 0x392},    {"Gamma", 0x393},
    {"Delta", 0x394},   {"Theta", 0x398},   {"Lambda", 0x39B},  {"Pi", 0x3A0},
    {"Sigma", 0x3A3},   {"Phi", 0x3A6},     {"Omega", 0x3A9},   {"alpha", 0x3B1},
    {"beta", 0x3B2},    {"gamma", 0x3B3},   {"delta", 0x3B4},   {"epsilon", 0x3B5},
    {"theta", 0x3B8},   {"lambda", 0x3BB},  {"mu", 0x3BC},      {"pi", 0x3C0},
    {"sigma", 0x3C3},   {"tau", 0x3C4},     {"phi", 0x3C6},     {"omega", 0x3C9},
    {"ensp", 0x2002},   {"emsp", 0x2003},   {"thinsp", 0x2009}, {"zwnj", 0x200C},
    {"zwj", 0x200D},    {"lrm", 0x200E},    {"rlm", 0x200F},    {"ndash", 0x2013},
    {"mdash", 0x2014},  {"lsquo", 0x2018},  {"rsquo", 0x2019},  {"sbquo", 0x201A},
    {"ldquo", 0x201C},  {"rdquo", 0x201D},  {"bdquo", 0x201E},  {"dagger", 0x2020},
    {"Dagger", 0x2021}, {"bull", 0x2022},   {"hellip", 0x2026}, {"permil", 0x2030},
    {"prime", 0x2032},  {"Prime", 0x2033},  {"lsaquo", 0x2039}, {"rsaquo", 0x203A},
    {"oline", 0x203E},  {"frasl", 0x2044},  {"euro", 0x20AC},   {"trade", 0x2122},
    {"larr", 0x2190},   {"uarr", 0x2191},   {"rarr", 0x2192},   {"darr", 0x2193},
    {"harr", 0x2194},   {"lArr", 0x21D0},   {"uArr", 0x21D1},   {"rArr", 0x21D2},
    {"dArr", 0x21D3},   {"hArr", 0x21D4},   {"forall", 0x2200}, {"part", 0x2202},
    {"exist", 0x2203},  {"empty", 0x2205},  {"nabla", 0x2207},  {"isin", 0x2208},
    {"notin", 0x2209},  {"prod", 0x220F},   {"sum", 0x2211},    {"minus", 0x2212},
    {"lowast", 0x2217}, {"radic", 0x221A},  {"infin", 0x221E},  {"and", 0x2227},
    {"or", 0x2228},     {"cap", 0x2229},    {"cup", 0x222A},    {"int", 0x222B},
    {"asymp", 0x2248},  {"ne", 0x2260},     {"equiv", 0x2261},  {"le", 0x2264},
    {"ge", 0x2265},     {"sub", 0x2282},    {"sup", 0x2283},    {"sube", 0x2286},
    {"supe", 0x2287},   {"sdot", 0x22C5},   {"loz", 0x25CA},    {"spades", 0x2660},
    {"clubs", 0x2663},  {"hearts", 0x2665}, {"diams", 0x2666},
};

/* HTML5 reads &#128;..&#159; as the Windows-1252 characters at those bytes (0: the
 * byte is unassigned there, and the C1 control stands, to be dropped). */
static const uint16_t CP1252_C1[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178};

/* ---- converter state and output --------------------------------------------------- */

enum { ROOT_BEFORE, ROOT_INSIDE, ROOT_AFTER };

typedef struct {
    text_buf *out;
    const html_opts *o;
    size_t line_start; /* out->len where the current line began */
    int space;         /* white space seen since the last character of the line */
    char skip_name[TAG_MAX];
    int skip_depth; /* > 0: inside a skipped element, counting nested skip_name */
    int root_state;
    char root_name[TAG_MAX];
    int root_depth;
    int pre_depth;
} conv;

static int emitting(const conv *c) { return c->skip_depth == 0 && c->root_state == ROOT_INSIDE; }

static void line_end(conv *c)
{
    if (c->out->len > c->line_start) {
        text_buf_append(c->out, "\n", 1);
        c->line_start = c->out->len;
    }
    c->space = 0;
}

static void put_bytes(conv *c, const void *p, size_t n)
{
    if (c->space && c->out->len > c->line_start)
        text_buf_append(c->out, " ", 1);
    c->space = 0;
    text_buf_append(c->out, p, n);
}

/* One character of text; bytes is its UTF-8 form (NULL: encode cp). */
static void put_char(conv *c, uint32_t cp, const uint8_t *bytes, size_t len)
{
    if (cp == '\n' || cp == '\r' || cp == '\t' || cp == '\f' || cp == ' ') {
        if (cp == '\n' && c->pre_depth > 0)
            line_end(c);
        else
            c->space = 1;
        return;
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFEFF || cp == 0xAD)
        return;
    if (cp >= 0x80 && utf8_class(cp) == UC_SPACE) {
        c->space = 1;
        return;
    }
    uint8_t tmp[4];
    if (!bytes) {
        len = utf8_encode(cp, tmp);
        bytes = tmp;
    }
    put_bytes(c, bytes, len);
}

static int is_alpha(uint8_t ch) { return (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'; }
static int is_digit(uint8_t ch) { return ch >= '0' && ch <= '9'; }
static int is_space(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f';
}
static int hex_val(uint8_t ch)
{
    if (is_digit(ch))
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* s[i] == '&'. Emits the referenced character, or '&' alone if this is no reference
 * (the rest is then read as ordinary text). Returns the next position. */
static size_t put_reference(conv *c, const uint8_t *s, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && s[j] == '#') {
        j++;
        int hex = j < n && (s[j] | 0x20) == 'x';
        if (hex)
            j++;
        uint32_t v = 0;
        size_t digits = 0;
        for (; j < n; j++, digits++) {
            int d = hex ? hex_val(s[j]) : (is_digit(s[j]) ? s[j] - '0' : -1);
            if (d < 0)
                break;
            v = v * (hex ? 16u : 10u) + (uint32_t)d;
            if (v > 0x10FFFF)
                v = 0x110000; /* saturate: stays invalid, cannot overflow */
        }
        if (digits == 0) {
            put_bytes(c, "&", 1);
            return i + 1;
        }
        if (j < n && s[j] == ';')
            j++;
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            v = 0xFFFD;
        else if (v >= 0x80 && v <= 0x9F && CP1252_C1[v - 0x80])
            v = CP1252_C1[v - 0x80];
        put_char(c, v, NULL, 0);
        return j;
    }
    while (j < n && j - i <= 32 && (is_alpha(s[j]) || is_digit(s[j])))
        j++;
    size_t len = j - i - 1;
    if (len > 0 && j < n && s[j] == ';') {
        for (size_t k = 0; k < sizeof NAMED_REFS / sizeof NAMED_REFS[0]; k++) {
            const named_ref *r = &NAMED_REFS[k];
            if (strlen(r->name) == len && memcmp(r->name, s + i + 1, len) == 0) {
                put_char(c, r->cp, NULL, 0);
                return j + 1;
            }
        }
    }
    put_bytes(c, "&", 1);
    return i + 1;
}

/* ---- tags ------------------------------------------------------------------------- */

typedef struct {
    char name[TAG_MAX]; /* lowercase */
    int end;            /* </name> */
    int self_closing;   /* "/>" or a void element */
    const uint8_t *id, *cls;
    size_t id_len, cls_len;
} tag;

/* Where does s[from..) first contain needle? n if nowhere. */
static size_t find(const uint8_t *s, size_t n, size_t from, const char *needle)
{
    size_t k = strlen(needle);
    if (from >= n)
        return n;
    const uint8_t *p = memmem(s + from, n - from, needle, k);
    return p ? (size_t)(p - s) : n;
}

/* Reads the name and attributes of a tag whose name starts at s[i]. Returns the
 * position after '>' (n if the document ends inside the tag: HTML5 drops it). */
static size_t read_tag(const uint8_t *s, size_t n, size_t i, tag *t)
{
    size_t k = 0;
    for (; i < n && !is_space(s[i]) && s[i] != '/' && s[i] != '>'; i++)
        if (k + 1 < TAG_MAX)
            t->name[k++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] | 0x20 : s[i]);
    t->name[k] = 0;
    while (i < n) {
        uint8_t ch = s[i];
        if (is_space(ch)) {
            i++;
            continue;
        }
        if (ch == '>')
            return i + 1;
        if (ch == '/') {
            if (i + 1 < n && s[i + 1] == '>') {
                t->self_closing = 1;
                return i + 2;
            }
            i++;
            continue;
        }
        size_t a = i++; /* the first character may be anything, even '=' */
        while (i < n && !is_space(s[i]) && s[i] != '/' && s[i] != '>' && s[i] != '=')
            i++;
        size_t a_len = i - a;
        while (i < n && is_space(s[i]))
            i++;
        const uint8_t *v = NULL;
        size_t v_len = 0;
        if (i < n && s[i] == '=') {
            i++;
            while (i < n && is_space(s[i]))
                i++;
            if (i < n && (s[i] == '"' || s[i] == '\'')) {
                const uint8_t *q = memchr(s + i + 1, s[i], n - i - 1);
                if (!q)
                    return n;
                v = s + i + 1;
                v_len = (size_t)(q - v);
                i = (size_t)(q - s) + 1;
            } else {
                v = s + i;
                while (i < n && !is_space(s[i]) && s[i] != '>')
                    i++;
                v_len = (size_t)(s + i - v);
            }
        }
        if (a_len == 2 && strncasecmp((const char *)s + a, "id", 2) == 0) {
            t->id = v;
            t->id_len = v_len;
        } else if (a_len == 5 && strncasecmp((const char *)s + a, "class", 5) == 0) {
            t->cls = v;
            t->cls_len = v_len;
        }
    }
    return n;
}

/* Does the class attribute list one of the classes to skip? */
static int class_skipped(const conv *c, const tag *t)
{
    if (!t->cls)
        return 0;
    size_t i = 0;
    while (i < t->cls_len) {
        while (i < t->cls_len && is_space(t->cls[i]))
            i++;
        size_t a = i;
        while (i < t->cls_len && !is_space(t->cls[i]))
            i++;
        for (size_t k = 0; a < i && k < c->o->n_skip_classes; k++) {
            const char *want = c->o->skip_classes[k];
            if (strlen(want) == i - a && memcmp(want, t->cls + a, i - a) == 0)
                return 1;
        }
    }
    return 0;
}

static void start_tag(conv *c, const tag *t)
{
    int opens = !t->self_closing;
    if (c->skip_depth > 0) {
        if (opens && strcmp(t->name, c->skip_name) == 0)
            c->skip_depth++;
        return;
    }
    int block = in_list(t->name, BLOCK_TAGS);
    if (in_list(t->name, SKIP_TAGS) || class_skipped(c, t)) {
        if (opens) {
            memcpy(c->skip_name, t->name, TAG_MAX);
            c->skip_depth = 1;
        }
        /* Like display:none, a skipped inline element leaves no trace ("{install}",
         * a hidden Windows-only backslash, "/share" read "{install}/share"); a skipped
         * block still ends the line, so text either side of a <nav> stays apart. */
        if (block)
            line_end(c);
        return;
    }
    if (c->root_state == ROOT_BEFORE) {
        const char *want = c->o->root_id;
        if (opens && t->id && strlen(want) == t->id_len && memcmp(want, t->id, t->id_len) == 0) {
            memcpy(c->root_name, t->name, TAG_MAX);
            c->root_depth = 1;
            c->root_state = ROOT_INSIDE;
            c->line_start = c->out->len;
            c->space = 0;
        }
        return;
    }
    if (c->root_state == ROOT_AFTER)
        return;
    if (opens && c->o->root_id && strcmp(t->name, c->root_name) == 0)
        c->root_depth++;
    if (opens && strcmp(t->name, "pre") == 0)
        c->pre_depth++;
    if (block)
        line_end(c);
}

static void end_tag(conv *c, const tag *t)
{
    int block = in_list(t->name, BLOCK_TAGS);
    if (c->skip_depth > 0) {
        if (strcmp(t->name, c->skip_name) == 0 && --c->skip_depth == 0 && block)
            line_end(c);
        return;
    }
    if (c->root_state != ROOT_INSIDE)
        return;
    if (c->o->root_id && strcmp(t->name, c->root_name) == 0 && --c->root_depth == 0) {
        line_end(c);
        c->root_state = ROOT_AFTER;
        return;
    }
    if (strcmp(t->name, "pre") == 0 && c->pre_depth > 0)
        c->pre_depth--;
    if (block)
        line_end(c);
}

/* s[i] == '<'. Handles one piece of markup and returns the position after it. */
static size_t put_markup(conv *c, const uint8_t *s, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j >= n) {
        if (emitting(c))
            put_bytes(c, "<", 1);
        return n;
    }
    if (s[j] == '!') {
        if (n - j >= 3 && memcmp(s + j, "!--", 3) == 0) {
            /* Searching from the "--" itself makes <!--> and <!---> empty comments. */
            size_t e = find(s, n, j + 1, "-->");
            return e == n ? n : e + 3;
        }
        if (n - j >= 8 && memcmp(s + j, "![CDATA[", 8) == 0) {
            size_t e = find(s, n, j + 8, "]]>");
            return e == n ? n : e + 3;
        }
        const uint8_t *e = memchr(s + j, '>', n - j); /* <!DOCTYPE ...> and the like */
        return e ? (size_t)(e - s) + 1 : n;
    }
    if (s[j] == '?') {
        const uint8_t *e = memchr(s + j, '>', n - j);
        return e ? (size_t)(e - s) + 1 : n;
    }
    tag t;
    memset(&t, 0, sizeof t);
    if (s[j] == '/') {
        j++;
        if (j < n && s[j] == '>')
            return j + 1; /* "</>" is nothing */
        if (j >= n || !is_alpha(s[j])) {
            const uint8_t *e = memchr(s + j, '>', n - j); /* "</ ...>": a bogus comment */
            return e ? (size_t)(e - s) + 1 : n;
        }
        t.end = 1;
        size_t next = read_tag(s, n, j, &t);
        end_tag(c, &t);
        return next;
    }
    if (!is_alpha(s[j])) { /* "a < b": just text */
        if (emitting(c))
            put_bytes(c, "<", 1);
        return j;
    }
    size_t next = read_tag(s, n, j, &t);
    if (in_list(t.name, VOID_TAGS))
        t.self_closing = 1;
    if (in_list(t.name, RAW_TAGS)) {
        if (t.self_closing)
            return next;
        /* The content ends at "</name" followed by a delimiter, in any case. */
        size_t len = strlen(t.name);
        for (size_t k = next; (k = find(s, n, k, "</")) < n; k += 2) {
            if (n - k - 2 >= len && strncasecmp((const char *)s + k + 2, t.name, len) == 0 &&
                (k + 2 + len == n || is_space(s[k + 2 + len]) || s[k + 2 + len] == '/' ||
                 s[k + 2 + len] == '>')) {
                tag et;
                memset(&et, 0, sizeof et);
                return read_tag(s, n, k + 2, &et);
            }
        }
        return n;
    }
    start_tag(c, &t);
    return next;
}

/* ---- driver ------------------------------------------------------------------------ */

int html_to_text(const char *name, const uint8_t *html, size_t n, const html_opts *opts,
                 text_buf *out, dk_err *err)
{
    size_t bad = n ? utf8_validate(html, n) : 0;
    if (bad < n)
        return dk_errf(err, "%s: invalid UTF-8 at byte %zu", name, bad);
    static const html_opts no_opts = {0};
    conv c = {.out = out, .o = opts ? opts : &no_opts, .line_start = out->len};
    c.root_state = c.o->root_id ? ROOT_BEFORE : ROOT_INSIDE;
    size_t entry_len = out->len;
    size_t i = 0;
    while (i < n) {
        uint8_t ch = html[i];
        if (ch == '<') {
            i = put_markup(&c, html, n, i);
        } else if (!emitting(&c)) {
            const uint8_t *lt = memchr(html + i, '<', n - i);
            i = lt ? (size_t)(lt - html) : n;
        } else if (ch == '&') {
            i = put_reference(&c, html, n, i);
        } else if (ch < 0x80) {
            put_char(&c, ch, html + i, 1);
            i++;
        } else {
            uint32_t cp;
            size_t k = utf8_decode(html + i, n - i, &cp); /* >= 1: validated above */
            put_char(&c, cp, html + i, k);
            i += k;
        }
    }
    line_end(&c);
    if (out->oom) {
        out->len = entry_len;
        return dk_errf(err, "%s: out of memory", name);
    }
    return 0;
}
