/*
 * metrics.h -- a registry of counters, gauges and histograms, rendered in
 * the Prometheus text exposition format (version 0.0.4).
 *
 * A metric *family* has a name, a help line, a kind and the names of its
 * labels (at most METRICS_MAX_LABELS, e.g. "node" or "node", "from"); a
 * *series* is one family with one value per label.  Families and series are
 * created at setup time (when a node or an RComp appears), under the
 * registry's mutex; the hot path only touches a series it already holds:
 *
 *   metrics_add / metrics_set_counter / metrics_gauge_set / metrics_observe_ns
 *
 * are single relaxed atomic operations (a histogram: three), so the
 * master may call them at every decision point and the HTTP thread may
 * render at any time without stopping it.  A rendering is not a snapshot
 * across series (Prometheus does not expect one); each value is exact.
 *
 * Names and label names are checked against Prometheus' grammar
 * ([a-zA-Z_:][a-zA-Z0-9_:]*, labels without ':'); label values are escaped
 * when rendered.  Histogram bounds are in seconds, observations in
 * nanoseconds (what the master measures); the sum is rendered in seconds.
 */
#ifndef DVM_OBS_METRICS_H
#define DVM_OBS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "obs/text.h"
#include "util/status.h"

#define METRICS_MAX_LABELS 3
#define METRICS_MAX_BOUNDS 24

typedef enum metrics_kind {
    METRICS_COUNTER,
    METRICS_GAUGE,
    METRICS_HISTOGRAM
} metrics_kind;

typedef struct metrics_registry metrics_registry;
typedef struct metrics_family metrics_family;
typedef struct metrics_series metrics_series;

/* A family's definition.  Strings are copied. */
typedef struct metrics_def {
    metrics_kind kind;
    const char *name, *help;
    const char *labels[METRICS_MAX_LABELS];  /* NULL-terminated if fewer */
    const double *bounds;       /* histograms: ascending upper bounds (s) */
    size_t nbounds;
} metrics_def;

dvm_status metrics_create(metrics_registry **out);
/* Frees the registry, its families and series. */
void metrics_destroy(metrics_registry *r);
/* Adds a family; *out belongs to r.  DVM_EINVAL for a bad name, label or
 * bounds, or a name already registered. */
dvm_status metrics_family_add(metrics_registry *r, const metrics_def *d,
                              metrics_family **out);
/* The series of f with the given label values (one per label of f),
 * created on first use; *out belongs to r and lives as long as r. */
dvm_status metrics_series_get(metrics_family *f, const char *const *values,
                              metrics_series **out);

/* Counters: adds n. */
void metrics_add(metrics_series *s, uint64_t n);
/* Counters mirrored from a monotonic source: sets the value to v. */
void metrics_set_counter(metrics_series *s, uint64_t v);
uint64_t metrics_counter_value(const metrics_series *s);
/* Gauges. */
void metrics_gauge_set(metrics_series *s, double v);
double metrics_gauge_value(const metrics_series *s);
/* Histograms: one observation of ns nanoseconds. */
void metrics_observe_ns(metrics_series *s, uint64_t ns);
/* Histograms counted elsewhere (a node's, sent to its master): adds
 * buckets[k] observations to bucket k (n = the family's bounds + 1, the
 * last above every bound) and sum_ns to the sum. */
void metrics_hist_add(metrics_series *s, const uint64_t *buckets, size_t n,
                      uint64_t sum_ns);
/* Histogram observations so far, and how many were <= bound k's. */
uint64_t metrics_hist_count(const metrics_series *s);
uint64_t metrics_hist_le(const metrics_series *s, size_t k);

/* Appends the whole registry in the text exposition format to t. */
dvm_status metrics_render(metrics_registry *r, text *t);

#endif
