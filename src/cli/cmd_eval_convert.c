/* cmd_eval_convert.c: `dokja eval convert FORMAT INPUT -o OUT.jsonl`: a public
 * benchmark file as dokja's multiple-choice JSONL (templates in src/eval/task_convert.c
 * and docs/eval.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "eval/task.h"

int cmd_eval_convert(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: dokja eval convert FORMAT INPUT -o OUT.jsonl\n\n"
               "Writes one JSON object per line: {\"context\", \"choices\", \"gold\"} (prompt\n"
               "templates %s, docs/eval.md). Formats:\n%s",
               EVAL_TEMPLATE_VERSION, mc_task_formats_help());
        return 0;
    }
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {0, 0, 0, 0}};
    const char *name = argv[0], *out = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else
            return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (argc - optind != 2 || !out)
        return cli_usage(name, "expected FORMAT INPUT -o OUT.jsonl");
    dk_err err;
    mc_task t;
    if (mc_task_convert(&t, argv[optind], argv[optind + 1], &err) != 0)
        return cli_fail(&err);
    int rc = mc_task_write_jsonl(&t, out, &err);
    if (rc == 0)
        fprintf(stderr, "%zu items -> %s\n", t.n, out);
    mc_task_free(&t);
    return rc == 0 ? 0 : cli_fail(&err);
}
