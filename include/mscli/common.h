/* Macros every module may use; nothing else lives here. */
#ifndef MSCLI_COMMON_H
#define MSCLI_COMMON_H

#define MS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MS_PRINTF(a, b)  __attribute__((format(printf, a, b)))

#endif
