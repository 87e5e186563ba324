/*
 * trace.c -- streaming writer of the Chrome trace-event format.
 *
 * Events are written as they happen (no buffering of the whole run), each
 * a self-contained JSON object; the file is valid JSON once trace_close
 * has written the closing brackets.
 */
#include "io/trace.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>

static double trace_us(const io_trace *t, uint64_t ns)
{
    return ns >= t->t0_ns ? (double)(ns - t->t0_ns) / 1000.0 : 0.0;
}

/* Writes the separator before an event. */
static void trace_sep(io_trace *t)
{
    fputs(t->first ? "\n" : ",\n", t->f);
    t->first = 0;
}

dvm_status trace_open(io_trace *t, const char *path, uint64_t t0_ns)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return status_set_errno(DVM_EIO, "cannot open trace file '%s'", path);
    *t = (io_trace){ f, t0_ns, 1 };
    fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", f);
    trace_sep(t);
    fputs("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,"
          "\"args\":{\"name\":\"dvm\"}}", f);
    return DVM_OK;
}

void trace_thread_name(io_trace *t, int tid, const char *name)
{
    if (!t->f)
        return;
    trace_sep(t);
    fprintf(t->f, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,"
            "\"tid\":%d,\"args\":{\"name\":\"%s\"}}", tid, name);
}

void trace_runner(io_trace *t, int tid, uint64_t rid, uint64_t attempt,
                  uint64_t start_ns, uint64_t end_ns, const char *outcome)
{
    if (!t->f)
        return;
    double ts = trace_us(t, start_ns);
    double dur = end_ns > start_ns ? (double)(end_ns - start_ns) / 1000.0 : 0;
    trace_sep(t);
    fprintf(t->f, "{\"name\":\"runner %" PRIu64 "\",\"cat\":\"runner\","
            "\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":1,\"tid\":%d,"
            "\"args\":{\"rid\":%" PRIu64 ",\"attempt\":%" PRIu64
            ",\"outcome\":\"%s\"}}", rid, ts, dur, tid, rid, attempt, outcome);
}

/* An instant event on the master's track: args rid and `key`: val. */
static void instant(io_trace *t, const char *name, const char *cat,
                    uint64_t ts_ns, uint64_t rid, const char *key,
                    uint64_t val)
{
    if (!t->f)
        return;
    trace_sep(t);
    fprintf(t->f, "{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"i\","
            "\"s\":\"t\",\"ts\":%.3f,\"pid\":1,\"tid\":0,\"args\":{\"rid\":%"
            PRIu64 ",\"%s\":%" PRIu64 "}}", name, cat, trace_us(t, ts_ns),
            rid, key, val);
}

void trace_instant(io_trace *t, const char *name, uint64_t ts_ns,
                   uint64_t rid, uint64_t epoch)
{
    instant(t, name, "memory", ts_ns, rid, "epoch", epoch);
}

void trace_dispatch(io_trace *t, uint64_t ts_ns, uint64_t rid, int to_tid)
{
    assert(to_tid > 0);
    instant(t, "dispatch", "sched", ts_ns, rid, "rcomp", (uint64_t)to_tid);
}

void trace_flow(io_trace *t, uint64_t id, uint64_t from_ns, int to_tid,
                uint64_t to_ns)
{
    if (!t->f)
        return;
    trace_sep(t);
    fprintf(t->f, "{\"name\":\"ready\",\"cat\":\"flow\",\"ph\":\"s\","
            "\"id\":%" PRIu64 ",\"ts\":%.3f,\"pid\":1,\"tid\":0}", id,
            trace_us(t, from_ns));
    trace_sep(t);
    fprintf(t->f, "{\"name\":\"ready\",\"cat\":\"flow\",\"ph\":\"f\","
            "\"bp\":\"e\",\"id\":%" PRIu64 ",\"ts\":%.3f,\"pid\":1,"
            "\"tid\":%d}", id, trace_us(t, to_ns), to_tid);
}

dvm_status trace_close(io_trace *t)
{
    if (!t->f)
        return DVM_OK;
    fputs("\n]}\n", t->f);
    int bad = ferror(t->f);
    errno = 0;
    bad |= fclose(t->f) != 0;
    t->f = NULL;
    if (!bad)
        return DVM_OK;
    return errno ? status_set_errno(DVM_EIO, "cannot write the trace file")
                 : status_set(DVM_EIO, "cannot write the trace file");
}
