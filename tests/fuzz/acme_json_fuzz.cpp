// What an ACME server answers (acme/client.h, acme/problem.h): the same bytes
// read as a directory, an order, an authorization, a renewalInfo and a
// problem document, and as a Retry-After header.

#include "acme/client.h"
#include "acme/document.h"
#include "acme/problem.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = ck::fuzz::text(data, size);
  (void)ck::acme::problem_error("fuzz", 400, in);
  (void)ck::acme::parse_retry_after(in, ck::Seconds(std::chrono::seconds(1'800'000'000)));
  // As the client reads every answer.
  const auto j = ck::acme::parse_document(in);
  if (j.is_discarded())
    return 0;
  (void)ck::acme::parse_directory(j, "ACME directory fuzz");
  // A problem is described wherever the server puts one, object or not.
  (void)ck::acme::problem_type(j);
  (void)ck::acme::describe_problem(j);
  if (!j.is_object())
    return 0;  // the client refuses anything else before parsing (parse_json)
  if (auto order = ck::acme::parse_order(j, "https://acme.invalid/order/1")) {
    CK_ASSERT(!order->status.empty() && !order->finalize.empty());
    (void)ck::acme::describe_problem(order->error);
  }
  if (auto authz = ck::acme::parse_authorization(j, "https://acme.invalid/authz/1")) {
    CK_ASSERT(!authz->identifier.empty());
    for (const auto& c : authz->challenges)
      (void)ck::acme::describe_problem(c.error);
  }
  if (auto window = ck::acme::parse_renewal_window(j))
    CK_ASSERT(window->start <= window->end);
  return 0;
}
