/*
 * log.h - leveled logging to stderr.
 *
 * One line per call, prefixed with time, level and the component.  Never pass
 * a secret (password, H(A1), key, token) to these functions.
 */
#ifndef WIMS_CORE_LOG_H
#define WIMS_CORE_LOG_H

enum wims_log_level {
	WIMS_LOG_ERROR,
	WIMS_LOG_WARN,
	WIMS_LOG_INFO,
	WIMS_LOG_DEBUG,
};

/* Messages above level are dropped.  Default WIMS_LOG_INFO. */
void wims_log_set_level(enum wims_log_level level);
/* Parses "error", "warn", "info", "debug"; -1 if none of them. */
int wims_log_level_parse(const char *name);
enum wims_log_level wims_log_get_level(void);

void wims_log(enum wims_log_level level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define WIMS_ERROR(comp, ...) wims_log(WIMS_LOG_ERROR, comp, __VA_ARGS__)
#define WIMS_WARN(comp, ...) wims_log(WIMS_LOG_WARN, comp, __VA_ARGS__)
#define WIMS_INFO(comp, ...) wims_log(WIMS_LOG_INFO, comp, __VA_ARGS__)
#define WIMS_DEBUG(comp, ...)                                        \
	do {                                                         \
		if (wims_log_get_level() >= WIMS_LOG_DEBUG)          \
			wims_log(WIMS_LOG_DEBUG, comp, __VA_ARGS__); \
	} while (0)

#endif
