#pragma once
// One capability of a store (see store/store.h): revocations: held until the user applied the new
// certificate, then released into CRLs, or dropped.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

class RevocationRecords {
 public:
  virtual ~RevocationRecords() = default;

  [[nodiscard]] virtual Status insert_revocation(const RevocationRecord& rev) = 0;
  [[nodiscard]] virtual Result<std::optional<RevocationRecord>> find_revocation(
      std::string_view serial) = 0;
  [[nodiscard]] virtual Result<std::vector<RevocationRecord>> revocations(
      std::optional<RevocationState> state) = 0;
  /// Releases the user's held revocations; returns the released serials.
  [[nodiscard]] virtual Result<std::vector<std::string>> release_held(std::string_view user,
                                                                      Seconds at,
                                                                      ReleaseCause cause) = 0;
  /// Releases one revocation at once with the record's reason, time, cause and
  /// ticket (a held one revoked for cause).
  [[nodiscard]] virtual Status release_revocation(const RevocationRecord& rev) = 0;
  /// Released revocations still due in a CRL and released after the CRL
  /// built at release sequence `crl_release_seq` (all of them when there is
  /// no CRL yet): what the next CRL adds. A sequence, not a time, so a
  /// release in the same second as a build is told apart.
  [[nodiscard]] virtual Result<std::int64_t> count_released_since(
      std::optional<std::int64_t> crl_release_seq) = 0;
  /// At least the number of revocations in the store, found without
  /// counting them: sizes a CRL's buffers (room reserved and never written
  /// costs address space, not memory).
  [[nodiscard]] virtual Result<std::int64_t> revocations_upper_bound() = 0;
  /// Held revocations of certificates expired by `now` become Dropped.
  [[nodiscard]] virtual Result<std::vector<std::string>> drop_expired_held(Seconds now) = 0;
  /// Streams the revocations released after the CRL built at release
  /// sequence `crl_release_seq` (every one still due when there is no CRL),
  /// with user, reason and ticket: what the next CRL adds, in one query.
  [[nodiscard]] virtual Status for_each_released_since(
      std::optional<std::int64_t> crl_release_seq,
      const std::function<void(const ReleasedEntry&)>& fn) = 0;
  /// Streams every Released revocation still due in a CRL, with its release
  /// sequence and ticket.
  [[nodiscard]] virtual Status for_each_crl_entry(
      const std::function<void(const CrlEntry&)>& fn) = 0;
  /// Marks released entries (and canaries) with notAfter < this_update as
  /// listed for the last time in CRL `number` (RFC 5280 §3.3: kept until one
  /// CRL after expiry).
  [[nodiscard]] virtual Status mark_final_crl(Seconds this_update, std::int64_t number) = 0;

  /// A revocation known only from published CRL `crl_number` (store
  /// reconcile after a restore): a serial of no certificate in the store.
  /// False when the serial is there already. `entry.not_after` is unused:
  /// a CRL does not say it, so these stay in every CRL.
  [[nodiscard]] virtual Result<bool> insert_published_revocation(const CrlEntry& entry,
                                                                 std::int64_t crl_number,
                                                                 Seconds at) = 0;
  /// Streams them (not_after unset), for the next CRL.
  [[nodiscard]] virtual Status for_each_published_revocation(
      const std::function<void(const CrlEntry&)>& fn) = 0;
};

}  // namespace ck::store
