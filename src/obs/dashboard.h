/*
 * dashboard.h -- the dashboard page (src/obs/dashboard.html), compiled into
 * the binary by the build (cmake/embed.cmake writes dashboard_html.c), so
 * the master serves it with no file to install and nothing to fetch.
 */
#ifndef DVM_OBS_DASHBOARD_H
#define DVM_OBS_DASHBOARD_H

#include <stddef.h>

extern const unsigned char obs_dashboard_html[];
extern const size_t obs_dashboard_html_len;

#endif
