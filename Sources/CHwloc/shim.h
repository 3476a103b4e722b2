// CHwloc: hwloc for Swift (core discovery and binding reduction threads to cores).
#ifndef TORUS_CHWLOC_SHIM_H
#define TORUS_CHWLOC_SHIM_H
#include <hwloc.h>
#endif
