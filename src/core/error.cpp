#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace ck {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::InvalidArgument:
      return "invalid_argument";
    case Code::NotFound:
      return "not_found";
    case Code::AlreadyExists:
      return "already_exists";
    case Code::FailedPrecondition:
      return "failed_precondition";
    case Code::PermissionDenied:
      return "permission_denied";
    case Code::Unavailable:
      return "unavailable";
    case Code::DeadlineExceeded:
      return "deadline_exceeded";
    case Code::Crypto:
      return "crypto";
    case Code::Storage:
      return "storage";
    case Code::Protocol:
      return "protocol";
    case Code::Internal:
      return "internal";
  }
  return "internal";
}

void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "certkeeper: internal error: assertion '%s' failed at %s:%d\n", expr, file,
               line);
  std::abort();
}

}  // namespace ck
