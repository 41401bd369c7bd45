/* The version, for --version and the User-Agent. */
#ifndef MSCLI_VERSION_H
#define MSCLI_VERSION_H

#define MSCLI_VERSION "0.1.0"

#endif
