// Linux readiness notification and event counters, from the C library (Swift's Glibc module leaves them out).
#include <sys/epoll.h>
#include <sys/eventfd.h>
