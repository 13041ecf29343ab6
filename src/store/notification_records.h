#pragma once
// One capability of a store (see store/store.h): expiry notices and the channels each went out on.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

class NotificationRecords {
 public:
  virtual ~NotificationRecords() = default;

  [[nodiscard]] virtual Result<bool> notified(std::string_view key, std::string_view channel) = 0;
  [[nodiscard]] virtual Result<std::optional<NotificationRecord>> find_notification(
      std::string_view key, std::string_view channel) = 0;
  /// Records a completed channel; recording one twice keeps the first.
  [[nodiscard]] virtual Status record_notification(const NotificationRecord& n) = 0;
  /// Every notice recorded as Printed, oldest first.
  [[nodiscard]] virtual Result<std::vector<NotificationRecord>> printed_notifications() = 0;
  /// Forgets every channel recorded under `key`, so `notify` does it again;
  /// returns how many records went.
  [[nodiscard]] virtual Result<std::int64_t> forget_notifications(std::string_view key) = 0;
};

}  // namespace ck::store
