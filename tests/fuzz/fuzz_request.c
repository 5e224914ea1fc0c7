/* libFuzzer target: one customer request (rec_recommend_json, what the service will call for
 * every HTTP request) over arbitrary bytes parsed as JSON. A small synthetic model is trained
 * once at start-up. Every answer must be a refusal with a message, or a list of at most k
 * distinct catalogue products with finite scores, best first, none of them held. */
#include "rec/rec.h"
#include "data/synth.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rec_model g_model;
static rec_service *g_service;
static rec_request_buf g_buf;

static void must(int ok, const char *what, const hp_error *err)
{
    if (ok) return;
    fprintf(stderr, "fuzz_request: %s: %s\n", what, err ? err->msg : "");
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/fuzz_request_XXXXXX", data[64], model[64];
    must(mkdtemp(dir) != NULL, "mkdtemp", NULL);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(model, sizeof model, "%s/model", dir);
    hp_error err = { 0 };
    data_synth_opts so;
    data_synth_opts_init(&so);
    so.customers = 300;
    so.tx_per_year = 0;
    must(data_synth_run(&so, data, &err) == HP_OK, "synth", &err);
    data_dataset ds;
    rec_config cfg;
    must(data_config_default(&ds, data, &err) == HP_OK && data_ingest(&ds, NULL, NULL, &err) == HP_OK &&
         rec_config_from_dataset(&cfg, &ds, &err) == HP_OK, "data", &err);
    cfg.train.epochs = 1;
    rec_train_opts o = { .out_dir = model };
    rec_train_report rep;
    must(rec_train(&ds, &cfg, &o, &rep, &err) == HP_OK, "train", &err);
    rec_config_free(&cfg);
    data_dataset_free(&ds);
    must(rec_load(model, &g_model, &err) == HP_OK && rec_service_new(&g_service, &g_model, &err) == HP_OK, "load", &err);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *rec = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!rec) return 0;
    rec_opts o = { .k = 5, .include_held = size % 2 };
    rec_result r;
    hp_error err = { 0 };
    int rc = rec_recommend_json(g_service, data_default_config, strlen(data_default_config), "fuzz", rec, size % 3 != 0,
                                &o, &r, &g_buf, &err);
    if (rc) {
        if (!err.msg[0]) __builtin_trap(); /* a refusal always says why */
    } else {
        if (r.n < 0 || r.n > o.k || !r.customer_id) __builtin_trap();
        for (int i = 0; i < r.n; i++) {
            if (r.items[i].item < 0 || r.items[i].item >= g_model.nproducts || !isfinite(r.items[i].score)) __builtin_trap();
            if (i && r.items[i].score > r.items[i - 1].score) __builtin_trap();
            for (int j = 0; j < i; j++)
                if (r.items[j].item == r.items[i].item) __builtin_trap();
        }
        json_t *out = rec_result_json(&r);
        if (!out) __builtin_trap();
        json_decref(out);
    }
    json_decref(rec);
    return 0;
}
