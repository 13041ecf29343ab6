#include "store/types.h"

#include <array>
#include <cstddef>

namespace ck::store {

const char* to_string(CertStatus s) {
  switch (s) {
    case CertStatus::Active:
      return "active";
    case CertStatus::Superseded:
      return "superseded";
    case CertStatus::Revoked:
      return "revoked";
  }
  return "active";
}

const char* to_string(Delivery d) {
  switch (d) {
    case Delivery::Pending:
      return "pending";
    case Delivery::Delivered:
      return "delivered";
    case Delivery::External:
      return "external";
  }
  return "pending";
}

const char* to_string(RevocationState s) {
  switch (s) {
    case RevocationState::Held:
      return "held";
    case RevocationState::Released:
      return "released";
    case RevocationState::Dropped:
      return "dropped";
  }
  return "held";
}

const char* to_string(ReleaseCause c) {
  switch (c) {
    case ReleaseCause::Immediate:
      return "immediate";
    case ReleaseCause::Confirmed:
      return "confirmed";
    case ReleaseCause::Observed:
      return "observed";
    case ReleaseCause::Undelivered:
      return "undelivered";
    case ReleaseCause::Imported:
      return "imported";
  }
  return "immediate";
}

const char* to_string(PublishState p) {
  switch (p) {
    case PublishState::Ok:
      return "ok";
    case PublishState::Failed:
      return "failed";
    case PublishState::None:
      return "none";
  }
  return "failed";
}

const char* to_string(NotificationState s) {
  switch (s) {
    case NotificationState::Sent:
      return "sent";
    case NotificationState::Printed:
      return "printed";
  }
  return "sent";
}

const char* to_string(CanaryPurpose p) {
  switch (p) {
    case CanaryPurpose::Crl:
      return "crl";
    case CanaryPurpose::Check:
      return "check";
    case CanaryPurpose::Probe:
      return "probe";
  }
  return "crl";
}

namespace {

// The one of `all` whose to_string is `word`; `column` names the column in
// the error. A long word is cut: a damaged row may hold anything.
template <class E, std::size_t N>
Result<E> parse_word(std::string_view column, std::string_view word, const std::array<E, N>& all) {
  for (const E e : all) {
    if (word == to_string(e))
      return e;
  }
  constexpr std::size_t kShown = 40;
  std::string shown(word.substr(0, kShown));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      c = '?';
  }
  return fail(Code::Storage, "unknown " + std::string(column) + " '" + shown +
                                 (word.size() > kShown ? "...'" : "'") +
                                 " in the store (a damaged row, or written by a newer certkeeper)");
}

}  // namespace

Result<CertStatus> parse_cert_status(std::string_view word) {
  return parse_word("certificate status", word,
                    std::array{CertStatus::Active, CertStatus::Superseded, CertStatus::Revoked});
}
Result<Delivery> parse_delivery(std::string_view word) {
  return parse_word("delivery state", word,
                    std::array{Delivery::Pending, Delivery::Delivered, Delivery::External});
}
Result<RevocationState> parse_revocation_state(std::string_view word) {
  return parse_word(
      "revocation state", word,
      std::array{RevocationState::Held, RevocationState::Released, RevocationState::Dropped});
}
Result<ReleaseCause> parse_release_cause(std::string_view word) {
  return parse_word(
      "release cause", word,
      std::array{ReleaseCause::Immediate, ReleaseCause::Confirmed, ReleaseCause::Observed,
                 ReleaseCause::Undelivered, ReleaseCause::Imported});
}
Result<PublishState> parse_publish_state(std::string_view word) {
  return parse_word("CRL publish state", word,
                    std::array{PublishState::Ok, PublishState::Failed, PublishState::None});
}
Result<NotificationState> parse_notification_state(std::string_view word) {
  return parse_word("notification state", word,
                    std::array{NotificationState::Sent, NotificationState::Printed});
}
Result<CanaryPurpose> parse_canary_purpose(std::string_view word) {
  return parse_word("canary purpose", word,
                    std::array{CanaryPurpose::Crl, CanaryPurpose::Check, CanaryPurpose::Probe});
}

}  // namespace ck::store
