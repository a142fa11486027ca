#include "engine/base/memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace basalt {

void ReleaseFreeMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace basalt
