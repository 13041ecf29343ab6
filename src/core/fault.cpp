#include "core/fault.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace ck {
namespace {

// CERTKEEPER_FAULT_PAUSE=name:GATE: announce arrival, then wait for the gate
// (at most a minute, so a broken test does not hang the suite).
void pause_at(const char* name) {
  const char* want = std::getenv("CERTKEEPER_FAULT_PAUSE");
  if (want == nullptr)
    return;
  const std::string spec(want);
  const auto colon = spec.find(':');
  if (colon == std::string::npos || spec.compare(0, colon, name) != 0 || std::strlen(name) != colon)
    return;
  const std::string gate = spec.substr(colon + 1);
  const int fd = ::open((gate + ".waiting").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0)
    ::close(fd);
  for (int i = 0; i < 6000 && ::access(gate.c_str(), F_OK) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace

void fault_point(const char* name) {
  const char* want = std::getenv("CERTKEEPER_FAULT");
  if (want != nullptr && std::strcmp(want, name) == 0) {
    std::raise(SIGKILL);
  }
  pause_at(name);
}

}  // namespace ck
