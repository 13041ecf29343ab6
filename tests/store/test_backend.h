#pragma once
// The stores the contract tests run against (tests/store/store_contract_test.cpp):
// a fresh, empty certkeeper store per test, and a way around the store's own
// code to damage a row the way a bad restore or a newer certkeeper would.

#include <memory>
#include <string>

#include "fakes/temp_dir.h"
#include "store/store.h"

namespace ck::store::testing {

class TestBackend {
 public:
  virtual ~TestBackend() = default;
  [[nodiscard]] virtual const std::string& url() const = 0;
  /// Runs SQL on the database behind the store's back, with its CHECK
  /// constraints off, so a test can store what certkeeper never would.
  /// Empty on success, else the database's message.
  [[nodiscard]] virtual std::string damage(const std::string& sql) = 0;
};

/// A fresh store of the named backend ("sqlite" or "postgresql"); on failure
/// nullptr and `why` says what is missing (and how to install it).
[[nodiscard]] std::unique_ptr<TestBackend> make_backend(const std::string& name, std::string& why);

}  // namespace ck::store::testing
