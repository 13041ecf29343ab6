#pragma once
// One capability of a store (see store/store.h): the audit log: one entry per change.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

// serve's JSON API (issue 18): one page of the audit log.
struct AuditQuery {
  std::optional<std::string> subject;  // entries about exactly this subject (a user name)
  /// Entries whose subject or detail contains this text (a serial in hex,
  /// matched without regard to case); with `subject`, either matches.
  std::optional<std::string> mentions;
  std::optional<std::int64_t> before_id;  // the cursor: older entries than this one
  std::size_t limit = 100;
};
struct AuditRow {
  std::int64_t id = 0;  // the audit log's order: a later entry has a higher id
  AuditEntry entry;
};

class AuditRecords {
 public:
  virtual ~AuditRecords() = default;

  [[nodiscard]] virtual Status audit(const AuditEntry& entry) = 0;
  [[nodiscard]] virtual Result<std::vector<AuditEntry>> audit_of(std::string_view subject) = 0;
  /// Up to `q.limit` audit entries matching `q`, newest first.
  [[nodiscard]] virtual Result<std::vector<AuditRow>> audit_page(const AuditQuery& q) = 0;
};

}  // namespace ck::store
