#pragma once
// The one error type of certkeeper, carried by return value (tl::expected).
// `message` is safe to show to an operator; `detail` (OpenSSL error queue, SQL
// text) is for debugging and never contains a secret either.

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace ck {

enum class Code {
  InvalidArgument,     // the input is wrong (bad PEM, bad e-mail, unknown field)
  NotFound,            // a named record or file does not exist
  AlreadyExists,       // a record with that name exists already
  FailedPrecondition,  // the state does not allow it (no CA yet, CRL self-check failed)
  PermissionDenied,    // a file or folder cannot be written or read
  Unavailable,         // a peer or the database is busy or down
  DeadlineExceeded,
  Crypto,   // OpenSSL refused (wrong passphrase, signature failed)
  Storage,  // the database is corrupt or the query failed
  Protocol,
  Internal,
};

struct Error {
  Code code = Code::Internal;
  std::string message;
  std::string detail;

  /// Prefixes the message with where it happened: "load CA key: bad decrypt".
  [[nodiscard]] Error context(std::string_view where) && {
    message = std::string(where) + ": " + message;
    return std::move(*this);
  }
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

[[nodiscard]] inline tl::unexpected<Error> fail(Code code, std::string message,
                                                std::string detail = {}) {
  return tl::unexpected<Error>(Error{code, std::move(message), std::move(detail)});
}

[[nodiscard]] inline tl::unexpected<Error> fail(Error e) {
  return tl::unexpected<Error>(std::move(e));
}

std::string_view code_name(Code code);

[[noreturn]] void assert_fail(const char* expr, const char* file, int line);

}  // namespace ck

// Always-on invariant check for bugs in our own code (never for input).
#define CK_ASSERT(expr) ((expr) ? void(0) : ::ck::assert_fail(#expr, __FILE__, __LINE__))

#define CK_CONCAT_INNER(a, b) a##b
#define CK_CONCAT(a, b) CK_CONCAT_INNER(a, b)

// Propagates the error of a Result-returning expression.
#define CK_TRY(expr)                                        \
  do {                                                      \
    auto&& ck_try_result_ = (expr);                         \
    if (!ck_try_result_) {                                  \
      return ::ck::fail(std::move(ck_try_result_).error()); \
    }                                                       \
  } while (0)

// `CK_ASSIGN(auto x, f());` declares x with the value or returns the error.
#define CK_ASSIGN(lhs, expr) CK_ASSIGN_IMPL(CK_CONCAT(ck_assign_, __LINE__), lhs, expr)
#define CK_ASSIGN_IMPL(tmp, lhs, expr)         \
  auto tmp = (expr);                           \
  if (!tmp) {                                  \
    return ::ck::fail(std::move(tmp).error()); \
  }                                            \
  lhs = std::move(*tmp)
