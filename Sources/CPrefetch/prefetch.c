// The prefetch hint is a static inline function in the header; SwiftPM needs one C file to
// build the target.
#include "CPrefetch.h"
