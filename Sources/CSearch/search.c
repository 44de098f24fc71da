// Everything is in the header (static inline, for Swift to inline); a C target needs a source file.
#include "CSearch.h"
