/* cmd_corpus.c: `dokja corpus debian`: builds the built-in default corpus from the
 * documentation of installed Debian packages (src/corpus/debian_corpus.h). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "corpus/debian_corpus.h"

static const char DEBIAN_HELP[] =
    "usage: dokja corpus debian -o DIR [--ko-only | --en-only] [--root PREFIX] [--json]\n"
    "\n"
    "Builds dokja's default text corpus from documentation that Debian packages install:\n"
    "  DIR/ko.txt         Korean: LibreOffice help (libreoffice-help-ko) and the Debian\n"
    "                     FAQ (debian-faq-ko); only lines with Hangul syllables\n"
    "  DIR/en.txt         English: LibreOffice help (libreoffice-help-en-us)\n"
    "  DIR/manifest.json  sources, licences, counts and SHA-256 of each file\n"
    "One paragraph per line, UTF-8, exact duplicate lines and lines with fewer than 2\n"
    "characters or no letter removed. The same packages give the same bytes every run.\n"
    "Files are replaced only when all of them have been written.\n"
    "\n"
    "  -o, --output DIR  directory to write (created if missing; required)\n"
    "  --ko-only         build ko.txt only\n"
    "  --en-only         build en.txt only\n"
    "  --root PREFIX     read PREFIX/usr/share/... instead of /usr/share/... (for tests)\n"
    "  --json            print the summary as one JSON object\n";

static void print_summary(const char *dir, const corpus_report *rep, int json)
{
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "output_dir", json_string(dir));
        json_t *outs = json_array();
        for (int i = 0; i < rep->n_outputs; i++) {
            const corpus_output *co = &rep->outputs[i];
            json_t *j = json_object();
            json_object_set_new(j, "file", json_string(co->file));
            json_object_set_new(j, "language", json_string(co->lang));
            json_object_set_new(j, "pages", json_integer((json_int_t)co->pages));
            json_object_set_new(j, "lines", json_integer((json_int_t)co->lines));
            json_object_set_new(j, "bytes", json_integer((json_int_t)co->bytes));
            json_object_set_new(j, "hangul_syllables", json_integer((json_int_t)co->hangul));
            json_object_set_new(j, "sha256", json_string(co->sha256));
            json_array_append_new(outs, j);
        }
        json_object_set_new(o, "outputs", outs);
        json_object_set_new(o, "seconds", json_real(rep->seconds));
        char *s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
        json_decref(o);
        if (s)
            printf("%s\n", s);
        free(s);
        return;
    }
    printf("corpus: %s (%.2f s)\n", dir, rep->seconds);
    for (int i = 0; i < rep->n_outputs; i++) {
        const corpus_output *co = &rep->outputs[i];
        printf("  %-7s %6llu pages  %7llu lines  %6.2f MB  %9llu Hangul syllables\n", co->file,
               (unsigned long long)co->pages, (unsigned long long)co->lines,
               (double)co->bytes / 1e6, (unsigned long long)co->hangul);
    }
}

static int corpus_debian(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(DEBIAN_HELP, stdout);
        return 0;
    }
    enum { O_KO = 256, O_EN, O_ROOT, O_JSON };
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"ko-only", no_argument, 0, O_KO},
                                         {"en-only", no_argument, 0, O_EN},
                                         {"root", required_argument, 0, O_ROOT},
                                         {"json", no_argument, 0, O_JSON},
                                         {0, 0, 0, 0}};
    const char *name = argv[0];
    corpus_debian_opts o = {.ko = 1, .en = 1};
    int ko_only = 0, en_only = 0, json = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out_dir = optarg; break;
        case O_KO: ko_only = 1; break;
        case O_EN: en_only = 1; break;
        case O_ROOT: o.root = optarg; break;
        case O_JSON: json = 1; break;
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage(name, "unexpected argument '%s'", argv[optind]);
    if (!o.out_dir || !*o.out_dir)
        return cli_usage(name, "-o DIR is required");
    if (ko_only && en_only)
        return cli_usage(name, "--ko-only and --en-only exclude each other");
    if (ko_only)
        o.en = 0;
    if (en_only)
        o.ko = 0;
    dk_err err;
    corpus_report rep;
    if (corpus_debian_build(&o, &rep, &err) != 0)
        return cli_fail(&err);
    print_summary(o.out_dir, &rep, json);
    return 0;
}

static const cli_sub CORPUS_COMMANDS[] = {
    {"debian", corpus_debian, "the default corpus, from installed Debian documentation"},
    {NULL, NULL, NULL},
};

int cmd_corpus(int argc, char **argv) { return cli_dispatch(argv[0], CORPUS_COMMANDS, argc, argv); }
