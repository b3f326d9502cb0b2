/* html_text.h: plain text from HTML pages, for building training corpora.
 *
 * One forward pass over the bytes, no DOM: it only has to recover the paragraphs a
 * reader sees, so it tracks just what changes that (which element is being skipped
 * and how deeply it is nested, whether we are inside the content root, inside <pre>).
 *
 * Output rules, one paragraph per line:
 *   - text inside boilerplate elements is dropped: head, header, footer, aside, nav,
 *     noscript, button, label, select, template, svg, math (and script, style, title,
 *     below), plus any element whose class attribute lists one of opts->skip_classes.
 *     Nesting of the same tag inside a skipped element is counted (<div
 *     class=navheader><div>..</div></div> ends at the right </div>); other tags
 *     inside it are ignored. Like display:none, a skipped inline element leaves no
 *     trace: the text either side joins up.
 *   - if opts->root_id is set, only text inside the element with that id is kept.
 *   - block tags (p div h1-h6 li ul ol dl dd dt br hr tr td th table thead tbody
 *     tfoot caption pre blockquote section article main header footer aside nav
 *     figure figcaption form fieldset legend address center details summary menu)
 *     end the line, at their start and at their end; other tags are removed without
 *     a trace, as a browser joins <b>x</b>y into "xy". Image alt text is dropped.
 *   - comments, CDATA sections, <!DOCTYPE>, <?xml?> are removed; the contents of
 *     script, style, title, textarea, iframe, noembed, noframes and xmp are never
 *     parsed as markup (a "</div>" in a script string closes nothing) and never
 *     emitted.
 *   - "/>" closes an element (these pages are generated XHTML); void elements
 *     (br, img, input, meta, link, ...) never open one. Unclosed elements need no
 *     care (only the skipped element's and the root's own tag are counted).
 *   - white space (ASCII, U+00A0 and the other Unicode spaces) collapses to one space,
 *     lines are trimmed and empty lines dropped. Inside <pre> a newline in the source
 *     ends the line (code keeps its lines, not its indentation).
 *   - entities: &amp; &lt; &gt; &quot; &apos; &nbsp; (a space) and about 200 other
 *     HTML 4 named references, which need their ';'; &#NNN; and &#xHH; (';'
 *     optional, as in HTML5). A numeric reference to NUL, a surrogate or a value above
 *     U+10FFFF becomes U+FFFD; &#128;..&#159; are read as Windows-1252, as browsers
 *     do. Unknown named references, and '&' not followed by a reference, stay as
 *     they are.
 *   - control characters other than white space (C0, DEL, C1, literal or from a
 *     reference), U+FEFF and the soft hyphen are dropped.
 *
 * The input must be valid UTF-8 (html_to_text fails with "NAME: invalid UTF-8 at
 * byte N" otherwise: a page in another encoding should be converted, not silently
 * turned into mojibake). The output is then valid UTF-8, every line ends in '\n', and
 * no line is empty or has leading, trailing or doubled spaces. */
#ifndef DK_CORPUS_HTML_TEXT_H
#define DK_CORPUS_HTML_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* A growable byte buffer. Zero-initialise it ({0}) before first use; text_buf_free
 * releases it. Appends never fail loudly: running out of memory sets `oom`, later
 * appends are ignored, and the caller checks the flag once at the end. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    int oom;
} text_buf;

void text_buf_append(text_buf *b, const void *p, size_t n);
void text_buf_free(text_buf *b);

typedef struct {
    /* Keep only text inside the element with this id (e.g. "DisplayArea"); a page
     * without it gives no text. NULL: the whole document. */
    const char *root_id;
    /* Skip elements carrying any of these class names (e.g. "navheader"). */
    const char *const *skip_classes;
    size_t n_skip_classes;
} html_opts;

/* Appends the text of html[0..n) to out as described above. opts may be NULL (no
 * root, no classes). name is used only in error messages (a path). Returns 0, or -1
 * with "NAME: invalid UTF-8 at byte N" / "NAME: out of memory"; on failure out->len
 * is restored to its value on entry. */
int html_to_text(const char *name, const uint8_t *html, size_t n, const html_opts *opts,
                 text_buf *out, dk_err *err);

#endif
