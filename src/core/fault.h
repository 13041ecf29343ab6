#pragma once
// Crash-test hook. CK_FAULT_POINT("name") calls ck::fault_point, whose body the
// executable picks at link time, so the objects are the same in both:
// - certkeeper, the binary users install, gets ck_core's no-op (fault_off.cpp):
//   nothing reads the environment, so it cannot be killed or paused through it;
// - certkeeper-faults, the crash tests' build, links ck_fault (fault.cpp), which
//   kills the process with SIGKILL when CERTKEEPER_FAULT=name is set, so a test
//   can show that the next run finishes or rolls back what was interrupted.
//   CERTKEEPER_FAULT_PAUSE=name:GATE instead stops the process at that point
//   until the file GATE exists (it creates GATE.waiting on arrival), so a test
//   can run a second command in between and order two writers as it wants.
// Names are literal "area.step" strings: tests/e2e/fault_points.sh reads them
// from the code.

namespace ck {
void fault_point(const char* name);
}

#define CK_FAULT_POINT(name) ::ck::fault_point(name)
