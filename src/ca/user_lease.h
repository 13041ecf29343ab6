#pragma once
// Per-user leases: one certkeeper at a time changes a user. Issuing takes
// several steps (a transaction recording the certificate, the bundle written,
// a transaction marking it delivered); two runs on one user interleaving
// them would hand out a certificate the other had already released for
// revocation and overwrite each other's bundle. So every per-user change
// first takes the user's lease, as a row in the store (it holds across
// processes, and across hosts once the store is a server), in a short write
// transaction of its own (or the caller's), and gives it back when done. A second run finds
// the lease and fails at once, naming the holder; nothing is changed.
//
// A run that dies (kill -9, a crash, a lost host) leaves its lease behind.
// It is stale, and taken over (audited), once it has expired, or at once
// when its holder was a process on this host that no longer exists. A live
// holder extends its lease at each step (UserLease::hold), so only a step
// longer than kUserLeaseTtl can be overtaken, and then that holder's next
// step fails instead of recording anything.

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace ck::ca {

/// How long a lease lasts past its holder's last step.
inline constexpr std::chrono::seconds kUserLeaseTtl = std::chrono::minutes(15);

/// "pid@host" of this process.
[[nodiscard]] std::string this_process();

/// Whether `lease` may be taken over at `now` (the injected clock's): it
/// expired, or its holder was a process on `host` (this host) that is gone.
[[nodiscard]] bool lease_stale(const store::UserLeaseRecord& lease, Seconds now,
                               const std::string& host);

/// The leases of one or more users, held by this process. Move-only; given
/// back when destroyed.
class UserLease {
 public:
  /// Takes the leases of `users` together in one write transaction. Fails
  /// with Code::Unavailable naming the user and the holder when a live run
  /// holds one of them; then nothing is taken. `actor` names who runs this
  /// process in the lease and the audit log.
  [[nodiscard]] static Result<UserLease> acquire(store::Store& store, const Clock& clock,
                                                 std::vector<std::string> users,
                                                 const std::string& actor);

  /// The same inside a caller's write transaction, which then holds the
  /// leases once it commits (a batch of `user import` takes its users' leases
  /// in the transaction that records them).
  [[nodiscard]] static Result<UserLease> acquire(store::Tx& tx, store::Store& store,
                                                 const Clock& clock, std::vector<std::string> users,
                                                 const std::string& actor);

  /// Inside a caller's write transaction: checks that every lease is still
  /// this one's and extends it. Fails when one was taken over (the caller's
  /// transaction then rolls back, so the step records nothing).
  [[nodiscard]] Status hold(store::UserLeaseRecords& tx) const;

  /// Gives the leases back (best effort: a lease left behind goes stale).
  void release() noexcept;
  /// For leases taken in a caller's transaction that will roll back (a dry
  /// run): the rollback takes them away, so nothing is given back later --
  /// not even an empty write transaction. hold() still works in that
  /// transaction.
  void dismiss() noexcept { store_ = nullptr; }
  /// Gives them back inside a caller's write transaction (its last step).
  [[nodiscard]] Status release(store::UserLeaseRecords& tx);

  UserLease(UserLease&& other) noexcept;
  UserLease& operator=(UserLease&&) = delete;
  UserLease(const UserLease&) = delete;
  UserLease& operator=(const UserLease&) = delete;
  ~UserLease();

 private:
  UserLease(store::Store& store, const Clock& clock, std::vector<std::string> users,
            store::UserLeaseRecord mine)
      : store_(&store), clock_(&clock), users_(std::move(users)), mine_(std::move(mine)) {}

  store::Store* store_;
  const Clock* clock_;
  std::vector<std::string> users_;  // empty once released
  store::UserLeaseRecord mine_;     // holder, actor, token (user and times per use)
};

}  // namespace ck::ca
