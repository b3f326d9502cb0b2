/* cmd_select.c: `dokja select ROUND.json -o DIR`: a selection round (src/select/select.h,
 * docs/select.md). */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "select/select.h"
#include "select/select_cache.h"
#include "mpi/mpi.h"
#include "util/hash.h"

static const char HELP[] =
    "usage: dokja select ROUND.json -o DIR [--limit N] [--replay K --challenge HEX]\n"
    "                    [--cache DIR | --no-cache] [--threads N] [-q]\n"
    "\n"
    "Runs a selection round (docs/select.md): scores every team and every counting\n"
    "reference (released in the window before the evaluation date) on every task of the\n"
    "scheme, relative to the best counting reference per task; the independence gate\n"
    "(lineage of every team against every known model and every other team, and each\n"
    "given ledger verified); the ranking of the teams that pass by their total; the\n"
    "stages' cuts with their overrides. Writes DIR/report.json and DIR/report.html.\n"
    "\n"
    "The round file is checked first, task and CSV files included: a bad one fails with\n"
    "one line naming the file and the problem (exit 1) and nothing is written; DIR is\n"
    "created only when the round has run. Paths in the round file are relative to its\n"
    "directory. report.json has no timestamps: a re-run gives the same bytes.\n"
    "\n"
    "  -o DIR        output directory\n"
    "  --limit N     the first N items (documents) of each task\n"
    "  --replay K    replay K challenged segments of every given ledger (the first and\n"
    "                the last always; teams[].data names the team's dataset); overrides\n"
    "                the round file's replay.segments. A replayed run from random\n"
    "                weights attributes a copied pair of teams to the other team\n"
    "  --cache DIR   keep every score and lineage test here by content hash (model files,\n"
    "                task bytes, options, dokja build): a re-run, or a round with one\n"
    "                more team, computes only what is new. Default: $DOKJA_CACHE, else\n"
    "                $XDG_CACHE_HOME/dokja, else ~/.cache/dokja\n"
    "  --no-cache    compute everything, keep nothing\n"
    "  --part K/N    only part K (0 to N-1) of the work, into the cache, no report\n"
    "                (-o not needed): N machines each run one part, their caches are\n"
    "                merged (e.g. rsync), and a last run writes the report computing\n"
    "                nothing. Under mpirun (N ranks, a cache every rank can reach) the\n"
    "                ranks do this by themselves and rank 0 writes the report\n"
    "  --challenge HEX  the auditor's randomness choosing the segments (overrides\n"
    "                replay.challenge); reveal it only after the ledgers are handed in\n"
    "  --threads N   threads (default: all); results do not depend on it\n"
    "  -q            no progress lines\n";

int cmd_select(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return 0;
    }
    enum { O_LIMIT = 256, O_THREADS, O_REPLAY, O_CHALLENGE, O_CACHE, O_NO_CACHE, O_PART };
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"limit", required_argument, 0, O_LIMIT},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"replay", required_argument, 0, O_REPLAY},
                                         {"challenge", required_argument, 0, O_CHALLENGE},
                                         {"cache", required_argument, 0, O_CACHE},
                                         {"no-cache", no_argument, 0, O_NO_CACHE},
                                         {"part", required_argument, 0, O_PART},
                                         {"quiet", no_argument, 0, 'q'},
                                         {0, 0, 0, 0}};
    const char *name = argv[0], *out = NULL;
    int c, limit = 0, no_cache = 0;
    char cache_buf[4096];
    sel_opts o = {.limit = 0, .threads = 0, .progress = 1};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:q", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'o': out = optarg; break;
        case 'q': o.progress = 0; break;
        case O_LIMIT: bad = cli_parse_int(optarg, 1, 1 << 30, &limit); break;
        case O_THREADS: bad = cli_parse_int(optarg, 1, 1024, &o.threads); break;
        case O_CACHE: o.cache_dir = optarg; break;
        case O_NO_CACHE: no_cache = 1; break;
        case O_PART: {
            char tail;
            bad = sscanf(optarg, "%d/%d%c", &o.part, &o.parts, &tail) != 2 || o.parts < 1 || o.part < 0 ||
                  o.part >= o.parts;
            break;
        }
        case O_REPLAY: bad = cli_parse_int(optarg, 1, 1000000, &o.replay_segments); break;
        case O_CHALLENGE: {
            uint8_t b[512];
            size_t n;
            bad = strlen(optarg) < 2 || strlen(optarg) > 1024 || hex_decode(optarg, b, sizeof b, &n) != 0;
            o.challenge = optarg;
            break;
        }
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (bad)
            return cli_bad_value(name, opts, c, optarg);
    }
    /* under mpirun: each rank one part, then rank 0 the report (MPI is started only then:
     * a plain run does not pay for it) */
    const char *ws = getenv("OMPI_COMM_WORLD_SIZE");
    int mpi = ws && atoi(ws) > 1 && o.parts <= 1;
    if (!out && o.parts <= 1)
        return cli_usage(name, "-o DIR is required");
    if (argc - optind != 1)
        return cli_usage(name, "expected one round file");
    o.limit = (size_t)limit;
    if (no_cache && o.cache_dir)
        return cli_usage(name, "--cache and --no-cache together");
    if (!no_cache && !o.cache_dir)
        o.cache_dir = sel_cache_default_dir(cache_buf, sizeof cache_buf);
    if ((o.parts > 1 || mpi) && !o.cache_dir)
        return cli_usage(name, "--part and mpirun need a cache (--cache DIR) to hand the parts' results over");
    dk_err err;
    sel_round r;
    if (sel_round_load(&r, argv[optind], &err) != 0)
        return cli_fail(&err);
    if ((o.replay_segments > 0 || r.replay_segments > 0) && !o.challenge && !r.challenge[0]) {
        sel_round_free(&r);
        return cli_usage(name, "--replay needs --challenge HEX (or replay.challenge in the round file)");
    }
    json_t *rep = NULL;
    int rc = 0;
    if (mpi) {
        if (dist_init(&argc, &argv, &err) != 0) {
            sel_round_free(&r);
            return cli_fail(&err);
        }
        sel_opts po = o;
        po.part = dist_rank(), po.parts = dist_size();
        rc = sel_run(&r, &po, &rep, &err);
        int any = dist_any(rc != 0); /* every part is in the cache (or one failed) */
        int rank = dist_rank();
        if (rc == 0 && any)
            rc = dk_errf(&err, "another rank failed (its message is above)");
        if (rank != 0) {
            sel_round_free(&r);
            dist_finalize();
            return rc == 0 ? 0 : cli_fail(&err);
        }
        if (rc == 0)
            rc = sel_run(&r, &o, &rep, &err); /* rank 0: everything from the cache */
        dist_finalize();
    } else {
        rc = sel_run(&r, &o, &rep, &err);
    }
    if (rc == 0 && o.parts > 1) {
        if (o.progress)
            printf("part %d/%d: done, results in %s\n", o.part, o.parts, o.cache_dir);
        sel_round_free(&r);
        return 0;
    }
    if (rc == 0)
        rc = sel_write_outputs(rep, out, &err);
    if (rc == 0 && o.progress) {
        json_t *rk = json_object_get(rep, "ranking"), *t;
        size_t i;
        printf("ranking:");
        json_array_foreach(rk, i, t) printf(" %zu. %s", i + 1, json_string_value(t));
        printf("\n");
        json_array_foreach(json_object_get(rep, "teams"), i, t) {
            if (!json_is_true(json_object_get(json_object_get(t, "gate"), "passed")))
                printf("cut at the gate: %s%s\n", json_string_value(json_object_get(t, "name")),
                       json_is_true(json_object_get(t, "would_have_advanced_on_score"))
                           ? " (would have advanced on score)" : "");
        }
        printf("wrote %s/report.json and %s/report.html\n", out, out);
    }
    json_decref(rep);
    sel_round_free(&r);
    return rc == 0 ? 0 : cli_fail(&err);
}
