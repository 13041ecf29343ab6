// The fault hook of the binary users install: nothing. Alone in its file, so
// the linker takes this member of libck_core.a only when no fault.cpp object
// (certkeeper-faults) already defines ck::fault_point.
#include "core/fault.h"

namespace ck {
void fault_point(const char* /*name*/) {}
}  // namespace ck
