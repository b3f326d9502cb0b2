/* bench_ledger.c: what the training ledger costs `dokja train`: a step record (batch
 * digest of B sequences, one JSON line appended and hashed) and a checkpoint's digests
 * (the weights, and AdamW's two moments) for a model config. bench/ledger.sh sets them
 * against the measured step time.
 *
 * usage: build/bench_ledger CONFIG BATCH */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "ledger/records.h"
#include "model/params.h"
#include "util/progress.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CONFIG BATCH\n", argv[0]);
        return 2;
    }
    model_config c;
    param_layout l;
    dk_err err;
    int batch = atoi(argv[2]);
    if (model_config_load(&c, argv[1], &err) != 0 || params_layout(&l, &c, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    float *p = malloc(l.numel * sizeof *p), *m = calloc(l.numel, sizeof *m), *v = calloc(l.numel, sizeof *v);
    if (!p || !m || !v)
        return 1;
    params_init(&l, p, 1);
    for (size_t i = 0; i < l.numel; i++) /* touched, as a trained run's moments are */
        m[i] = p[i] * 0.1f, v[i] = p[i] * p[i];
    uint8_t d[32];
    double t0 = now_seconds();
    params_sha256(&l, p, d);
    double tw = now_seconds() - t0;
    t0 = now_seconds();
    ledger_optimizer_sha256(m, v, l.numel, 1, d);
    double to = now_seconds() - t0;
    /* step records: the batch digest and the appended line, 1000 times */
    char path[] = "/tmp/dokja_bench_ledger_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    unlink(path);
    ledger_writer w;
    if (ledger_create(&w, path, &err) != 0)
        return 1;
    t0 = now_seconds();
    for (int s = 0; s < 1000; s++) {
        sha256_stream *h = sha256_begin();
        for (int q = 0; q < batch; q++)
            ledger_batch_add(h, q % 3, (uint64_t)s * 7919 + (uint64_t)q);
        sha256_end(h, d);
        json_t *j = json_pack("{s:s,s:i,s:s,s:f,s:f,s:f}", "type", "step", "step", s + 1, "batch_sha256",
                              "0000000000000000000000000000000000000000000000000000000000000000", "loss", 3.14159,
                              "grad_norm", 1.2345, "lr", 3e-4);
        ledger_append(&w, j, &err);
        json_decref(j);
    }
    double ts = (now_seconds() - t0) / 1000;
    ledger_close(&w);
    unlink(path);
    printf("{\"params\": %zu, \"weights_digest_s\": %.4f, \"optimizer_digest_s\": %.4f, \"step_record_s\": %.7f}\n",
           l.numel, tw, to, ts);
    free(p);
    free(m);
    free(v);
    params_layout_free(&l);
    return 0;
}
