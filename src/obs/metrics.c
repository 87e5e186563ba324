/*
 * metrics.c -- the metrics registry (see metrics.h).
 *
 * Families form a list in registration order (the order of the
 * exposition); each family's series form a list in creation order.  Both
 * lists only grow, under the registry's mutex, and render walks them under
 * the same mutex, so a series pointer handed out stays valid until
 * metrics_destroy.  Values are C11 atomics with relaxed order: every
 * value is independent, and a reader needs no ordering between them.
 * A histogram keeps per-bucket (not cumulative) counts so that an
 * observation is one increment; render accumulates.
 */
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/metrics.h"
#include "util/alloc.h"

struct metrics_series {
    char *values[METRICS_MAX_LABELS];       /* owned */
    _Atomic uint64_t v;                     /* counter; gauge: double bits */
    _Atomic uint64_t sum_ns, count;         /* histogram */
    _Atomic uint64_t *buckets;              /* histogram: nbounds + 1 */
    metrics_family *fam;
    metrics_series *next;
};

struct metrics_family {
    metrics_kind kind;
    char *name, *help;                      /* owned */
    char *labels[METRICS_MAX_LABELS];       /* owned */
    size_t nlabels;
    uint64_t bounds_ns[METRICS_MAX_BOUNDS];
    double bounds[METRICS_MAX_BOUNDS];
    size_t nbounds;
    metrics_series *series, **tail;
    metrics_registry *reg;
    metrics_family *next;
};

struct metrics_registry {
    pthread_mutex_t mu;
    metrics_family *fams, **tail;
};

static const char *const kind_names[] = { "counter", "gauge", "histogram" };

dvm_status metrics_create(metrics_registry **out)
{
    metrics_registry *r = dvm_calloc(1, sizeof *r);
    if (!r)
        return status_set(DVM_ENOMEM, "out of memory for metrics");
    pthread_mutex_init(&r->mu, NULL);
    r->tail = &r->fams;
    *out = r;
    return DVM_OK;
}

static void series_free(metrics_series *s)
{
    for (size_t i = 0; i < METRICS_MAX_LABELS; i++)
        dvm_free(s->values[i]);
    dvm_free((void *)s->buckets);
    dvm_free(s);
}

static void family_free(metrics_family *f)
{
    while (f->series) {
        metrics_series *n = f->series->next;
        series_free(f->series);
        f->series = n;
    }
    for (size_t i = 0; i < METRICS_MAX_LABELS; i++)
        dvm_free(f->labels[i]);
    dvm_free(f->name);
    dvm_free(f->help);
    dvm_free(f);
}

void metrics_destroy(metrics_registry *r)
{
    if (!r)
        return;
    while (r->fams) {
        metrics_family *n = r->fams->next;
        family_free(r->fams);
        r->fams = n;
    }
    pthread_mutex_destroy(&r->mu);
    dvm_free(r);
}

/* Prometheus' name grammar; labels may not contain ':' nor start "__". */
static int valid_name(const char *s, int label)
{
    if (!s || !*s || (label && !strncmp(s, "__", 2)))
        return 0;
    for (const char *p = s; *p; p++) {
        int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    *p == '_' || (*p == ':' && !label);
        if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
            return 0;
    }
    return 1;
}

static metrics_family *family_find(const metrics_registry *r, const char *n)
{
    for (metrics_family *f = r->fams; f; f = f->next)
        if (!strcmp(f->name, n))
            return f;
    return NULL;
}

static dvm_status check_def(const metrics_registry *r, const metrics_def *d)
{
    if (!valid_name(d->name, 0) || (unsigned)d->kind > METRICS_HISTOGRAM)
        return status_set(DVM_EINVAL, "bad metric name '%s'",
                          d->name ? d->name : "");
    if (family_find(r, d->name))
        return status_set(DVM_EINVAL, "metric '%s' registered twice",
                          d->name);
    for (size_t i = 0; i < METRICS_MAX_LABELS && d->labels[i]; i++)
        if (!valid_name(d->labels[i], 1) || !strcmp(d->labels[i], "le"))
            return status_set(DVM_EINVAL, "metric '%s': bad label '%s'",
                              d->name, d->labels[i]);
    int hist = d->kind == METRICS_HISTOGRAM;
    if (hist != (d->nbounds > 0) || d->nbounds > METRICS_MAX_BOUNDS)
        return status_set(DVM_EINVAL, "metric '%s': bad bucket count",
                          d->name);
    for (size_t i = 0; i < d->nbounds; i++)
        if (!(d->bounds[i] > 0) || !isfinite(d->bounds[i]) ||
            (i && d->bounds[i] <= d->bounds[i - 1]))
            return status_set(DVM_EINVAL, "metric '%s': bucket bounds must "
                              "be positive and ascending", d->name);
    return DVM_OK;
}

/* Copies the definition into a new family; NULL when out of memory. */
static metrics_family *family_new(const metrics_def *d)
{
    metrics_family *f = dvm_calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->kind = d->kind;
    f->tail = &f->series;
    f->name = dvm_strdup(d->name);
    f->help = dvm_strdup(d->help ? d->help : "");
    int oom = !f->name || !f->help;
    for (size_t i = 0; i < METRICS_MAX_LABELS && d->labels[i]; i++) {
        f->labels[i] = dvm_strdup(d->labels[i]);
        oom |= !f->labels[i];
        f->nlabels = i + 1;
    }
    for (size_t i = 0; i < d->nbounds; i++) {
        f->bounds[i] = d->bounds[i];
        f->bounds_ns[i] = (uint64_t)llround(d->bounds[i] * 1e9);
    }
    f->nbounds = d->nbounds;
    if (oom) {
        family_free(f);
        return NULL;
    }
    return f;
}

dvm_status metrics_family_add(metrics_registry *r, const metrics_def *d,
                              metrics_family **out)
{
    pthread_mutex_lock(&r->mu);
    dvm_status st = check_def(r, d);
    metrics_family *f = NULL;
    if (!st && !(f = family_new(d)))
        st = status_set(DVM_ENOMEM, "out of memory for metrics");
    if (!st) {
        f->reg = r;
        *r->tail = f;
        r->tail = &f->next;
        *out = f;
    }
    pthread_mutex_unlock(&r->mu);
    return st;
}

static metrics_series *series_find(const metrics_family *f,
                                   const char *const *values)
{
    for (metrics_series *s = f->series; s; s = s->next) {
        size_t i = 0;
        while (i < f->nlabels && !strcmp(s->values[i], values[i]))
            i++;
        if (i == f->nlabels)
            return s;
    }
    return NULL;
}

static metrics_series *series_new(metrics_family *f,
                                  const char *const *values)
{
    metrics_series *s = dvm_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fam = f;
    int oom = 0;
    for (size_t i = 0; i < f->nlabels; i++)
        oom |= !(s->values[i] = dvm_strdup(values[i]));
    if (f->kind == METRICS_HISTOGRAM) {
        s->buckets = dvm_calloc(f->nbounds + 1, sizeof *s->buckets);
        oom |= !s->buckets;
    }
    if (oom) {
        series_free(s);
        return NULL;
    }
    return s;
}

dvm_status metrics_series_get(metrics_family *f, const char *const *values,
                              metrics_series **out)
{
    for (size_t i = 0; i < f->nlabels; i++)
        if (!values || !values[i])
            return status_set(DVM_EINVAL, "metric '%s': missing label value",
                              f->name);
    pthread_mutex_lock(&f->reg->mu);
    metrics_series *s = series_find(f, values);
    if (!s && (s = series_new(f, values))) {
        *f->tail = s;
        f->tail = &s->next;
    }
    pthread_mutex_unlock(&f->reg->mu);
    if (!s)
        return status_set(DVM_ENOMEM, "out of memory for metrics");
    *out = s;
    return DVM_OK;
}

void metrics_add(metrics_series *s, uint64_t n)
{
    assert(s->fam->kind == METRICS_COUNTER);
    atomic_fetch_add_explicit(&s->v, n, memory_order_relaxed);
}

void metrics_set_counter(metrics_series *s, uint64_t v)
{
    assert(s->fam->kind == METRICS_COUNTER);
    atomic_store_explicit(&s->v, v, memory_order_relaxed);
}

uint64_t metrics_counter_value(const metrics_series *s)
{
    return atomic_load_explicit(&s->v, memory_order_relaxed);
}

void metrics_gauge_set(metrics_series *s, double v)
{
    assert(s->fam->kind == METRICS_GAUGE);
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    atomic_store_explicit(&s->v, bits, memory_order_relaxed);
}

double metrics_gauge_value(const metrics_series *s)
{
    uint64_t bits = atomic_load_explicit(&s->v, memory_order_relaxed);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

void metrics_observe_ns(metrics_series *s, uint64_t ns)
{
    const metrics_family *f = s->fam;
    assert(f->kind == METRICS_HISTOGRAM);
    size_t k = 0;
    while (k < f->nbounds && ns > f->bounds_ns[k])
        k++;
    atomic_fetch_add_explicit(&s->buckets[k], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_ns, ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

void metrics_hist_add(metrics_series *s, const uint64_t *buckets, size_t n,
                      uint64_t sum_ns)
{
    assert(s->fam->kind == METRICS_HISTOGRAM && n == s->fam->nbounds + 1);
    uint64_t count = 0;
    for (size_t k = 0; k < n; k++) {
        atomic_fetch_add_explicit(&s->buckets[k], buckets[k],
                                  memory_order_relaxed);
        count += buckets[k];
    }
    atomic_fetch_add_explicit(&s->sum_ns, sum_ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, count, memory_order_relaxed);
}

uint64_t metrics_hist_count(const metrics_series *s)
{
    return atomic_load_explicit(&s->count, memory_order_relaxed);
}

uint64_t metrics_hist_le(const metrics_series *s, size_t k)
{
    uint64_t n = 0;
    for (size_t i = 0; i <= k && i <= s->fam->nbounds; i++)
        n += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
    return n;
}

/* ---- exposition ------------------------------------------------------------ */

/* Help text: backslash and newline escaped. */
static void put_help(text *t, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            text_puts(t, "\\\\");
        else if (*s == '\n')
            text_puts(t, "\\n");
        else
            text_put(t, s, 1);
    }
}

/* A label value: backslash, double quote and newline escaped. */
static void put_value(text *t, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            text_put(t, "\\", 1);
        if (*s == '\n')
            text_puts(t, "\\n");
        else
            text_put(t, s, 1);
    }
}

/* `{a="x",b="y"` plus `extra` (`le="..."`) and `}`; nothing when empty. */
static void put_labels(text *t, const metrics_series *s, const char *extra)
{
    const metrics_family *f = s->fam;
    if (f->nlabels == 0 && !extra)
        return;
    text_put(t, "{", 1);
    for (size_t i = 0; i < f->nlabels; i++) {
        text_printf(t, "%s%s=\"", i ? "," : "", f->labels[i]);
        put_value(t, s->values[i]);
        text_put(t, "\"", 1);
    }
    if (extra)
        text_printf(t, "%s%s", f->nlabels ? "," : "", extra);
    text_put(t, "}", 1);
}

/* The shortest %g form of finite v that reads back as v. */
static void shortest(char *buf, size_t cap, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* A float as Prometheus writes it (+Inf, -Inf, NaN; shortest exact). */
static void put_double(text *t, double v)
{
    char buf[32];
    if (isnan(v))
        text_puts(t, "NaN");
    else if (isinf(v))
        text_puts(t, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        text_printf(t, "%.0f", v);
    else {
        shortest(buf, sizeof buf, v);
        text_puts(t, buf);
    }
}

static void render_histogram(text *t, const metrics_series *s)
{
    const metrics_family *f = s->fam;
    char le[64], num[32];
    uint64_t cum = 0;
    for (size_t k = 0; k <= f->nbounds; k++) {
        cum += atomic_load_explicit(&s->buckets[k], memory_order_relaxed);
        if (k < f->nbounds) {
            shortest(num, sizeof num, f->bounds[k]);
            snprintf(le, sizeof le, "le=\"%s\"", num);
        } else
            snprintf(le, sizeof le, "le=\"+Inf\"");
        text_printf(t, "%s_bucket", f->name);
        put_labels(t, s, le);
        text_printf(t, " %llu\n", (unsigned long long)cum);
    }
    /* The count is the +Inf bucket, so that the two always agree. */
    text_printf(t, "%s_sum", f->name);
    put_labels(t, s, NULL);
    text_put(t, " ", 1);
    put_double(t, (double)atomic_load_explicit(&s->sum_ns,
                                               memory_order_relaxed) / 1e9);
    text_printf(t, "\n%s_count", f->name);
    put_labels(t, s, NULL);
    text_printf(t, " %llu\n", (unsigned long long)cum);
}

static void render_series(text *t, const metrics_series *s)
{
    const metrics_family *f = s->fam;
    if (f->kind == METRICS_HISTOGRAM) {
        render_histogram(t, s);
        return;
    }
    text_puts(t, f->name);
    put_labels(t, s, NULL);
    text_put(t, " ", 1);
    if (f->kind == METRICS_COUNTER)
        text_printf(t, "%llu", (unsigned long long)metrics_counter_value(s));
    else
        put_double(t, metrics_gauge_value(s));
    text_put(t, "\n", 1);
}

dvm_status metrics_render(metrics_registry *r, text *t)
{
    pthread_mutex_lock(&r->mu);
    for (const metrics_family *f = r->fams; f; f = f->next) {
        text_printf(t, "# HELP %s ", f->name);
        put_help(t, f->help);
        text_printf(t, "\n# TYPE %s %s\n", f->name, kind_names[f->kind]);
        for (const metrics_series *s = f->series; s; s = s->next)
            render_series(t, s);
    }
    pthread_mutex_unlock(&r->mu);
    return text_status(t);
}
