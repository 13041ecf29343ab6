#include "store/types.h"

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

}  // namespace ck::store
