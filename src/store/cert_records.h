#pragma once
// One capability of a store (see store/store.h): users' certificates and their lifecycle (status,
// delivery, ticket).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

/// Filter for listing certificates; `now` decides what counts as expired.
enum class CertFilter { All, Active, Expired, Revoked, Held };

struct CertListRow {
  CertRecord cert;
  std::optional<RevocationRecord> revocation;
};

class CertRecords {
 public:
  virtual ~CertRecords() = default;

  /// Returns false (and changes nothing) when the serial exists already.
  [[nodiscard]] virtual Result<bool> insert_cert(const CertRecord& cert) = 0;
  [[nodiscard]] virtual Result<std::optional<CertRecord>> find_cert(std::string_view serial) = 0;
  /// The user's Active certificate, if any.
  [[nodiscard]] virtual Result<std::optional<CertRecord>> current_cert(std::string_view user) = 0;
  [[nodiscard]] virtual Result<std::vector<CertRecord>> certs_of_user(std::string_view user) = 0;
  [[nodiscard]] virtual Status set_cert_status(std::string_view serial, CertStatus status,
                                               const std::optional<std::string>& superseded_by) = 0;
  [[nodiscard]] virtual Status set_delivery(std::string_view serial, Delivery delivery) = 0;
  /// Records the ticket opened for a certificate; `user renew` carries it over.
  [[nodiscard]] virtual Status set_cert_ticket(std::string_view serial,
                                               std::string_view ticket) = 0;
  [[nodiscard]] virtual Result<std::vector<CertListRow>> list_certs(CertFilter filter,
                                                                    Seconds now) = 0;
  /// Streams active certificates with notAfter < before, soonest first (an
  /// index range; the record passed to `fn` is reused between rows).
  [[nodiscard]] virtual Status for_each_expiring(
      Seconds before, const std::function<void(const CertRecord&)>& fn) = 0;
  /// Streams every certificate with its revocation, without the DER, in no
  /// particular order: one pass for counts over a large CA (serve's
  /// snapshot) without holding the rows. The row passed to `fn` is reused.
  [[nodiscard]] virtual Status for_each_cert(const std::function<void(const CertListRow&)>& fn) = 0;
  /// Streams certificates with id > `after_id` in id order, with their
  /// revocation and without the DER, while `fn` returns true; with
  /// `not_after_max`, only those with notAfter <= it. The row is reused.
  [[nodiscard]] virtual Status for_each_cert_after(
      std::int64_t after_id, std::optional<Seconds> not_after_max,
      const std::function<bool(const CertListRow&)>& fn) = 0;
  /// Streams certificates in (notAfter, serial) order, those after `after`
  /// (a notAfter and serial bytes) only, with their revocation and without
  /// the DER, while `fn` returns true (serve's web list: the soonest to
  /// expire first, a page at a time). The row is reused.
  [[nodiscard]] virtual Status for_each_cert_by_expiry(
      const std::optional<std::pair<Seconds, std::string>>& after,
      const std::function<bool(const CertListRow&)>& fn) = 0;
};

}  // namespace ck::store
