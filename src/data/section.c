/* Config sections by name: the top-level objects of a dataset config that belong to other
 * modules (the recommender's model/train/split/evaluate, risk, fairness, ...). A module
 * registers its section's name and checker once, from the library's list (src/lib); the
 * config parser then accepts the section, has it checked, and keeps its JSON text. So a new
 * section needs no change here, and an unknown one is refused with the list of known keys. */
#include "data/data.h"
#include "lib/lib.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SECTION_MAX 32
#define SECTION_NAME_MAX 32

typedef struct {
    char name[SECTION_NAME_MAX];
    data_section_check_fn check;
    void *ctx;
} section_entry;

/* Entries are written once under the lock and never changed or removed, so a reader that took
 * the count under the lock may read entries below it without the lock. */
static section_entry g_sections[SECTION_MAX];
static int g_nsections;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
/* Set while this thread runs the modules' registrations: they call back into the registry,
 * which must not start them again (pthread_once would wait for itself). */
static _Thread_local int g_registering_modules;

/* The modules' sections first, once, so that their names are taken before any other
 * registration and listed first in messages. */
static void ensure_modules(void)
{
    if (g_registering_modules) return;
    g_registering_modules = 1;
    lib_register_sections();
    g_registering_modules = 0;
}

/* Keys of the dataset format itself, which no module may take. */
static const char *const k_fixed_keys[] = { "hyperp_dataset", "name", "customers", "products",
                                            "interactions", "transactions", NULL };

static int fixed_key(const char *name)
{
    for (const char *const *k = k_fixed_keys; *k; k++)
        if (strcmp(*k, name) == 0) return 1;
    return 0;
}

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= SECTION_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_')) return 0;
    return 1;
}

static int find_locked(const char *name)
{
    for (int i = 0; i < g_nsections; i++)
        if (strcmp(g_sections[i].name, name) == 0) return i;
    return -1;
}

int data_config_section_register(const char *name, data_section_check_fn check, void *ctx, hp_error *err)
{
    if (!name || !valid_name(name) || !check)
        return hp_fail(err, HP_ERR_INVAL, "config section '%s': a name of 1-%d characters a-z, 0-9, _ and a checker "
                       "are required", name ? name : "(null)", SECTION_NAME_MAX - 1);
    if (fixed_key(name))
        return hp_fail(err, HP_ERR_INVAL, "config section '%s': the name is a key of the dataset format itself", name);
    ensure_modules();
    pthread_mutex_lock(&g_lock);
    int rc = HP_OK;
    if (find_locked(name) >= 0) {
        rc = hp_fail(err, HP_ERR_INVAL, "config section '%s' is registered already", name);
    } else if (g_nsections == SECTION_MAX) {
        rc = hp_fail(err, HP_ERR_INVAL, "config section '%s': more than %d sections", name, SECTION_MAX);
    } else {
        section_entry *e = &g_sections[g_nsections];
        snprintf(e->name, sizeof e->name, "%s", name);
        e->check = check;
        e->ctx = ctx;
        g_nsections++;
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

static int section_count(void)
{
    ensure_modules();
    pthread_mutex_lock(&g_lock);
    int n = g_nsections;
    pthread_mutex_unlock(&g_lock);
    return n;
}

int data_config_section_find(const char *name, data_section_check_fn *check, void **ctx)
{
    int n = section_count();
    for (int i = 0; i < n; i++)
        if (strcmp(g_sections[i].name, name) == 0) {
            *check = g_sections[i].check;
            *ctx = g_sections[i].ctx;
            return 1;
        }
    return 0;
}

int data_config_is_fixed_key(const char *name) { return fixed_key(name); }

void data_config_known_keys(char *buf, size_t size)
{
    int n = section_count();
    size_t used = 0;
    if (size) buf[0] = 0;
    for (const char *const *k = k_fixed_keys; *k && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", *k);
    for (int i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, ", %s", g_sections[i].name);
}

const char *data_dataset_section(const data_dataset *ds, const char *name)
{
    for (int i = 0; ds && i < ds->nsections; i++)
        if (strcmp(ds->sections[i].name, name) == 0) return ds->sections[i].json;
    return NULL;
}
