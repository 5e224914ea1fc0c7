/* The list of modules with dataset-config sections (lib.h). */
#include "lib/lib.h"
#include "core/hp.h"
#include "rec/rec.h"

#include <pthread.h>
#include <stdio.h>

typedef int (*lib_section_init)(hp_error *err);

/* Each module's registration function, in the order their sections are listed in messages. */
static const lib_section_init k_modules[] = {
    rec_config_register_sections, /* model, train, split, evaluate */
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void register_all(void)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(k_modules); i++) {
        hp_error err = { 0 };
        if (k_modules[i](&err)) fprintf(stderr, "hyperp: %s\n", err.msg);
    }
}

void lib_register_sections(void) { pthread_once(&g_once, register_all); }
