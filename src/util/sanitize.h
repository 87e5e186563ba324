/*
 * sanitize.h -- what the code must know of the sanitizer it is built
 * under.  DVM_TSAN is defined in a ThreadSanitizer build (gcc says so with
 * __SANITIZE_THREAD__, clang with __has_feature).
 */
#ifndef DVM_SANITIZE_H
#define DVM_SANITIZE_H

#if defined(__SANITIZE_THREAD__)
#define DVM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DVM_TSAN 1
#endif
#endif

#endif
