#include "ca/authority.h"

#include <algorithm>
#include "ca/detail/authority_state.h"
#include "ca/profile.h"
#include "ca/user_lease.h"

namespace ck::ca {

Result<store::UserProfile> Authority::edit_user(const std::string& user,
                                                const std::vector<std::string>& sets) {
  if (sets.empty())
    return fail(Code::InvalidArgument, "nothing to change: give --set phone=VALUE");
  std::vector<std::string> fields;
  for (const auto& s : sets) {
    const auto field = s.substr(0, s.find('='));
    if (in_certificate(field)) {
      // The store's profile and the certificate must not disagree: a field a
      // relying party reads changes with the certificate that carries it.
      return fail(Code::InvalidArgument,
                  "'" + field + "' is in the certificate: change it with `certkeeper user renew " +
                      user + " --set " + s + "` (a new certificate)");
    }
    if (std::find(fields.begin(), fields.end(), field) == fields.end())
      fields.push_back(field);
  }
  CK_ASSIGN(const auto lease, UserLease::acquire(store_, clock_, {user}, actor_));
  CK_ASSIGN(auto tx, store_.write());
  CK_TRY(lease.hold(*tx));
  CK_ASSIGN(const auto found, tx->find_user(user));
  if (!found)
    return fail(Code::NotFound, "unknown user '" + user + "'");
  auto profile = found->profile;
  for (const auto& s : sets)
    CK_TRY(apply_set(profile, s));
  CK_TRY(validate_profile(profile));
  CK_TRY(tx->update_user(profile));
  std::string detail = "changed:";
  for (const auto& f : fields)
    detail += " " + f;  // names only: a phone number is personal data
  CK_TRY(audit(*tx, "user.edit", user, detail, clock_.now_seconds()));
  CK_TRY(tx->commit());
  return profile;
}

}  // namespace ck::ca
