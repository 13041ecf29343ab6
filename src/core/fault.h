#pragma once
// Crash-test hook. In test builds (CK_FAULT_INJECTION), CK_FAULT_POINT("name")
// kills the process with SIGKILL when CERTKEEPER_FAULT=name is set, so a test
// can show that the next run finishes or rolls back what was interrupted. In
// release builds it compiles to nothing.
//
// CERTKEEPER_FAULT_PAUSE=name:GATE instead stops the process at that point
// until the file GATE exists (it creates GATE.waiting on arrival), so a test
// can run a second command in between and order two writers as it wants.

namespace ck {
void fault_point(const char* name);
}

#if defined(CK_FAULT_INJECTION)
#define CK_FAULT_POINT(name) ::ck::fault_point(name)
#else
#define CK_FAULT_POINT(name) ((void)0)
#endif
