#include "ca/user_lease.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>

#include "core/hex.h"
#include "core/random.h"
#include "core/time_format.h"

namespace ck::ca {
namespace {

std::string host_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

std::string describe(const store::UserLeaseRecord& l) {
  const auto at = l.holder.find('@');
  const std::string where =
      at == std::string::npos ? l.holder
                              : "pid " + l.holder.substr(0, at) + " on " + l.holder.substr(at + 1);
  return where + ", run by " + l.actor + ", since " + format_iso8601(l.acquired_at);
}

Error busy(const store::UserLeaseRecord& l) {
  return Error{Code::Unavailable,
               "user '" + l.user + "' is being changed by another certkeeper (" + describe(l) +
                   "); nothing was done: run this again when that has finished",
               {}};
}

Result<std::string> new_token() {
  std::uint8_t bytes[16];
  SystemRandom random;
  CK_TRY(random.fill(bytes));
  return to_hex(std::span<const std::uint8_t>(bytes));
}

}  // namespace

std::string this_process() {
  return std::to_string(::getpid()) + "@" + host_name();
}

bool lease_stale(const store::UserLeaseRecord& lease, Seconds now, const std::string& host) {
  if (lease.expires_at <= now) {
    return true;
  }
  // A holder on this host can be asked whether it still runs; one elsewhere
  // is trusted until its lease expires. A reused pid only delays a takeover.
  const auto at = lease.holder.find('@');
  if (at == std::string::npos || lease.holder.substr(at + 1) != host) {
    return false;
  }
  const std::string pid_text = lease.holder.substr(0, at);
  if (pid_text.empty() ||
      !std::all_of(pid_text.begin(), pid_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
  if (pid <= 0 || pid == ::getpid()) {
    return false;
  }
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

Result<UserLease> UserLease::acquire(store::Store& store, const Clock& clock,
                                     std::vector<std::string> users, const std::string& actor) {
  CK_ASSIGN(auto tx, store.write());
  CK_ASSIGN(auto lease, acquire(*tx, store, clock, std::move(users), actor));
  CK_TRY(tx->commit());
  return lease;
}

Result<UserLease> UserLease::acquire(store::Tx& tx, store::Store& store, const Clock& clock,
                                     std::vector<std::string> users, const std::string& actor) {
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  store::UserLeaseRecord mine;
  mine.holder = this_process();
  mine.actor = actor;
  CK_ASSIGN(mine.token, new_token());
  const Seconds now = clock.now_seconds();
  mine.acquired_at = now;
  mine.expires_at = now + kUserLeaseTtl;
  const std::string host = host_name();
  for (const auto& user : users) {
    mine.user = user;
    CK_ASSIGN(const bool taken, tx.insert_user_lease(mine));
    if (taken) {
      continue;
    }
    CK_ASSIGN(const auto held, tx.find_user_lease(user));
    if (!held) {
      return fail(Code::Internal, "the lease of user '" + user + "' vanished while taken");
    }
    if (!lease_stale(*held, now, host)) {
      return fail(busy(*held));
    }
    CK_ASSIGN(const bool replaced, tx.replace_user_lease(mine, held->token));
    if (!replaced) {
      return fail(busy(*held));
    }
    CK_TRY(tx.audit({now, actor, "user.lease", user,
                     "took over the lease of " + describe(*held) + ", expiring " +
                         format_iso8601(held->expires_at) +
                         ": that run did not finish (`certkeeper user show " + user +
                         "` says what it left)"}));
  }
  mine.user.clear();
  return UserLease(store, clock, std::move(users), std::move(mine));
}

Status UserLease::hold(store::UserLeaseRecords& tx) const {
  store::UserLeaseRecord extended = mine_;
  const Seconds now = clock_->now_seconds();
  extended.expires_at = now + kUserLeaseTtl;
  for (const auto& user : users_) {
    extended.user = user;
    CK_ASSIGN(const bool still_mine, tx.replace_user_lease(extended, mine_.token));
    if (!still_mine) {
      CK_ASSIGN(const auto other, tx.find_user_lease(user));
      return fail(Code::FailedPrecondition,
                  "this run lost the lease of user '" + user + "'" +
                      (other ? " to another certkeeper (" + describe(*other) + ")" : "") +
                      " after a step longer than " +
                      std::to_string(
                          std::chrono::duration_cast<std::chrono::minutes>(kUserLeaseTtl).count()) +
                      " minutes; this step was not recorded");
    }
  }
  return {};
}

Status UserLease::release(store::UserLeaseRecords& tx) {
  for (const auto& user : users_)
    CK_TRY(tx.delete_user_lease(user, mine_.token));
  users_.clear();
  return {};
}

void UserLease::release() noexcept {
  if (users_.empty() || store_ == nullptr) {
    return;
  }
  auto tx = store_->write();
  if (tx) {
    bool ok = true;
    for (const auto& user : users_)
      ok = ok && (*tx)->delete_user_lease(user, mine_.token).has_value();
    if (ok)
      (void)(*tx)->commit();
  }
  users_.clear();
}

UserLease::UserLease(UserLease&& other) noexcept
    : store_(other.store_),
      clock_(other.clock_),
      users_(std::move(other.users_)),
      mine_(std::move(other.mine_)) {
  other.users_.clear();
  other.store_ = nullptr;
}

UserLease::~UserLease() {
  release();
}

}  // namespace ck::ca
